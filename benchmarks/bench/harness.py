"""benchmarks/run's orchestrator: train/export the model matrix, run pmmlrt and every peer on the same rows,
write benchmarks/results/latest.{json,md} and the table in benchmarks/README.md."""

import os

# Nothing may leave the machine: every JVM started from here (sklearn2pmml's converter, JPMML-Evaluator, PyPMML's
# gateway) gets a dead loopback proxy. Set before anything can start a JVM.
os.environ["JAVA_TOOL_OPTIONS"] = ("-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=9 "
                                   "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9")
import datetime as _dt

os.environ.setdefault("SKLEARN2PMML_BANNER", _dt.date.today().isoformat())

import argparse
import fnmatch
import json
import platform
import re
import shlex
import subprocess
import sys
import time
import traceback
from importlib.metadata import version as pkg_version
from pathlib import Path

import numpy as np

from . import models as M
from . import peers as P

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
REPO = HERE.parent


def log(*a):
    print(*a, flush=True)


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine():
    model = "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    flags = open("/proc/cpuinfo").read()
    simd = [f for f in ("avx2", "avx512f", "avx512bw", "avx512_fp16") if re.search(r"\b%s\b" % f, flags)]
    return {"cpu": model, "cores": os.cpu_count(), "simd": simd, "kernel": platform.release(),
            "python": platform.python_version()}


def versions():
    out = {}
    for p in ["numpy", "pandas", "scikit-learn", "xgboost", "lightgbm", "sklearn2pmml", "jpmml_evaluator", "pypmml",
              "onnxruntime", "skl2onnx", "onnxmltools", "treelite", "tl2cgen"]:
        try:
            out[p] = pkg_version(p)
        except Exception:
            out[p] = None
    try:
        out["java"] = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[-3]
    except Exception:
        pass
    return out


def run_json(cmd, timeout=None):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


PROFILES = {
    # min_time: seconds per repeat; large_target_s: the big batch is capped at what pmmlrt scores in about this long
    "quick": dict(min_time=0.25, repeats=3, latency=2000, large_target_s=3, jpmml_warmup=3, check_rows=5000,
                  peer_max_call_s=10, tl2cgen_max_nodes=150_000),
    "full": dict(min_time=1.0, repeats=5, latency=10000, large_target_s=5.0, jpmml_warmup=10, check_rows=10000,
                 peer_max_call_s=60),
}


def bench_model(sp, meta, args, prof, bins):
    mdir = args.models_dir / sp.name
    res = {"name": sp.name, "spec": meta["spec"], "meta": {k: v for k, v in meta.items() if k not in ("columns", "spec")},
           "engines": {}, "skipped": {}}
    cols = ",".join(meta["columns"])
    batches = [1, 1000, M.BENCH_ROWS]
    t0 = time.perf_counter()
    r = run_json([str(bins / "pmmlrt_bench"), "--model", str(mdir / "model.pmml"), "--data", meta["data"],
                  "--columns", cols, "--expected", str(mdir / "expected.f64"), "--precision", meta["precision"],
                  "--batches", ",".join(map(str, batches)), "--min-time", str(prof["min_time"]),
                  "--repeats", str(prof["repeats"]), "--latency-records", str(prof["latency"]),
                  "--check-rows", str(prof["check_rows"]), "--large-target-s", str(prof["large_target_s"])])
    res["engines"]["pmmlrt"] = r
    try:
        res["load"] = run_json([str(bins / "pmmlrt_bench"), "--load-only", "--model", str(mdir / "model.pmml")])
    except Exception as e:
        res["load"] = {"error": str(e)}
    log(f"    pmmlrt: {fmt_rate(rate(r, 1000))} rows/s @1000, record p50 {r['latency']['record']['p50_us']:.1f} us, "
        f"max abs diff {r['check']['max_abs']:.3g} ({time.perf_counter() - t0:.0f}s)")
    large = max(t["batch"] for t in r["throughput"])
    peer_batches = sorted({1, 1000, large})
    X = M.read_f64(Path(meta["data"]))
    E = np.asarray(M.read_f64(mdir / "expected.f64"))[:prof["check_rows"]]
    for cls in P.peers_for(sp):
        name = cls.name
        if args.peers and name not in args.peers:
            continue
        t0 = time.perf_counter()
        peer = None
        try:
            peer = cls(sp, meta, mdir, log)
            peer.max_compile_nodes = prof.get("tl2cgen_max_nodes")
            peer = peer.prepare()
            # keep each call of the big batch under peer_max_call_s (else skip that batch for this peer)
            pr = P.measure(peer, X, E, [1, 1000], prof["repeats"], prof["min_time"], prof["latency"])
            r1000 = rate(pr, 1000)
            if large > 1000 and not getattr(peer, "slow", False):
                if r1000 and large / r1000 <= prof["peer_max_call_s"]:
                    Xl = np.asarray(X[:large]) if not hasattr(peer, "prepare_rows") else peer.prepare_rows(X[:large])
                    pr["throughput"].append(P.timed_rates(lambda s, k: peer.predict(Xl[s:s + k]), large, large,
                                                          prof["repeats"], 0.0))
                    del Xl
                else:
                    pr.setdefault("notes", []).append(f"batch {large} skipped: one call would take over "
                                                      f"{prof['peer_max_call_s']}s")
            res["engines"][name] = pr
            log(f"    {name}: {fmt_rate(r1000)} rows/s @1000, max abs diff {pr['check']['max_abs']:.3g} "
                f"({time.perf_counter() - t0:.0f}s)")
        except Exception as e:
            msg = f"{type(e).__name__}: {e}".strip().splitlines()[0][:300]
            res["skipped"][name] = msg
            log(f"    {name}: SKIPPED {msg}")
            if args.verbose:
                traceback.print_exc()
        finally:
            if peer is not None and hasattr(peer, "close"):
                peer.close()
    if not args.peers or "jpmml" in args.peers:
        t0 = time.perf_counter()
        try:
            jr = P.run_jpmml(sp, meta, mdir, args.jpmml_cp, prof["jpmml_warmup"], prof["min_time"], prof["repeats"],
                             min(prof["latency"], 3000), min(prof["check_rows"], 2000), timeout=1800)
            res["engines"]["jpmml"] = jr
            log(f"    jpmml: {fmt_rate(rate(jr, 1000))} rows/s, record p50 {jr['latency']['record']['p50_us']:.1f} us, "
                f"max abs diff {jr['check']['max_abs']:.3g} ({time.perf_counter() - t0:.0f}s)")
        except Exception as e:
            res["skipped"]["jpmml"] = str(e)[:300]
            log(f"    jpmml: SKIPPED {str(e)[:300]}")
    return res


def rate(r, batch=None, cpu=True):
    """rows/s of an engine result at `batch` (None = the largest measured), process-CPU based by default."""
    ts = r.get("throughput", [])
    if not ts:
        return None
    t = max(ts, key=lambda t: t["batch"]) if batch is None else next((t for t in ts if t["batch"] == batch), None)
    if t is None:
        return None
    return t.get("rows_per_cpu_s" if cpu else "rows_per_s") or t.get("rows_per_s")


def p50(r, kind=None):
    lat = r.get("latency", {})
    if kind:
        return lat.get(kind, {}).get("p50_us")
    for k in ("record", "batch1"):
        if k in lat:
            return lat[k]["p50_us"]
    return None


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def fmt_ratio(x):
    if x is None:
        return "–"
    return f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def fmt_us(x):
    return "–" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def fmt_bytes(n):
    if n is None:
        return "–"
    for u in ["B", "KiB", "MiB", "GiB"]:
        if abs(n) < 1024 or u == "GiB":
            return f"{n:.0f} {u}" if u == "B" else f"{n:.1f} {u}"
        n /= 1024


PEERS = ["pmmlrt-python", "xgboost", "lightgbm", "sklearn", "tl2cgen", "onnxruntime", "jpmml", "pypmml"]
NATIVE = {"xgboost", "lightgbm", "sklearn"}


def ratio(a, b):
    return a / b if a and b else None


def markdown(run) -> str:
    L = []
    m = run["machine"]
    L.append(f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['simd'])}); date {run['date']}; "
             f"load average {run['load_before']:.1f} before, {run['load_after']:.1f} after the run.")
    L.append(f"Command: `{run['command']}` (profile `{run['profile']}`, {run['wall_s'] / 60:.1f} min, of which "
             f"training/export {run['train_wall_s'] / 60:.1f} min); pmmlrt source: {run['source']}.")
    L.append("")
    L.append("Figures are medians over repeats, single thread. Rows/s are per second of process CPU time (steadier "
             "than wall time on this shared 2-core machine; wall-clock figures are in latest.json; PyPMML works in its "
             "gateway JVM, so its figures are wall clock). "
             "Ratios are pmmlrt ÷ peer for throughput and peer ÷ pmmlrt for latency, so **> 1 means pmmlrt is "
             "faster** everywhere. `big` = the largest batch (1,000,000 rows, capped at what pmmlrt scores in about "
             f"{run['profile_params']['large_target_s']} s of wall time; the row count is in the absolute table).")
    L.append("")
    L.append("### Ratios: batch throughput (big batch; 1,000 rows for JPMML/PyPMML) and single-record p50")
    L.append("")
    L.append("| model | nodes | pmmlrt rows/s | native | tl2cgen | onnxruntime | onnxruntime, both float32 in | jpmml | pypmml | record p50 µs | vs native p50 | vs jpmml p50 | vs pypmml p50 | max abs diff |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in run["models"]:
        e = r["engines"]
        pm = e.get("pmmlrt")
        if not pm:
            L.append(f"| {r['name']} | failed: {r.get('error', '?')[:80]} |" + " |" * 12)
            continue
        native = next((n for n in ("xgboost", "lightgbm", "sklearn") if n in e), None)

        def tr(peer):
            if peer not in e:
                return "n/a" if peer in r["skipped"] else "–"
            if peer in ("jpmml", "pypmml"):
                return fmt_ratio(ratio(rate(pm, 1000), rate(e[peer], 1000)))
            big = max(t["batch"] for t in e[peer]["throughput"])
            return fmt_ratio(ratio(rate(pm, big), rate(e[peer], big)))

        def float_tr():
            fi = pm.get("float_input") or {}
            if "onnxruntime" not in e or not fi.get("rows_per_cpu_s"):
                return "n/a" if "onnxruntime" in r["skipped"] else "–"
            big = max(t["batch"] for t in e["onnxruntime"]["throughput"])
            return fmt_ratio(ratio(fi["rows_per_cpu_s"], rate(e["onnxruntime"], big))) if big == fi["batch"] else "–"

        def lr(peer):
            if peer not in (e if peer else {}):
                return "–"
            return fmt_ratio(ratio(p50(e[peer]), p50(pm, "record")))

        L.append(f"| {r['name']} | {r['meta'].get('pmml_nodes') or '–'} | {fmt_rate(rate(pm))} | "
                 f"{tr(native) if native else '–'} | {tr('tl2cgen')} | {tr('onnxruntime')} | {float_tr()} | {tr('jpmml')} | "
                 f"{tr('pypmml')} | {fmt_us(p50(pm, 'record'))} | {lr(native) if native else '–'} | {lr('jpmml')} | "
                 f"{lr('pypmml')} | {pm['check']['max_abs']:.3g} |")
    L.append("")
    L.append("`native` = the training library's own predictor (XGBoost `inplace_predict`, LightGBM `predict`, "
             "scikit-learn `predict_proba`/`predict`). `max abs diff` = pmmlrt's batch results vs the native "
             "predictions on the check rows (probabilities or values); `n/a` = the peer cannot run that model (see "
             "below). ONNX Runtime reads float32 cells (its trees and its tensors are float32), every other engine "
             "float64; `onnxruntime, both float32 in` is pmmlrt over a float32 copy of the same matrix against it "
             "(the same rows, rounded to float, so pmmlrt's results then differ from the native ones).")
    L.append("")
    L.append("### Targets of issue 7")
    L.append("")
    L.append("| target | measured | met |")
    L.append("|---|---|---|")
    for t in run["targets"]:
        L.append(f"| {t['target']} | {t['measured']} | {t['met']} |")
    L.append("")
    L.append("### Absolute figures")
    L.append("")
    L.append("| model | engine | rows/s @1 | rows/s @1,000 | rows/s @big (rows) | p50 µs | p99 µs | max abs diff |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in run["models"]:
        for name, e in r["engines"].items():
            big = max((t["batch"] for t in e.get("throughput", [])), default=None)
            lat = e.get("latency", {})
            kind = "record" if "record" in lat else "batch1"
            l = lat.get(kind, {})
            bigtxt = f"{fmt_rate(rate(e, big))} ({big:,})" if big and big > 1000 else "–"
            L.append(f"| {r['name']} | {name}{' (record)' if kind == 'record' else ''} | {fmt_rate(rate(e, 1))} | "
                     f"{fmt_rate(rate(e, 1000))} | {bigtxt} | {fmt_us(l.get('p50_us'))} | {fmt_us(l.get('p99_us'))} | "
                     f"{e['check']['max_abs']:.3g} |")
            if name == "pmmlrt" and "batch1" in lat:
                L.append(f"| {r['name']} | pmmlrt (numeric batch of 1) | | | | {fmt_us(lat['batch1']['p50_us'])} | "
                         f"{fmt_us(lat['batch1']['p99_us'])} | |")
            if name == "pmmlrt" and e.get("all_threads", {}).get("rows_per_s"):
                at = e["all_threads"]
                one = next((t for t in e["throughput"] if t["batch"] == at["batch"]), None)
                speedup = f" = {at['rows_per_s'] / one['rows_per_s']:.2f}× 1 thread (wall)" if one and one.get("rows_per_s") else ""
                L.append(f"| {r['name']} | pmmlrt ({at['threads']} threads, wall clock) | | | "
                         f"{fmt_rate(at['rows_per_s'])} ({at['batch']:,}){speedup} | | | |")
            if name == "pmmlrt" and (e.get("float_input") or {}).get("rows_per_cpu_s"):
                fi = e["float_input"]
                L.append(f"| {r['name']} | pmmlrt (float32 input) | | | {fmt_rate(fi['rows_per_cpu_s'])} "
                         f"({fi['batch']:,}) | | | |")
            if name == "pmmlrt" and "numeric" in lat:
                L.append(f"| {r['name']} | pmmlrt (score_into) | | | | {fmt_us(lat['numeric']['p50_us'])} | "
                         f"{fmt_us(lat['numeric']['p99_us'])} | |")
            if name == "pmmlrt" and "capi" in lat:
                L.append(f"| {r['name']} | pmmlrt (C ABI, pmmlrt_score_one) | | | | {fmt_us(lat['capi']['p50_us'])} | "
                         f"{fmt_us(lat['capi']['p99_us'])} | |")
    L.append("")
    L.append("### Load time and memory (pmmlrt, each model loaded in a fresh process)")
    L.append("")
    L.append("| model | PMML size | nodes | load s (median of 3) | JPMML load s | peak RSS delta | retained RSS | bytes per node |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in run["models"]:
        ld = r.get("load", {})
        pm = r["engines"].get("pmmlrt", {})
        nodes = r["meta"].get("pmml_nodes")
        bpn = ld.get("retained_bytes", 0) / nodes if nodes and ld.get("retained_bytes") else None
        jl = r["engines"].get("jpmml", {}).get("load_s_median")
        L.append(f"| {r['name']} | {fmt_bytes(r['meta'].get('pmml_bytes'))} | {nodes or '–'} | "
                 f"{pm.get('load_s_median', float('nan')):.3f} | {'–' if jl is None else f'{jl:.3f}'} | "
                 f"{fmt_bytes(ld.get('peak_delta_bytes'))} | {fmt_bytes(ld.get('retained_bytes'))} | "
                 f"{'–' if bpn is None else f'{bpn:.0f}'} |")
    L.append("")
    bl = run.get("big_load") or {}
    if bl.get("median_s"):
        L.append(f"A {bl['bytes'] / 1e6:.0f} MB forest (the Segments of {bl['source']} repeated by "
                 f"`make_big_forest.py`), each load in a fresh process: "
                 f"{', '.join(f'{x:.2f}' for x in bl['load_s'])} s (median {bl['median_s']:.2f} s, "
                 f"{bl['median_s'] / bl['bytes'] * 1e8:.2f} s per 100 MB), peak RSS delta "
                 f"{fmt_bytes(bl['peak_delta_bytes'])} = {bl['peak_delta_bytes'] / bl['bytes']:.2f}× the file.")
        L.append("")
    fp = run["footprint"]
    L.append("### Footprint")
    L.append("")
    L.append(f"- `build/libpmmlrt.a` (the main build): {fmt_bytes(fp.get('main_lib_bytes'))}; the benchmark build's "
             f"copy: {fmt_bytes(fp.get('bench_lib_bytes'))}.")
    L.append(f"- Minimal statically linked scorer (`benchmarks/min_scorer.cpp`, `-static -s`, fmt header-only): "
             f"{fmt_bytes(fp.get('min_scorer_bytes'))}; {fp.get('min_scorer_check', '')}")
    L.append(f"- Single-thread read bandwidth (STREAM-like sum over 512 MiB): "
             f"{fp.get('stream_gb_s', float('nan')):.1f} GB/s.")
    L.append("")
    if any(r["skipped"] for r in run["models"]):
        L.append("### Peers that could not run a model")
        L.append("")
        seen = {}
        for r in run["models"]:
            for k, v in r["skipped"].items():
                seen.setdefault((k, v), []).append(r["name"])
        for (k, v), names in seen.items():
            L.append(f"- **{k}** on {', '.join(names)}: {v}")
        L.append("")
    L.append("### Peers and versions")
    L.append("")
    notes = {}
    for r in run["models"]:
        for n, e in r["engines"].items():
            if e.get("note"):
                notes[n] = e["note"]
    notes.setdefault("pmmlrt", "Model::score over a row-major double matrix (batch), Model::score(Record) "
                     "(latency, records built beforehand)")
    for n, t in notes.items():
        L.append(f"- {n}: {t}")
    L.append("- versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v))
    return "\n".join(L) + "\n"


def targets(run):
    by = {r["name"]: r for r in run["models"]}
    out = []

    def eng(model, e):
        return by.get(model, {}).get("engines", {}).get(e)

    def add(target, measured, ok):
        out.append({"target": target, "measured": measured, "met": "–" if ok is None else ("yes" if ok else "**no**")})

    for model, want, label in [("xgb_binary_dense_100x8", 3, "100 trees depth 8"),
                               ("xgb_binary_dense_1000x8", 4, "1000 trees depth 8")]:
        pm, x = eng(model, "pmmlrt"), eng(model, "xgboost")
        if pm and x:
            big = max(t["batch"] for t in x["throughput"])
            rt = ratio(rate(pm, big), rate(x, big))
            add(f"batch ≥ {want}× XGBoost inplace_predict ({label})",
                f"{fmt_ratio(rt)} ({fmt_rate(rate(pm, big))} vs {fmt_rate(rate(x, big))} rows/s, {big:,} rows)",
                rt is not None and rt >= want)
        tl = eng(model, "tl2cgen")
        if pm and tl and want == 3:
            big = max(t["batch"] for t in tl["throughput"])
            rt = ratio(rate(pm, big), rate(tl, big))
            add(f"batch ≥ 2× TL2cgen compiled ({label})", f"{fmt_ratio(rt)}", rt is not None and rt >= 2)
    pm = eng("xgb_binary_dense_100x8", "pmmlrt")
    if pm:
        v = p50(pm, "numeric") or p50(pm, "record")
        capi = p50(pm, "capi")
        add("single record p50 < 1.5 µs, C++ API (100 trees depth 8)",
            f"{fmt_us(v)} µs (Model::score_into; Model::score(Record) {fmt_us(p50(pm, 'record'))} µs; "
            f"C ABI pmmlrt_score_one {fmt_us(capi)} µs)", v is not None and v < 1.5)
    py = eng("xgb_binary_dense_100x8", "pmmlrt-python")
    if py:
        v = p50(py, "record")
        add("single record p50 < 5 µs through Python (100 trees depth 8)",
            f"{fmt_us(v)} µs (predict_proba_one on a list; p99 {fmt_us(py['latency']['record']['p99_us'])} µs)",
            v is not None and v < 5)
    else:
        add("single record p50 < 5 µs through Python (100 trees depth 8)", "not measured in this run (the "
            "pmmlrt-python engine did not run: see the skipped engines)", None)
    def jpmml_ratios(kind):
        js = [ratio(p50(r["engines"]["jpmml"]), p50(r["engines"]["pmmlrt"], kind))
              for r in run["models"] if "jpmml" in r["engines"] and "pmmlrt" in r["engines"]]
        return [j for j in js if j]
    js, js_into = jpmml_ratios("record"), jpmml_ratios("numeric")
    if js:
        # Met on the Record path (named inputs, like JPMML's argument map); score_into's figures beside it.
        into = (f"; through Model::score_into {fmt_ratio(min(js_into))} to {fmt_ratio(max(js_into))} (median "
                f"{fmt_ratio(float(np.median(js_into)))})" if js_into else "")
        add("≥ 100× JPMML-Evaluator per record", f"Model::score(Record) {fmt_ratio(min(js))} to {fmt_ratio(max(js))} "
            f"(median {fmt_ratio(float(np.median(js)))}) over {len(js)} models{into}", min(js) >= 100)
    add("≥ 10× cPMML per record", "cPMML is not on PyPI/Maven: not measured", None)
    lr = eng("logreg_binary_wide_1000f", "pmmlrt")
    if lr and run["footprint"].get("stream_gb_s"):
        bw = rate(lr) * 1000 * 8 / 1e9
        frac = bw / run["footprint"]["stream_gb_s"]
        fi = (lr.get("float_input") or {}).get("rows_per_cpu_s")
        ftxt = (f"; from float32 cells {fi / 1e6:.2f}M rows/s = {fi * 1000 * 4 / 1e9:.2f} GB/s of input "
                f"({fi * 1000 * 4 / 1e9 / run['footprint']['stream_gb_s'] * 100:.0f}%)" if fi else "")
        add("logistic regression, 1,000 features: ≥ 80% of memory bandwidth",
            f"{bw:.2f} GB/s of input = {frac * 100:.0f}% of {run['footprint']['stream_gb_s']:.1f} GB/s{ftxt}",
            frac >= 0.8)
    bl = run.get("big_load") or {}
    big = max((r for r in run["models"] if r.get("load", {}).get("peak_delta_bytes")),
              key=lambda r: r["meta"]["pmml_bytes"], default=None)
    if bl.get("median_s"):
        size = bl["bytes"]
        add("load a 100 MB forest in < 1 s, peak memory < 3× file size",
            f"{bl['source']} repeated to {size / 1e6:.0f} MB (make_big_forest.py): {bl['median_s']:.2f} s "
            f"(median of {len(bl['load_s'])} fresh processes; {bl['median_s'] / size * 1e8:.2f} s per 100 MB), "
            f"peak RSS delta {bl['peak_delta_bytes'] / size:.2f}× the file",
            bl["median_s"] / size * 1e8 < 1 and bl["peak_delta_bytes"] < 3 * size)
    elif big:
        ld, size = big["load"], big["meta"]["pmml_bytes"]
        ls = big["engines"]["pmmlrt"]["load_s_median"]
        add("load a 100 MB forest in < 1 s, peak memory < 3× file size",
            f"largest here {big['name']}: {size / 1e6:.0f} MB in {ls:.2f} s "
            f"({ls / size * 1e8:.2f} s per 100 MB), peak RSS delta {ld['peak_delta_bytes'] / size:.1f}× the file",
            ls / size * 1e8 < 1 and ld["peak_delta_bytes"] < 3 * size)
    return out


def big_load(args, run, target_mb=100, repeats=3):
    """The load target on a real 100 MB file: the largest tree model's Segments repeated to about target_mb
    (make_big_forest.py, kept in the models directory), loaded in fresh processes."""
    src = max((r for r in run["models"] if r.get("load", {}).get("peak_delta_bytes") and r["spec"].get("trees", 0) > 1),
              key=lambda r: r["meta"]["pmml_bytes"], default=None)
    if not src:
        return {}
    model = args.models_dir / src["name"] / "model.pmml"
    out = args.models_dir / "big" / f"{src['name']}_{target_mb}mb.pmml"
    try:
        if not out.exists() or out.stat().st_mtime < model.stat().st_mtime:
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, str(HERE / "make_big_forest.py"), str(model), str(out),
                            "--target-mb", str(target_mb)], check=True, capture_output=True, text=True)
        loads = [run_json([str(args.bin / "pmmlrt_bench"), "--load-only", "--model", str(out)]) for _ in range(repeats)]
    except Exception as e:
        log(f"  big load: FAILED: {e}")
        return {"error": str(e)[:300]}
    res = {"source": src["name"], "file": str(out), "bytes": out.stat().st_size, "load_s": [l["load_s"] for l in loads],
           "median_s": float(np.median([l["load_s"] for l in loads])),
           "peak_delta_bytes": max(l["peak_delta_bytes"] for l in loads)}
    log(f"  big load: {res['bytes'] / 1e6:.0f} MB from {src['name']}: {res['median_s']:.2f} s (median of {repeats})")
    return res


def footprint(args, bins, run):
    fp = {}
    main_lib = REPO / "build" / "libpmmlrt.a"
    fp["main_lib_bytes"] = main_lib.stat().st_size if main_lib.exists() else None
    bl = bins / "pmmlrt-build" / "libpmmlrt.a"
    fp["bench_lib_bytes"] = bl.stat().st_size if bl.exists() else None
    ms = bins / "pmmlrt_min_scorer"
    if ms.exists():
        fp["min_scorer_bytes"] = ms.stat().st_size
        try:
            f = subprocess.run(["file", "-b", str(ms)], capture_output=True, text=True).stdout.strip()
            fp["min_scorer_file"] = f
            fp["min_scorer_check"] = "statically linked" if "statically linked" in f else f"({f})"
        except OSError:
            pass
    try:
        fp["stream_gb_s"] = run_json([str(bins / "pmmlrt_bench"), "--stream"])["stream_read_bytes_per_s"] / 1e9
    except Exception as e:
        fp["stream_error"] = str(e)
    return fp


README_BEGIN = "<!-- results:begin (benchmarks/run writes this section) -->"
README_END = "<!-- results:end -->"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="benchmarks/run")
    ap.add_argument("--quick", action="store_true", help="the small model subset and short timings (a few minutes)")
    ap.add_argument("--only", nargs="*", default=None, help="model name patterns (fnmatch), e.g. 'xgb_*_100x8'")
    ap.add_argument("--peers", nargs="*", default=None, help="restrict peers (xgboost lightgbm sklearn tl2cgen "
                    "onnxruntime jpmml pypmml); pmmlrt always runs")
    ap.add_argument("--profile", choices=list(PROFILES), default=None, help="timing profile (default: quick with "
                    "--quick, else full)")
    ap.add_argument("--models-dir", type=Path, default=REPO / "build" / "bench-models")
    ap.add_argument("--bin", type=Path, required=True, help="folder of pmmlrt_bench and pmmlrt_min_scorer")
    ap.add_argument("--jpmml-cp", required=True)
    ap.add_argument("--source", default="working tree")
    ap.add_argument("--command", default="benchmarks/run")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite benchmarks/README.md")
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    prof_name = args.profile or ("quick" if args.quick else "full")
    prof = PROFILES[prof_name]
    t_start = time.perf_counter()
    run = {"date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(), "versions": versions(),
           "command": args.command, "profile": prof_name, "profile_params": prof, "source": args.source,
           "load_before": loadavg(), "models": []}
    specs = [s for s in M.model_matrix() if s.quick or not args.quick]
    if args.only:
        specs = [s for s in specs if any(fnmatch.fnmatch(s.name, p) for p in args.only)]
    log(f"{len(specs)} models, profile {prof_name}; models in {args.models_dir}")
    metas = {}
    t0 = time.perf_counter()
    for sp in specs:
        try:
            metas[sp.name] = M.build(sp, args.models_dir, log)
        except Exception as e:
            log(f"  {sp.name}: training/export FAILED: {e}")
            run["models"].append({"name": sp.name, "spec": vars(sp), "meta": {}, "engines": {}, "skipped": {},
                                  "error": f"training/export failed: {str(e)[:200]}"})
    run["train_wall_s"] = time.perf_counter() - t0
    log(f"models ready in {run['train_wall_s']:.0f}s")
    if args.train_only:
        return 0
    for sp in specs:
        if sp.name not in metas:
            continue
        log(f"  {sp.name}")
        try:
            run["models"].append(bench_model(sp, metas[sp.name], args, prof, args.bin))
        except Exception as e:
            log(f"    FAILED: {e}")
            run["models"].append({"name": sp.name, "spec": vars(sp), "meta": metas[sp.name], "engines": {},
                                  "skipped": {}, "error": str(e)[:300]})
    run["footprint"] = footprint(args, args.bin, run)
    run["big_load"] = big_load(args, run)
    run["load_after"] = loadavg()
    run["wall_s"] = time.perf_counter() - t_start
    run["targets"] = targets(run)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if prof_name == "quick" or not args.quick else ""
    (args.out / "latest.json").write_text(json.dumps(run, indent=1, default=str))
    md = markdown(run)
    (args.out / "latest.md").write_text("# pmmlrt benchmark: latest run\n\n" + md)
    if not args.no_readme:
        readme = HERE / "README.md"
        text = readme.read_text() if readme.exists() else ""
        block = f"{README_BEGIN}\n{md}{README_END}"
        if README_BEGIN in text and README_END in text:
            text = text[:text.index(README_BEGIN)] + block + text[text.index(README_END) + len(README_END):]
        else:
            text = text + "\n## Latest results\n\n" + block + "\n"
        readme.write_text(text)
    log(f"wrote {args.out / 'latest.md'} ({run['wall_s'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
