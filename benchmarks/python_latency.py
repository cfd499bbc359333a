"""Single-record latency of the pmmlrt Python package (the "< 5 µs through Python" target of issue 7).

    PYTHON=build/python-venv/bin/python     # a venv with pmmlrt installed (python/run-tests makes one)
    $PYTHON benchmarks/python_latency.py build/bench-models/xgb_binary_dense_100x8/model.pmml [...]

Per model: wall-clock p50/p99 of predict_one (a list of numbers in input order, through pmmlrt_score_one),
predict_proba_one, predict_one on a 1-D float64 row, and predict() on a one-row NumPy array (the batch path),
over 5,000 calls each after a warm-up, with rows drawn from a fixed-seed normal distribution. Whether the
compiled single-record path (pmmlrt._fast) is in use is printed first (PMMLRT_NO_EXTENSION=1 turns it off).
"""
import sys
import time

import numpy as np

import pmmlrt


def percentiles(fn, rows):
    for r in rows[:500]:
        fn(r)
    ts = []
    for r in rows:
        t0 = time.perf_counter_ns()
        fn(r)
        ts.append(time.perf_counter_ns() - t0)
    ts.sort()
    return ts[len(ts) // 2] / 1000, ts[int(len(ts) * 0.99)] / 1000


def main(paths):
    fast = getattr(pmmlrt._model, "_fast", None)
    print(f"pmmlrt {pmmlrt.__version__}, single-record path: {'pmmlrt._fast' if fast else 'ctypes'}\n")
    print("| model | call | p50 µs | p99 µs |")
    print("|---|---|---:|---:|")
    for path in paths:
        m = pmmlrt.load(path)
        X = np.random.default_rng(7).normal(size=(5000, m.n_features_in_))
        lists = [list(r) for r in X]
        calls = [("predict_one(list)", m.predict_one, lists)]
        if m.function == "classification":
            calls.append(("predict_proba_one(list)", m.predict_proba_one, lists))
        calls.append(("predict_one(1-D array)", m.predict_one, list(X)))
        calls.append(("predict(1-row array)", m.predict, [X[i:i + 1] for i in range(len(X))]))
        name = path.rstrip("/").split("/")[-2] if path.endswith("model.pmml") else path
        for label, fn, rows in calls:
            p50, p99 = percentiles(fn, rows)
            print(f"| {name} | {label} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
