"""The peers: each scores the same rows as pmmlrt, single thread, timed the same way.

Every measure_* function returns a dict like pmmlrt_bench's JSON (throughput list, latency, check) or raises;
the harness records the exception text as the reason a peer has no figure for a model.
"""

import os
import pickle
import subprocess
import time
from pathlib import Path

import numpy as np

from . import models as M


def timed_rates(call, rows, batch, repeats, min_time):
    """Rows/s (wall and process CPU) of call(start, n) over consecutive chunks; medians over repeats."""
    batch = min(batch, rows)
    call(0, batch)  # warm up
    wall, cpu, start, calls = [], [], 0, 0
    for _ in range(repeats):
        done, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            if start + batch > rows:
                start = 0
            call(start, batch)
            start += batch
            done += batch
            calls += 1
            t = time.perf_counter() - t0
            if t >= min_time:
                break
        wall.append(done / t)
        cpu.append(done / max(1e-9, time.process_time() - c0))
    return {"batch": batch, "rows_per_s": float(np.median(wall)), "rows_per_cpu_s": float(np.median(cpu)),
            "rows_per_s_min": float(min(wall)), "rows_per_s_max": float(max(wall)), "calls": calls}


def timed_latency(call, n):
    for i in range(min(n, 100)):
        call(i)
    t = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        t[i] = (time.perf_counter() - t0) * 1e6
    return {"p50_us": float(np.percentile(t, 50)), "p99_us": float(np.percentile(t, 99)), "mean_us": float(t.mean()),
            "n": int(n)}


def check(got: np.ndarray, want: np.ndarray) -> dict:
    got = np.asarray(got, dtype=np.float64).reshape(want.shape)
    both = ~(np.isnan(got) | np.isnan(want))
    d = np.abs(got - want)[both]
    return {"rows": int(len(want)), "max_abs": float(d.max()) if d.size else 0.0,
            "nan_mismatch": int((np.isnan(got) != np.isnan(want)).sum()), "values_compared": int(want.size)}


class Peer:
    """One engine over one model: prepare() once, then predict(X rows) -> probabilities (n x k) or values (n x 1)."""
    name = "?"
    note = ""

    def __init__(self, sp, meta, mdir: Path, log):
        self.sp, self.meta, self.mdir, self.log = sp, meta, mdir, log

    def est(self):
        with open(self.mdir / "native.pkl", "rb") as f:
            return pickle.load(f)


def _as_output(sp, y):
    y = np.asarray(y)
    if sp.task == "regression":
        return y.reshape(-1, 1)
    if y.ndim == 1:  # binary margin-less outputs: probability of class 1
        return np.stack([1 - y, y], axis=1)
    return y


class XGBoostPeer(Peer):
    name = "xgboost"
    note = "Booster.inplace_predict(float64 numpy), nthread=1"

    def prepare(self):
        self.b = self.est().get_booster()
        self.b.set_param({"nthread": 1})
        return self

    def predict(self, X):
        return _as_output(self.sp, self.b.inplace_predict(X))


class LightGBMPeer(Peer):
    name = "lightgbm"
    note = "Booster.predict(float64 numpy, num_threads=1)"

    def prepare(self):
        self.b = self.est().booster_
        return self

    def predict(self, X):
        return _as_output(self.sp, self.b.predict(X, num_threads=1))


class SklearnPeer(Peer):
    name = "sklearn"
    note = "predict_proba / predict (float64 numpy), n_jobs=1"

    def prepare(self):
        import warnings
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        self.m = self.est()
        if hasattr(self.m, "n_jobs"):
            self.m.n_jobs = 1
        self.f = self.m.predict if self.sp.task == "regression" else self.m.predict_proba
        return self

    def predict(self, X):
        return _as_output(self.sp, self.f(X))


def treelite_model(sp, est):
    import treelite
    if sp.library == "xgboost":
        return treelite.frontend.from_xgboost(est.get_booster())
    if sp.library == "lightgbm":
        return treelite.frontend.from_lightgbm(est.booster_)
    if sp.library in ("sklearn-rf", "sklearn-gbm", "sklearn-tree"):
        return treelite.sklearn.import_model(est)
    raise RuntimeError("no treelite frontend for " + sp.library)


class TL2cgenPeer(Peer):
    name = "tl2cgen"
    note = "treelite model compiled to C by TL2cgen (gcc -O3), Predictor(nthread=1), DMatrix built per call"

    def prepare(self):
        import tl2cgen
        lib = self.mdir / "tl2cgen.so"
        max_nodes = getattr(self, "max_compile_nodes", None)
        if not lib.exists() and max_nodes and (self.meta.get("native_nodes") or 0) > max_nodes:
            raise RuntimeError(f"not compiled in this profile: {self.meta.get('native_nodes')} nodes over "
                               f"{max_nodes} (gcc takes minutes per 100k nodes here); the full run compiles it")
        if not lib.exists():
            t0 = time.perf_counter()
            model = treelite_model(self.sp, self.est())
            nodes = self.meta.get("native_nodes") or 0
            tmp = self.mdir / "tl2cgen.tmp.so"
            tl2cgen.export_lib(model, toolchain="gcc", libpath=str(tmp),
                               params={"parallel_comp": max(2, min(64, nodes // 20000))}, nthread=2)
            os.replace(tmp, lib)
            self.log(f"    tl2cgen compiled {self.sp.name} in {time.perf_counter() - t0:.0f}s")
        self.p = tl2cgen.Predictor(str(lib), nthread=1)
        self.tl = tl2cgen
        return self

    def predict(self, X):
        y = self.p.predict(self.tl.DMatrix(X, dtype="float64"))
        y = np.asarray(y)
        if self.sp.task == "regression":
            return y.reshape(-1, 1)
        y = y.reshape(len(X), -1)
        return np.concatenate([1 - y, y], axis=1) if y.shape[1] == 1 else y


class ONNXPeer(Peer):
    name = "onnxruntime"
    note = "skl2onnx/onnxmltools conversion, InferenceSession 1 intra-op thread, float32 input (ONNX trees are float32)"

    def prepare(self):
        import onnxruntime as ort
        path = self.mdir / "model.onnx"
        if not path.exists():
            self._convert(path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.iname = self.s.get_inputs()[0].name
        outs = [o.name for o in self.s.get_outputs()]
        self.out = [o for o in outs if "prob" in o.lower()] or [outs[-1] if self.sp.task != "regression" else outs[0]]
        if self.sp.task == "regression":
            self.out = [outs[0]]
        return self

    def _convert(self, path):
        est = self.est()
        F = len(self.meta["columns"])
        from onnxmltools.convert.common.data_types import FloatTensorType
        types = [("input", FloatTensorType([None, F]))]
        if self.sp.library == "xgboost":
            if self.sp.variant == "cat":
                raise RuntimeError("onnxmltools cannot convert XGBoost categorical splits")
            import onnxmltools
            onx = onnxmltools.convert_xgboost(est, initial_types=types, target_opset=15)
        elif self.sp.library == "lightgbm":
            if self.sp.variant == "cat":
                raise RuntimeError("onnxmltools cannot convert LightGBM categorical splits")
            import onnxmltools
            onx = onnxmltools.convert_lightgbm(est, initial_types=types, zipmap=False, target_opset=15)
        else:
            from skl2onnx import to_onnx
            from skl2onnx.common.data_types import FloatTensorType as FT
            opts = {id(est): {"zipmap": False}} if self.sp.task != "regression" else None
            onx = to_onnx(est, initial_types=[("input", FT([None, F]))], options=opts,
                          target_opset={"": 17, "ai.onnx.ml": 3})
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(onx.SerializeToString())
        os.replace(tmp, path)

    def prepare_rows(self, X):
        return np.ascontiguousarray(X, dtype=np.float32)

    def predict(self, X):
        y = self.s.run(self.out, {self.iname: X})[0]
        return _as_output(self.sp, y)


class PyPMMLPeer(Peer):
    name = "pypmml"
    note = "pypmml Model.predict over a pandas DataFrame (batch) or a dict (record); PMML4S on a JVM via Py4J"
    slow = True
    out_of_process = True  # the work happens in the gateway JVM: count wall time, not this process's CPU

    def prepare(self):
        from pypmml import Model
        self.m = Model.fromFile(str(self.mdir / "model.pmml"))
        self.cols = self.meta["columns"]
        self.classes = self.meta["classes"]
        names = list(self.m.outputNames)
        if self.sp.task == "regression":
            self.pick = [n for n in names if n.startswith("predicted_")][:1] or names[:1]
        else:
            self.pick = []
            for c in self.classes:
                cands = [n for n in names if n in (f"probability({c})", f"probability_{c}", f"probability({c}.0)")]
                if not cands:
                    raise RuntimeError(f"pypmml gives no probability for class {c}: outputs {names}")
                self.pick.append(cands[0])
        return self

    def predict(self, X):
        import pandas as pd
        df = pd.DataFrame(np.asarray(X), columns=self.cols)
        for c in self.cols:
            if self.sp.variant == "cat" and c.startswith("c"):
                df[c] = df[c].astype(int)
        out = self.m.predict(df)
        return np.asarray(out[self.pick], dtype=np.float64)

    def record(self, x):
        cat = self.sp.variant == "cat"
        return self.m.predict({c: (None if np.isnan(v) else int(v) if cat and c.startswith("c") else float(v))
                               for c, v in zip(self.cols, x)})

    def close(self):
        try:
            self.m.close()
        except Exception:
            pass


class PmmlrtPythonPeer(Peer):
    """pmmlrt's own Python package (python/), installed by benchmarks/run over the driver's libpmmlrt_c."""
    name = "pmmlrt-python"
    note = ("the pmmlrt Python package over the same build's libpmmlrt_c: predict_proba / predict on a NumPy "
            "array (batch), predict_proba_one / predict_one on a list of numbers (record)")
    fast_record = True  # time as many records as pmmlrt_bench does

    def prepare(self):
        import pmmlrt
        self.m = pmmlrt.load(str(self.mdir / "model.pmml"))
        cols = list(self.meta["columns"])
        # The data's column of each input field: the array and the record go in input field order.
        self.order = [cols.index(f.name) for f in self.m.input_fields]
        self.classification = self.m.function == "classification"
        self.note += f" (compiled single-record path: {'yes' if self.m._scorer is not None else 'no'})"
        return self

    def prepare_rows(self, X):
        return np.ascontiguousarray(np.asarray(X, dtype=np.float64)[:, self.order])

    def predict(self, X):
        if self.classification:
            return self.m.predict_proba(X)
        return np.asarray(self.m.predict(X), dtype=np.float64).reshape(-1, 1)

    def record_rows(self, X):
        return [list(map(float, row)) for row in self.prepare_rows(X)]

    def record(self, x):
        return self.m.predict_proba_one(x) if self.classification else self.m.predict_one(x)

    def close(self):
        self.m.close()


def peers_for(sp):
    out = [PmmlrtPythonPeer]
    if sp.library == "xgboost":
        out.append(XGBoostPeer)
    if sp.library == "lightgbm":
        out.append(LightGBMPeer)
    if sp.library.startswith("sklearn"):
        out.append(SklearnPeer)
    if sp.library in ("xgboost", "lightgbm", "sklearn-rf", "sklearn-gbm", "sklearn-tree"):
        out.append(TL2cgenPeer)
    out.append(ONNXPeer)
    out.append(PyPMMLPeer)
    return out


def measure(peer, X, E, batches, repeats, min_time, latency_n, slow_rows=1000):
    """Throughput for each batch size, latency of one-row calls, and agreement on the expected rows."""
    prep = getattr(peer, "prepare_rows", lambda a: a)
    slow = getattr(peer, "slow", False)
    res = {"engine": peer.name, "note": peer.note}
    Xc = prep(np.asarray(X[:len(E)]))
    res["check"] = check(peer.predict(Xc), E)
    res["throughput"] = []
    for b in batches:
        if slow and b > slow_rows:
            continue
        n = min(len(X), max(b, 10 * b if b <= 1000 else b))
        Xb = prep(np.asarray(X[:n]))
        res["throughput"].append(timed_rates(lambda s, k: peer.predict(Xb[s:s + k]), n, b, repeats, min_time))
    if getattr(peer, "out_of_process", False):
        for t in res["throughput"]:
            t["rows_per_cpu_s"] = t["rows_per_s"]
    Xl = prep(np.asarray(X[:latency_n]))
    if hasattr(peer, "record"):
        Xr = peer.record_rows(X[:latency_n]) if hasattr(peer, "record_rows") else np.asarray(X[:latency_n])
        n = latency_n if getattr(peer, "fast_record", False) else min(latency_n, 300)
        res["latency"] = {"record": timed_latency(lambda i: peer.record(Xr[i]), n)}
    else:
        res["latency"] = {"batch1": timed_latency(lambda i: peer.predict(Xl[i:i + 1]), latency_n)}
    return res


def run_jpmml(sp, meta, mdir: Path, cp: str, warmup, min_time, repeats, latency_n, check_rows, timeout):
    classes = ",".join(meta["classes"]) if sp.task != "regression" else "-"
    cmd = ["java", "-Xmx8g", "-cp", cp, "JpmmlBench", str(mdir / "model.pmml"), meta["data"],
           ",".join(meta["columns"]), str(mdir / "expected.f64"), classes, str(warmup), str(min_time), str(repeats),
           str(latency_n), str(check_rows)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        err = [l for l in p.stderr.splitlines() if "Picked up JAVA_TOOL_OPTIONS" not in l]
        raise RuntimeError("JpmmlBench failed: " + " | ".join(err[-5:]))
    import json
    r = json.loads(lines[-1])
    r["note"] = "JPMML-Evaluator (pmml-evaluator jar of the jpmml_evaluator package), Java 17, warmed JVM, " \
                "one evaluate() per row incl. argument preparation"
    return r
