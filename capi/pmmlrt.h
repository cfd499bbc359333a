/*
 * pmmlrt.h -- the stable C ABI of pmmlrt, a PMML scoring library.
 *
 * C99, usable from C, C++ and any language with a C foreign-function interface. Link with -lpmmlrt_c
 * (the shared library libpmmlrt_c.so.<PMMLRT_ABI_VERSION>).
 *
 *   pmmlrt_model* model = NULL;
 *   if (pmmlrt_model_load_file("iris.pmml", NULL, &model) != PMMLRT_OK) {
 *     fprintf(stderr, "%s\n", pmmlrt_last_error());
 *     return 1;
 *   }
 *   double x[4] = {5.1, 3.5, 1.4, 0.2}, predicted, probabilities[3];
 *   pmmlrt_score_one(model, x, 4, &predicted, probabilities, 3, NULL, 0);
 *   pmmlrt_model_release(model);
 *
 * CONVENTIONS
 *
 * - Status: every function that can fail returns a pmmlrt_status; PMMLRT_OK (0) is success. On failure,
 *   out-parameters are left unchanged (except where a function says otherwise) and pmmlrt_last_error()
 *   returns a message naming what went wrong. No C++ exception ever crosses this boundary.
 * - Handles: pmmlrt_model, pmmlrt_options and pmmlrt_batch_result are opaque. A handle is created by the
 *   function that returns it through a `**out` parameter and owned by the caller, who releases it with the
 *   matching *_release function (which accepts NULL). A NULL handle, a released handle or a handle of the
 *   wrong kind passed to any other function returns PMMLRT_ERROR_INVALID_HANDLE: every live handle is
 *   registered, so this is detected reliably (unless the memory was reused for a new handle of the same kind).
 * - Strings: all strings are NUL-terminated UTF-8. Strings returned through `const char**` are borrowed:
 *   they belong to the handle they were read from and stay valid until that handle is released. Strings
 *   passed in are only read during the call.
 * - Buffers: output buffers are allocated by the caller. Each buffer comes with its capacity in elements;
 *   when the capacity is smaller than needed the call returns PMMLRT_ERROR_BUFFER_TOO_SMALL and writes
 *   nothing. The needed sizes come from the *_count / *_rows functions: ask first, allocate, then call.
 * - Missing values: NaN in numeric inputs and outputs; NULL in string inputs and outputs.
 *
 * THREAD SAFETY
 *
 * - A pmmlrt_model is immutable once loaded: any number of threads may score it and query it at the same
 *   time, without locking. Only pmmlrt_model_release must not overlap with other calls on that model.
 * - A pmmlrt_batch_result is immutable: its getters may be called from many threads at once. The batch
 *   result does not refer to the model: it stays valid after the model is released.
 * - A pmmlrt_options may be read by many calls at once (loads and scorings in several threads), but a setter
 *   must not overlap with any other use of the same options object.
 * - pmmlrt_last_error() is per thread.
 *
 * VERSIONING
 *
 * PMMLRT_ABI_VERSION is the major version of this ABI and of the library's SONAME. Within one ABI version
 * functions and enumerators are only ever added, never changed or removed; status codes, enum values and
 * limits keep their numbers. A program built against an older header keeps working with a newer library of
 * the same ABI version.
 */
#ifndef PMMLRT_H
#define PMMLRT_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(PMMLRT_C_BUILDING)
#    define PMMLRT_API __declspec(dllexport)
#  else
#    define PMMLRT_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define PMMLRT_API __attribute__((visibility("default")))
#else
#  define PMMLRT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** The major version of the C ABI this header describes (also the SONAME suffix: libpmmlrt_c.so.1). */
#define PMMLRT_ABI_VERSION 1

/* ---- status codes -------------------------------------------------------------------------------------- */

/**
 * The outcome of a call. Values 1..8 mirror pmmlrt::ErrorKind of the C++ API; values from 100 are errors
 * of the C interface itself. Values are stable; new codes may be added.
 */
typedef enum pmmlrt_status {
  PMMLRT_OK = 0,                         /**< Success. */
  PMMLRT_ERROR_PARSE = 1,                /**< The document is not well-formed PMML (XML, number, attribute). */
  PMMLRT_ERROR_UNSUPPORTED = 2,          /**< The document uses an element or function pmmlrt does not implement. */
  PMMLRT_ERROR_MODEL = 3,                /**< The model is inconsistent (dangling reference, cycle, ...). */
  PMMLRT_ERROR_INPUT = 4,                /**< An input value is invalid for its field (the message names row and field). */
  PMMLRT_ERROR_EVALUATION = 5,           /**< Scoring produced a result the model declares an error. */
  PMMLRT_ERROR_LIMIT = 6,                /**< A resource limit of the options was exceeded. */
  PMMLRT_ERROR_IO = 7,                   /**< A file could not be read, or the document has not the expected SHA-256. */
  PMMLRT_ERROR_USAGE = 8,                /**< Arguments that do not fit the model (e.g. wrong number of columns). */
  PMMLRT_ERROR_INVALID_ARGUMENT = 100,   /**< A required pointer is NULL, or an enum or value is out of its domain. */
  PMMLRT_ERROR_INVALID_HANDLE = 101,     /**< A handle is NULL, released, or of the wrong kind. */
  PMMLRT_ERROR_BUFFER_TOO_SMALL = 102,   /**< An output buffer's capacity is below what the call needs. */
  PMMLRT_ERROR_UNKNOWN_NAME = 103,       /**< No field, output or class has that name. */
  PMMLRT_ERROR_OUT_OF_RANGE = 104,       /**< An index is not below the matching count. */
  PMMLRT_ERROR_OUT_OF_MEMORY = 105,      /**< Memory could not be allocated. */
  PMMLRT_ERROR_INTERNAL = 106,           /**< An unexpected failure inside the library (a bug: please report it). */
  PMMLRT_STATUS_MAX_ENUM = 0x7FFFFFFF    /**< Not a status: makes every enum 32 bits wide with room for new values. */
} pmmlrt_status;

/* ---- enumerations ---------------------------------------------------------------------------------------- */
/* Every enum ends with a *_MAX_ENUM sentinel (not a valid value) so that it is 32 bits wide in C and C++ and any
   value from 0 to INT32_MAX may be passed without undefined behaviour: unknown values are rejected with
   PMMLRT_ERROR_INVALID_ARGUMENT. */

/** Storage order of a matrix of rows x cols cells. */
typedef enum pmmlrt_layout {
  PMMLRT_ROW_MAJOR = 0,     /**< Cell (r, c) at index r * cols + c. */
  PMMLRT_COLUMN_MAJOR = 1,  /**< Cell (r, c) at index c * rows + r. */
  PMMLRT_LAYOUT_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_layout;

/** PMML functionName of the model. */
typedef enum pmmlrt_function {
  PMMLRT_FUNCTION_REGRESSION = 1,
  PMMLRT_FUNCTION_CLASSIFICATION = 2,
  PMMLRT_FUNCTION_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_function;

/** Which fields of the model's schema a field query is about. */
typedef enum pmmlrt_field_set {
  PMMLRT_FIELDS_INPUT = 1,   /**< The active input fields (what a record must provide), in MiningSchema order. */
  PMMLRT_FIELDS_TARGET = 2,  /**< The target fields (usually one). */
  PMMLRT_FIELDS_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_field_set;

/** PMML dataType. */
typedef enum pmmlrt_data_type {
  PMMLRT_TYPE_STRING = 1,
  PMMLRT_TYPE_INTEGER = 2,
  PMMLRT_TYPE_FLOAT = 3,
  PMMLRT_TYPE_DOUBLE = 4,
  PMMLRT_TYPE_BOOLEAN = 5,
  PMMLRT_TYPE_DATE = 6,
  PMMLRT_TYPE_TIME = 7,
  PMMLRT_TYPE_DATETIME = 8,
  PMMLRT_TYPE_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_data_type;

/** PMML optype. */
typedef enum pmmlrt_op_type {
  PMMLRT_OPTYPE_CATEGORICAL = 1,
  PMMLRT_OPTYPE_ORDINAL = 2,
  PMMLRT_OPTYPE_CONTINUOUS = 3,
  PMMLRT_OPTYPE_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_op_type;

/** Resource limits applied while loading (see pmmlrt::LoadOptions for the defaults). */
typedef enum pmmlrt_limit {
  PMMLRT_LIMIT_DOCUMENT_BYTES = 1,   /**< Largest document accepted, in bytes (default 1 GiB). */
  PMMLRT_LIMIT_ELEMENT_DEPTH = 2,    /**< Deepest XML element nesting (default 512). */
  PMMLRT_LIMIT_TREE_DEPTH = 3,       /**< Deepest TreeModel node path (default 100000). */
  PMMLRT_LIMIT_NODES = 4,            /**< Tree nodes in the whole document (default 50 000 000). */
  PMMLRT_LIMIT_SEGMENTS = 5,         /**< Segments in the whole document (default 1 000 000). */
  PMMLRT_LIMIT_FIELDS = 6,           /**< Data, derived and output fields together (default 1 000 000). */
  PMMLRT_LIMIT_CATEGORIES = 7,       /**< Value elements in the whole document (default 10 000 000). */
  PMMLRT_LIMIT_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_limit;

/** What batch scoring does with a row that cannot be scored (invalid input, undefined result). */
typedef enum pmmlrt_row_errors {
  PMMLRT_ROW_ERRORS_FAIL = 0,    /**< The call fails with that row's status and message (the default). */
  PMMLRT_ROW_ERRORS_RECORD = 1,  /**< The row gets missing results; its message is kept (pmmlrt_batch_result_errors). */
  PMMLRT_ROW_ERRORS_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_row_errors;

/**
 * How tree models store their leaf values (see pmmlrt::LoadOptions::leaf_precision). Half is an opt-in
 * reduced precision, never the default: results then differ from the reference's.
 */
typedef enum pmmlrt_leaf_precision {
  PMMLRT_LEAF_PRECISION_EXACT = 0,  /**< As the document writes them (the default). */
  PMMLRT_LEAF_PRECISION_HALF = 1,   /**< Leaf scores, probabilities and confidences rounded to IEEE binary16. */
  PMMLRT_LEAF_PRECISION_MAX_ENUM = 0x7FFFFFFF
} pmmlrt_leaf_precision;

/* ---- opaque handles -------------------------------------------------------------------------------------- */

/** A loaded, compiled, immutable PMML model. */
typedef struct pmmlrt_model pmmlrt_model;
/** Loading and scoring options: limits, expected SHA-256, leaf precision, row error policy. */
typedef struct pmmlrt_options pmmlrt_options;
/** The results of scoring a batch of rows. */
typedef struct pmmlrt_batch_result pmmlrt_batch_result;

/* ---- versions and errors --------------------------------------------------------------------------------- */

/** The library's version as "MAJOR.MINOR.PATCH" (static storage, never NULL). */
PMMLRT_API const char* pmmlrt_version(void);
/** The library's major version number. */
PMMLRT_API int pmmlrt_version_major(void);
/** The library's minor version number. */
PMMLRT_API int pmmlrt_version_minor(void);
/** The library's patch version number. */
PMMLRT_API int pmmlrt_version_patch(void);
/** The ABI version of the linked library; compare with PMMLRT_ABI_VERSION to detect a mismatch. */
PMMLRT_API int pmmlrt_abi_version(void);

/**
 * The message of the last failed call on this thread, or "" when the last call succeeded. Every function
 * returning a pmmlrt_status sets it (to "" on success). Never NULL. The string belongs to the library and
 * stays valid until the next pmmlrt call on the same thread.
 */
PMMLRT_API const char* pmmlrt_last_error(void);
/** The status the last call on this thread returned (PMMLRT_OK when it succeeded). */
PMMLRT_API pmmlrt_status pmmlrt_last_status(void);
/** The name of a status code ("PMMLRT_ERROR_PARSE"), "PMMLRT_UNKNOWN_STATUS" for other values. Static, never NULL. */
PMMLRT_API const char* pmmlrt_status_name(pmmlrt_status status);

/* ---- options --------------------------------------------------------------------------------------------- */

/** Creates options with the defaults. [out] *out: the new handle, owned by the caller. */
PMMLRT_API pmmlrt_status pmmlrt_options_create(pmmlrt_options** out);
/** Releases options (NULL is accepted and ignored). Models loaded with them are not affected. */
PMMLRT_API void pmmlrt_options_release(pmmlrt_options* options);
/**
 * Sets a load limit. [in] which: a pmmlrt_limit; value: the new limit (a value above what size_t holds is
 * clamped). PMMLRT_ERROR_INVALID_ARGUMENT for an unknown `which`.
 */
PMMLRT_API pmmlrt_status pmmlrt_options_set_limit(pmmlrt_options* options, pmmlrt_limit which, uint64_t value);
/** Reads a load limit into *value. PMMLRT_ERROR_INVALID_ARGUMENT for an unknown `which` or a NULL `value`. */
PMMLRT_API pmmlrt_status pmmlrt_options_get_limit(const pmmlrt_options* options, pmmlrt_limit which, uint64_t* value);
/**
 * Sets the SHA-256 the document must have, as 64 hex digits (either case); NULL or "" removes the check.
 * A load of a document with another digest fails with PMMLRT_ERROR_IO. PMMLRT_ERROR_INVALID_ARGUMENT
 * when the text is not 64 hex digits.
 */
PMMLRT_API pmmlrt_status pmmlrt_options_set_expected_sha256(pmmlrt_options* options, const char* hex);
/** Sets what batch scoring with these options does with a row that fails (a pmmlrt_row_errors). */
PMMLRT_API pmmlrt_status pmmlrt_options_set_row_errors(pmmlrt_options* options, pmmlrt_row_errors policy);
/**
 * Sets how many threads batch scoring with these options uses: 1 (the default) scores on the calling
 * thread only; n > 1 splits the rows into up to n contiguous ranges of at least 256 rows, the calling thread
 * taking the first; 0 means one per hardware thread. Results are identical for every thread count.
 * pmmlrt_score_one never spawns a thread.
 */
PMMLRT_API pmmlrt_status pmmlrt_options_set_threads(pmmlrt_options* options, size_t threads);
/** Reads the scoring thread count (pmmlrt_options_set_threads; 1 by default) into *threads.
 * PMMLRT_ERROR_INVALID_ARGUMENT for a NULL `threads`. */
PMMLRT_API pmmlrt_status pmmlrt_options_get_threads(const pmmlrt_options* options, size_t* threads);
/**
 * Sets the leaf precision of models loaded with these options (a pmmlrt_leaf_precision). With
 * PMMLRT_LEAF_PRECISION_HALF every numeric Node score and ScoreDistribution probability and confidence of a
 * TreeModel is rounded to the nearest IEEE binary16 value (ties to even) at load; record counts, thresholds
 * and everything else stay exact, and every scoring path gives the same results. Loading a model with a
 * finite leaf value beyond the binary16 range (65504) then fails with PMMLRT_ERROR_USAGE.
 * PMMLRT_ERROR_INVALID_ARGUMENT for an unknown value.
 */
PMMLRT_API pmmlrt_status pmmlrt_options_set_leaf_precision(pmmlrt_options* options, pmmlrt_leaf_precision precision);
/** Reads the leaf precision into *precision. PMMLRT_ERROR_INVALID_ARGUMENT for a NULL `precision`. */
PMMLRT_API pmmlrt_status pmmlrt_options_get_leaf_precision(const pmmlrt_options* options,
                                                           pmmlrt_leaf_precision* precision);
/**
 * Sets how many threads a load with these options uses for a forest's Segments (LoadOptions::threads):
 * 1 (the default) loads on the calling thread only; 0 means one per hardware thread. The threads are joined
 * before the load returns. The model, and the error of a failed load, are identical for every thread count. Independent of
 * pmmlrt_options_set_threads (scoring).
 */
PMMLRT_API pmmlrt_status pmmlrt_options_set_load_threads(pmmlrt_options* options, size_t threads);
/** Reads the load thread count (pmmlrt_options_set_load_threads; 1 by default) into *threads.
 * PMMLRT_ERROR_INVALID_ARGUMENT for a NULL `threads`. */
PMMLRT_API pmmlrt_status pmmlrt_options_get_load_threads(const pmmlrt_options* options, size_t* threads);

/* ---- loading --------------------------------------------------------------------------------------------- */

/**
 * Loads and compiles the PMML document at `path`. [in] options: NULL for the defaults. [out] *out: the
 * model, owned by the caller (release it with pmmlrt_model_release). Fails with PMMLRT_ERROR_IO, _PARSE,
 * _UNSUPPORTED, _MODEL or _LIMIT.
 */
PMMLRT_API pmmlrt_status pmmlrt_model_load_file(const char* path, const pmmlrt_options* options, pmmlrt_model** out);
/**
 * Loads and compiles a PMML document of `size` bytes at `data` (not NUL-terminated; only read during the
 * call). Otherwise as pmmlrt_model_load_file.
 */
PMMLRT_API pmmlrt_status pmmlrt_model_load_memory(const void* data, size_t size, const pmmlrt_options* options,
                                                  pmmlrt_model** out);
/** Releases a model (NULL is accepted and ignored). Batch results already made stay valid. */
PMMLRT_API void pmmlrt_model_release(pmmlrt_model* model);

/* ---- introspection --------------------------------------------------------------------------------------- */

/** [out] *out: classification or regression. */
PMMLRT_API pmmlrt_status pmmlrt_model_function(const pmmlrt_model* model, pmmlrt_function* out);
/** [out] *out: the element name of the top-level model ("TreeModel", "MiningModel", ...), borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_type(const pmmlrt_model* model, const char** out);
/** [out] *out: the PMML version of the document ("4.4"), borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_pmml_version(const pmmlrt_model* model, const char** out);

/** [out] *count: the number of fields in `set` (a pmmlrt_field_set). */
PMMLRT_API pmmlrt_status pmmlrt_model_field_count(const pmmlrt_model* model, pmmlrt_field_set set, size_t* count);
/** [out] *name: the name of field `index` of `set`, borrowed. PMMLRT_ERROR_OUT_OF_RANGE past the count. */
PMMLRT_API pmmlrt_status pmmlrt_model_field_name(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                                 const char** name);
/** [out] *index: the position of the field called `name` in `set`. PMMLRT_ERROR_UNKNOWN_NAME if none. */
PMMLRT_API pmmlrt_status pmmlrt_model_field_index(const pmmlrt_model* model, pmmlrt_field_set set, const char* name,
                                                  size_t* index);
/** [out] *type: the dataType of field `index` of `set`. */
PMMLRT_API pmmlrt_status pmmlrt_model_field_data_type(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                                      pmmlrt_data_type* type);
/** [out] *type: the optype of field `index` of `set`. */
PMMLRT_API pmmlrt_status pmmlrt_model_field_op_type(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                                    pmmlrt_op_type* type);
/**
 * [out] *count: the number of valid categories declared for field `index` of `set` (0 for continuous
 * fields). In numeric batches a string-typed categorical field takes the code of a category: its position
 * in this list.
 */
PMMLRT_API pmmlrt_status pmmlrt_model_field_category_count(const pmmlrt_model* model, pmmlrt_field_set set,
                                                           size_t index, size_t* count);
/** [out] *category: category `category_index` of field `index` of `set`, borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_field_category(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                                     size_t category_index, const char** category);

/** [out] *count: the number of class labels (0 for regression). */
PMMLRT_API pmmlrt_status pmmlrt_model_class_count(const pmmlrt_model* model, size_t* count);
/** [out] *label: class label `index`, in the model's order (the order of probabilities and class indices), borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_class_label(const pmmlrt_model* model, size_t index, const char** label);

/** [out] *count: the number of OutputFields of the top-level model (nested ones that surface included). */
PMMLRT_API pmmlrt_status pmmlrt_model_output_count(const pmmlrt_model* model, size_t* count);
/** [out] *name: the name of OutputField `index`, borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_output_name(const pmmlrt_model* model, size_t index, const char** name);
/** [out] *index: the position of the OutputField called `name`. PMMLRT_ERROR_UNKNOWN_NAME if none. */
PMMLRT_API pmmlrt_status pmmlrt_model_output_index(const pmmlrt_model* model, const char* name, size_t* index);
/** [out] *feature: the PMML feature of OutputField `index` ("predictedValue", "probability", ...), borrowed. */
PMMLRT_API pmmlrt_status pmmlrt_model_output_feature(const pmmlrt_model* model, size_t index, const char** feature);
/** [out] *type: the dataType of OutputField `index`. */
PMMLRT_API pmmlrt_status pmmlrt_model_output_data_type(const pmmlrt_model* model, size_t index,
                                                       pmmlrt_data_type* type);
/** [out] *is_final: 1 for a final result, 0 for an intermediate OutputField (isFinalResult="false"). */
PMMLRT_API pmmlrt_status pmmlrt_model_output_is_final(const pmmlrt_model* model, size_t index, int* is_final);

/* ---- scoring --------------------------------------------------------------------------------------------- */

/*
 * Numeric batches (pmmlrt_score_f64, pmmlrt_score_f32) read a rows x cols matrix in place from the caller's
 * memory. `column_names` names the cols matrix columns (an array of cols strings); NULL means the matrix has
 * exactly the input fields in pmmlrt_model_field_name(PMMLRT_FIELDS_INPUT, ...) order. Every name must be an
 * input field (PMMLRT_ERROR_UNKNOWN_NAME otherwise), at most once; input fields not named are missing.
 * NaN is a missing value. A string-typed categorical field takes a category code (see
 * pmmlrt_model_field_category_count); other fields take the number itself.
 *
 * `options` may be NULL (defaults; only the row error policy is used). On success *out receives a new batch
 * result owned by the caller. rows may be 0 (then data may be NULL).
 */

/** Scores a batch of doubles. */
PMMLRT_API pmmlrt_status pmmlrt_score_f64(const pmmlrt_model* model, const double* data, size_t rows, size_t cols,
                                          pmmlrt_layout layout, const char* const* column_names,
                                          const pmmlrt_options* options, pmmlrt_batch_result** out);
/** Scores a batch of floats (each cell widened to double exactly). */
PMMLRT_API pmmlrt_status pmmlrt_score_f32(const pmmlrt_model* model, const float* data, size_t rows, size_t cols,
                                          pmmlrt_layout layout, const char* const* column_names,
                                          const pmmlrt_options* options, pmmlrt_batch_result** out);
/**
 * Scores a batch of mixed cells: cell i (in `layout` order, rows x cols) is the string strings[i] when
 * `strings` is not NULL and strings[i] is not NULL, otherwise the number numbers[i] when `numbers` is not
 * NULL (NaN = missing), otherwise missing. Strings are parsed by the field's dataType, as CSV text would be
 * ("5.1" for a double field, "setosa" for a category); numbers are values, NOT category codes (1.0 for
 * an integer category "1"). Either array may be NULL. Column names as for pmmlrt_score_f64.
 */
PMMLRT_API pmmlrt_status pmmlrt_score_values(const pmmlrt_model* model, const double* numbers,
                                             const char* const* strings, size_t rows, size_t cols,
                                             pmmlrt_layout layout, const char* const* column_names,
                                             const pmmlrt_options* options, pmmlrt_batch_result** out);
/**
 * Scores one record without creating a result handle, for latency-sensitive hosts. [in] inputs: n_inputs
 * numbers, one per input field in input field order (NaN = missing, codes for string categoricals as in
 * pmmlrt_score_f64); n_inputs must equal the input field count (PMMLRT_ERROR_USAGE otherwise).
 * [out] predicted: the predicted value (the class index for classification; NaN when there is none), may be
 * NULL. [out] probabilities: n_probabilities >= class count doubles (NaN when there is no distribution), may
 * be NULL with n_probabilities 0. [out] outputs: n_outputs >= output count doubles, every OutputField as a
 * number in model order (NaN for missing or non-numeric values), may be NULL with n_outputs 0.
 * Input errors fail the call (PMMLRT_ERROR_INPUT / _EVALUATION).
 */
PMMLRT_API pmmlrt_status pmmlrt_score_one(const pmmlrt_model* model, const double* inputs, size_t n_inputs,
                                          double* predicted, double* probabilities, size_t n_probabilities,
                                          double* outputs, size_t n_outputs);

/* ---- batch results --------------------------------------------------------------------------------------- */

/** Releases a batch result (NULL is accepted and ignored); borrowed strings read from it become invalid. */
PMMLRT_API void pmmlrt_batch_result_release(pmmlrt_batch_result* result);
/** [out] *rows: the number of rows scored. */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_rows(const pmmlrt_batch_result* result, size_t* rows);
/** [out] *count: the number of classes (columns of the probabilities; 0 for regression). */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_class_count(const pmmlrt_batch_result* result, size_t* count);
/** [out] *count: the number of rows that failed (under PMMLRT_ROW_ERRORS_RECORD; 0 otherwise). */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_error_count(const pmmlrt_batch_result* result, size_t* count);
/**
 * [out] out[0..rows): the predicted value per row: the number for regression, the class index (into the
 * class labels) for classification, NaN where a row has no prediction. capacity >= rows.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_predicted(const pmmlrt_batch_result* result, double* out,
                                                       size_t capacity);
/**
 * [out] out[0..rows): the predicted value of each row as text, borrowed (the class label for classification,
 * the shortest round-trip text of the number for regression), NULL where a row has no prediction.
 * capacity >= rows.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_labels(const pmmlrt_batch_result* result, const char** out,
                                                    size_t capacity);
/**
 * [out] out[0..rows*classes): the class probabilities, rows x classes in `layout` order, NaN where a row has no
 * distribution. capacity >= rows * classes.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_probabilities(const pmmlrt_batch_result* result, pmmlrt_layout layout,
                                                           double* out, size_t capacity);
/**
 * [out] out[0..rows): the OutputField called `name` as numbers (booleans 1/0; NaN for missing or non-numeric
 * values). PMMLRT_ERROR_UNKNOWN_NAME for a name that is not an OutputField. capacity >= rows.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_output(const pmmlrt_batch_result* result, const char* name, double* out,
                                                    size_t capacity);
/**
 * [out] out[0..rows): the OutputField called `name` as text, borrowed (numbers in shortest round-trip form,
 * booleans "true"/"false"), NULL for missing values. capacity >= rows.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_output_strings(const pmmlrt_batch_result* result, const char* name,
                                                            const char** out, size_t capacity);
/**
 * [out] out[0..rows): the error message of each row that failed under PMMLRT_ROW_ERRORS_RECORD, borrowed;
 * NULL for rows that scored. capacity >= rows.
 */
PMMLRT_API pmmlrt_status pmmlrt_batch_result_errors(const pmmlrt_batch_result* result, const char** out,
                                                    size_t capacity);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PMMLRT_H */
