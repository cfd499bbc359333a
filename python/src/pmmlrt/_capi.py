"""ctypes bindings of the pmmlrt C ABI (capi/pmmlrt.h). Internal: use the pmmlrt package API instead."""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_float, c_int, c_size_t, c_uint64, c_void_p
from pathlib import Path

ABI_VERSION = 1

# pmmlrt_status values (stable).
OK = 0
STATUS_NAMES = {
    0: "OK", 1: "PARSE", 2: "UNSUPPORTED", 3: "MODEL", 4: "INPUT", 5: "EVALUATION", 6: "LIMIT", 7: "IO",
    8: "USAGE", 100: "INVALID_ARGUMENT", 101: "INVALID_HANDLE", 102: "BUFFER_TOO_SMALL", 103: "UNKNOWN_NAME",
    104: "OUT_OF_RANGE", 105: "OUT_OF_MEMORY", 106: "INTERNAL",
}
ROW_MAJOR, COLUMN_MAJOR = 0, 1
FIELDS_INPUT, FIELDS_TARGET = 1, 2
FUNCTION_REGRESSION, FUNCTION_CLASSIFICATION = 1, 2
DATA_TYPES = {1: "string", 2: "integer", 3: "float", 4: "double", 5: "boolean", 6: "date", 7: "time", 8: "dateTime"}
OP_TYPES = {1: "categorical", 2: "ordinal", 3: "continuous"}
LIMITS = {
    "max_document_bytes": 1, "max_element_depth": 2, "max_tree_depth": 3, "max_nodes": 4, "max_segments": 5,
    "max_fields": 6, "max_categories": 7,
}
ROW_ERRORS_FAIL, ROW_ERRORS_RECORD = 0, 1
LEAF_PRECISIONS = {"exact": 0, "half": 1}


def _library_path():
    explicit = os.environ.get("PMMLRT_C_LIBRARY")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parent / "_lib" / "libpmmlrt_c.so"


def _load():
    path = _library_path()
    if not path.exists():
        raise ImportError(f"pmmlrt: the C library {path} is missing (reinstall the package, or set PMMLRT_C_LIBRARY)")
    # Libraries bundled beside it (libfmt, ...) first, so that the dynamic linker finds them by SONAME.
    for dep in sorted(path.parent.glob("lib*.so*")):
        if dep.name != path.name and not dep.name.startswith("libpmmlrt_c"):
            ctypes.CDLL(str(dep), mode=ctypes.RTLD_GLOBAL)
    return ctypes.CDLL(str(path))


lib = _load()

P = c_void_p
PP = POINTER(c_void_p)
status = c_int


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_fn("pmmlrt_version", c_char_p)
_fn("pmmlrt_version_major", c_int)
_fn("pmmlrt_version_minor", c_int)
_fn("pmmlrt_version_patch", c_int)
_fn("pmmlrt_abi_version", c_int)
_fn("pmmlrt_last_error", c_char_p)
_fn("pmmlrt_last_status", status)
_fn("pmmlrt_status_name", c_char_p, status)

_fn("pmmlrt_options_create", status, PP)
_fn("pmmlrt_options_release", None, P)
_fn("pmmlrt_options_set_limit", status, P, c_int, c_uint64)
_fn("pmmlrt_options_get_limit", status, P, c_int, POINTER(c_uint64))
_fn("pmmlrt_options_set_expected_sha256", status, P, c_char_p)
_fn("pmmlrt_options_set_row_errors", status, P, c_int)
_fn("pmmlrt_options_set_threads", status, P, c_size_t)
_fn("pmmlrt_options_set_leaf_precision", status, P, c_int)
_fn("pmmlrt_options_get_leaf_precision", status, P, POINTER(c_int))
_fn("pmmlrt_options_set_load_threads", status, P, c_size_t)

_fn("pmmlrt_model_load_file", status, c_char_p, P, PP)
_fn("pmmlrt_model_load_memory", status, c_char_p, c_size_t, P, PP)
_fn("pmmlrt_model_release", None, P)
_fn("pmmlrt_model_function", status, P, POINTER(c_int))
_fn("pmmlrt_model_type", status, P, POINTER(c_char_p))
_fn("pmmlrt_model_pmml_version", status, P, POINTER(c_char_p))
_fn("pmmlrt_model_field_count", status, P, c_int, POINTER(c_size_t))
_fn("pmmlrt_model_field_name", status, P, c_int, c_size_t, POINTER(c_char_p))
_fn("pmmlrt_model_field_index", status, P, c_int, c_char_p, POINTER(c_size_t))
_fn("pmmlrt_model_field_data_type", status, P, c_int, c_size_t, POINTER(c_int))
_fn("pmmlrt_model_field_op_type", status, P, c_int, c_size_t, POINTER(c_int))
_fn("pmmlrt_model_field_category_count", status, P, c_int, c_size_t, POINTER(c_size_t))
_fn("pmmlrt_model_field_category", status, P, c_int, c_size_t, c_size_t, POINTER(c_char_p))
_fn("pmmlrt_model_class_count", status, P, POINTER(c_size_t))
_fn("pmmlrt_model_class_label", status, P, c_size_t, POINTER(c_char_p))
_fn("pmmlrt_model_output_count", status, P, POINTER(c_size_t))
_fn("pmmlrt_model_output_name", status, P, c_size_t, POINTER(c_char_p))
_fn("pmmlrt_model_output_index", status, P, c_char_p, POINTER(c_size_t))
_fn("pmmlrt_model_output_feature", status, P, c_size_t, POINTER(c_char_p))
_fn("pmmlrt_model_output_data_type", status, P, c_size_t, POINTER(c_int))
_fn("pmmlrt_model_output_is_final", status, P, c_size_t, POINTER(c_int))

_fn("pmmlrt_score_f64", status, P, c_void_p, c_size_t, c_size_t, c_int, c_void_p, P, PP)
_fn("pmmlrt_score_f32", status, P, c_void_p, c_size_t, c_size_t, c_int, c_void_p, P, PP)
_fn("pmmlrt_score_values", status, P, c_void_p, c_void_p, c_size_t, c_size_t, c_int, c_void_p, P, PP)
# Buffers by address: predict_one passes array addresses, the cheapest ctypes call.
_fn("pmmlrt_score_one", status, P, c_void_p, c_size_t, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t)

_fn("pmmlrt_batch_result_release", None, P)
_fn("pmmlrt_batch_result_rows", status, P, POINTER(c_size_t))
_fn("pmmlrt_batch_result_class_count", status, P, POINTER(c_size_t))
_fn("pmmlrt_batch_result_error_count", status, P, POINTER(c_size_t))
_fn("pmmlrt_batch_result_predicted", status, P, c_void_p, c_size_t)
_fn("pmmlrt_batch_result_labels", status, P, c_void_p, c_size_t)
_fn("pmmlrt_batch_result_probabilities", status, P, c_int, c_void_p, c_size_t)
_fn("pmmlrt_batch_result_output", status, P, c_char_p, c_void_p, c_size_t)
_fn("pmmlrt_batch_result_output_strings", status, P, c_char_p, c_void_p, c_size_t)
_fn("pmmlrt_batch_result_errors", status, P, c_void_p, c_size_t)

__all__ = ["lib", "ABI_VERSION", "STATUS_NAMES", "c_float"]
