"""The pmmlrt Python API over the C ABI."""
import ctypes
import math
import numbers
from array import array as _array
import os
from collections import namedtuple
from ctypes import byref, c_char_p, c_int, c_size_t, c_uint64, c_void_p

import numpy as np

from . import _capi
from ._capi import lib


def _is_count(x):
    """An integer count: Python or NumPy integers (np.int64 from a config array, say), never a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _load_extension():
    """The compiled single-record path (_fast.c), or None: not built (no C compiler or Python headers when
    the package was installed) or disabled with PMMLRT_NO_EXTENSION=1. Without it, ctypes does the work."""
    if os.environ.get("PMMLRT_NO_EXTENSION", "") not in ("", "0"):
        return None
    try:
        from . import _fast
    except ImportError:
        return None
    return _fast


# Read when a model is loaded: tests set it to None to load models that take the ctypes path.
_fast = _load_extension()
_SCORE_ONE_ADDRESS = ctypes.cast(lib.pmmlrt_score_one, c_void_p).value

# ---- errors -------------------------------------------------------------------------------------------------


class PmmlrtError(Exception):
    """Base of every pmmlrt error. `status` is the C status code, `status_name` its name ("PARSE", ...)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = _capi.STATUS_NAMES.get(status, str(status))

    def __str__(self):
        return self.message


class ParseError(PmmlrtError):
    """The document is not well-formed PMML."""


class UnsupportedError(PmmlrtError):
    """The document uses an element or function pmmlrt does not implement."""


class ModelError(PmmlrtError):
    """The model is inconsistent."""


class InputError(PmmlrtError, ValueError):
    """An input value is invalid for its field (the message names the row and the field)."""


class EvaluationError(PmmlrtError, ArithmeticError):
    """Scoring produced a result that the model declares an error."""


class LimitError(PmmlrtError):
    """A resource limit was exceeded."""


class IoError(PmmlrtError, OSError):
    """A file could not be read, or the document has not the expected SHA-256."""


class UsageError(PmmlrtError, ValueError):
    """Arguments that do not fit the model (wrong number of columns, unknown names, bad buffers)."""


_ERRORS = {1: ParseError, 2: UnsupportedError, 3: ModelError, 4: InputError, 5: EvaluationError, 6: LimitError,
           7: IoError, 8: UsageError, 100: UsageError, 101: UsageError, 102: UsageError, 103: UsageError,
           104: UsageError, 105: MemoryError, 106: PmmlrtError}


def _check(status):
    if status != _capi.OK:
        message = lib.pmmlrt_last_error().decode("utf-8", "replace")
        cls = _ERRORS.get(status, PmmlrtError)
        if cls is MemoryError:
            raise MemoryError(message)
        raise cls(message, status)


def version():
    """The version of the linked pmmlrt C library ("0.1.0")."""
    return lib.pmmlrt_version().decode()


def abi_version():
    """The ABI version of the linked C library."""
    return lib.pmmlrt_abi_version()


# ---- model --------------------------------------------------------------------------------------------------

Field = namedtuple("Field", "name data_type op_type categories")
Field.__doc__ = "A field of the model's schema: name, PMML dataType and optype, valid categories (a tuple)."
Output = namedtuple("Output", "name feature data_type is_final")
Output.__doc__ = "An OutputField: name, PMML feature, dataType, and whether it is a final result."

_NUMERIC_TYPES = ("integer", "float", "double")


class _Options:
    def __init__(self, limits=None, expected_sha256=None, on_error=None, n_jobs=None, leaf_precision=None,
                 load_threads=None):
        self.handle = c_void_p()
        _check(lib.pmmlrt_options_create(byref(self.handle)))
        try:
            for key, value in (limits or {}).items():
                if key not in _capi.LIMITS:
                    raise TypeError(f"unknown limit {key!r} (known: {', '.join(_capi.LIMITS)})")
                _check(lib.pmmlrt_options_set_limit(self.handle, _capi.LIMITS[key], c_uint64(int(value))))
            if expected_sha256 is not None:
                _check(lib.pmmlrt_options_set_expected_sha256(self.handle, expected_sha256.encode()))
            if leaf_precision is not None:
                if leaf_precision not in _capi.LEAF_PRECISIONS:
                    raise ValueError("leaf_precision must be 'exact' or 'half'")
                _check(lib.pmmlrt_options_set_leaf_precision(self.handle, _capi.LEAF_PRECISIONS[leaf_precision]))
            if load_threads is not None:
                # No -1 as n_jobs has: the C count has no negative values, and 0 already means one per CPU.
                if not _is_count(load_threads) or load_threads < 0:
                    raise ValueError("load_threads must be an int >= 1, or 0 for one thread per CPU")
                _check(lib.pmmlrt_options_set_load_threads(self.handle, c_size_t(int(load_threads))))
            if on_error is not None:
                if on_error not in ("raise", "record"):
                    raise ValueError("on_error must be 'raise' or 'record'")
                policy = _capi.ROW_ERRORS_RECORD if on_error == "record" else _capi.ROW_ERRORS_FAIL
                _check(lib.pmmlrt_options_set_row_errors(self.handle, policy))
            if n_jobs is not None:
                if not _is_count(n_jobs) or n_jobs < -1:
                    raise ValueError("n_jobs must be a positive int, or -1 / 0 for one thread per CPU")
                _check(lib.pmmlrt_options_set_threads(self.handle, c_size_t(0 if n_jobs in (-1, 0) else int(n_jobs))))
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.handle:
            lib.pmmlrt_options_release(self.handle)
            self.handle = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(path, *, expected_sha256=None, leaf_precision="exact", load_threads=1, **limits):
    """Loads a PMML model from a file. Keyword arguments: expected_sha256 (64 hex digits); leaf_precision,
    "exact" (the default) or "half": the opt-in reduced precision that rounds every TreeModel leaf score,
    probability and confidence to IEEE binary16 at load, so results differ from the reference (a model with a
    leaf beyond 65504 then raises UsageError); load_threads, the threads that read a forest's Segments while
    loading (1, the default: the calling thread only; 0: one per CPU; the model and the error of a failed
    load do not depend on it, nor does scoring, whose threads are n_jobs); and the limits
    max_document_bytes, max_element_depth, max_tree_depth, max_nodes, max_segments, max_fields,
    max_categories."""
    with _Options(limits, expected_sha256, leaf_precision=leaf_precision, load_threads=load_threads) as options:
        handle = c_void_p()
        _check(lib.pmmlrt_model_load_file(os.fsencode(os.fspath(path)), options.handle, byref(handle)))
    return Model(handle)


def loads(document, *, expected_sha256=None, leaf_precision="exact", load_threads=1, **limits):
    """Loads a PMML model from a str or bytes holding the document (keyword arguments as for load)."""
    data = document.encode("utf-8") if isinstance(document, str) else bytes(document)
    with _Options(limits, expected_sha256, leaf_precision=leaf_precision, load_threads=load_threads) as options:
        handle = c_void_p()
        _check(lib.pmmlrt_model_load_memory(data, len(data), options.handle, byref(handle)))
    return Model(handle)


def _string(getter, *args):
    out = c_char_p()
    _check(getter(*args, byref(out)))
    return out.value.decode("utf-8")


def _size(getter, *args):
    out = c_size_t()
    _check(getter(*args, byref(out)))
    return out.value


def _int(getter, *args):
    out = c_int()
    _check(getter(*args, byref(out)))
    return out.value


class Model:
    """A loaded PMML model. Immutable and safe to use from many threads at once (scoring releases the GIL).

    predict(X), predict_proba(X) and score(X) take X as a 2-D NumPy array (columns in input field order;
    float64/float32 in C or Fortran order is read in place, anything else is converted once), a pandas
    DataFrame (columns matched to input fields by name; other columns ignored; string and categorical
    columns are passed as text), a list of dicts, or one dict. Missing values: NaN, None, pd.NA.
    In a NumPy array, a string-typed categorical field takes the category code (index into
    Field.categories); in a DataFrame or dict it takes the category itself.
    """

    def __init__(self, handle):
        self._handle = handle
        self._scorer = None
        h = handle
        self.function = "classification" if _int(lib.pmmlrt_model_function, h) == 2 else "regression"
        self.model_type = _string(lib.pmmlrt_model_type, h)
        self.pmml_version = _string(lib.pmmlrt_model_pmml_version, h)
        self.input_fields = tuple(self._fields(_capi.FIELDS_INPUT))
        self.target_fields = tuple(self._fields(_capi.FIELDS_TARGET))
        self.classes_ = tuple(_string(lib.pmmlrt_model_class_label, h, i)
                              for i in range(_size(lib.pmmlrt_model_class_count, h)))
        self.outputs = tuple(
            Output(_string(lib.pmmlrt_model_output_name, h, i), _string(lib.pmmlrt_model_output_feature, h, i),
                   _capi.DATA_TYPES[_int(lib.pmmlrt_model_output_data_type, h, i)],
                   bool(_int(lib.pmmlrt_model_output_is_final, h, i)))
            for i in range(_size(lib.pmmlrt_model_output_count, h)))
        self.feature_names_in_ = np.array([f.name for f in self.input_fields], dtype=object)
        self.n_features_in_ = len(self.input_fields)
        self._input_index = {f.name: i for i, f in enumerate(self.input_fields)}
        self._last_input = None  # how the last X was passed to the library (for tests)
        # predict_one / predict_proba_one without ctypes when the extension is there (None: ctypes only).
        self._scorer = (None if _fast is None else
                        _fast.Scorer(_SCORE_ONE_ADDRESS, handle.value, self.n_features_in_,
                                     self.classes_ if self.function == "classification" else None, _check))

    def _fields(self, which):
        h = self._handle
        for i in range(_size(lib.pmmlrt_model_field_count, h, which)):
            cats = tuple(_string(lib.pmmlrt_model_field_category, h, which, i, j)
                         for j in range(_size(lib.pmmlrt_model_field_category_count, h, which, i)))
            yield Field(_string(lib.pmmlrt_model_field_name, h, which, i),
                        _capi.DATA_TYPES[_int(lib.pmmlrt_model_field_data_type, h, which, i)],
                        _capi.OP_TYPES[_int(lib.pmmlrt_model_field_op_type, h, which, i)], cats)

    # -- lifetime

    def close(self):
        """Releases the model now (it is also released when garbage-collected)."""
        if getattr(self, "_handle", None):
            if self._scorer is not None:
                self._scorer.close()
                self._scorer = None
            lib.pmmlrt_model_release(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (f"<pmmlrt.Model {self.model_type} {self.function}, {len(self.input_fields)} inputs, "
                f"{len(self.classes_)} classes, {len(self.outputs)} outputs>")

    @property
    def target_name(self):
        """The name of the (first) target field, or None."""
        return self.target_fields[0].name if self.target_fields else None

    # -- scoring

    def predict(self, X, *, on_error="raise", n_jobs=1):
        """Predicted values: class labels (object array of str) for classification, float64 for regression.
        Rows without a prediction give None / NaN. on_error="record" gives failing rows missing results
        instead of raising. n_jobs threads score the batch (-1: one per CPU); results do not depend on it."""
        with self._score(X, on_error, n_jobs) as r:
            return r.labels() if self.function == "classification" else r.predicted()

    def predict_proba(self, X, *, on_error="raise", n_jobs=1):
        """Class probabilities, rows x classes (float64, columns in classes_ order)."""
        if self.function != "classification":
            raise UsageError("predict_proba: the model is a regression model", 8)
        with self._score(X, on_error, n_jobs) as r:
            return r.probabilities()

    def score(self, X, *, on_error="raise", final_only=False, n_jobs=1):
        """Every result as a pandas DataFrame: the target's predicted value, probability(<class>) per class
        (unless an OutputField has that name), then every OutputField (numeric ones as float64, others as
        objects). final_only=True leaves out intermediate OutputFields. With on_error="record", a column
        "error" holds the message of each failed row (None for rows that scored)."""
        import pandas as pd

        index = X.index if isinstance(X, pd.DataFrame) else None
        with self._score(X, on_error, n_jobs) as r:
            columns = {}
            target = self.target_name or "predicted"
            columns[target] = r.labels() if self.function == "classification" else r.predicted()
            output_names = {o.name for o in self.outputs}
            if self.classes_:
                probs = r.probabilities()
                for c, label in enumerate(self.classes_):
                    name = f"probability({label})"
                    if name not in output_names:
                        columns[name] = probs[:, c]
            for o in self.outputs:
                if final_only and not o.is_final:
                    continue
                if o.name in columns:
                    continue
                columns[o.name] = r.output(o.name) if o.data_type in _NUMERIC_TYPES else r.output_strings(o.name)
            if on_error == "record":
                columns["error"] = r.errors()
            return _frame(columns, index)

    def predict_one(self, x):
        """The latency path for one record: `x` holds n_features_in_ numbers in input field order (NaN =
        missing; category codes for string categoricals, as in NumPy batches), scored through
        pmmlrt_score_one without a batch. Returns the class label (classification) or the predicted value
        (regression); None when there is no prediction."""
        scorer = self._scorer
        if scorer is not None:
            result = scorer.predict_one(x)
            if result is not NotImplemented:  # else a record or result the extension leaves to ctypes
                return result
        predicted, _ = self._one(x, False)
        if math.isnan(predicted):
            return None
        return self.classes_[int(predicted)] if self.function == "classification" else predicted

    def predict_proba_one(self, x):
        """Class probabilities of one record (as predict_one takes it), a tuple in classes_ order."""
        scorer = self._scorer
        if scorer is not None:
            result = scorer.predict_proba_one(x)
            if result is not NotImplemented:
                return result
        if self.function != "classification":
            raise UsageError("predict_proba_one: the model is a regression model", 8)
        return tuple(self._one(x, True)[1])

    def _one(self, x, with_probabilities):
        if not self._handle:
            raise UsageError("the model is closed", 101)
        n = self.n_features_in_
        if len(x) != n:
            raise UsageError(f"{len(x)} inputs for a model of {n} input fields", 8)
        # Buffers by address (array.array is the cheapest to fill from a sequence); results in a fresh array
        # per call, so that threads never share one.
        inputs = x if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.c_contiguous else _array("d", x)
        address = inputs.ctypes.data if isinstance(inputs, np.ndarray) else inputs.buffer_info()[0]
        k = len(self.classes_) if with_probabilities else 0
        out = _array("d", [math.nan]) * (1 + k)
        base = out.buffer_info()[0]
        _check(lib.pmmlrt_score_one(self._handle, address, n, base, base + 8 if k else None, k, None, 0))
        return out[0], (out[1:] if k else ())

    def score_one(self, record):
        """Scores one record given as a dict; returns a dict of every result (as score() columns)."""
        frame = self.score([record])
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[0].items()}

    def _score(self, X, on_error, n_jobs=1):
        with _Options(on_error=on_error, n_jobs=n_jobs) as options:
            handle = c_void_p()
            self._call(X, options.handle, handle)
        return _Batch(handle)

    def _call(self, X, options, out):
        if not self._handle:
            raise UsageError("the model is closed", 101)
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover
            pd = None
        if pd is not None and isinstance(X, pd.DataFrame):
            return self._call_frame(X, options, out)
        if isinstance(X, dict):
            X = [X]
        if isinstance(X, (list, tuple)) and (len(X) == 0 or isinstance(X[0], dict)):
            return self._call_records(X, options, out)
        return self._call_array(np.asarray(X) if not isinstance(X, np.ndarray) else X, options, out)

    def _call_array(self, X, options, out):
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2:
            raise UsageError(f"X must be 2-D (rows x {self.n_features_in_} columns), not {X.ndim}-D", 8)
        if X.dtype.kind in "OUS":
            names = [f.name for f in self.input_fields]
            if X.shape[1] != len(names):
                raise UsageError(f"X has {X.shape[1]} columns but the model has {len(names)} input fields", 8)
            return self._call_values(names, [X[:, j] for j in range(X.shape[1])], X.shape[0], options, out)
        if X.dtype not in (np.float64, np.float32):
            X = X.astype(np.float64)
        rows, cols = X.shape
        if X.flags.c_contiguous:
            layout, kind = _capi.ROW_MAJOR, "row-major"
        elif X.flags.f_contiguous:
            layout, kind = _capi.COLUMN_MAJOR, "column-major"
        else:
            X = np.ascontiguousarray(X)
            layout, kind = _capi.ROW_MAJOR, "copied"
        fn = lib.pmmlrt_score_f64 if X.dtype == np.float64 else lib.pmmlrt_score_f32
        self._last_input = (str(X.dtype), kind, X.ctypes.data)
        _check(fn(self._handle, X.ctypes.data, rows, cols, layout, None, options, byref(out)))

    def _call_frame(self, df, options, out):
        names = [c for c in df.columns if isinstance(c, str) and c in self._input_index]
        rows = len(df)
        as_numbers = all(_is_numeric(df[c]) and self.input_fields[self._input_index[c]].data_type != "string"
                         for c in names)
        if as_numbers:
            X = np.empty((rows, len(names)), dtype=np.float64, order="F")
            for j, c in enumerate(names):
                X[:, j] = _numeric_column(df[c])
            self._last_input = ("float64", "frame", X.ctypes.data)
            return _check(lib.pmmlrt_score_f64(self._handle, X.ctypes.data, rows, len(names), _capi.COLUMN_MAJOR,
                                               _names(names), options, byref(out)))
        return self._call_values(names, [df[c] for c in names], rows, options, out)

    def _call_records(self, records, options, out):
        names = []
        for rec in records:
            for k in rec:
                if k in self._input_index and k not in names:
                    names.append(k)
        columns = [[rec.get(k) for rec in records] for k in names]
        return self._call_values(names, columns, len(records), options, out)

    def _call_values(self, names, columns, rows, options, out):
        """Mixed cells: strings as text, numbers as values (not codes), missing as such."""
        cols = len(names)
        numbers = np.full(rows * cols, np.nan)
        strings = (c_char_p * (rows * cols))()
        keep = []
        for j, column in enumerate(columns):
            base = j * rows
            values = _values_of(column)
            if isinstance(values, np.ndarray):
                numbers[base:base + rows] = values
                continue
            for i, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, (bool, np.bool_)):
                    numbers[base + i] = 1.0 if v else 0.0
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    numbers[base + i] = float(v)  # NaN stays missing
                else:
                    b = str(v).encode("utf-8")
                    keep.append(b)
                    strings[base + i] = b
        self._last_input = ("values", "column-major", None)
        _check(lib.pmmlrt_score_values(self._handle, numbers.ctypes.data, strings, rows, cols, _capi.COLUMN_MAJOR,
                                       _names(names) if names else (c_char_p * 1)(), options, byref(out)))


def _names(names):
    arr = (c_char_p * max(len(names), 1))()
    for i, n in enumerate(names):
        arr[i] = n.encode("utf-8")
    return arr


def _is_numeric(series):
    kind = getattr(series.dtype, "kind", "O")
    return kind in "fiub"


def _numeric_column(series):
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except TypeError:  # older pandas
        return series.astype("float64").to_numpy()


def _values_of(column):
    """A column as a float64 array (all numeric) or a list of Python values with None for missing."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(column, pd.Series):
        if _is_numeric(column):
            return _numeric_column(column)
        column = column.astype(object).where(column.notna(), None).tolist()
    elif isinstance(column, np.ndarray):
        if column.dtype.kind in "fiub":
            return column.astype(np.float64)
        column = column.tolist()
    out = []
    for v in column:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif pd is not None and v is pd.NA:
            out.append(None)
        else:
            out.append(v)
    return out


def _frame(columns, index):
    """The DataFrame of score(): object columns stay object with None for missing (also under pandas 3)."""
    import pandas as pd

    rows = len(next(iter(columns.values()))) if columns else 0
    if index is None:
        index = pd.RangeIndex(rows)
    data = {k: pd.Series(v, dtype=object, index=index) if v.dtype == object else pd.Series(v, index=index)
            for k, v in columns.items()}
    return pd.DataFrame(data, index=index)


class _Batch:
    """A pmmlrt_batch_result, read into NumPy arrays."""

    def __init__(self, handle):
        self.handle = handle
        self.rows = _size(lib.pmmlrt_batch_result_rows, handle)
        self.k = _size(lib.pmmlrt_batch_result_class_count, handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.pmmlrt_batch_result_release(self.handle)
        self.handle = None

    def predicted(self):
        out = np.empty(self.rows)
        _check(lib.pmmlrt_batch_result_predicted(self.handle, out.ctypes.data, self.rows))
        return out

    def _strings(self, getter, *args):
        arr = (c_char_p * max(self.rows, 1))()
        _check(getter(self.handle, *args, arr, self.rows))
        out = np.empty(self.rows, dtype=object)
        for i in range(self.rows):
            v = arr[i]
            out[i] = None if v is None else v.decode("utf-8")
        return out


    def labels(self):
        return self._strings(lib.pmmlrt_batch_result_labels)

    def probabilities(self):
        out = np.empty((self.rows, self.k))
        _check(lib.pmmlrt_batch_result_probabilities(self.handle, _capi.ROW_MAJOR, out.ctypes.data,
                                                     self.rows * self.k))
        return out

    def output(self, name):
        out = np.empty(self.rows)
        _check(lib.pmmlrt_batch_result_output(self.handle, name.encode("utf-8"), out.ctypes.data, self.rows))
        return out

    def output_strings(self, name):
        return self._strings(lib.pmmlrt_batch_result_output_strings, name.encode("utf-8"))

    def errors(self):
        return self._strings(lib.pmmlrt_batch_result_errors)
