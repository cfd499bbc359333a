#!/usr/bin/env python3
"""Generate PMML conformance cases from scikit-learn, XGBoost and LightGBM.

Every case is a model trained here with fixed seeds, exported to PMML with
sklearn2pmml, an input CSV of held-out rows, and the training library's OWN
native predict()/predict_proba() results as the expected values.  Each case
folder holds model.pmml, input.csv, expected.csv and a case.json manifest in
the format of the shared conformance corpus (see README.md next to this file).

When the jpmml_evaluator package is installed, every case is also evaluated
with JPMML-Evaluator (as an independent oracle) and the agreement with the
native predictions is printed and recorded in the case notes.  The native
predictions stay the expected values even where JPMML disagrees.

Usage (see README.md):
    python tests/generated/generate.py              # regenerate everything
    python tests/generated/generate.py --only XGBoostWine LightGBMLoanCat
    python tests/generated/generate.py --verify     # only re-check existing cases
"""

import os

# Nothing may leave the machine: every JVM started from this process (the
# sklearn2pmml converter subprocess, and JPMML-Evaluator through JPype) gets
# a dead loopback proxy.  This must be set before any JVM starts.
os.environ["JAVA_TOOL_OPTIONS"] = (
    "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=9 "
    "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9"
)
# sklearn2pmml prints a banner once a day per process environment; silence it.
import datetime as _dt

os.environ["SKLEARN2PMML_BANNER"] = _dt.date.today().isoformat()

import argparse
import contextlib
import io
import json
import math
import re
import struct
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from importlib.metadata import version as _pkg_version
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sklearn2pmml import sklearn2pmml
from sklearn2pmml.decoration import CategoricalDomain, ContinuousDomain
from sklearn2pmml.pipeline import PMMLPipeline

import lightgbm
import xgboost
from lightgbm import LGBMClassifier, LGBMRegressor
from xgboost import XGBClassifier, XGBRegressor

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES_DIR = HERE / "cases"
EXAMPLES_DIR = REPO / "examples" / "models"

NA = "N/A"
DOUBLE_TOL = {"kind": "relative", "rel": 1e-13, "zero": 1e-13}


def versions() -> Dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in ["numpy", "scipy", "pandas", "scikit-learn", "xgboost", "lightgbm",
                "sklearn2pmml", "jpmml_evaluator", "JPype1"]:
        try:
            out[pkg] = _pkg_version(pkg)
        except Exception:
            out[pkg] = "not installed"
    return out


VERSIONS = versions()

# ---------------------------------------------------------------------------
# float32 helpers (same definitions as the corpus README)


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def ulp32(x: float) -> float:
    x = abs(f32(x))
    if x == 0 or x < 2.0 ** -126:
        return 2.0 ** -149
    return 2.0 ** (math.frexp(x)[1] - 24)


def f32_from_decimal(s: str) -> float:
    """Correctly rounded decimal string -> float32 (round half to even)."""
    q = Fraction(s)
    f = np.float32(float(s))
    cands = {float(f), float(np.nextafter(f, np.float32(np.inf))),
             float(np.nextafter(f, np.float32(-np.inf)))}

    def key(c):
        bits = struct.unpack("I", struct.pack("f", c))[0]
        return (abs(Fraction(c) - q), bits & 1)

    return min(cands, key=key)


# ---------------------------------------------------------------------------
# formatting


def fmt_input(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return NA
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.floating):
        if np.isnan(v):
            return NA
        if v.dtype == np.float32:
            return str(v)  # shortest float32 repr
        return repr(float(v))
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    assert "," not in s and s != NA, s
    return s


def fmt_double(v) -> str:
    v = float(v)
    if math.isnan(v):
        return NA
    return repr(v)


def fmt_float32(v) -> str:
    v = np.float32(v)
    if np.isnan(v):
        return NA
    return str(v)


def fmt_label(v) -> str:
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    if isinstance(v, (np.floating, float)):
        if float(v).is_integer():
            return str(int(v))
        return repr(float(v))
    return str(v)


# ---------------------------------------------------------------------------
# data sets (all bundled with scikit-learn or synthesized here; no downloads)


def iris_df():
    d = load_iris(as_frame=True)
    X = d.data.copy()
    X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    y = pd.Series(np.asarray(d.target_names)[d.target.values], name="species")
    return X, y


def wine_df():
    d = load_wine(as_frame=True)
    X = d.data.copy()
    y = pd.Series(d.target.values.astype(np.int64), name="cultivar")
    return X, y


BC_FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean concavity",
               "mean concave points", "worst area", "worst symmetry", "radius error"]


def breast_cancer_df():
    d = load_breast_cancer(as_frame=True)
    X = d.data[BC_FEATURES].copy()
    y = pd.Series(d.target.values.astype(np.int64), name="benign")
    return X, y


def diabetes_df():
    d = load_diabetes(as_frame=True, scaled=False)
    X = d.data.copy()
    y = pd.Series(d.target.values.astype(np.float64), name="progression")
    return X, y


LOAN_NUM = ["age", "income", "debt_ratio", "hours"]
LOAN_CAT = ["employment", "education", "region"]


def loan_df(n=1200, seed=2026):
    """Synthetic credit data with numeric and string columns and three targets."""
    rs = np.random.RandomState(seed)
    age = rs.randint(18, 76, n).astype(np.int64)
    income = np.round(rs.lognormal(10.5, 0.45, n), 2)
    debt_ratio = np.round(rs.beta(2.0, 5.0, n), 3)
    hours = rs.randint(10, 71, n).astype(np.int64)
    employment = rs.choice(["Private", "Public", "SelfEmployed", "Unemployed"], n,
                           p=[0.55, 0.2, 0.15, 0.1])
    education = rs.choice(["HighSchool", "College", "Bachelor", "Master", "Doctorate"], n,
                          p=[0.3, 0.25, 0.25, 0.15, 0.05])
    region = rs.choice(["North", "South", "East", "West"], n)
    emp = pd.Series(employment).map({"Private": 0.0, "Public": -0.6, "SelfEmployed": 0.5,
                                     "Unemployed": 1.6}).values
    edu = pd.Series(education).map({"HighSchool": 0.5, "College": 0.2, "Bachelor": 0.0,
                                    "Master": -0.4, "Doctorate": -0.7}).values
    reg = pd.Series(region).map({"North": 0.0, "South": 0.3, "East": -0.2, "West": 0.1}).values
    z = (-1.0 + 5.0 * (debt_ratio - 0.28) - (income - 40000.0) / 25000.0
         + 0.02 * (45 - age) - 0.01 * (hours - 40) + emp + edu + reg)
    p = 1.0 / (1.0 + np.exp(-z))
    default = (rs.rand(n) < p).astype(np.int64)
    zr = z + rs.normal(0, 0.5, n)
    q1, q2 = np.quantile(zr, [0.4, 0.75])
    risk = np.where(zr < q1, "low", np.where(zr < q2, "medium", "high"))
    loss = np.round(20000.0 * p * debt_ratio + 30.0 * (age - 18) + rs.normal(0, 300.0, n), 2)
    X = pd.DataFrame({"age": age, "income": income, "debt_ratio": debt_ratio, "hours": hours,
                      "employment": employment, "education": education, "region": region})
    X[LOAN_CAT] = X[LOAN_CAT].astype(object)
    return X, {"default": pd.Series(default, name="default"),
               "risk": pd.Series(risk, name="risk"),
               "loss": pd.Series(loss, name="loss")}


def inject_missing(X: pd.DataFrame, cols, frac, seed):
    rs = np.random.RandomState(seed)
    X = X.copy()
    for c in cols:
        m = rs.rand(len(X)) < frac
        if X[c].dtype.kind in "iu":
            X[c] = X[c].astype(np.float64)
        X.loc[m, c] = np.nan
    return X


def split(X, y, test_size, seed, stratify=True):
    return train_test_split(X, y, test_size=test_size, random_state=seed,
                            stratify=(y if stratify else None))


# ---------------------------------------------------------------------------
# case specification


@dataclass
class Spec:
    name: str
    family: str
    function: str  # classification | regression
    library: str  # sklearn | xgboost | lightgbm
    description: str
    make: Callable  # () -> (pipeline, X_train, y_train, X_test, y_test, fit_params)
    drop_ties: bool = True
    extra_notes: List[str] = field(default_factory=list)
    example: bool = False  # also write examples/models/iris_forest.pmml + iris.csv


def numeric_domain():
    # invalid_value_treatment="as_is": held-out values outside the training
    # range must be scored, not rejected as invalid
    return ContinuousDomain(invalid_value_treatment="as_is", with_data=False)


def categorical_domain(**kw):
    return CategoricalDomain(**kw)


def plain(est):
    return PMMLPipeline([("model", est)])


SPECS: List[Spec] = []


def spec(**kw):
    def deco(fn):
        SPECS.append(Spec(make=fn, **kw))
        return fn
    return deco


# --- 1. decision trees -----------------------------------------------------

@spec(name="DecisionTreeIris", family="decision-tree", function="classification",
      library="sklearn", drop_ties=False,
      description="sklearn DecisionTreeClassifier(max_depth=4) on iris (string labels)")
def _():
    X, y = iris_df()
    Xtr, Xte, ytr, yte = split(X, y, 60, 11)
    return plain(DecisionTreeClassifier(max_depth=4, random_state=11)), Xtr, ytr, Xte, yte, {}


@spec(name="DecisionTreeDiabetes", family="decision-tree", function="regression",
      library="sklearn",
      description="sklearn DecisionTreeRegressor(max_depth=6, min_samples_leaf=5) on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 12, stratify=False)
    return (plain(DecisionTreeRegressor(max_depth=6, min_samples_leaf=5, random_state=12)),
            Xtr, ytr, Xte, yte, {})


# --- 2. random forests -----------------------------------------------------

@spec(name="RandomForestBreastCancer", family="random-forest", function="classification",
      library="sklearn",
      description="sklearn RandomForestClassifier(n_estimators=25, max_depth=5) on 8 breast_cancer features (binary, integer labels)")
def _():
    X, y = breast_cancer_df()
    Xtr, Xte, ytr, yte = split(X, y, 150, 21)
    return (plain(RandomForestClassifier(n_estimators=25, max_depth=5, random_state=21)),
            Xtr, ytr, Xte, yte, {})


@spec(name="RandomForestWine", family="random-forest", function="classification",
      library="sklearn",
      description="sklearn RandomForestClassifier(n_estimators=25, max_depth=4) on wine (3 classes, integer labels)")
def _():
    X, y = wine_df()
    Xtr, Xte, ytr, yte = split(X, y, 70, 22)
    return (plain(RandomForestClassifier(n_estimators=25, max_depth=4, random_state=22)),
            Xtr, ytr, Xte, yte, {})


@spec(name="RandomForestDiabetes", family="random-forest", function="regression",
      library="sklearn",
      description="sklearn RandomForestRegressor(n_estimators=30, max_depth=5) on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 23, stratify=False)
    return (plain(RandomForestRegressor(n_estimators=30, max_depth=5, random_state=23)),
            Xtr, ytr, Xte, yte, {})


@spec(name="RandomForestIrisExample", family="random-forest", function="classification",
      library="sklearn", example=True,
      description="sklearn RandomForestClassifier(n_estimators=10, max_depth=5) on all 150 iris rows "
                  "(the bundled example examples/models/iris_forest.pmml with examples/models/iris.csv)")
def _():
    X, y = iris_df()
    # EXAMPLE_SEED gives a forest with no tied class probabilities on any iris row (asserted)
    return (plain(RandomForestClassifier(n_estimators=10, max_depth=5, random_state=EXAMPLE_SEED)),
            X, y, X, y, {})


EXAMPLE_SEED = 1


# --- 3. gradient boosting --------------------------------------------------

@spec(name="GradientBoostingBreastCancer", family="gradient-boosting", function="classification",
      library="sklearn",
      description="sklearn GradientBoostingClassifier(n_estimators=40, max_depth=3) on 8 breast_cancer features (binary)")
def _():
    X, y = breast_cancer_df()
    Xtr, Xte, ytr, yte = split(X, y, 150, 31)
    return (plain(GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=31)),
            Xtr, ytr, Xte, yte, {})


@spec(name="GradientBoostingWine", family="gradient-boosting", function="classification",
      library="sklearn",
      description="sklearn GradientBoostingClassifier(n_estimators=30, max_depth=2) on wine (3 classes)")
def _():
    X, y = wine_df()
    Xtr, Xte, ytr, yte = split(X, y, 70, 32)
    return (plain(GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=32)),
            Xtr, ytr, Xte, yte, {})


@spec(name="GradientBoostingDiabetes", family="gradient-boosting", function="regression",
      library="sklearn",
      description="sklearn GradientBoostingRegressor(n_estimators=50, max_depth=3) on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 33, stratify=False)
    return (plain(GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=33)),
            Xtr, ytr, Xte, yte, {})


# --- 4. linear models ------------------------------------------------------

@spec(name="LogisticRegressionBreastCancer", family="logistic-regression", function="classification",
      library="sklearn",
      description="sklearn LogisticRegression (lbfgs) on 8 raw breast_cancer features (binary)")
def _():
    X, y = breast_cancer_df()
    Xtr, Xte, ytr, yte = split(X, y, 150, 41)
    return plain(LogisticRegression(max_iter=20000)), Xtr, ytr, Xte, yte, {}


@spec(name="LogisticRegressionIris", family="logistic-regression", function="classification",
      library="sklearn",
      description="sklearn LogisticRegression (lbfgs, multinomial/softmax) on iris (string labels)")
def _():
    X, y = iris_df()
    Xtr, Xte, ytr, yte = split(X, y, 60, 42)
    return plain(LogisticRegression(max_iter=5000)), Xtr, ytr, Xte, yte, {}


@spec(name="LinearRegressionDiabetes", family="linear-regression", function="regression",
      library="sklearn", description="sklearn LinearRegression on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 43, stratify=False)
    return plain(LinearRegression()), Xtr, ytr, Xte, yte, {}


# --- 5. XGBoost ------------------------------------------------------------

def xgb_common(**kw):
    base = dict(tree_method="hist", n_jobs=1, random_state=51)
    base.update(kw)
    return base


@spec(name="XGBoostBreastCancer", family="gradient-boosting", function="classification",
      library="xgboost",
      description="XGBClassifier(n_estimators=40, max_depth=3, binary:logistic) on 8 breast_cancer features")
def _():
    X, y = breast_cancer_df()
    Xtr, Xte, ytr, yte = split(X, y, 150, 51)
    est = XGBClassifier(**xgb_common(n_estimators=40, max_depth=3, learning_rate=0.2))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="XGBoostWine", family="gradient-boosting", function="classification",
      library="xgboost",
      description="XGBClassifier(n_estimators=20, max_depth=3, multi:softprob) on wine (3 classes, 60 trees)")
def _():
    X, y = wine_df()
    Xtr, Xte, ytr, yte = split(X, y, 70, 52)
    est = XGBClassifier(**xgb_common(n_estimators=20, max_depth=3, learning_rate=0.3))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="XGBoostDiabetes", family="gradient-boosting", function="regression",
      library="xgboost",
      description="XGBRegressor(n_estimators=50, max_depth=3, reg:squarederror) on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 53, stratify=False)
    est = XGBRegressor(**xgb_common(n_estimators=50, max_depth=3, learning_rate=0.1))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="XGBoostLoanNA", family="gradient-boosting", function="classification",
      library="xgboost",
      description="XGBClassifier(n_estimators=40, max_depth=4) on the synthetic loan data, numeric columns only, "
                  "with missing values (NaN) in training and test inputs")
def _():
    X, ys = loan_df()
    X = inject_missing(X[LOAN_NUM], LOAN_NUM, 0.15, 541)
    Xtr, Xte, ytr, yte = split(X, ys["default"], 150, 54)
    est = XGBClassifier(**xgb_common(n_estimators=40, max_depth=4, learning_rate=0.2))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="XGBoostLoanCat", family="gradient-boosting", function="regression",
      library="xgboost",
      description="XGBRegressor(n_estimators=40, max_depth=4, enable_categorical=True) on the synthetic loan data "
                  "with three string columns as native XGBoost categorical features (CategoricalDomain(dtype='category')) "
                  "and missing values in numeric and string inputs")
def _():
    X, ys = loan_df()
    X = inject_missing(X, ["age", "income", "employment", "education"], 0.1, 551)
    Xtr, Xte, ytr, yte = split(X, ys["loss"], 150, 55, stratify=False)
    ct = ColumnTransformer(
        [(c, CategoricalDomain(dtype="category"), [c]) for c in LOAN_CAT]
        + [(c, numeric_domain(), [c]) for c in LOAN_NUM])
    ct.set_output(transform="pandas")
    est = XGBRegressor(**xgb_common(n_estimators=40, max_depth=4, learning_rate=0.15,
                                    enable_categorical=True, max_cat_to_onehot=1))
    return PMMLPipeline([("mapper", ct), ("model", est)]), Xtr, ytr, Xte, yte, {}


# --- 6. LightGBM -----------------------------------------------------------

def lgbm_common(**kw):
    base = dict(n_jobs=1, random_state=61, deterministic=True, force_col_wise=True,
                verbose=-1)
    base.update(kw)
    return base


@spec(name="LightGBMBreastCancer", family="gradient-boosting", function="classification",
      library="lightgbm",
      description="LGBMClassifier(n_estimators=40, num_leaves=8) on 8 breast_cancer features (binary)")
def _():
    X, y = breast_cancer_df()
    Xtr, Xte, ytr, yte = split(X, y, 150, 61)
    est = LGBMClassifier(**lgbm_common(n_estimators=40, num_leaves=8, learning_rate=0.1))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="LightGBMWine", family="gradient-boosting", function="classification",
      library="lightgbm",
      description="LGBMClassifier(n_estimators=20, num_leaves=6, min_child_samples=5) on wine (3 classes, 60 trees)")
def _():
    X, y = wine_df()
    Xtr, Xte, ytr, yte = split(X, y, 70, 62)
    est = LGBMClassifier(**lgbm_common(n_estimators=20, num_leaves=6, min_child_samples=5,
                                       learning_rate=0.2))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="LightGBMDiabetes", family="gradient-boosting", function="regression",
      library="lightgbm",
      description="LGBMRegressor(n_estimators=50, num_leaves=8) on diabetes (unscaled)")
def _():
    X, y = diabetes_df()
    Xtr, Xte, ytr, yte = split(X, y, 120, 63, stratify=False)
    est = LGBMRegressor(**lgbm_common(n_estimators=50, num_leaves=8, learning_rate=0.1))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="LightGBMLoanNA", family="gradient-boosting", function="regression",
      library="lightgbm",
      description="LGBMRegressor(n_estimators=40, num_leaves=12) on the synthetic loan data, numeric columns only, "
                  "with missing values (NaN) in training and test inputs")
def _():
    X, ys = loan_df()
    X = inject_missing(X[LOAN_NUM], LOAN_NUM, 0.15, 641)
    Xtr, Xte, ytr, yte = split(X, ys["loss"], 150, 64, stratify=False)
    est = LGBMRegressor(**lgbm_common(n_estimators=40, num_leaves=12, learning_rate=0.1))
    return plain(est), Xtr, ytr, Xte, yte, {}


@spec(name="LightGBMLoanCat", family="gradient-boosting", function="classification",
      library="lightgbm",
      description="LGBMClassifier(n_estimators=25, num_leaves=8) multiclass (string labels low/medium/high) on the "
                  "synthetic loan data with three string columns as LightGBM categorical features "
                  "(CategoricalDomain(dtype='category')) and missing values in numeric and string inputs")
def _():
    X, ys = loan_df()
    X = inject_missing(X, ["age", "debt_ratio", "employment", "region"], 0.1, 651)
    Xtr, Xte, ytr, yte = split(X, ys["risk"], 150, 65)
    ct = ColumnTransformer(
        [(c, CategoricalDomain(dtype="category"), [c]) for c in LOAN_CAT]
        + [(c, numeric_domain(), [c]) for c in LOAN_NUM])
    ct.set_output(transform="pandas")
    est = LGBMClassifier(**lgbm_common(n_estimators=25, num_leaves=8, learning_rate=0.15,
                                       min_data_per_group=20, cat_smooth=5.0))
    return PMMLPipeline([("mapper", ct), ("model", est)]), Xtr, ytr, Xte, yte, {}


# --- 7. preprocessing pipeline ---------------------------------------------

@spec(name="PipelineLogisticLoan", family="logistic-regression", function="classification",
      library="sklearn",
      description="sklearn Pipeline: ColumnTransformer(numeric: SimpleImputer(mean) + StandardScaler; "
                  "string: SimpleImputer(most_frequent) + OneHotEncoder) -> LogisticRegression, on the synthetic "
                  "loan data (binary string labels no/yes), with missing values in numeric and string inputs")
def _():
    X, ys = loan_df()
    X = inject_missing(X, ["income", "hours", "employment", "region"], 0.1, 711)
    y = ys["default"].map({0: "no", 1: "yes"}).astype(object).rename("default")
    Xtr, Xte, ytr, yte = split(X, y, 150, 71)
    num = Pipeline([("imputer", SimpleImputer(strategy="mean")), ("scaler", StandardScaler())])
    cat = Pipeline([("imputer", SimpleImputer(strategy="most_frequent")),
                    ("onehot", OneHotEncoder())])
    ct = ColumnTransformer([("num", num, LOAN_NUM), ("cat", cat, LOAN_CAT)])
    return (PMMLPipeline([("preprocess", ct), ("model", LogisticRegression(max_iter=5000))]),
            Xtr, ytr, Xte, yte, {})


# ---------------------------------------------------------------------------
# CSV round trip


def to_csv_text(df: pd.DataFrame) -> str:
    lines = [",".join(df.columns)]
    for row in df.itertuples(index=False, name=None):
        lines.append(",".join(fmt_input(v) for v in row))
    return "\n".join(lines) + "\n"


def read_back(text: str, like: pd.DataFrame) -> pd.DataFrame:
    """Parse the input CSV text the way a user would, with the training dtypes."""
    df = pd.read_csv(io.StringIO(text), na_values=[NA], keep_default_na=False,
                     dtype=str)
    out = pd.DataFrame(index=df.index)
    for c in like.columns:
        kind = like[c].dtype.kind
        col = df[c]
        if kind in "iu":
            out[c] = col.astype(np.int64)
        elif kind == "f":
            out[c] = col.astype(np.float64).astype(like[c].dtype)
        else:
            out[c] = col.astype(object).where(col.notna(), np.nan)
    return out


# ---------------------------------------------------------------------------
# PMML inspection


def local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


MODEL_TAGS = {"TreeModel", "MiningModel", "RegressionModel", "GeneralRegressionModel",
              "NeuralNetwork", "SupportVectorMachineModel", "NaiveBayesModel"}


def inspect_pmml(path: Path) -> dict:
    root = ET.parse(path).getroot()
    info = {"version": root.get("version")}
    app = next(e for e in root.iter() if local(e.tag) == "Application")
    info["exporter"] = "sklearn2pmml " + app.get("version")
    dd = next(e for e in root if local(e.tag) == "DataDictionary")
    info["datafields"] = {e.get("name"): e for e in dd if local(e.tag) == "DataField"}
    model = next(e for e in root if local(e.tag) in MODEL_TAGS)
    info["model_tag"] = local(model.tag)
    info["function"] = model.get("functionName")
    info["math_context"] = model.get("x-mathContext")
    info["any_float_math"] = any(e.get("x-mathContext") == "float" for e in root.iter())
    ms = next(e for e in model if local(e.tag) == "MiningSchema")
    info["active"] = [e.get("name") for e in ms
                      if local(e.tag) == "MiningField" and e.get("usageType", "active") == "active"]
    targets = [e.get("name") for e in ms if local(e.tag) == "MiningField" and e.get("usageType") == "target"]
    info["target"] = targets[0] if targets else None
    top_out = next((e for e in model if local(e.tag) == "Output"), None)
    info["top_outputs"] = [e.get("name") for e in top_out] if top_out is not None else []
    info["all_outputs"] = [e.get("name") for e in root.iter() if local(e.tag) == "OutputField"]
    derived = [e for e in root.iter() if local(e.tag) == "DerivedField"]
    info["derived"] = [(e.get("name"), e.get("dataType")) for e in derived]
    info["has_verification"] = any(local(e.tag) == "ModelVerification" for e in root.iter())
    info["nan_missing_value"] = [n for n, e in info["datafields"].items()
                                 if any(local(v.tag) == "Value" and v.get("property") == "missing"
                                        for v in e)]
    info["lgbm_zero_threshold"] = any(
        local(e.tag) == "SimplePredicate" and e.get("value", "").startswith("1.0000000180025095E-35")
        for e in root.iter())
    info["default_child"] = any(e.get("defaultChild") for e in root.iter() if local(e.tag) == "Node")
    info["return_last_prediction"] = any(e.get("noTrueChildStrategy") == "returnLastPrediction"
                                         for e in root.iter() if local(e.tag) == "TreeModel")
    info["rescale_constants"] = [float(e.get("rescaleConstant")) for e in root.iter()
                                 if local(e.tag) == "Target" and e.get("rescaleConstant") is not None]
    info["simple_set"] = any(local(e.tag) == "SimpleSetPredicate" for e in root.iter())
    info["segmentation_methods"] = sorted({e.get("multipleModelMethod") for e in root.iter()
                                           if local(e.tag) == "Segmentation"})
    return info


def strip_timestamp(text: str) -> str:
    return re.sub(r"<Timestamp>[^<]*</Timestamp>", "<Timestamp/>", text)


# ---------------------------------------------------------------------------
# JPMML oracle


_JPMML = None


def jpmml_available():
    global _JPMML
    if _JPMML is None:
        try:
            import jpmml_evaluator  # noqa: F401
            _JPMML = True
        except Exception:
            _JPMML = False
    return _JPMML


def jpmml_evaluate(pmml_path: Path, input_csv: Path) -> pd.DataFrame:
    from jpmml_evaluator import make_evaluator
    ev = make_evaluator(str(pmml_path), backend="jpype").verify()
    df = pd.read_csv(input_csv, dtype=str, keep_default_na=False)
    df = df.astype(object).where(df != NA, None)
    res = ev.evaluateAll(df)
    if "errors" in res.columns and res["errors"].notna().any():
        raise RuntimeError("JPMML errors: %s" % res["errors"].dropna().head().tolist())
    return res


def is_missing_actual(a) -> bool:
    return a is None or (isinstance(a, float) and math.isnan(a))


def compare(check: dict, expected: List[str], actual: list) -> dict:
    """Return stats for one check: failures, max_rel, max_ulps."""
    fails, max_rel, max_ulps = 0, 0.0, 0.0
    tol = check["tolerance"]
    for e, a in zip(expected, actual):
        if e in check["missing_expected_tokens"]:
            fails += 0 if is_missing_actual(a) else 1
            continue
        if is_missing_actual(a):
            fails += 1
            continue
        if check["type"] == "string":
            fails += 0 if str(a) == e else 1
            continue
        ev, av = float(e), float(a)
        if ev != av:
            if not (abs(ev) <= 1e-13 and abs(av) <= 1e-13):
                max_rel = max(max_rel, abs(av - ev) / abs(ev) if ev != 0 else math.inf)
            max_ulps = max(max_ulps, abs(f32(av) - f32(ev)) / ulp32(ev))
        k = tol["kind"]
        if k == "relative":
            ok = (abs(ev) <= tol["zero"] and abs(av) <= tol["zero"]) or abs(av - ev) <= tol["rel"] * abs(ev)
        elif k == "float_ulps":
            ok = abs(f32(av) - f32(ev)) <= tol["ulps"] * ulp32(ev)
        else:
            ok = ev == av
        fails += 0 if ok else 1
    return {"fails": fails, "max_rel": max_rel, "max_ulps": max_ulps}


# ---------------------------------------------------------------------------
# case generation


def native_predictions(pipe, X: pd.DataFrame, function: str):
    if function == "classification":
        labels = pipe.predict(X)
        proba = pipe.predict_proba(X)
        classes = list(pipe._final_estimator.classes_)
        return labels, proba, classes
    return pipe.predict(X), None, None


def xgb_margin_diagnostic(pipe, X: pd.DataFrame, info: dict) -> str:
    """Explain the ulp tolerance: compare the native XGBoost margin with float32
    accumulation in the native order (start from the base score, add the trees)
    and in the PMML order (sum of the trees, then Target@rescaleConstant)."""
    est = pipe._final_estimator
    Xt = X
    for _, step in pipe.steps[:-1]:
        Xt = step.transform(Xt)
    dm = xgboost.DMatrix(Xt, missing=np.nan, enable_categorical=True)
    bst = est.get_booster()
    native = np.asarray(bst.predict(dm, output_margin=True), dtype=np.float32)
    if native.ndim == 1:
        native = native[:, None]
    leaves = np.asarray(bst.predict(dm, pred_leaf=True)).astype(np.int64)
    model = json.loads(bst.save_raw("json").decode())["learner"]["gradient_booster"]["model"]
    trees = [np.asarray(t["split_conditions"], dtype=np.float32) for t in model["trees"]]
    groups = model["tree_info"]
    bases = [np.float32(b) for b in info["rescale_constants"]]
    n, k = native.shape
    assert len(bases) == k, (bases, k)
    exact_native_order = exact_pmml_order = 0
    max_ulps = max_abs = 0.0
    for r in range(n):
        for g in range(k):
            a = bases[g]          # native order
            b = np.float32(0.0)   # PMML order
            for t, tree in enumerate(trees):
                if groups[t] == g:
                    v = tree[leaves[r, t]]
                    a = np.float32(a + v)
                    b = np.float32(b + v)
            b = np.float32(b + bases[g])
            exact_native_order += int(a == native[r, g])
            exact_pmml_order += int(b == native[r, g])
            max_abs = max(max_abs, abs(float(b) - float(native[r, g])))
            max_ulps = max(max_ulps, abs(float(b) - float(native[r, g])) / ulp32(float(native[r, g])))
    total = n * k
    return ("Why the ulp tolerance: native XGBoost accumulates the margin in float32 starting from the base score "
            "(it equals that order exactly in %d/%d margins); the PMML sums the trees in float32 and adds "
            "Target@rescaleConstant afterwards, which gives the same margin in only %d/%d cases and differs by up "
            "to %.3g absolute (%g ulps of the margin itself, large where the margin is near 0)%s." % (
                exact_native_order, total, exact_pmml_order, total, max_abs, max_ulps,
                               "; logit/softmax then spread that difference into the probabilities"
                               if est.__class__.__name__.endswith("Classifier") else ""))


def tie_rows(proba: np.ndarray, gap: float) -> np.ndarray:
    s = np.sort(proba, axis=1)
    return (s[:, -1] - s[:, -2]) <= gap


def export_pmml(pipe, out_path: Path):
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td) / "model.pmml"
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                sklearn2pmml(pipe, str(tmp))
        except Exception:
            sys.stdout.write(buf.getvalue())
            raise
        new = tmp.read_text(encoding="utf-8")
    # Keep the previously generated file when only the Header/Timestamp differs,
    # so that regeneration is byte-for-byte reproducible.
    if out_path.exists() and strip_timestamp(out_path.read_text(encoding="utf-8")) == strip_timestamp(new):
        return
    out_path.write_text(new, encoding="utf-8")


def write_if_changed(path: Path, text: str):
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def generate_case(sp: Spec, use_jpmml: bool) -> dict:
    case_dir = CASES_DIR / sp.name
    case_dir.mkdir(parents=True, exist_ok=True)
    pipe, Xtr, ytr, Xte, yte, fit_params = sp.make()
    pipe.fit(Xtr, ytr, **fit_params)

    is_float = sp.library == "xgboost"
    # Held-out inputs exactly as written to input.csv, then parsed back.
    Xin = Xte.reset_index(drop=True)
    yin = yte.reset_index(drop=True)
    Xrt = read_back(to_csv_text(Xin), Xin)
    dropped = 0
    if sp.function == "classification" and sp.drop_ties:
        _, proba, _ = native_predictions(pipe, Xrt, sp.function)
        ties = tie_rows(proba, 1e-6 if is_float else 1e-9)
        if sp.example:
            assert not ties.any(), "example model has tied rows; change EXAMPLE_SEED"
        dropped = int(ties.sum())
        Xin, yin = Xin[~ties].reset_index(drop=True), yin[~ties].reset_index(drop=True)
        Xrt = read_back(to_csv_text(Xin), Xin)

    target = ytr.name
    input_df = Xin.copy()
    input_df[target] = yin.values  # true label, not an active field
    input_text = to_csv_text(input_df)
    write_if_changed(case_dir / "input.csv", input_text)
    pmml_path = case_dir / "model.pmml"
    export_pmml(pipe, pmml_path)
    info = inspect_pmml(pmml_path)
    assert info["target"] == target, (info["target"], target)
    math_ctx = "float" if info["math_context"] == "float" else "double"
    assert (math_ctx == "float") == is_float, (sp.name, math_ctx)

    # Every numeric input cell must give the same float32 whether parsed
    # decimal->float32 directly (a float DataField) or decimal->double->float32
    # (what the native library does with the parsed CSV).
    for c in Xin.columns:
        if Xin[c].dtype.kind == "f":
            for s in input_df[c].map(fmt_input):
                if s != NA:
                    assert f32_from_decimal(s) == f32(float(s)), (sp.name, c, s)

    fmt_num = fmt_float32 if is_float else fmt_double
    labels, proba, classes = native_predictions(pipe, Xrt, sp.function)
    exp_cols: Dict[str, List[str]] = {}
    if sp.function == "classification":
        exp_cols[target] = [fmt_label(v) for v in labels]
        for i, c in enumerate(classes):
            exp_cols["probability(%s)" % fmt_label(c)] = [fmt_num(v) for v in proba[:, i]]
    else:
        exp_cols[target] = [fmt_num(v) for v in labels]
    for col in exp_cols:
        if col != target:
            assert col in info["all_outputs"], (sp.name, col, info["all_outputs"])
    exp_df = pd.DataFrame(exp_cols)
    write_if_changed(case_dir / "expected.csv", exp_df.to_csv(index=False, lineterminator="\n"))

    tdf = info["datafields"][target]
    target_type = tdf.get("dataType")
    tol_placeholder = {"kind": "float_ulps", "ulps": None} if is_float else dict(DOUBLE_TOL)
    checks = []
    for col in exp_cols:
        if col == target:
            string = sp.function == "classification" and target_type == "string"
            checks.append({
                "column": col, "result": {"target": target},
                "type": "string" if string else "number",
                "tolerance": {"kind": "exact"} if string else dict(tol_placeholder),
                "missing_expected_tokens": [NA]})
        else:
            checks.append({
                "column": col, "result": {"output": col}, "type": "number",
                "tolerance": dict(tol_placeholder), "missing_expected_tokens": [NA]})

    # --- JPMML cross-check ------------------------------------------------
    jpmml_summary = None
    if use_jpmml:
        res = jpmml_evaluate(pmml_path, case_dir / "input.csv")
        actual = {ch["column"]: res[ch["result"].get("output") or ch["result"]["target"]].tolist()
                  for ch in checks}
        # 1) measure with a zero-ulp probe tolerance
        measured = {}
        for ch in checks:
            probe = ch
            if ch["tolerance"].get("kind") == "float_ulps":
                probe = dict(ch, tolerance={"kind": "float_ulps", "ulps": 0})
            measured[ch["column"]] = compare(probe, exp_cols[ch["column"]], actual[ch["column"]])
        # 2) XGBoost: the ulp tolerance is the largest difference measured on
        #    of that column (per check), at least 1 ulp; a numeric class label
        #    must match exactly, so its check gets the 1-ulp floor
        if is_float:
            for ch in checks:
                if ch["tolerance"]["kind"] == "float_ulps":
                    if ch["column"] == target and sp.function == "classification":
                        ch["tolerance"]["ulps"] = 1
                    else:
                        ch["tolerance"]["ulps"] = max(1, int(math.ceil(measured[ch["column"]]["max_ulps"])))
        # 3) final pass/fail at the manifest tolerance
        total_fail = 0
        parts = []
        for ch in checks:
            st = compare(ch, exp_cols[ch["column"]], actual[ch["column"]])
            m = measured[ch["column"]]
            total_fail += st["fails"]
            if ch["column"] == target and sp.function == "classification":
                parts.append("%s: %d label mismatches" % (ch["column"], st["fails"]))
            elif is_float:
                parts.append("%s: max %g ulps" % (ch["column"], m["max_ulps"]))
            else:
                parts.append("%s: max rel %.3g" % (ch["column"], m["max_rel"]))
        jpmml_summary = {"fails": total_fail, "detail": "; ".join(parts)}
    elif is_float:
        # no oracle: keep the ulp tolerances measured by an earlier run, else 1
        old = {}
        if (case_dir / "case.json").exists():
            old = {c["column"]: c["tolerance"].get("ulps")
                   for c in json.loads((case_dir / "case.json").read_text())["checks"]}
        for ch in checks:
            if ch["tolerance"]["kind"] == "float_ulps":
                ch["tolerance"]["ulps"] = old.get(ch["column"]) or 1

    # --- notes -------------------------------------------------------------
    notes = ["Generated by tests/generated/generate.py: %s." % sp.description,
             "Trained with %s; exported with sklearn2pmml %s." % (
                 {"sklearn": "scikit-learn " + VERSIONS["scikit-learn"],
                  "xgboost": "xgboost %s (scikit-learn %s)" % (VERSIONS["xgboost"], VERSIONS["scikit-learn"]),
                  "lightgbm": "lightgbm %s (scikit-learn %s)" % (VERSIONS["lightgbm"], VERSIONS["scikit-learn"]),
                  }[sp.library], VERSIONS["sklearn2pmml"]),
             "Expected values are the training library's own native %s, not a PMML evaluator%s." % (
                 "predict()/predict_proba()" if sp.function == "classification" else "predict()",
                 " (XGBoost float32 results, written as shortest float32 repr)" if is_float
                 else " (float64, written as Python shortest repr)")]
    notes.append("Expected column %s holds the PREDICTED value of the target field of that name, "
                 "not the true label." % target)
    ignored = [c for c in input_df.columns if c not in info["active"]]
    if ignored:
        notes.append("input.csv columns that are not active model inputs (ignore them): %s%s." % (
            ", ".join(ignored), " (true label = target field)" if target in ignored else ""))
    miss = [c for c in Xin.columns if Xin[c].isna().any()]
    if miss:
        notes.append("Missing inputs occur, encoded as 'N/A', in: %s." % ", ".join(miss))
    if dropped:
        notes.append("%d held-out rows whose native class probabilities were tied (top two within %g) "
                     "were left out, since the tie-break is library-specific." % (dropped, 1e-6 if is_float else 1e-9))
    if is_float:
        notes.append('PMML uses x-mathContext="float"; the arithmetic must be done in float32 to meet the '
                     'ulp tolerance.')
    float_dfs = [n for n, e in info["datafields"].items() if e.get("dataType") == "float"]
    if float_dfs:
        notes.append("DataFields with dataType float%s: %s%s." % (
            " (sklearn trees compare in float32)" if sp.library == "sklearn" else "",
            ", ".join(float_dfs), "" if is_float else "; the model math is double"))
    casts = [n for n, _ in info["derived"] if re.match(r"^(float|double)\(", n)]
    if casts:
        notes.append("DerivedFields that cast to float/double: %s." % ", ".join(casts))
    if info["nan_missing_value"]:
        notes.append("DataFields declaring <Value value=\"NaN\" property=\"missing\"/>: %s." %
                     ", ".join(info["nan_missing_value"]))
    if info["lgbm_zero_threshold"]:
        notes.append("LightGBM zero-threshold splits appear (value 1.0000000180025095E-35, LightGBM kZeroThreshold).")
    if info["simple_set"]:
        notes.append("Categorical splits use SimpleSetPredicate with string Arrays.")
    if info["return_last_prediction"]:
        notes.append("TreeModels use noTrueChildStrategy=\"returnLastPrediction\" with scores on inner Nodes%s." % (
            " and the default missingValueStrategy (none): a predicate on a missing input is UNKNOWN, "
            "which routes the record to the next sibling or back to the parent's score" if miss else ""))
    if info["default_child"]:
        notes.append("Trees route missing values with missingValueStrategy=\"defaultChild\".")
    nested_only = [o for o in exp_cols if o != target and o not in info["top_outputs"]]
    if nested_only:
        notes.append("OutputFields defined only inside nested segment models, reported at top level: %s." %
                     ", ".join(nested_only))
    if sp.function == "classification" and target_type in ("integer", "double", "float"):
        notes.append("Target %s is categorical with numeric dataType %s; compare the predicted category "
                     "numerically (e.g. 2 == 2.0)." % (target, target_type))
    if jpmml_summary is not None:
        tol_txt = ("float_ulps per check = the largest JPMML-vs-native difference measured in that column, "
                   "at least 1" if is_float else "relative 1e-13")
        notes.append("Cross-check with JPMML-Evaluator %s (jpmml_evaluator %s): %s; %d check failures at "
                     "the manifest tolerance (%s)." % (
                         JPMML_EVALUATOR_VERSION, VERSIONS["jpmml_evaluator"], jpmml_summary["detail"],
                         jpmml_summary["fails"], tol_txt))
    if is_float:
        notes.append(xgb_margin_diagnostic(pipe, Xrt, info))
    notes.extend(sp.extra_notes)

    case = {
        "id": "cases/%s" % sp.name,
        "model": "model.pmml",
        "input": "input.csv",
        "expected": "expected.csv",
        "family": sp.family,
        "function": info["function"],
        "exporter": info["exporter"],
        "missing_tokens": [NA],
        "math": math_ctx,
        "checks": checks,
        "skipped_columns": [],
        "notes": " ".join(notes),
    }
    assert case["function"] == sp.function
    write_if_changed(case_dir / "case.json", json.dumps(case, indent=2, ensure_ascii=False) + "\n")

    if sp.example:
        EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
        write_if_changed(EXAMPLES_DIR / "iris_forest.pmml", pmml_path.read_text(encoding="utf-8"))
        write_if_changed(EXAMPLES_DIR / "iris.csv", input_text)

    return {"name": sp.name, "rows": len(Xin), "dropped": dropped, "jpmml": jpmml_summary,
            "size": pmml_path.stat().st_size, "math": math_ctx,
            "ulps": checks[-1]["tolerance"].get("ulps")}


JPMML_EVALUATOR_VERSION = "1.7.7"  # bundled pmml-evaluator jar of jpmml_evaluator 0.16.0; checked at run time


def detect_jpmml_evaluator_version():
    global JPMML_EVALUATOR_VERSION
    try:
        import jpmml_evaluator
        deps = Path(jpmml_evaluator.__file__).parent / "dependencies"
        for jar in deps.glob("pmml-evaluator-[0-9]*.jar"):
            JPMML_EVALUATOR_VERSION = jar.name[len("pmml-evaluator-"):-len(".jar")]
    except Exception:
        pass


def verify_existing(names: Optional[List[str]]):
    """Re-evaluate existing cases with JPMML using their manifests."""
    total = 0
    for d in sorted(CASES_DIR.iterdir()):
        if names and d.name not in names:
            continue
        case = json.loads((d / "case.json").read_text())
        exp = pd.read_csv(d / "expected.csv", dtype=str, keep_default_na=False)
        res = jpmml_evaluate(d / "model.pmml", d / "input.csv")
        fails = 0
        for ch in case["checks"]:
            name = ch["result"].get("target") or ch["result"].get("output")
            fails += compare(ch, exp[ch["column"]].tolist(), res[name].tolist())["fails"]
        total += fails
        print("%-32s %s" % (d.name, "OK" if not fails else "%d FAILURES" % fails))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="case names to (re)generate")
    ap.add_argument("--no-jpmml", action="store_true", help="skip the JPMML-Evaluator cross-check")
    ap.add_argument("--verify", action="store_true", help="only re-check existing cases against JPMML")
    args = ap.parse_args()
    detect_jpmml_evaluator_version()
    print("versions: " + ", ".join("%s %s" % kv for kv in VERSIONS.items()))
    if args.verify:
        sys.exit(1 if verify_existing(args.only) else 0)
    if not args.no_jpmml and not jpmml_available():
        sys.exit("jpmml_evaluator is not installed (pip install -r requirements.txt); it measures the XGBoost "
                 "ulp tolerances. Use --no-jpmml to regenerate without it (keeps earlier tolerances).")
    use_jpmml = not args.no_jpmml
    unknown = set(args.only or []) - {s.name for s in SPECS}
    if unknown:
        sys.exit("unknown case(s): %s" % ", ".join(sorted(unknown)))
    total_size = 0
    for sp in SPECS:
        if args.only and sp.name not in args.only:
            continue
        r = generate_case(sp, use_jpmml)
        total_size += r["size"]
        j = r["jpmml"]
        print("%-32s rows=%-3d%s pmml=%7d B math=%-6s %s" % (
            r["name"], r["rows"], (" (-%d tied)" % r["dropped"]) if r["dropped"] else "",
            r["size"], r["math"],
            ("JPMML %s: %s" % ("AGREES" if j["fails"] == 0 else "DISAGREES (%d)" % j["fails"], j["detail"]))
            if j else "JPMML not run"))
    print("total PMML size: %d bytes" % total_size)


if __name__ == "__main__":
    main()
