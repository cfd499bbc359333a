/*
 * Tests of the pmmlrt C ABI (capi/pmmlrt.h): every function, its success path and every error path it has.
 * Compiled as C99 with -pedantic; uses only pmmlrt.h, the C library and POSIX threads.
 *
 *   pmmlrt_capi_test EXAMPLES_MODELS_DIR GENERATED_CASES_DIR
 *
 * Exit status 0 when every check passed; the last line says "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmmlrt.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                                                    \
  do {                                                                                                 \
    if (cond) {                                                                                        \
      ++passed;                                                                                        \
    } else {                                                                                           \
      ++failed;                                                                                        \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #cond,          \
              pmmlrt_last_error());                                                                    \
    }                                                                                                  \
  } while (0)

/* The call returns `expected`; a failing call leaves a message and the same pmmlrt_last_status(). */
#define EXPECT(call, expected)                                                                         \
  do {                                                                                                 \
    pmmlrt_status s_ = (call);                                                                         \
    if (s_ != (expected)) {                                                                            \
      ++failed;                                                                                        \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #call,           \
              pmmlrt_status_name(s_), pmmlrt_status_name(expected), pmmlrt_last_error());              \
    } else if (pmmlrt_last_status() != s_) {                                                           \
      ++failed;                                                                                        \
      fprintf(stderr, "%s:%d: pmmlrt_last_status() is not %s after %s\n", __FILE__, __LINE__,           \
              pmmlrt_status_name(s_), #call);                                                          \
    } else if ((s_ != PMMLRT_OK) != (pmmlrt_last_error()[0] != '\0')) {                                \
      ++failed;                                                                                        \
      fprintf(stderr, "%s:%d: %s: last error \"%s\" does not fit status %s\n", __FILE__, __LINE__,      \
              #call, pmmlrt_last_error(), pmmlrt_status_name(s_));                                     \
    } else {                                                                                           \
      ++passed;                                                                                        \
    }                                                                                                  \
  } while (0)

#define OK(call) EXPECT(call, PMMLRT_OK)

static char models_dir[1024], cases_dir[1024];

/* ---- helpers ------------------------------------------------------------------------------------------- */

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* data;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = (char*)malloc((size_t)n + 1);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) data[n] = '\0';
  if (size) *size = (size_t)n;
  return data;
}

/* A CSV file split in place: cells[r * cols + c], row 0 is the header. No quoting (the test files have none). */
typedef struct {
  char* text;
  char** cells;
  size_t rows, cols; /* rows includes the header */
} csv;

static int csv_read(csv* t, const char* path) {
  size_t size = 0, cap = 0, n = 0;
  char *p, *line;
  memset(t, 0, sizeof *t);
  t->text = read_file(path, &size);
  if (!t->text) return 0;
  for (p = t->text; *p;) {
    size_t cols = 0;
    line = p;
    while (*p && *p != '\n') ++p;
    if (*p) *p++ = '\0';
    if (line[0] == '\0') continue;
    if (line[strlen(line) - 1] == '\r') line[strlen(line) - 1] = '\0';
    for (;;) {
      char* comma = strchr(line, ',');
      if (n == cap) {
        cap = cap ? 2 * cap : 256;
        t->cells = (char**)realloc(t->cells, cap * sizeof *t->cells);
      }
      t->cells[n++] = line;
      ++cols;
      if (!comma) break;
      *comma = '\0';
      line = comma + 1;
    }
    if (t->cols == 0) t->cols = cols;
    if (cols != t->cols) return 0;
    ++t->rows;
  }
  return 1;
}

static void csv_free(csv* t) {
  free(t->text);
  free(t->cells);
}

static long csv_column(const csv* t, const char* name) {
  size_t c;
  for (c = 0; c < t->cols; ++c)
    if (strcmp(t->cells[c], name) == 0) return (long)c;
  return -1;
}

static const char* csv_cell(const csv* t, size_t row, size_t col) { return t->cells[(row + 1) * t->cols + col]; }

static int close_rel(double expected, double actual, double rel) {
  if (fabs(expected) <= rel && fabs(actual) <= rel) return 1;
  return fabs(actual - expected) <= rel * fabs(expected);
}

static void path_join(char* out, size_t cap, const char* dir, const char* file) { snprintf(out, cap, "%s/%s", dir, file); }

static pmmlrt_model* load(const char* dir, const char* file) {
  char path[2048];
  pmmlrt_model* m = NULL;
  path_join(path, sizeof path, dir, file);
  OK(pmmlrt_model_load_file(path, NULL, &m));
  if (!m) {
    fprintf(stderr, "cannot load %s: %s\n", path, pmmlrt_last_error());
    exit(2);
  }
  return m;
}

/* ---- versions and status names ------------------------------------------------------------------------- */

static void test_versions(void) {
  char expected[64];
  static const pmmlrt_status all[] = {
      PMMLRT_OK,         PMMLRT_ERROR_PARSE,         PMMLRT_ERROR_UNSUPPORTED,    PMMLRT_ERROR_MODEL,
      PMMLRT_ERROR_INPUT, PMMLRT_ERROR_EVALUATION,   PMMLRT_ERROR_LIMIT,          PMMLRT_ERROR_IO,
      PMMLRT_ERROR_USAGE, PMMLRT_ERROR_INVALID_ARGUMENT, PMMLRT_ERROR_INVALID_HANDLE, PMMLRT_ERROR_BUFFER_TOO_SMALL,
      PMMLRT_ERROR_UNKNOWN_NAME, PMMLRT_ERROR_OUT_OF_RANGE, PMMLRT_ERROR_OUT_OF_MEMORY, PMMLRT_ERROR_INTERNAL};
  size_t i;
  snprintf(expected, sizeof expected, "%d.%d.%d", pmmlrt_version_major(), pmmlrt_version_minor(),
           pmmlrt_version_patch());
  CHECK(pmmlrt_version() != NULL);
  CHECK(strcmp(pmmlrt_version(), expected) == 0);
  CHECK(pmmlrt_abi_version() == PMMLRT_ABI_VERSION);
  CHECK(pmmlrt_version_major() >= 0 && pmmlrt_version_minor() >= 0 && pmmlrt_version_patch() >= 0);
  for (i = 0; i < sizeof all / sizeof all[0]; ++i) {
    const char* name = pmmlrt_status_name(all[i]);
    CHECK(name != NULL && strncmp(name, "PMMLRT_", 7) == 0 && strcmp(name, "PMMLRT_UNKNOWN_STATUS") != 0);
  }
  CHECK(strcmp(pmmlrt_status_name(PMMLRT_ERROR_PARSE), "PMMLRT_ERROR_PARSE") == 0);
  CHECK(strcmp(pmmlrt_status_name((pmmlrt_status)999), "PMMLRT_UNKNOWN_STATUS") == 0);
  /* Stable numbers: they mirror pmmlrt::ErrorKind and must never change. */
  CHECK(PMMLRT_ERROR_PARSE == 1 && PMMLRT_ERROR_USAGE == 8 && PMMLRT_ERROR_INVALID_ARGUMENT == 100 &&
        PMMLRT_ERROR_INTERNAL == 106);
}

/* ---- options -------------------------------------------------------------------------------------------- */

static void test_options(void) {
  pmmlrt_options *o = NULL, *released = NULL;
  uint64_t v = 0;
  int which;
  pmmlrt_leaf_precision precision;
  size_t count = 0;
  EXPECT(pmmlrt_options_create(NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  OK(pmmlrt_options_create(&o));
  CHECK(o != NULL);
  CHECK(strcmp(pmmlrt_last_error(), "") == 0);
  OK(pmmlrt_options_get_limit(o, PMMLRT_LIMIT_DOCUMENT_BYTES, &v));
  CHECK(v == ((uint64_t)1 << 30));
  OK(pmmlrt_options_get_limit(o, PMMLRT_LIMIT_ELEMENT_DEPTH, &v));
  CHECK(v == 512);
  for (which = PMMLRT_LIMIT_DOCUMENT_BYTES; which <= PMMLRT_LIMIT_CATEGORIES; ++which) {
    OK(pmmlrt_options_set_limit(o, (pmmlrt_limit)which, 1000u + (uint64_t)which));
    OK(pmmlrt_options_get_limit(o, (pmmlrt_limit)which, &v));
    CHECK(v == 1000u + (uint64_t)which);
  }
  EXPECT(pmmlrt_options_set_limit(o, (pmmlrt_limit)0, 1), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_set_limit(o, (pmmlrt_limit)99, 1), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_get_limit(o, (pmmlrt_limit)99, &v), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_get_limit(o, PMMLRT_LIMIT_NODES, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_set_limit(NULL, PMMLRT_LIMIT_NODES, 1), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_limit(NULL, PMMLRT_LIMIT_NODES, &v), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_options_set_expected_sha256(o, "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"));
  OK(pmmlrt_options_set_expected_sha256(o, ""));
  OK(pmmlrt_options_set_expected_sha256(o, NULL));
  EXPECT(pmmlrt_options_set_expected_sha256(o, "abc"), PMMLRT_ERROR_INVALID_ARGUMENT);
  CHECK(strstr(pmmlrt_last_error(), "64 hex digits") != NULL);
  EXPECT(pmmlrt_options_set_expected_sha256(o, "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
         PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_set_expected_sha256(NULL, ""), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_options_set_row_errors(o, PMMLRT_ROW_ERRORS_RECORD));
  OK(pmmlrt_options_set_row_errors(o, PMMLRT_ROW_ERRORS_FAIL));
  EXPECT(pmmlrt_options_set_row_errors(o, (pmmlrt_row_errors)7), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_set_row_errors(NULL, PMMLRT_ROW_ERRORS_FAIL), PMMLRT_ERROR_INVALID_HANDLE);
  count = 99;
  OK(pmmlrt_options_get_threads(o, &count));
  CHECK(count == 1);
  OK(pmmlrt_options_set_threads(o, 3));
  OK(pmmlrt_options_get_threads(o, &count));
  CHECK(count == 3);
  OK(pmmlrt_options_set_threads(o, 1));
  EXPECT(pmmlrt_options_set_threads(NULL, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_threads(NULL, &count), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_threads(o, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  count = 99;
  OK(pmmlrt_options_get_load_threads(o, &count));
  CHECK(count == 1);
  OK(pmmlrt_options_set_load_threads(o, 0));
  OK(pmmlrt_options_get_load_threads(o, &count));
  CHECK(count == 0);
  OK(pmmlrt_options_set_load_threads(o, 1));
  OK(pmmlrt_options_get_load_threads(o, &count));
  CHECK(count == 1);
  EXPECT(pmmlrt_options_set_load_threads(NULL, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_load_threads(NULL, &count), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_load_threads(o, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);

  precision = PMMLRT_LEAF_PRECISION_HALF;
  OK(pmmlrt_options_get_leaf_precision(o, &precision));
  CHECK(precision == PMMLRT_LEAF_PRECISION_EXACT); /* reduced precision is never the default */
  OK(pmmlrt_options_set_leaf_precision(o, PMMLRT_LEAF_PRECISION_HALF));
  OK(pmmlrt_options_get_leaf_precision(o, &precision));
  CHECK(precision == PMMLRT_LEAF_PRECISION_HALF);
  OK(pmmlrt_options_set_leaf_precision(o, PMMLRT_LEAF_PRECISION_EXACT));
  OK(pmmlrt_options_get_leaf_precision(o, &precision));
  CHECK(precision == PMMLRT_LEAF_PRECISION_EXACT);
  EXPECT(pmmlrt_options_set_leaf_precision(o, (pmmlrt_leaf_precision)2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_get_leaf_precision(o, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_options_set_leaf_precision(NULL, PMMLRT_LEAF_PRECISION_HALF), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_leaf_precision(NULL, &precision), PMMLRT_ERROR_INVALID_HANDLE);

  /* Released handles are detected, and releasing twice or releasing NULL is harmless. */
  OK(pmmlrt_options_create(&released));
  pmmlrt_options_release(released);
  EXPECT(pmmlrt_options_set_limit(released, PMMLRT_LIMIT_NODES, 1), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_limit(released, PMMLRT_LIMIT_NODES, &v), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_set_row_errors(released, PMMLRT_ROW_ERRORS_FAIL), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_set_threads(released, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_set_leaf_precision(released, PMMLRT_LEAF_PRECISION_HALF), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_leaf_precision(released, &precision), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_set_load_threads(released, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_load_threads(released, &count), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_get_threads(released, &count), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_options_set_expected_sha256(released, NULL), PMMLRT_ERROR_INVALID_HANDLE);
  pmmlrt_options_release(released);
  pmmlrt_options_release(NULL);
  pmmlrt_options_release(o);
}

/* ---- loading -------------------------------------------------------------------------------------------- */

static const char* kUnsupported =
    "<PMML version=\"4.4\" xmlns=\"http://www.dmg.org/PMML-4_4\"><Header/>"
    "<DataDictionary numberOfFields=\"2\"><DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
    "<NeuralNetwork functionName=\"regression\" activationFunction=\"identity\"><MiningSchema>"
    "<MiningField name=\"x\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema></NeuralNetwork></PMML>";

static const char* kDangling =
    "<PMML version=\"4.4\" xmlns=\"http://www.dmg.org/PMML-4_4\"><Header/>"
    "<DataDictionary numberOfFields=\"2\"><DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
    "<RegressionModel functionName=\"regression\"><MiningSchema>"
    "<MiningField name=\"x\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
    "<RegressionTable intercept=\"1\"><NumericPredictor name=\"nosuchfield\" coefficient=\"2\"/></RegressionTable>"
    "</RegressionModel></PMML>";

static const char* kRegression =
    "<PMML version=\"4.4\" xmlns=\"http://www.dmg.org/PMML-4_4\"><Header/>"
    "<DataDictionary numberOfFields=\"2\"><DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
    "<RegressionModel functionName=\"regression\"><MiningSchema>"
    "<MiningField name=\"x\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
    "<Output><OutputField name=\"yhat\" feature=\"predictedValue\" dataType=\"double\"/>"
    "<OutputField name=\"flag\" feature=\"transformedValue\" dataType=\"string\"><Constant dataType=\"string\">hi</Constant>"
    "</OutputField></Output>"
    "<RegressionTable intercept=\"1\"><NumericPredictor name=\"x\" coefficient=\"2\"/></RegressionTable>"
    "</RegressionModel></PMML>";

static void test_loading(void) {
  char path[2048];
  size_t size = 0;
  char* bytes;
  pmmlrt_model *m = NULL, *sentinel = (pmmlrt_model*)&size;
  pmmlrt_options *o = NULL, *released = NULL;

  path_join(path, sizeof path, models_dir, "iris_forest.pmml");
  bytes = read_file(path, &size);
  CHECK(bytes != NULL);

  OK(pmmlrt_model_load_file(path, NULL, &m));
  CHECK(m != NULL);
  pmmlrt_model_release(m);
  m = NULL;

  OK(pmmlrt_model_load_memory(bytes, size, NULL, &m));
  CHECK(m != NULL);
  pmmlrt_model_release(m);
  m = NULL;

  /* A forest loaded on two threads (the unit tests check that it is the same model). */
  OK(pmmlrt_options_create(&o));
  OK(pmmlrt_options_set_load_threads(o, 2));
  OK(pmmlrt_model_load_memory(bytes, size, o, &m));
  CHECK(m != NULL);
  pmmlrt_model_release(m);
  pmmlrt_options_release(o);
  o = NULL;
  m = sentinel;

  /* Argument errors leave *out alone. */
  EXPECT(pmmlrt_model_load_file(NULL, NULL, &m), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_load_file(path, NULL, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_load_memory(NULL, 10, NULL, &m), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_load_memory(bytes, size, NULL, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  CHECK(m == sentinel);

  /* Errors of the core, each with its status. */
  EXPECT(pmmlrt_model_load_file("/nonexistent/model.pmml", NULL, &m), PMMLRT_ERROR_IO);
  CHECK(strstr(pmmlrt_last_error(), "/nonexistent/model.pmml") != NULL);
  EXPECT(pmmlrt_model_load_memory(NULL, 0, NULL, &m), PMMLRT_ERROR_PARSE);
  EXPECT(pmmlrt_model_load_memory("<PMML", 5, NULL, &m), PMMLRT_ERROR_PARSE);
  EXPECT(pmmlrt_model_load_memory(kUnsupported, strlen(kUnsupported), NULL, &m), PMMLRT_ERROR_UNSUPPORTED);
  CHECK(strstr(pmmlrt_last_error(), "NeuralNetwork") != NULL);
  EXPECT(pmmlrt_model_load_memory(kDangling, strlen(kDangling), NULL, &m), PMMLRT_ERROR_MODEL);
  CHECK(strstr(pmmlrt_last_error(), "nosuchfield") != NULL);
  CHECK(m == sentinel);

  /* Limits. */
  OK(pmmlrt_options_create(&o));
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_DOCUMENT_BYTES, 100));
  EXPECT(pmmlrt_model_load_file(path, o, &m), PMMLRT_ERROR_LIMIT);
  EXPECT(pmmlrt_model_load_memory(bytes, size, o, &m), PMMLRT_ERROR_LIMIT);
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_DOCUMENT_BYTES, size));
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_ELEMENT_DEPTH, 3));
  EXPECT(pmmlrt_model_load_memory(bytes, size, o, &m), PMMLRT_ERROR_LIMIT);
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_ELEMENT_DEPTH, 512));
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_NODES, 5));
  EXPECT(pmmlrt_model_load_memory(bytes, size, o, &m), PMMLRT_ERROR_LIMIT);
  OK(pmmlrt_options_set_limit(o, PMMLRT_LIMIT_NODES, 50000000));
  OK(pmmlrt_model_load_memory(bytes, size, o, &m));
  pmmlrt_model_release(m);
  m = sentinel;

  /* An expected SHA-256 that the document does not have. */
  OK(pmmlrt_options_set_expected_sha256(o, "0000000000000000000000000000000000000000000000000000000000000000"));
  EXPECT(pmmlrt_model_load_memory(bytes, size, o, &m), PMMLRT_ERROR_IO);
  CHECK(strstr(pmmlrt_last_error(), "SHA-256") != NULL);
  EXPECT(pmmlrt_model_load_file(path, o, &m), PMMLRT_ERROR_IO);
  CHECK(m == sentinel);
  OK(pmmlrt_options_set_expected_sha256(o, NULL));

  /* Options handles that are not live. */
  OK(pmmlrt_options_create(&released));
  pmmlrt_options_release(released);
  EXPECT(pmmlrt_model_load_file(path, released, &m), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_model_load_memory(bytes, size, released, &m), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_model_load_memory(bytes, size, (const pmmlrt_options*)bytes, &m), PMMLRT_ERROR_INVALID_HANDLE);
  CHECK(m == sentinel);

  pmmlrt_options_release(o);
  pmmlrt_model_release(NULL);
  free(bytes);
}

/* ---- introspection -------------------------------------------------------------------------------------- */

static void test_introspection(void) {
  pmmlrt_model* iris = load(models_dir, "iris_forest.pmml");
  pmmlrt_model* loan = load(cases_dir, "LightGBMLoanCat/model.pmml");
  pmmlrt_model* released = load(models_dir, "iris_forest.pmml");
  pmmlrt_options* opts = NULL;
  pmmlrt_function fn = (pmmlrt_function)0;
  pmmlrt_data_type dt = (pmmlrt_data_type)0;
  pmmlrt_op_type ot = (pmmlrt_op_type)0;
  const char* s = NULL;
  size_t n = 0, i = 0;

  pmmlrt_model_release(released);
  OK(pmmlrt_options_create(&opts));

  OK(pmmlrt_model_function(iris, &fn));
  CHECK(fn == PMMLRT_FUNCTION_CLASSIFICATION);
  EXPECT(pmmlrt_model_function(iris, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_function(NULL, &fn), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_model_function(released, &fn), PMMLRT_ERROR_INVALID_HANDLE);
  CHECK(strstr(pmmlrt_last_error(), "released") != NULL);
  EXPECT(pmmlrt_model_function((const pmmlrt_model*)opts, &fn), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_type(iris, &s));
  CHECK(strcmp(s, "MiningModel") == 0);
  EXPECT(pmmlrt_model_type(iris, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_type(released, &s), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_pmml_version(iris, &s));
  CHECK(strcmp(s, "4.4") == 0);
  EXPECT(pmmlrt_model_pmml_version(iris, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_pmml_version(NULL, &s), PMMLRT_ERROR_INVALID_HANDLE);

  /* Fields. */
  OK(pmmlrt_model_field_count(iris, PMMLRT_FIELDS_INPUT, &n));
  CHECK(n == 4);
  OK(pmmlrt_model_field_count(iris, PMMLRT_FIELDS_TARGET, &n));
  CHECK(n == 1);
  EXPECT(pmmlrt_model_field_count(iris, (pmmlrt_field_set)9, &n), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_count(iris, PMMLRT_FIELDS_INPUT, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_count(released, PMMLRT_FIELDS_INPUT, &n), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_INPUT, 0, &s));
  CHECK(strcmp(s, "sepal_length") == 0);
  OK(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_INPUT, 3, &s));
  CHECK(strcmp(s, "petal_width") == 0);
  OK(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_TARGET, 0, &s));
  CHECK(strcmp(s, "species") == 0);
  EXPECT(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_INPUT, 4, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_name(iris, (pmmlrt_field_set)0, 0, &s), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_INPUT, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_name(NULL, PMMLRT_FIELDS_INPUT, 0, &s), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_index(iris, PMMLRT_FIELDS_INPUT, "petal_length", &i));
  CHECK(i == 2);
  OK(pmmlrt_model_field_index(iris, PMMLRT_FIELDS_TARGET, "species", &i));
  CHECK(i == 0);
  EXPECT(pmmlrt_model_field_index(iris, PMMLRT_FIELDS_INPUT, "species", &i), PMMLRT_ERROR_UNKNOWN_NAME);
  CHECK(strstr(pmmlrt_last_error(), "species") != NULL);
  EXPECT(pmmlrt_model_field_index(iris, PMMLRT_FIELDS_INPUT, NULL, &i), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_index(iris, PMMLRT_FIELDS_INPUT, "x", NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_index(iris, (pmmlrt_field_set)3, "x", &i), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_index(released, PMMLRT_FIELDS_INPUT, "x", &i), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_data_type(iris, PMMLRT_FIELDS_INPUT, 0, &dt));
  CHECK(dt == PMMLRT_TYPE_FLOAT);
  OK(pmmlrt_model_field_data_type(iris, PMMLRT_FIELDS_TARGET, 0, &dt));
  CHECK(dt == PMMLRT_TYPE_STRING);
  OK(pmmlrt_model_field_data_type(loan, PMMLRT_FIELDS_INPUT, 3, &dt));
  CHECK(dt == PMMLRT_TYPE_INTEGER);
  OK(pmmlrt_model_field_data_type(loan, PMMLRT_FIELDS_INPUT, 0, &dt));
  CHECK(dt == PMMLRT_TYPE_DOUBLE);
  EXPECT(pmmlrt_model_field_data_type(iris, PMMLRT_FIELDS_INPUT, 99, &dt), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_data_type(iris, PMMLRT_FIELDS_INPUT, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_data_type(NULL, PMMLRT_FIELDS_INPUT, 0, &dt), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_op_type(iris, PMMLRT_FIELDS_INPUT, 0, &ot));
  CHECK(ot == PMMLRT_OPTYPE_CONTINUOUS);
  OK(pmmlrt_model_field_op_type(loan, PMMLRT_FIELDS_INPUT, 4, &ot));
  CHECK(ot == PMMLRT_OPTYPE_CATEGORICAL);
  EXPECT(pmmlrt_model_field_op_type(iris, PMMLRT_FIELDS_TARGET, 1, &ot), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_op_type(iris, PMMLRT_FIELDS_INPUT, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_op_type(released, PMMLRT_FIELDS_INPUT, 0, &ot), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_category_count(iris, PMMLRT_FIELDS_INPUT, 0, &n));
  CHECK(n == 0);
  OK(pmmlrt_model_field_category_count(iris, PMMLRT_FIELDS_TARGET, 0, &n));
  CHECK(n == 3);
  OK(pmmlrt_model_field_category_count(loan, PMMLRT_FIELDS_INPUT, 4, &n));
  CHECK(n == 4);
  EXPECT(pmmlrt_model_field_category_count(iris, PMMLRT_FIELDS_INPUT, 4, &n), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_category_count(iris, PMMLRT_FIELDS_INPUT, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_category_count(NULL, PMMLRT_FIELDS_INPUT, 0, &n), PMMLRT_ERROR_INVALID_HANDLE);

  OK(pmmlrt_model_field_category(iris, PMMLRT_FIELDS_TARGET, 0, 2, &s));
  CHECK(strcmp(s, "virginica") == 0);
  OK(pmmlrt_model_field_category(loan, PMMLRT_FIELDS_INPUT, 6, 1, &s));
  CHECK(strcmp(s, "North") == 0);
  EXPECT(pmmlrt_model_field_category(iris, PMMLRT_FIELDS_TARGET, 0, 3, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_category(iris, PMMLRT_FIELDS_INPUT, 0, 0, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_category(iris, PMMLRT_FIELDS_TARGET, 1, 0, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_field_category(iris, PMMLRT_FIELDS_TARGET, 0, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_field_category(released, PMMLRT_FIELDS_TARGET, 0, 0, &s), PMMLRT_ERROR_INVALID_HANDLE);

  /* Classes. */
  OK(pmmlrt_model_class_count(iris, &n));
  CHECK(n == 3);
  EXPECT(pmmlrt_model_class_count(iris, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_class_count(NULL, &n), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_class_label(iris, 1, &s));
  CHECK(strcmp(s, "versicolor") == 0);
  EXPECT(pmmlrt_model_class_label(iris, 3, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_class_label(iris, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_class_label(released, 0, &s), PMMLRT_ERROR_INVALID_HANDLE);

  /* Outputs. */
  OK(pmmlrt_model_output_count(loan, &n));
  CHECK(n == 6);
  EXPECT(pmmlrt_model_output_count(loan, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_count(NULL, &n), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_output_name(loan, 3, &s));
  CHECK(strcmp(s, "probability(high)") == 0);
  EXPECT(pmmlrt_model_output_name(loan, 6, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_output_name(loan, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_name(released, 0, &s), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_output_index(loan, "probability(low)", &i));
  CHECK(i == 4);
  EXPECT(pmmlrt_model_output_index(loan, "probability(none)", &i), PMMLRT_ERROR_UNKNOWN_NAME);
  EXPECT(pmmlrt_model_output_index(loan, NULL, &i), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_index(loan, "x", NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_index(NULL, "x", &i), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_output_feature(loan, 0, &s));
  CHECK(strcmp(s, "predictedValue") == 0);
  OK(pmmlrt_model_output_feature(loan, 5, &s));
  CHECK(strcmp(s, "probability") == 0);
  EXPECT(pmmlrt_model_output_feature(loan, 6, &s), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_output_feature(loan, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_feature(released, 0, &s), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_model_output_data_type(loan, 0, &dt));
  CHECK(dt == PMMLRT_TYPE_DOUBLE);
  EXPECT(pmmlrt_model_output_data_type(loan, 6, &dt), PMMLRT_ERROR_OUT_OF_RANGE);
  EXPECT(pmmlrt_model_output_data_type(loan, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_model_output_data_type(NULL, 0, &dt), PMMLRT_ERROR_INVALID_HANDLE);
  {
    int final_ = -1;
    OK(pmmlrt_model_output_is_final(loan, 0, &final_));
    CHECK(final_ == 0);
    OK(pmmlrt_model_output_is_final(loan, 5, &final_));
    CHECK(final_ == 1);
    EXPECT(pmmlrt_model_output_is_final(loan, 6, &final_), PMMLRT_ERROR_OUT_OF_RANGE);
    EXPECT(pmmlrt_model_output_is_final(loan, 0, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
    EXPECT(pmmlrt_model_output_is_final(released, 0, &final_), PMMLRT_ERROR_INVALID_HANDLE);
  }

  pmmlrt_options_release(opts);
  pmmlrt_model_release(iris);
  pmmlrt_model_release(loan);
}

/* ---- scoring iris: numeric batches, every getter -------------------------------------------------------- */

static void check_iris_result(const pmmlrt_batch_result* r, const csv* expected, const char* what) {
  size_t rows = 0, k = 0, e = 0, i, c, mismatches = 0;
  double *pred, *prob, *probc, *out;
  const char **labels, **errors, **strings;
  OK(pmmlrt_batch_result_rows(r, &rows));
  CHECK(rows == expected->rows - 1);
  OK(pmmlrt_batch_result_class_count(r, &k));
  CHECK(k == 3);
  OK(pmmlrt_batch_result_error_count(r, &e));
  CHECK(e == 0);
  pred = (double*)malloc(rows * sizeof *pred);
  prob = (double*)malloc(rows * k * sizeof *prob);
  probc = (double*)malloc(rows * k * sizeof *probc);
  out = (double*)malloc(rows * sizeof *out);
  labels = (const char**)malloc(rows * sizeof *labels);
  errors = (const char**)malloc(rows * sizeof *errors);
  strings = (const char**)malloc(rows * sizeof *strings);
  OK(pmmlrt_batch_result_predicted(r, pred, rows));
  OK(pmmlrt_batch_result_labels(r, labels, rows));
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, prob, rows * k));
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_COLUMN_MAJOR, probc, rows * k));
  OK(pmmlrt_batch_result_errors(r, errors, rows));
  for (c = 0; c < k; ++c) {
    char name[64];
    long col;
    snprintf(name, sizeof name, "probability(%s)", c == 0 ? "setosa" : c == 1 ? "versicolor" : "virginica");
    col = csv_column(expected, name);
    OK(pmmlrt_batch_result_output(r, name, out, rows));
    OK(pmmlrt_batch_result_output_strings(r, name, strings, rows));
    for (i = 0; i < rows; ++i) {
      double want = strtod(csv_cell(expected, i, (size_t)col), NULL);
      if (!close_rel(want, prob[i * k + c], 1e-13) || prob[i * k + c] != probc[c * rows + i] ||
          out[i] != prob[i * k + c] || !strings[i] || strtod(strings[i], NULL) != out[i])
        ++mismatches;
    }
  }
  for (i = 0; i < rows; ++i) {
    const char* want = csv_cell(expected, i, 0);
    static const char* names[] = {"setosa", "versicolor", "virginica"};
    if (!labels[i] || strcmp(labels[i], want) != 0) ++mismatches;
    if (!(pred[i] >= 0 && pred[i] < 3) || strcmp(names[(int)pred[i]], want) != 0) ++mismatches;
    if (errors[i] != NULL) ++mismatches;
  }
  if (mismatches) fprintf(stderr, "%s: %lu mismatches against expected.csv\n", what, (unsigned long)mismatches);
  CHECK(mismatches == 0);
  free(pred);
  free(prob);
  free(probc);
  free(out);
  free(labels);
  free(errors);
  free(strings);
}

static void test_score_iris(void) {
  pmmlrt_model* iris = load(models_dir, "iris_forest.pmml");
  pmmlrt_model* released = load(models_dir, "iris_forest.pmml");
  pmmlrt_batch_result *r = NULL, *gone = NULL, *sentinel = (pmmlrt_batch_result*)&iris;
  pmmlrt_options* opts = NULL;
  char path[2048];
  csv input, expected;
  size_t rows, i, c, n = 0;
  double *x, *xc, *xp, d[8];
  float* xf;
  const char* names[4] = {"petal_width", "petal_length", "sepal_width", "sepal_length"};
  const char* bad_names[4] = {"petal_width", "petal_length", "sepal_width", "nosuchfield"};
  const char* dup_names[4] = {"petal_width", "petal_width", "sepal_width", "sepal_length"};
  const char* null_names[4] = {"petal_width", NULL, "sepal_width", "sepal_length"};
  const char* sp[8];

  pmmlrt_model_release(released);
  OK(pmmlrt_options_create(&opts));
  path_join(path, sizeof path, models_dir, "iris.csv");
  CHECK(csv_read(&input, path));
  path_join(path, sizeof path, cases_dir, "RandomForestIrisExample/expected.csv");
  CHECK(csv_read(&expected, path));
  rows = input.rows - 1;
  x = (double*)malloc(rows * 4 * sizeof *x);
  xc = (double*)malloc(rows * 4 * sizeof *xc);
  xp = (double*)malloc(rows * 4 * sizeof *xp);
  xf = (float*)malloc(rows * 4 * sizeof *xf);
  for (i = 0; i < rows; ++i)
    for (c = 0; c < 4; ++c) {
      double v = strtod(csv_cell(&input, i, c), NULL);
      x[i * 4 + c] = v;
      xc[c * rows + i] = v;
      xp[i * 4 + (3 - c)] = v; /* columns in `names` order */
      xf[i * 4 + c] = (float)v;
    }

  OK(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  check_iris_result(r, &expected, "f64 row-major");
  pmmlrt_batch_result_release(r);
  OK(pmmlrt_score_f64(iris, xc, rows, 4, PMMLRT_COLUMN_MAJOR, NULL, opts, &r));
  check_iris_result(r, &expected, "f64 column-major");
  pmmlrt_batch_result_release(r);
  OK(pmmlrt_score_f64(iris, xp, rows, 4, PMMLRT_ROW_MAJOR, names, NULL, &r));
  check_iris_result(r, &expected, "f64 named columns");
  pmmlrt_batch_result_release(r);
  OK(pmmlrt_score_f32(iris, xf, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  check_iris_result(r, &expected, "f32 row-major");
  pmmlrt_batch_result_release(r);
  /* The same rows as strings, and as numbers, through pmmlrt_score_values. */
  {
    const char** cells = (const char**)malloc(rows * 4 * sizeof *cells);
    for (i = 0; i < rows; ++i)
      for (c = 0; c < 4; ++c) cells[i * 4 + c] = csv_cell(&input, i, c);
    OK(pmmlrt_score_values(iris, NULL, cells, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
    check_iris_result(r, &expected, "values (strings)");
    pmmlrt_batch_result_release(r);
    OK(pmmlrt_score_values(iris, xc, NULL, rows, 4, PMMLRT_COLUMN_MAJOR, NULL, NULL, &r));
    check_iris_result(r, &expected, "values (numbers)");
    pmmlrt_batch_result_release(r);
    free((void*)cells);
  }

  /* Fewer columns than inputs, named: the others are missing (the forest still predicts). */
  OK(pmmlrt_score_f64(iris, x, 2, 1, PMMLRT_ROW_MAJOR, names, NULL, &r));
  OK(pmmlrt_batch_result_rows(r, &n));
  CHECK(n == 2);
  pmmlrt_batch_result_release(r);

  /* Zero rows. */
  OK(pmmlrt_score_f64(iris, NULL, 0, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  OK(pmmlrt_batch_result_rows(r, &n));
  CHECK(n == 0);
  OK(pmmlrt_batch_result_predicted(r, NULL, 0));
  OK(pmmlrt_batch_result_labels(r, NULL, 0));
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, NULL, 0));
  OK(pmmlrt_batch_result_output(r, "probability(setosa)", NULL, 0));
  OK(pmmlrt_batch_result_output_strings(r, "probability(setosa)", NULL, 0));
  OK(pmmlrt_batch_result_errors(r, NULL, 0));
  pmmlrt_batch_result_release(r);
  OK(pmmlrt_score_values(iris, NULL, NULL, 0, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  pmmlrt_batch_result_release(r);

  /* Misuse of the scoring functions; *out stays untouched. */
  r = sentinel;
  EXPECT(pmmlrt_score_f64(NULL, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_score_f64(released, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, NULL, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, (pmmlrt_layout)5, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 3, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_USAGE);
  CHECK(strstr(pmmlrt_last_error(), "columns") != NULL);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, bad_names, NULL, &r), PMMLRT_ERROR_UNKNOWN_NAME);
  CHECK(strstr(pmmlrt_last_error(), "nosuchfield") != NULL);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, dup_names, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, null_names, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, x, (size_t)-1, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, (const pmmlrt_options*)iris, &r),
         PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_score_f32(NULL, xf, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_score_f32(iris, xf, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f32(iris, NULL, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f32(iris, xf, rows, 4, (pmmlrt_layout)0x7FFF, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_f32(iris, xf, rows, 5, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_USAGE);
  EXPECT(pmmlrt_score_f32(iris, xf, rows, 4, PMMLRT_ROW_MAJOR, bad_names, NULL, &r), PMMLRT_ERROR_UNKNOWN_NAME);
  EXPECT(pmmlrt_score_values(NULL, x, NULL, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_score_values(iris, x, NULL, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_values(iris, x, NULL, rows, 4, (pmmlrt_layout)2, NULL, NULL, &r), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_values(iris, x, NULL, rows, 3, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_USAGE);
  EXPECT(pmmlrt_score_values(iris, x, NULL, rows, 4, PMMLRT_ROW_MAJOR, bad_names, NULL, &r), PMMLRT_ERROR_UNKNOWN_NAME);
  EXPECT(pmmlrt_score_values(iris, x, NULL, (size_t)-1, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r),
         PMMLRT_ERROR_INVALID_ARGUMENT);
  CHECK(r == sentinel);

  /* An invalid cell: text that is no number for a float field. */
  sp[0] = "5.1";
  sp[1] = "oops";
  sp[2] = "1.4";
  sp[3] = "0.2";
  EXPECT(pmmlrt_score_values(iris, NULL, sp, 1, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INPUT);
  CHECK(strstr(pmmlrt_last_error(), "sepal_width") != NULL);
  CHECK(r == sentinel);

  /* Every getter's misuse. */
  OK(pmmlrt_score_f64(iris, x, 2, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  OK(pmmlrt_score_f64(iris, x, 2, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &gone));
  pmmlrt_batch_result_release(gone);
  EXPECT(pmmlrt_batch_result_rows(r, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_rows(NULL, &n), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_rows(gone, &n), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_rows((const pmmlrt_batch_result*)iris, &n), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_class_count(r, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_class_count(gone, &n), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_error_count(r, NULL), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_error_count(gone, &n), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_predicted(r, d, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  CHECK(strstr(pmmlrt_last_error(), "2 are needed") != NULL);
  EXPECT(pmmlrt_batch_result_predicted(r, NULL, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_predicted(gone, d, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_labels(r, sp, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_batch_result_labels(r, NULL, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_labels(gone, sp, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, d, 5), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, NULL, 6), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_probabilities(r, (pmmlrt_layout)3, d, 6), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_probabilities(gone, PMMLRT_ROW_MAJOR, d, 6), PMMLRT_ERROR_INVALID_HANDLE);
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_COLUMN_MAJOR, d, 8));
  EXPECT(pmmlrt_batch_result_output(r, "probability(setosa)", d, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_batch_result_output(r, "probability(setosa)", NULL, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_output(r, "nosuchoutput", d, 2), PMMLRT_ERROR_UNKNOWN_NAME);
  CHECK(strstr(pmmlrt_last_error(), "nosuchoutput") != NULL);
  EXPECT(pmmlrt_batch_result_output(r, NULL, d, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_output(gone, "probability(setosa)", d, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_output_strings(r, "probability(setosa)", sp, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_batch_result_output_strings(r, "probability(setosa)", NULL, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_output_strings(r, "nosuchoutput", sp, 2), PMMLRT_ERROR_UNKNOWN_NAME);
  EXPECT(pmmlrt_batch_result_output_strings(r, NULL, sp, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_output_strings(gone, "probability(setosa)", sp, 2), PMMLRT_ERROR_INVALID_HANDLE);
  EXPECT(pmmlrt_batch_result_errors(r, sp, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_batch_result_errors(r, NULL, 2), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_batch_result_errors(gone, sp, 2), PMMLRT_ERROR_INVALID_HANDLE);
  pmmlrt_batch_result_release(gone); /* a second release is ignored */
  pmmlrt_batch_result_release(NULL);

  /* A batch result outlives its model. */
  pmmlrt_model_release(iris);
  OK(pmmlrt_batch_result_labels(r, sp, 2));
  CHECK(strcmp(sp[0], "setosa") == 0 && strcmp(sp[1], "setosa") == 0);
  pmmlrt_batch_result_release(r);
  pmmlrt_model_release(iris); /* a second release is ignored */

  pmmlrt_options_release(opts);
  csv_free(&input);
  csv_free(&expected);
  free(x);
  free(xc);
  free(xp);
  free(xf);
}

/* ---- categorical inputs: codes and strings, row errors --------------------------------------------------- */

static void test_score_loan(void) {
  pmmlrt_model* loan = load(cases_dir, "LightGBMLoanCat/model.pmml");
  pmmlrt_batch_result *by_code = NULL, *by_string = NULL, *r = NULL;
  pmmlrt_options* record = NULL;
  char path[2048];
  csv input, expected;
  size_t rows, cols = 7, i, c, k = 3, mismatches = 0, n = 0;
  double *codes, *numbers, *p1, *p2;
  const char **strings, **l1, **l2, *name, *sp[4];
  const char* names[7];

  OK(pmmlrt_options_create(&record));
  OK(pmmlrt_options_set_row_errors(record, PMMLRT_ROW_ERRORS_RECORD));
  path_join(path, sizeof path, cases_dir, "LightGBMLoanCat/input.csv");
  CHECK(csv_read(&input, path));
  path_join(path, sizeof path, cases_dir, "LightGBMLoanCat/expected.csv");
  CHECK(csv_read(&expected, path));
  rows = input.rows - 1;
  codes = (double*)malloc(rows * cols * sizeof *codes);
  numbers = (double*)malloc(rows * cols * sizeof *numbers);
  strings = (const char**)malloc(rows * cols * sizeof *strings);
  p1 = (double*)malloc(rows * k * sizeof *p1);
  p2 = (double*)malloc(rows * k * sizeof *p2);
  l1 = (const char**)malloc(rows * sizeof *l1);
  l2 = (const char**)malloc(rows * sizeof *l2);

  /* Column-major cells: numbers for numeric fields, strings for string fields, codes in the numeric matrix. */
  for (c = 0; c < cols; ++c) {
    size_t ncat = 0;
    long col;
    OK(pmmlrt_model_field_name(loan, PMMLRT_FIELDS_INPUT, c, &names[c]));
    OK(pmmlrt_model_field_category_count(loan, PMMLRT_FIELDS_INPUT, c, &ncat));
    col = csv_column(&input, names[c]);
    CHECK(col >= 0);
    for (i = 0; i < rows; ++i) {
      const char* cell = csv_cell(&input, i, (size_t)col);
      size_t at = c * rows + i, j;
      const int missing = strcmp(cell, "N/A") == 0;
      codes[at] = numbers[at] = NAN;
      strings[at] = NULL;
      if (missing) continue;
      if (ncat > 0) {
        strings[at] = cell;
        for (j = 0; j < ncat; ++j) {
          const char* category = NULL;
          OK(pmmlrt_model_field_category(loan, PMMLRT_FIELDS_INPUT, c, j, &category));
          if (strcmp(category, cell) == 0) codes[at] = (double)j;
        }
      } else {
        codes[at] = numbers[at] = strtod(cell, NULL);
      }
    }
  }
  OK(pmmlrt_score_f64(loan, codes, rows, cols, PMMLRT_COLUMN_MAJOR, NULL, NULL, &by_code));
  OK(pmmlrt_score_values(loan, numbers, strings, rows, cols, PMMLRT_COLUMN_MAJOR, names, NULL, &by_string));
  OK(pmmlrt_batch_result_labels(by_code, l1, rows));
  OK(pmmlrt_batch_result_labels(by_string, l2, rows));
  OK(pmmlrt_batch_result_probabilities(by_code, PMMLRT_ROW_MAJOR, p1, rows * k));
  OK(pmmlrt_batch_result_probabilities(by_string, PMMLRT_ROW_MAJOR, p2, rows * k));
  for (i = 0; i < rows; ++i) {
    if (!l1[i] || !l2[i] || strcmp(l1[i], csv_cell(&expected, i, 0)) != 0 || strcmp(l1[i], l2[i]) != 0) ++mismatches;
    for (c = 0; c < k; ++c) {
      /* expected.csv columns: risk, probability(high), probability(low), probability(medium) = class order */
      double want = strtod(csv_cell(&expected, i, c + 1), NULL);
      if (!close_rel(want, p1[i * k + c], 1e-13) || p1[i * k + c] != p2[i * k + c]) ++mismatches;
    }
  }
  if (mismatches) fprintf(stderr, "loan: %lu mismatches\n", (unsigned long)mismatches);
  CHECK(mismatches == 0);
  /* The intermediate lgbmValue outputs, as numbers and text. */
  OK(pmmlrt_model_output_name(loan, 0, &name));
  OK(pmmlrt_batch_result_output(by_code, name, p1, rows));
  OK(pmmlrt_batch_result_output_strings(by_code, name, l1, rows));
  CHECK(l1[0] != NULL && strtod(l1[0], NULL) == p1[0]);
  pmmlrt_batch_result_release(by_code);
  pmmlrt_batch_result_release(by_string);

  /* A category code out of range is an invalid input: the call fails naming the row, or the row is recorded. */
  codes[4 * rows + 1] = 99; /* employment, row 1 */
  r = NULL;
  EXPECT(pmmlrt_score_f64(loan, codes, rows, cols, PMMLRT_COLUMN_MAJOR, NULL, NULL, &r), PMMLRT_ERROR_INPUT);
  CHECK(strstr(pmmlrt_last_error(), "employment") != NULL);
  CHECK(r == NULL);
  OK(pmmlrt_score_f64(loan, codes, rows, cols, PMMLRT_COLUMN_MAJOR, NULL, record, &r));
  OK(pmmlrt_batch_result_error_count(r, &n));
  CHECK(n == 1);
  OK(pmmlrt_batch_result_errors(r, l1, rows));
  CHECK(l1[0] == NULL && l1[1] != NULL && strstr(l1[1], "employment") != NULL && l1[2] == NULL);
  OK(pmmlrt_batch_result_predicted(r, p1, rows));
  CHECK(isnan(p1[1]) && !isnan(p1[0]));
  OK(pmmlrt_batch_result_labels(r, l2, rows));
  CHECK(l2[1] == NULL && l2[0] != NULL);
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, p2, rows * k));
  CHECK(isnan(p2[3]) && isnan(p2[4]) && isnan(p2[5]) && !isnan(p2[0]));
  pmmlrt_batch_result_release(r);

  /* An unknown category as a string. */
  sp[0] = "Astronaut";
  OK(pmmlrt_score_values(loan, NULL, sp, 1, 1, PMMLRT_ROW_MAJOR, &names[4], record, &r));
  OK(pmmlrt_batch_result_error_count(r, &n));
  CHECK(n == 1);
  pmmlrt_batch_result_release(r);
  r = NULL;
  EXPECT(pmmlrt_score_values(loan, NULL, sp, 1, 1, PMMLRT_ROW_MAJOR, &names[4], NULL, &r), PMMLRT_ERROR_INPUT);
  CHECK(r == NULL);

  /* score_one with codes. */
  {
    double one[7], pred = -1, probs[3], outs[6];
    for (c = 0; c < cols; ++c) one[c] = codes[c * rows + 0];
    OK(pmmlrt_score_one(loan, one, 7, &pred, probs, 3, outs, 6));
    OK(pmmlrt_model_class_label(loan, (size_t)pred, &name));
    CHECK(strcmp(name, csv_cell(&expected, 0, 0)) == 0);
    CHECK(close_rel(strtod(csv_cell(&expected, 0, 1), NULL), probs[0], 1e-13));
    CHECK(outs[3] == probs[0] && outs[4] == probs[1] && outs[5] == probs[2]);
    one[4] = 99;
    EXPECT(pmmlrt_score_one(loan, one, 7, &pred, probs, 3, outs, 6), PMMLRT_ERROR_INPUT);
  }

  pmmlrt_options_release(record);
  pmmlrt_model_release(loan);
  csv_free(&input);
  csv_free(&expected);
  free(codes);
  free(numbers);
  free((void*)strings);
  free(p1);
  free(p2);
  free((void*)l1);
  free((void*)l2);
}

/* ---- regression, string outputs, single records ---------------------------------------------------------- */

static const char* kTree =
    "<PMML version=\"4.4\" xmlns=\"http://www.dmg.org/PMML-4_4\"><Header/>"
    "<DataDictionary><DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
    "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"x\"/>"
    "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema><Node><True/>"
    "<Node score=\"0.1\"><SimplePredicate field=\"x\" operator=\"lessThan\" value=\"0\"/></Node>"
    "<Node score=\"%s\"><True/></Node></Node></TreeModel></PMML>";

/* The opt-in binary16 leaves: 0.1 becomes 0.0999755859375, a leaf beyond 65504 refuses the load. */
static void test_leaf_precision(void) {
  char doc[1024];
  pmmlrt_options* o = NULL;
  pmmlrt_model* m = NULL;
  double x[2] = {-1.0, 1.0}, p = 0;
  OK(pmmlrt_options_create(&o));
  OK(pmmlrt_options_set_leaf_precision(o, PMMLRT_LEAF_PRECISION_HALF));
  snprintf(doc, sizeof doc, kTree, "-3.14159");
  OK(pmmlrt_model_load_memory(doc, strlen(doc), NULL, &m));
  OK(pmmlrt_score_one(m, x, 1, &p, NULL, 0, NULL, 0));
  CHECK(p == 0.1);
  pmmlrt_model_release(m);
  OK(pmmlrt_model_load_memory(doc, strlen(doc), o, &m));
  OK(pmmlrt_score_one(m, x, 1, &p, NULL, 0, NULL, 0));
  CHECK(p == 0.0999755859375);
  OK(pmmlrt_score_one(m, x + 1, 1, &p, NULL, 0, NULL, 0));
  CHECK(p == -3.140625);
  pmmlrt_model_release(m);
  snprintf(doc, sizeof doc, kTree, "70000");
  m = NULL;
  EXPECT(pmmlrt_model_load_memory(doc, strlen(doc), o, &m), PMMLRT_ERROR_USAGE);
  CHECK(m == NULL && strstr(pmmlrt_last_error(), "binary16") != NULL);
  OK(pmmlrt_model_load_memory(doc, strlen(doc), NULL, &m));
  pmmlrt_model_release(m);
  pmmlrt_options_release(o);
}

static void test_regression_and_score_one(void) {
  pmmlrt_model *m = NULL, *iris = load(models_dir, "iris_forest.pmml"), *released = NULL;
  pmmlrt_batch_result* r = NULL;
  pmmlrt_function fn;
  double x[3] = {1.0, 2.5, NAN}, pred[3], outs[2], probs[3], one[4] = {5.1, 3.5, 1.4, 0.2}, p = -1;
  const char* labels[3];
  const char* flags[3];
  size_t n = 99;

  OK(pmmlrt_model_load_memory(kRegression, strlen(kRegression), NULL, &m));
  OK(pmmlrt_model_function(m, &fn));
  CHECK(fn == PMMLRT_FUNCTION_REGRESSION);
  OK(pmmlrt_model_class_count(m, &n));
  CHECK(n == 0);
  OK(pmmlrt_score_f64(m, x, 3, 1, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  OK(pmmlrt_batch_result_class_count(r, &n));
  CHECK(n == 0);
  OK(pmmlrt_batch_result_predicted(r, pred, 3));
  CHECK(pred[0] == 3.0 && pred[1] == 6.0);
  OK(pmmlrt_batch_result_labels(r, labels, 3));
  CHECK(labels[0] && strcmp(labels[0], "3") == 0 && labels[1] && strcmp(labels[1], "6") == 0);
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, NULL, 0));
  OK(pmmlrt_batch_result_output(r, "yhat", pred, 3));
  CHECK(pred[0] == 3.0 && pred[1] == 6.0);
  OK(pmmlrt_batch_result_output(r, "flag", pred, 3));
  CHECK(isnan(pred[0])); /* a string output has no number */
  OK(pmmlrt_batch_result_output_strings(r, "flag", flags, 3));
  CHECK(flags[0] && strcmp(flags[0], "hi") == 0);
  pmmlrt_batch_result_release(r);

  OK(pmmlrt_score_one(m, x, 1, &p, NULL, 0, outs, 2));
  CHECK(p == 3.0 && outs[0] == 3.0 && isnan(outs[1]));
  EXPECT(pmmlrt_score_one(m, x, 1, &p, NULL, 0, outs, 1), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  pmmlrt_model_release(m);

  /* score_one on the classifier. */
  OK(pmmlrt_score_one(iris, one, 4, &p, probs, 3, NULL, 0));
  CHECK(p == 0.0 && probs[0] == 1.0);
  OK(pmmlrt_score_one(iris, one, 4, NULL, NULL, 0, NULL, 0));
  EXPECT(pmmlrt_score_one(iris, one, 3, &p, probs, 3, NULL, 0), PMMLRT_ERROR_USAGE);
  EXPECT(pmmlrt_score_one(iris, one, 4, &p, probs, 2, NULL, 0), PMMLRT_ERROR_BUFFER_TOO_SMALL);
  EXPECT(pmmlrt_score_one(iris, NULL, 4, &p, probs, 3, NULL, 0), PMMLRT_ERROR_INVALID_ARGUMENT);
  EXPECT(pmmlrt_score_one(NULL, one, 4, &p, probs, 3, NULL, 0), PMMLRT_ERROR_INVALID_HANDLE);
  released = load(models_dir, "iris_forest.pmml");
  pmmlrt_model_release(released);
  EXPECT(pmmlrt_score_one(released, one, 4, &p, probs, 3, NULL, 0), PMMLRT_ERROR_INVALID_HANDLE);
  pmmlrt_model_release(iris);
}

/* ---- threads --------------------------------------------------------------------------------------------- */

typedef struct {
  const pmmlrt_model* model;
  const double* x;
  size_t rows;
  const double* reference; /* rows x 3 probabilities */
  int mismatches;
  int error_isolated;
} worker_args;

static void* worker(void* p) {
  worker_args* a = (worker_args*)p;
  double* probs = (double*)malloc(a->rows * 3 * sizeof *probs);
  int round;
  size_t i, c;
  for (round = 0; round < 20; ++round) {
    pmmlrt_batch_result* r = NULL;
    if (pmmlrt_score_f64(a->model, a->x, a->rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r) != PMMLRT_OK ||
        pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, probs, a->rows * 3) != PMMLRT_OK) {
      ++a->mismatches;
    } else {
      for (i = 0; i < a->rows * 3; ++i)
        if (probs[i] != a->reference[i]) ++a->mismatches;
    }
    pmmlrt_batch_result_release(r);
    for (i = 0; i < a->rows; ++i) {
      double pred, one[3];
      if (pmmlrt_score_one(a->model, a->x + 4 * i, 4, &pred, one, 3, NULL, 0) != PMMLRT_OK) ++a->mismatches;
      for (c = 0; c < 3; ++c)
        if (one[c] != a->reference[3 * i + c]) ++a->mismatches;
    }
  }
  /* The last error is per thread: this thread's success is not disturbed by the main thread's failure. */
  a->error_isolated = pmmlrt_last_error()[0] == '\0';
  free(probs);
  return NULL;
}

static void test_threads(void) {
  enum { kThreads = 4 };
  pmmlrt_model* iris = load(models_dir, "iris_forest.pmml");
  pmmlrt_batch_result* r = NULL;
  pthread_t threads[kThreads];
  worker_args args[kThreads];
  char path[2048];
  csv input;
  size_t rows, i, c;
  double *x, *reference;
  int t;
  path_join(path, sizeof path, models_dir, "iris.csv");
  CHECK(csv_read(&input, path));
  rows = input.rows - 1;
  x = (double*)malloc(rows * 4 * sizeof *x);
  reference = (double*)malloc(rows * 3 * sizeof *reference);
  for (i = 0; i < rows; ++i)
    for (c = 0; c < 4; ++c) x[i * 4 + c] = strtod(csv_cell(&input, i, c), NULL);
  OK(pmmlrt_score_f64(iris, x, rows, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &r));
  OK(pmmlrt_batch_result_probabilities(r, PMMLRT_ROW_MAJOR, reference, rows * 3));
  for (t = 0; t < kThreads; ++t) {
    args[t].model = iris;
    args[t].x = x;
    args[t].rows = rows;
    args[t].reference = reference;
    args[t].mismatches = 0;
    args[t].error_isolated = 0;
    CHECK(pthread_create(&threads[t], NULL, worker, &args[t]) == 0);
  }
  /* Meanwhile: fail a call here, and read the shared batch result from the workers' side too. */
  EXPECT(pmmlrt_model_field_name(iris, PMMLRT_FIELDS_INPUT, 99, NULL), PMMLRT_ERROR_OUT_OF_RANGE);
  for (t = 0; t < kThreads; ++t) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(args[t].mismatches == 0);
    CHECK(args[t].error_isolated);
  }
  CHECK(pmmlrt_last_status() == PMMLRT_ERROR_OUT_OF_RANGE);
  pmmlrt_batch_result_release(r);
  pmmlrt_model_release(iris);
  csv_free(&input);
  free(x);
  free(reference);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s EXAMPLES_MODELS_DIR GENERATED_CASES_DIR\n", argv[0]);
    return 2;
  }
  snprintf(models_dir, sizeof models_dir, "%s", argv[1]);
  snprintf(cases_dir, sizeof cases_dir, "%s", argv[2]);
  printf("pmmlrt %s, ABI %d\n", pmmlrt_version(), pmmlrt_abi_version());
  test_versions();
  test_options();
  test_loading();
  test_introspection();
  test_score_iris();
  test_score_loan();
  test_regression_and_score_one();
  test_leaf_precision();
  test_threads();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
