"""The benchmark's model matrix: synthetic data, training with fixed seeds, PMML export, peer artefacts.

Everything is made here from numpy random numbers (no downloads). Each model lives in
build/bench-models/<name>/ with:
    model.pmml        the sklearn2pmml export
    native.*          the training library's model (xgb .json, lgbm .txt, sklearn .pkl)
    expected.f64      the native predictions (probabilities or values) on the first CHECK_ROWS bench rows
    meta.json         what it is, how long training and export took, node counts, file sizes
The bench data (a 1,000,000-row matrix per feature variant) lives in build/bench-models/data/.
A model whose meta.json exists and whose spec hash matches is not trained again.
"""

import contextlib
import hashlib
import io
import json
import os
import pickle
import re
import struct
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd

CHECK_ROWS = 10_000
TRAIN_ROWS = 20_000
BENCH_ROWS = 1_000_000
N_NUM = 20
CAT_CARD = [5, 10, 20, 40]  # categorical variant: 4 integer-coded categorical columns + 16 numeric
MISSING_RATE = 0.1
N_CLASSES = 3


@dataclass
class Spec:
    name: str
    library: str  # xgboost | lightgbm | sklearn-rf | sklearn-gbm | sklearn-tree | sklearn-logreg
    task: str  # binary | multiclass | regression
    variant: str  # dense | na | cat | wide
    trees: int = 1
    depth: int = 0
    quick: bool = False

    def key(self) -> str:
        d = asdict(self)
        d.pop("quick")
        d["v"] = 3  # bump to retrain everything
        d["rows"] = (TRAIN_ROWS, BENCH_ROWS, CHECK_ROWS)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


SHORT = {"xgboost": "xgb", "lightgbm": "lgbm", "sklearn-rf": "skrf", "sklearn-gbm": "skgbm"}


def model_matrix() -> List[Spec]:
    specs = []
    sizes = [(100, 8), (500, 12), (1000, 8)]
    for lib in ["xgboost", "lightgbm", "sklearn-rf", "sklearn-gbm"]:
        variants = ["dense", "na", "cat"] if lib in ("xgboost", "lightgbm") else ["dense"]
        for task in ["binary", "multiclass", "regression"]:
            for variant in variants:
                for trees, depth in sizes:
                    name = f"{SHORT[lib]}_{task}_{variant}_{trees}x{depth}"
                    quick = (trees, depth) == (100, 8) and (
                        (lib in ("xgboost", "sklearn-rf") and task == "binary" and variant == "dense")
                        or (lib == "lightgbm" and task == "binary" and variant == "na")
                        or (lib == "lightgbm" and task == "multiclass" and variant == "cat"))
                    quick = quick or (lib == "xgboost" and task == "binary" and variant == "dense" and trees == 1000)
                    specs.append(Spec(name, lib, task, variant, trees, depth, quick))
    specs.append(Spec("logreg_binary_wide_1000f", "sklearn-logreg", "binary", "wide", 1, 0, True))
    specs.append(Spec("sktree_regression_dense_deep", "sklearn-tree", "regression", "dense", 1, 0, True))
    return specs


# ---------------------------------------------------------------------------------------------------------------
# data

def write_f64(path: Path, a: np.ndarray):
    a = np.ascontiguousarray(a, dtype="<f8")
    assert a.ndim == 2
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(b"PMRTMAT1" + struct.pack("<QQ", a.shape[0], a.shape[1]))
        a.tofile(f)
    os.replace(tmp, path)


def read_f64(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        magic = f.read(8)
        assert magic == b"PMRTMAT1", path
        rows, cols = struct.unpack("<QQ", f.read(16))
    return np.memmap(path, dtype="<f8", mode="r", offset=24, shape=(rows, cols))


def columns_of(variant: str) -> List[str]:
    if variant == "wide":
        return [f"x{i}" for i in range(1000)]
    if variant == "cat":
        return [f"c{i}" for i in range(len(CAT_CARD))] + [f"f{i}" for i in range(N_NUM - len(CAT_CARD))]
    return [f"f{i}" for i in range(N_NUM)]


def make_x(variant: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if variant == "wide":
        return rng.standard_normal((n, 1000)).astype(np.float64)
    X = rng.standard_normal((n, N_NUM))
    if variant == "cat":
        for j, k in enumerate(CAT_CARD):
            X[:, j] = rng.integers(0, k, n)
    if variant == "na":
        X[rng.random(X.shape) < MISSING_RATE] = np.nan
    return X


def latent(variant: str, X: np.ndarray, seed: int) -> np.ndarray:
    """A nonlinear score of the inputs (NaN read as 0), so that trees get deep and use many features."""
    rng = np.random.default_rng(seed + 1000)
    Z = np.nan_to_num(X, nan=0.0)
    if variant == "wide":
        w = rng.standard_normal(X.shape[1]) / np.sqrt(X.shape[1])
        return Z @ w * 3.0
    s = np.zeros(len(X))
    cols = X.shape[1]
    start = len(CAT_CARD) if variant == "cat" else 0
    for j in range(start, cols):
        a, b = rng.standard_normal(2)
        s += a * np.sin(1.5 * Z[:, j] + b) + 0.3 * b * Z[:, j] * Z[:, (j + 1) % cols]
    if variant == "cat":
        for j, k in enumerate(CAT_CARD):
            effect = rng.standard_normal(k) * 1.5
            s += effect[Z[:, j].astype(int)]
    if variant == "na":
        s += 0.8 * np.isnan(X[:, 0]) - 0.5 * np.isnan(X[:, 3])
    return s


def make_y(task: str, variant: str, X: np.ndarray, seed: int) -> np.ndarray:
    s = latent(variant, X, seed)
    rng = np.random.default_rng(seed + 7)
    s = s + rng.standard_normal(len(s)) * 0.5 * s.std()
    if task == "regression":
        return s
    if task == "binary":
        return (s > np.median(s)).astype(np.int64)
    qs = np.quantile(s, np.linspace(0, 1, N_CLASSES + 1)[1:-1])
    return np.searchsorted(qs, s).astype(np.int64)


def bench_data(root: Path, variant: str) -> Path:
    """The shared bench matrix of a variant (same rows for every engine)."""
    d = root / "data"
    d.mkdir(parents=True, exist_ok=True)
    rows = 100_000 if variant == "wide" else BENCH_ROWS
    p = d / f"{variant}_{rows}.f64"
    if not p.exists():
        write_f64(p, make_x(variant, rows, seed=12345))
    return p


def frame(variant: str, X: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(X, columns=columns_of(variant))
    if variant == "cat":
        for j, k in enumerate(CAT_CARD):
            c = f"c{j}"
            df[c] = pd.Categorical(df[c].astype(int), categories=list(range(k)))
    return df


# ---------------------------------------------------------------------------------------------------------------
# training and export

def make_estimator(sp: Spec, seed: int):
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeRegressor
    clf = sp.task != "regression"
    min_leaf = 5 if sp.depth >= 12 else 1
    if sp.library == "xgboost":
        from xgboost import XGBClassifier, XGBRegressor
        kw = dict(n_estimators=sp.trees, max_depth=sp.depth, learning_rate=0.1, subsample=0.8,
                  colsample_bytree=0.8, tree_method="hist", n_jobs=2, random_state=seed, min_child_weight=min_leaf)
        if sp.variant == "cat":
            kw.update(enable_categorical=True, max_cat_to_onehot=1)
        return XGBClassifier(**kw) if clf else XGBRegressor(**kw)
    if sp.library == "lightgbm":
        from lightgbm import LGBMClassifier, LGBMRegressor
        kw = dict(n_estimators=sp.trees, max_depth=sp.depth, num_leaves=2 ** sp.depth, learning_rate=0.1,
                  subsample=0.8, subsample_freq=1, colsample_bytree=0.8, min_child_samples=min_leaf * 4,
                  n_jobs=2, random_state=seed, deterministic=True, force_col_wise=True, verbose=-1)
        if sp.variant == "cat":
            kw.update(min_data_per_group=20, cat_smooth=5.0)
        return LGBMClassifier(**kw) if clf else LGBMRegressor(**kw)
    if sp.library == "sklearn-rf":
        kw = dict(n_estimators=sp.trees, max_depth=sp.depth, min_samples_leaf=min_leaf, max_features=0.5,
                  n_jobs=2, random_state=seed)
        return RandomForestClassifier(**kw) if clf else RandomForestRegressor(**kw)
    if sp.library == "sklearn-gbm":
        kw = dict(n_estimators=sp.trees, max_depth=sp.depth, min_samples_leaf=min_leaf, learning_rate=0.1,
                  subsample=0.8, max_features=0.5, random_state=seed)
        return GradientBoostingClassifier(**kw) if clf else GradientBoostingRegressor(**kw)
    if sp.library == "sklearn-logreg":
        return LogisticRegression(max_iter=300, random_state=seed)
    if sp.library == "sklearn-tree":
        return DecisionTreeRegressor(min_samples_leaf=2, random_state=seed)
    raise ValueError(sp.library)


def make_pipeline(sp: Spec, est):
    from sklearn2pmml.pipeline import PMMLPipeline
    if sp.variant != "cat":
        return PMMLPipeline([("model", est)])
    from sklearn.compose import ColumnTransformer
    from sklearn2pmml.decoration import CategoricalDomain, ContinuousDomain
    steps = []
    for c in columns_of("cat"):
        if c.startswith("c"):
            steps.append((c, CategoricalDomain(dtype="category"), [c]))
        else:
            steps.append((c, ContinuousDomain(invalid_value_treatment="as_is", with_data=False), [c]))
    ct = ColumnTransformer(steps)
    ct.set_output(transform="pandas")
    return PMMLPipeline([("mapper", ct), ("model", est)])


def export_pmml(pipe, out: Path):
    from sklearn2pmml import sklearn2pmml
    buf = io.StringIO()
    tmp = out.with_suffix(".tmp.pmml")
    try:
        with contextlib.redirect_stdout(buf):
            sklearn2pmml(pipe, str(tmp))
    except Exception:
        sys.stdout.write(buf.getvalue())
        raise
    os.replace(tmp, out)


def native_predict(sp: Spec, est, X: np.ndarray) -> np.ndarray:
    """The training library's own predictions on raw numeric rows (the values pmmlrt must reproduce)."""
    df = frame(sp.variant, X)
    if sp.task == "regression":
        y = est.predict(df)
        return np.asarray(y, dtype=np.float64).reshape(-1, 1)
    return np.asarray(est.predict_proba(df), dtype=np.float64)


def count_nodes(pmml: Path) -> int:
    n = 0
    pat = re.compile(rb"<Node[ >/]")
    with open(pmml, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            n += len(pat.findall(chunk))
    return n


def tree_stats(sp: Spec, est):
    """Native tree count and node count (None for non-tree models)."""
    try:
        if sp.library == "xgboost":
            df = est.get_booster().trees_to_dataframe()
            return int(df["Tree"].nunique()), int(len(df))
        if sp.library == "lightgbm":
            d = est.booster_.dump_model()["tree_info"]
            leaves = sum(t["num_leaves"] for t in d)
            return len(d), int(2 * leaves - len(d))
        if sp.library in ("sklearn-rf",):
            return len(est.estimators_), int(sum(t.tree_.node_count for t in est.estimators_))
        if sp.library == "sklearn-gbm":
            ts = est.estimators_.ravel()
            return len(ts), int(sum(t.tree_.node_count for t in ts))
        if sp.library == "sklearn-tree":
            return 1, int(est.tree_.node_count)
    except Exception:
        pass
    return None, None


def build(sp: Spec, root: Path, log=print) -> dict:
    d = root / sp.name
    meta_path = d / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == sp.key() and (d / "model.pmml").exists():
            return meta
    d.mkdir(parents=True, exist_ok=True)
    seed = int(hashlib.sha256(sp.name.encode()).hexdigest()[:6], 16)
    train_rows = 100_000 if sp.library == "sklearn-tree" else TRAIN_ROWS
    Xtr = make_x(sp.variant, train_rows, seed)
    ytr = make_y(sp.task, sp.variant, Xtr, seed=77)
    est = make_estimator(sp, seed)
    pipe = make_pipeline(sp, est)
    t0 = time.perf_counter()
    pipe.fit(frame(sp.variant, Xtr), pd.Series(ytr, name="y"))
    train_s = time.perf_counter() - t0
    log(f"  trained {sp.name} in {train_s:.1f}s")
    t0 = time.perf_counter()
    export_pmml(pipe, d / "model.pmml")
    export_s = time.perf_counter() - t0
    log(f"  exported {sp.name} to PMML in {export_s:.1f}s ({(d / 'model.pmml').stat().st_size / 1e6:.1f} MB)")
    # The native model, for the peers.
    with open(d / "native.pkl", "wb") as f:
        pickle.dump(est, f)
    data = bench_data(root.resolve(), sp.variant)
    X = np.asarray(read_f64(data)[:CHECK_ROWS])
    write_f64(d / "expected.f64", native_predict(sp, pipe, X))
    n_trees, n_nodes_native = tree_stats(sp, est)
    meta = dict(key=sp.key(), spec=asdict(sp), columns=columns_of(sp.variant), data=str(data),
                classes=[str(c) for c in getattr(est, "classes_", [])], train_rows=train_rows,
                train_s=train_s, export_s=export_s, pmml_bytes=(d / "model.pmml").stat().st_size,
                pmml_nodes=count_nodes(d / "model.pmml"), native_trees=n_trees, native_nodes=n_nodes_native,
                precision="float" if sp.library == "xgboost" else "double")
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta
