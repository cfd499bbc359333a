"""predict_one / predict_proba_one through both of their paths: the compiled extension (pmmlrt._fast) and
the ctypes fallback. Both must give bit-identical results (equal to the batch path's) and raise the same
exceptions with the same messages for every kind of record."""
import array
import decimal
import fractions
import math
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

import pmmlrt
import pmmlrt._model as model_module

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "generated" / "cases"
IRIS = ROOT / "examples" / "models" / "iris_forest.pmml"
LOAN_CAT = CASES / "LightGBMLoanCat" / "model.pmml"  # string categoricals: code 99 is an InputError
TREE_IRIS = CASES / "DecisionTreeIris" / "model.pmml"  # all missing: no prediction, NaN probabilities
LINEAR = CASES / "LinearRegressionDiabetes" / "model.pmml"  # regression; all missing: no prediction
XGB_REG = CASES / "XGBoostDiabetes" / "model.pmml"
MODELS = [IRIS, LOAN_CAT, TREE_IRIS, LINEAR, XGB_REG]

EXTENSION_DISABLED = os.environ.get("PMMLRT_NO_EXTENSION", "") not in ("", "0")
EXTENSION = model_module._fast is not None  # else only test_extension_is_built fails


def load_pair(source, monkeypatch):
    """The same model twice: scored by the extension, and forced onto the ctypes path."""
    fast = pmmlrt.load(source) if isinstance(source, Path) else pmmlrt.loads(source)
    with monkeypatch.context() as m:
        m.setattr(model_module, "_fast", None)
        slow = pmmlrt.load(source) if isinstance(source, Path) else pmmlrt.loads(source)
    assert slow._scorer is None
    assert (fast._scorer is not None) == EXTENSION
    return fast, slow


def bits(value):
    """A result in a form where equal means bit-identical (NaN included)."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, tuple):
        return ("tuple",) + tuple(bits(v) for v in value)
    return (type(value).__name__, value)


def outcome(fn, x):
    try:
        return ("returned", bits(fn(x)))
    except Exception as e:  # noqa: BLE001 - the exception is the result compared
        return ("raised", type(e), str(e), getattr(e, "status", None))


def count_ctypes_calls(model):
    """Counts the calls that reach the ctypes path (Model._one) of `model`."""
    calls = []
    ctypes_path = model._one

    def counting(x, with_probabilities):
        calls.append(with_probabilities)
        return ctypes_path(x, with_probabilities)

    model._one = counting
    return calls


def rows_for(m, count=200, seed=11):
    """Random rows with some missing values; category codes in range for string fields."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(count, m.n_features_in_)) * 3
    for j, f in enumerate(m.input_fields):
        if f.data_type == "string":
            X[:, j] = rng.integers(0, len(f.categories), size=count)
    X[rng.random(X.shape) < 0.1] = np.nan
    return X


def test_extension_is_built():
    if EXTENSION_DISABLED:
        pytest.skip("PMMLRT_NO_EXTENSION is set")
    assert model_module._fast is not None, "pmmlrt._fast was not built (a C compiler and Python.h are needed)"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.parent.name if p.name == "model.pmml" else p.stem)
def test_results_identical_to_ctypes_and_batch(path, monkeypatch):
    fast, slow = load_pair(path, monkeypatch)
    X = rows_for(fast)
    X[0] = np.nan  # a record without any value
    calls = count_ctypes_calls(fast)
    classification = fast.function == "classification"
    batch = fast.predict(X)
    proba = fast.predict_proba(X) if classification else None
    for i, row in enumerate(X):
        for record in (list(row), tuple(float(v) for v in row), row, np.ascontiguousarray(row)):
            got = fast.predict_one(record)
            assert bits(got) == bits(slow.predict_one(record))
            want = batch[i]
            assert bits(got) == bits(None if want is None or (isinstance(want, float) and math.isnan(want))
                                     else (want if classification else float(want)))
            if classification:
                p = fast.predict_proba_one(record)
                assert bits(p) == bits(slow.predict_proba_one(record)) == bits(tuple(float(v) for v in proba[i]))
    if EXTENSION:
        assert calls == [], "every record above is one the extension scores itself"


class FloatSubclass(float):
    pass


def test_record_kinds(monkeypatch):
    """Every kind of record gives the ctypes path's result; the extension takes the common ones itself."""
    fast, slow = load_pair(IRIS, monkeypatch)
    row = [5.9, 3.0, 5.1, 1.8]
    matrix = np.asfortranarray(np.array([row, [1.0, 2.0, 3.0, 4.0]]))
    unaligned = np.frombuffer(bytearray(8 * 4 + 1), dtype=np.float64, count=4, offset=1)
    unaligned[:] = row
    handled = {
        "list": row, "tuple": tuple(row), "ints": [6, 3, 5, 2], "bools": [True, False, True, True],
        "numpy floats": list(np.array(row)), "float subclass": [FloatSubclass(v) for v in row],
        "mixed floats": [np.float64(5.9), FloatSubclass(3.0), 5.1, np.float64(1.8)],
        "ndarray": np.array(row), "strided row": matrix[0], "unaligned": unaligned,
        "array('d')": array.array("d", row), "memoryview": memoryview(array.array("d", row)),
        "nan": [math.nan] * 4, "inf": [math.inf, -math.inf, 0.0, -0.0],
    }
    left_to_ctypes = {
        "float32 row": np.array(row, dtype=np.float32), "int64 row": np.array([6, 3, 5, 2]),
        "big-endian": np.array(row, dtype=">f8"), "column": np.array(row).reshape(4, 1),
        "decimal": [decimal.Decimal("5.9"), 3, 5, 2], "fraction": [fractions.Fraction(59, 10), 3, 5, 2],
        "list subclass": type("L", (list,), {})(row), "numpy int": [np.int64(6), 3.0, 5.0, 2.0],
        "dict": {5.9: 1, 3.0: 2, 5.1: 3, 1.8: 4}, "array('f')": array.array("f", row),
    }
    for kinds, extension_scores in ((handled, True), (left_to_ctypes, False)):
        for kind, record in kinds.items():
            calls = count_ctypes_calls(fast)
            for fn in ("predict_one", "predict_proba_one"):
                got = outcome(getattr(fast, fn), record)
                assert got[0] == "returned", (kind, got)
                assert got == outcome(getattr(slow, fn), record), kind
            if EXTENSION:
                assert (calls == []) == extension_scores, (kind, calls)


class Floaty:
    def __float__(self):
        return 2.5


class BadFloat:
    def __float__(self):
        raise RuntimeError("no number here")


def bad_records(n):
    ok = [0.5] * n
    return {
        "short list": ok[:-1], "long tuple": tuple(ok + [1.0]), "empty": [], "short ndarray": np.zeros(n - 1),
        "2-D": np.zeros((2, n)), "str item": ["a"] + ok[1:], "None item": [None] + ok[1:],
        "bytes item": [b"1"] + ok[1:], "huge int": [10 ** 400] + ok[1:], "complex": [1j] + ok[1:],
        "raising __float__": [BadFloat()] + ok[1:], "__float__": [Floaty()] + ok[1:],
        "int": 5, "None": None, "generator": (v for v in ok), "str": "a" * n, "bytes": b"a" * n,
        "string array": np.array(["1"] * n), "object array": np.array([None] * n, dtype=object),
        "bytearray": bytearray(8 * n), "nested": [ok] * n,
    }


@pytest.mark.parametrize("path", [IRIS, LINEAR], ids=["classification", "regression"])
def test_errors_identical_to_ctypes(path, monkeypatch):
    fast, slow = load_pair(path, monkeypatch)
    for kind, record in bad_records(fast.n_features_in_).items():
        for fn in ("predict_one", "predict_proba_one"):
            got = outcome(getattr(fast, fn), record)
            assert got == outcome(getattr(slow, fn), record), (kind, fn, got)
    with pytest.raises(pmmlrt.UsageError, match="3 inputs for a model of 4") if fast.n_features_in_ == 4 \
            else pytest.raises(pmmlrt.UsageError, match="inputs for a model of"):
        fast.predict_one([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="must be real number, not str"):
        fast.predict_one(["x"] * fast.n_features_in_)


def test_library_errors_identical_to_ctypes(monkeypatch):
    fast, slow = load_pair(LOAN_CAT, monkeypatch)
    x = [40.0, 50000.0, 0.3, 40.0, 99.0, 1.0, 2.0]  # employment code 99 of 4
    for fn in ("predict_one", "predict_proba_one"):
        with pytest.raises(pmmlrt.InputError, match='field "employment": invalid value category code 99') as e:
            getattr(fast, fn)(x)
        assert e.value.status == 4 and e.value.status_name == "INPUT"
        assert outcome(getattr(fast, fn), x) == outcome(getattr(slow, fn), x)
        assert outcome(getattr(fast, fn), np.array(x)) == outcome(getattr(slow, fn), np.array(x))
    # The error does not stick: the next record scores.
    x[4] = 1.0
    assert fast.predict_one(x) == slow.predict_one(x)


def test_closed_model(monkeypatch):
    fast, slow = load_pair(IRIS, monkeypatch)
    fast.close()
    slow.close()
    for fn in ("predict_one", "predict_proba_one"):
        with pytest.raises(pmmlrt.UsageError, match="closed"):
            getattr(fast, fn)([1.0, 2.0, 3.0, 4.0])
        assert outcome(getattr(fast, fn), [1.0] * 4) == outcome(getattr(slow, fn), [1.0] * 4)


def wide_model(n_inputs, n_classes):
    """A softmax RegressionModel: wider records and distributions than the extension keeps on the stack."""
    fields = "".join(f'<DataField name="x{j}" optype="continuous" dataType="double"/>' for j in range(n_inputs))
    values = "".join(f'<Value value="c{c}"/>' for c in range(n_classes))
    mining = "".join(f'<MiningField name="x{j}"/>' for j in range(n_inputs))
    tables = "".join(
        f'<RegressionTable intercept="{0.01 * c}" targetCategory="c{c}">'
        + "".join(f'<NumericPredictor name="x{(c * 7 + t) % n_inputs}" coefficient="{0.1 * (t + 1)}"/>'
                  for t in range(3))
        + "</RegressionTable>"
        for c in range(n_classes))
    return (f'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>'
            f'<DataDictionary>{fields}<DataField name="y" optype="categorical" dataType="string">{values}'
            f'</DataField></DataDictionary>'
            f'<RegressionModel functionName="classification" normalizationMethod="softmax"><MiningSchema>'
            f'{mining}<MiningField name="y" usageType="target"/></MiningSchema>{tables}</RegressionModel></PMML>')


@pytest.mark.parametrize("n_inputs,n_classes", [(300, 3), (5, 200), (128, 128), (129, 129)])
def test_wide_records_and_many_classes(n_inputs, n_classes, monkeypatch):
    fast, slow = load_pair(wide_model(n_inputs, n_classes), monkeypatch)
    assert fast.n_features_in_ == n_inputs and len(fast.classes_) == n_classes
    X = rows_for(fast, count=20)
    proba = fast.predict_proba(X)
    labels = fast.predict(X)
    for i, row in enumerate(X):
        for record in (list(row), row):
            assert fast.predict_one(record) == slow.predict_one(record) == labels[i]
            assert bits(fast.predict_proba_one(record)) == bits(slow.predict_proba_one(record)) \
                == bits(tuple(float(v) for v in proba[i]))
    assert outcome(fast.predict_one, [0.0] * (n_inputs + 1)) == outcome(slow.predict_one, [0.0] * (n_inputs + 1))


def test_threads_share_one_model():
    m = pmmlrt.load(CASES / "XGBoostWine" / "model.pmml")
    X = rows_for(m, count=300)
    reference = [m.predict_proba_one(list(r)) for r in X]
    failures = []

    def work(offset):
        for k in range(3):
            for i in range(len(X)):
                j = (i + offset) % len(X)
                if bits(m.predict_proba_one(list(X[j]) if k % 2 else X[j])) != bits(reference[j]):
                    failures.append(j)

    threads = [threading.Thread(target=work, args=(t * 37,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
