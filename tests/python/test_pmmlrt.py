"""Tests of the pmmlrt Python package (python/): API, inputs of every kind, errors."""
import hashlib
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmmlrt

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "models" / "iris_forest.pmml"
IRIS_CSV = ROOT / "examples" / "models" / "iris.csv"
CASES = ROOT / "tests" / "generated" / "cases"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris():
    return pmmlrt.load(IRIS)


@pytest.fixture(scope="module")
def iris_data():
    return pd.read_csv(IRIS_CSV)


@pytest.fixture(scope="module")
def expected_iris():
    return pd.read_csv(CASES / "RandomForestIrisExample" / "expected.csv")


def test_versions():
    assert pmmlrt.version() == pmmlrt.__version__
    assert len(pmmlrt.version().split(".")) == 3
    assert pmmlrt.abi_version() == 1


def test_introspection(iris):
    assert iris.function == "classification"
    assert iris.model_type == "MiningModel"
    assert iris.pmml_version == "4.4"
    assert [f.name for f in iris.input_fields] == FEATURES
    assert list(iris.feature_names_in_) == FEATURES
    assert iris.n_features_in_ == 4
    assert iris.input_fields[0].data_type == "float"
    assert iris.input_fields[0].op_type == "continuous"
    assert iris.target_name == "species"
    assert iris.target_fields[0].categories == ("setosa", "versicolor", "virginica")
    assert iris.classes_ == ("setosa", "versicolor", "virginica")
    assert [o.name for o in iris.outputs] == ["probability(setosa)", "probability(versicolor)", "probability(virginica)"]
    assert iris.outputs[0].feature == "probability" and iris.outputs[0].is_final
    assert "MiningModel" in repr(iris)


def test_predict_numpy_layouts(iris, iris_data, expected_iris):
    X = iris_data[FEATURES].to_numpy()
    want = expected_iris["species"].to_numpy()
    for variant, kind in [(np.ascontiguousarray(X), "row-major"), (np.asfortranarray(X), "column-major")]:
        assert list(iris.predict(variant)) == list(want)
        assert iris._last_input == ("float64", kind, variant.ctypes.data)  # read in place, no copy
    f32 = np.ascontiguousarray(X, dtype=np.float32)
    assert list(iris.predict(f32)) == list(want)
    assert iris._last_input == ("float32", "row-major", f32.ctypes.data)
    f32f = np.asfortranarray(f32)
    assert list(iris.predict(f32f)) == list(want)
    assert iris._last_input[1] == "column-major"
    # Strided views (every other row; columns reversed) are copied once, with the same results.
    assert list(iris.predict(X[::2])) == list(want[::2])
    assert iris._last_input[1] == "copied"
    rev = X[:, ::-1][:, ::-1]
    assert list(iris.predict(rev)) == list(want)
    # Integers, lists, 1-D single rows.
    assert list(iris.predict(X.tolist())) == list(want)
    assert list(iris.predict([5.1, 3.5, 1.4, 0.2])) == ["setosa"]
    assert list(iris.predict(np.array([[5, 3, 1, 0]]))) == ["setosa"]


def test_predict_proba_and_score(iris, iris_data, expected_iris):
    X = iris_data[FEATURES].to_numpy()
    p = iris.predict_proba(X)
    assert p.shape == (150, 3) and p.dtype == np.float64
    np.testing.assert_allclose(p, expected_iris.iloc[:, 1:].to_numpy(), rtol=1e-13, atol=1e-13)
    scored = iris.score(iris_data)  # the DataFrame has the true label too: ignored
    assert list(scored.columns) == ["species", "probability(setosa)", "probability(versicolor)",
                                    "probability(virginica)"]
    assert list(scored["species"]) == list(expected_iris["species"])
    np.testing.assert_array_equal(scored.iloc[:, 1:].to_numpy(), p)
    assert scored.index.equals(iris_data.index)


def test_dataframe_column_order_and_missing(iris, iris_data, expected_iris):
    shuffled = iris_data[list(reversed(FEATURES))]
    assert list(iris.predict(shuffled)) == list(expected_iris["species"])
    # Missing values: NaN, None; an absent column is missing too. The forest still predicts.
    df = iris_data[FEATURES].head(3).astype(object)
    df.iloc[0, 0] = None
    df.iloc[1, 1] = np.nan
    assert len(iris.predict(df)) == 3
    assert len(iris.predict(iris_data[["petal_length", "petal_width"]])) == 150


def test_records(iris, expected_iris, iris_data):
    records = iris_data[FEATURES].to_dict("records")
    assert list(iris.predict(records)) == list(expected_iris["species"])
    one = iris.score_one({"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2})
    assert one["species"] == "setosa" and one["probability(setosa)"] == 1.0
    assert list(iris.predict({"sepal_length": "5.1", "sepal_width": "3.5", "petal_length": "1.4",
                              "petal_width": "0.2"})) == ["setosa"]
    # String cells in a NumPy array: parsed by the field's dataType.
    assert list(iris.predict(np.array([["5.1", "3.5", "1.4", "0.2"]], dtype=object))) == ["setosa"]


def test_categorical_dataframe_codes_and_strings():
    case = CASES / "LightGBMLoanCat"
    m = pmmlrt.load(case / "model.pmml")
    df = pd.read_csv(case / "input.csv", keep_default_na=False, na_values=["N/A"])
    expected = pd.read_csv(case / "expected.csv")
    # Object (string) columns.
    got = m.score(df)
    assert list(got["risk"]) == list(expected["risk"])
    np.testing.assert_allclose(got[["probability(high)", "probability(low)", "probability(medium)"]].to_numpy(),
                               expected.iloc[:, 1:].to_numpy(), rtol=1e-13, atol=1e-13)
    # pandas categorical dtype columns.
    cat = df.copy()
    for c in ("employment", "education", "region"):
        cat[c] = cat[c].astype("category")
    assert list(m.predict(cat)) == list(expected["risk"])
    # A NumPy matrix takes category codes for string categoricals.
    X = np.empty((len(df), len(m.input_fields)))
    for j, f in enumerate(m.input_fields):
        if f.categories:
            X[:, j] = [f.categories.index(v) if isinstance(v, str) else np.nan for v in df[f.name]]
        else:
            X[:, j] = df[f.name].astype(float)
    assert list(m.predict(X)) == list(expected["risk"])
    # Intermediate outputs are in score(), unless final_only.
    assert "lgbmValue(high)" in got.columns
    assert "lgbmValue(high)" not in m.score(df, final_only=True).columns


def test_regression():
    case = CASES / "LinearRegressionDiabetes"
    m = pmmlrt.load(case / "model.pmml")
    df = pd.read_csv(case / "input.csv")
    expected = pd.read_csv(case / "expected.csv")
    assert m.function == "regression" and m.classes_ == ()
    y = m.predict(df)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, expected["progression"], rtol=1e-13)
    assert list(m.score(df).columns) == ["progression"]
    with pytest.raises(pmmlrt.UsageError, match="regression"):
        m.predict_proba(df)


def test_errors(iris, tmp_path):
    with pytest.raises(pmmlrt.IoError, match="nonexistent"):
        pmmlrt.load(tmp_path / "nonexistent.pmml")
    with pytest.raises(pmmlrt.ParseError) as e:
        pmmlrt.loads("<PMML")
    assert e.value.status == 1 and e.value.status_name == "PARSE" and str(e.value)
    with pytest.raises(pmmlrt.LimitError):
        pmmlrt.load(IRIS, max_document_bytes=100)
    with pytest.raises(TypeError, match="unknown limit"):
        pmmlrt.load(IRIS, max_widgets=3)
    with pytest.raises(pmmlrt.UsageError, match="64 hex digits"):
        pmmlrt.load(IRIS, expected_sha256="abc")
    with pytest.raises(pmmlrt.IoError, match="SHA-256"):
        pmmlrt.load(IRIS, expected_sha256="0" * 64)
    digest = hashlib.sha256(IRIS.read_bytes()).hexdigest()
    assert pmmlrt.load(IRIS, expected_sha256=digest.upper()).classes_ == iris.classes_
    assert pmmlrt.loads(IRIS.read_bytes()).classes_ == iris.classes_
    # Wrong shapes and names.
    with pytest.raises(pmmlrt.UsageError, match="columns"):
        iris.predict(np.zeros((2, 3)))
    with pytest.raises(pmmlrt.UsageError):
        iris.predict(np.zeros((2, 2, 2)))
    # Invalid input values: the library's message names the field; or recorded per row.
    bad = pd.DataFrame({"sepal_length": ["5.1", "x"], "sepal_width": ["3.5", "3.0"], "petal_length": ["1.4", "1.4"],
                        "petal_width": ["0.2", "0.2"]})
    with pytest.raises(pmmlrt.InputError, match="sepal_length"):
        iris.predict(bad)
    with pytest.raises(ValueError):
        iris.predict(bad)
    scored = iris.score(bad, on_error="record")
    assert scored["error"][0] is None and "sepal_length" in scored["error"][1]
    assert scored["species"][0] == "setosa" and scored["species"][1] is None
    assert np.isnan(scored["probability(setosa)"][1])
    with pytest.raises(ValueError, match="on_error"):
        iris.predict(bad, on_error="ignore")


def test_closed_model():
    m = pmmlrt.load(IRIS)
    with m:
        assert m.predict([[5.1, 3.5, 1.4, 0.2]])[0] == "setosa"
    with pytest.raises(pmmlrt.UsageError, match="closed"):
        m.predict([[5.1, 3.5, 1.4, 0.2]])
    m.close()  # twice is fine


def test_threads(iris, iris_data):
    X = np.ascontiguousarray(iris_data[FEATURES].to_numpy())
    reference = iris.predict_proba(X)
    failures = []

    def work():
        for _ in range(20):
            if not np.array_equal(iris.predict_proba(X), reference):
                failures.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_predict_one_latency_path(iris, iris_data):
    X = iris_data[FEATURES].to_numpy()
    batch = iris.predict(X)
    proba = iris.predict_proba(X)
    for i in range(len(X)):
        assert iris.predict_one(X[i]) == batch[i]
        assert iris.predict_proba_one(list(X[i])) == tuple(proba[i])
    with pytest.raises(pmmlrt.UsageError, match="3 inputs"):
        iris.predict_one([1.0, 2.0, 3.0])
    reg = pmmlrt.load(CASES / "XGBoostDiabetes" / "model.pmml")
    Xr = np.random.default_rng(3).normal(size=(50, reg.n_features_in_))
    want = reg.predict(Xr)
    assert [reg.predict_one(row) for row in Xr] == list(want)
    with pytest.raises(pmmlrt.UsageError, match="regression"):
        reg.predict_proba_one(Xr[0])


def test_n_jobs_gives_identical_results():
    m = pmmlrt.load(CASES / "XGBoostWine" / "model.pmml")
    X = np.random.default_rng(5).normal(size=(3000, m.n_features_in_))
    one = m.predict_proba(X)
    for n_jobs in (2, 3, -1, np.int64(2), np.int32(3)):
        assert np.array_equal(m.predict_proba(X, n_jobs=n_jobs), one)
    for bad in (-5, np.int64(-5), 2.0, True, np.bool_(True), "2"):
        with pytest.raises(ValueError):
            m.predict(X, n_jobs=bad)


HALF_TREE = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<TreeModel functionName="regression"><MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/>
</MiningSchema><Node><True/><Node score="0.1"><SimplePredicate field="x" operator="lessThan" value="0"/></Node>
<Node score="{}"><True/></Node></Node></TreeModel></PMML>"""


def test_leaf_precision():
    x = np.array([[-1.0], [1.0]])
    assert list(pmmlrt.loads(HALF_TREE.format("2.5")).predict(x)) == [0.1, 2.5]
    assert list(pmmlrt.loads(HALF_TREE.format("2.5"), leaf_precision="exact").predict(x)) == [0.1, 2.5]
    assert list(pmmlrt.loads(HALF_TREE.format("2.5"), leaf_precision="half").predict(x)) == [0.0999755859375, 2.5]
    with pytest.raises(pmmlrt.UsageError, match="binary16"):
        pmmlrt.loads(HALF_TREE.format("70000"), leaf_precision="half")
    with pytest.raises(ValueError, match="leaf_precision"):
        pmmlrt.loads(HALF_TREE.format("2.5"), leaf_precision="float16")
    # A real ensemble: close to the exact results, not equal, and the same through the batch and one row.
    case = CASES / "XGBoostDiabetes"
    data = pd.read_csv(case / "input.csv")
    exact = pmmlrt.load(case / "model.pmml")
    half = pmmlrt.load(case / "model.pmml", leaf_precision="half")
    X = data[list(half.feature_names_in_)]
    e, h = exact.predict(X), half.predict(X)
    assert np.any(e != h)
    np.testing.assert_allclose(h, e, rtol=1e-2)
    for i in range(5):
        assert half.predict_one(X.iloc[i].to_numpy(dtype=float)) == h[i]


def test_load_threads_give_the_same_model():
    # XGBoostDiabetes has 50 Segments: enough for the loader to split them among threads.
    case = CASES / "XGBoostDiabetes"
    X = pd.read_csv(case / "input.csv")
    for leaf_precision in ("exact", "half"):
        one = pmmlrt.load(case / "model.pmml", leaf_precision=leaf_precision, load_threads=1).predict(X)
        for load_threads in (2, 4, 0, np.int64(2)):
            many = pmmlrt.load(case / "model.pmml", leaf_precision=leaf_precision, load_threads=load_threads)
            assert np.array_equal(many.predict(X), one), (leaf_precision, load_threads)
    # A failed load reports the same error whatever the count: a bad number in the last Segment.
    text = (case / "model.pmml").read_text()
    at = text.rindex(' score="') + len(' score="')
    broken = text[:at] + "oops" + text[at:]
    messages = set()
    for load_threads in (1, 4):
        with pytest.raises(pmmlrt.PmmlrtError) as error:
            pmmlrt.loads(broken, load_threads=load_threads)
        messages.add((type(error.value), str(error.value)))
    assert len(messages) == 1, messages
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="load_threads"):
            pmmlrt.loads(HALF_TREE.format("2.5"), load_threads=bad)
