#!/usr/bin/env python3
"""What the opt-in binary16 leaf precision (LoadOptions::leaf_precision = Half) changes on real models.

Scores every conformance case whose model contains a TreeModel twice, with leaf_precision "exact" (the
default) and "half", over the case's own input rows, and prints a Markdown table per model: the largest
absolute and relative difference of the predicted values (regression) or of the class probabilities
(classification), how many predicted class labels changed, and the largest absolute difference over the
model's numeric OutputFields (confidences among them). A model that Half refuses (a leaf beyond 65504) is
listed as refused. The corpus is read in place.

    PYTHONPATH=python/src PMMLRT_C_LIBRARY=build/capi/libpmmlrt_c.so \\
        python3 benchmarks/half_precision_report.py [--conformance ../shared/conformance]

Needs numpy and pandas (as the pmmlrt package does).
"""
import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

import pmmlrt

ROOT = Path(__file__).resolve().parents[1]


def tree_cases(root):
    for manifest in sorted(root.glob("*/*/case.json")):
        if "<TreeModel" in (manifest.parent / "model.pmml").read_text(encoding="utf-8", errors="replace"):
            yield manifest.parent, json.loads(manifest.read_text())


def records(case_dir, case, fields):
    """The case's input rows as records of strings; the manifest's missing tokens become None."""
    missing = set(case.get("missing_tokens", []))
    with open(case_dir / case["input"], newline="") as f:
        rows = list(csv.DictReader(f))
    return [{name: (None if row.get(name) is None or row[name] in missing else row[name]) for name in fields}
            for row in rows]


def differences(exact, half):
    """Largest |half - exact| and |half - exact| / |exact| over cells where both are numbers (relative: where
    exact is not zero; a zero turned non-zero counts as an infinite relative difference)."""
    e, h = np.asarray(exact, dtype=float).ravel(), np.asarray(half, dtype=float).ravel()
    both = ~np.isnan(e) & ~np.isnan(h)
    if not both.any():
        return math.nan, math.nan
    d = np.abs(h[both] - e[both])
    base = np.abs(e[both])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(base > 0, d / base, np.where(d > 0, np.inf, 0.0))
    return float(d.max()), float(rel.max())


def compare(case_dir, case):
    path = case_dir / case["model"]
    exact = pmmlrt.load(path)
    try:
        half = pmmlrt.load(path, leaf_precision="half")
    except pmmlrt.UsageError as error:
        return {"refused": str(error)}
    rows = records(case_dir, case, [f.name for f in exact.input_fields])
    a = exact.score(rows, on_error="record", final_only=True)
    b = half.score(rows, on_error="record", final_only=True)
    scored = a["error"].isna() & b["error"].isna()
    a, b = a[scored], b[scored]
    target = a.columns[0]
    out = {"rows": int(scored.sum()), "function": exact.function}
    # Every numeric OutputField too (confidences, transformed values, ...), where the model declares some.
    numeric = [c for c in a.columns if c not in (target, "error") and a[c].dtype.kind == "f"]
    out["outputs_abs"] = differences(a[numeric], b[numeric])[0] if numeric else None
    if exact.function == "classification":
        probability_columns = [f"probability({c})" for c in exact.classes_ if f"probability({c})" in a.columns]
        out["abs"], out["rel"] = differences(a[probability_columns], b[probability_columns])
        out["labels_changed"] = int((a[target].astype(str) != b[target].astype(str)).sum())
    else:
        out["abs"], out["rel"] = differences(a[target], b[target])
        out["labels_changed"] = None
    return out


def number(x):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conformance", type=Path, default=ROOT.parent / "shared" / "conformance")
    args = parser.parse_args()
    print("| case | function | rows | max abs diff | max rel diff | labels changed | max abs diff, numeric outputs |")
    print("|---|---|---:|---:|---:|---:|---:|")
    totals = {"models": 0, "rows": 0, "labels": 0, "refused": 0}
    for case_dir, case in tree_cases(args.conformance):
        r = compare(case_dir, case)
        totals["models"] += 1
        if "refused" in r:
            totals["refused"] += 1
            print(f"| {case['id']} | {case['function']} | – | refused: a leaf beyond the binary16 range | | | |")
            continue
        totals["rows"] += r["rows"]
        changed = "–" if r["labels_changed"] is None else str(r["labels_changed"])
        totals["labels"] += r["labels_changed"] or 0
        print(f"| {case['id']} | {r['function']} | {r['rows']} | {number(r['abs'])} | {number(r['rel'])} | {changed} "
              f"| {number(r['outputs_abs'])} |")
    print(f"\n{totals['models']} models with trees, {totals['rows']} rows, {totals['labels']} class labels changed, "
          f"{totals['refused']} refused in Half mode.")


if __name__ == "__main__":
    main()
