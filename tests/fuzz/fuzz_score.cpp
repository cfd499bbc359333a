// Fuzz harness: a fixed set of models (generated cases, the bundled example, and the malformed corpus's
// valid bases) loaded once; the bytes pick a model and build input rows of arbitrary values - raw doubles
// (NaN payloads, infinities, denormals), special numbers, known and unknown categories, numeric text, typed
// numbers, booleans, explicit and implicit missing values, unknown field names - which are scored through
// Model::score, the Value batch and the numeric (double and float) batches.
//
// Invariants (abort when broken): only pmmlrt::Error escapes; scoring is deterministic; the single-record
// API and the Value batch agree; class probabilities are in [0, 1]; RowErrorPolicy::Record never throws
// for a row's error.
//
// The models are read from $PMMLRT_FUZZ_ROOT (default: the source tree this was built from).

#include <pmmlrt/pmmlrt.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_common.hpp"

#ifndef PMMLRT_SOURCE_DIR
#define PMMLRT_SOURCE_DIR "."
#endif

namespace {

using pmmlrt_fuzz::Bytes;

const char* const kModels[] = {
    "examples/models/iris_forest.pmml",
    "tests/generated/cases/DecisionTreeIris/model.pmml",
    "tests/generated/cases/DecisionTreeDiabetes/model.pmml",
    "tests/generated/cases/LinearRegressionDiabetes/model.pmml",
    "tests/generated/cases/LogisticRegressionIris/model.pmml",
    "tests/generated/cases/PipelineLogisticLoan/model.pmml",
    "tests/generated/cases/XGBoostLoanNA/model.pmml",
    "tests/generated/cases/XGBoostWine/model.pmml",
    "tests/generated/cases/LightGBMLoanCat/model.pmml",
    "tests/generated/cases/LightGBMLoanNA/model.pmml",
    "tests/generated/cases/GradientBoostingWine/model.pmml",
    "tests/malformed/docs/ok_tree.pmml",
    "tests/malformed/docs/ok_mining.pmml",
    "tests/malformed/docs/ok_derived_apply.pmml",
    "tests/malformed/docs/ok_classification_regression.pmml",
    "tests/malformed/docs/return_invalid_category.pmml",
    "tests/malformed/docs/return_invalid_interval.pmml",
    "tests/malformed/docs/missing_return_invalid.pmml",
    "tests/malformed/docs/div_by_zero_return_invalid.pmml",
    "tests/malformed/docs/exp_overflow_return_invalid.pmml",
    "tests/malformed/docs/simplemax_zero_sum.pmml",
};

std::vector<pmmlrt::Model>& models() {
  static std::vector<pmmlrt::Model> loaded = [] {
    const char* env = std::getenv("PMMLRT_FUZZ_ROOT");
    std::filesystem::path root = env ? env : PMMLRT_SOURCE_DIR;
    std::vector<pmmlrt::Model> out;
    for (const char* m : kModels) {
      try {
        out.push_back(pmmlrt::Model::load_file(root / m));
      } catch (const pmmlrt::Error& e) {
        std::fprintf(stderr, "fuzz_score: skipping %s: %s\n", m, e.what());
      }
    }
    if (out.empty()) {
      std::fprintf(stderr, "fuzz_score: no model loaded from %s (set PMMLRT_FUZZ_ROOT)\n", root.string().c_str());
      std::abort();
    }
    return out;
  }();
  return loaded;
}

const double kSpecials[] = {
    std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
    std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
    0.0, -0.0, std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
    std::numeric_limits<double>::min(), std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
    std::numeric_limits<double>::epsilon(), 1.0, -1.0, 0.5, 1e300, -1e300, 2147483648.0, -2147483649.0,
    9007199254740993.0, 3.4028235677973366e38, 1.401298464324817e-45, 1e-310};

const char* const kTexts[] = {"", " ", "NaN", "nan", "-Infinity", "INF", "1e999", "-0", "0x10", "1,5", "1.5",
                              " 2 ", "+3", "1e-320", "true", "false", "NA", "N/A", "null", "\xff\xfe", "1d", "2f",
                              ".5", "5.", "--1", "1e", "\0"};

/// One cell value from the bytes, for a field with these categories.
pmmlrt::Value value(Bytes& in, const std::vector<std::string>& categories) {
  switch (in.byte() % 12) {
    case 0: return pmmlrt::Value();
    case 1: return pmmlrt::Value(in.f64());
    case 2: return pmmlrt::Value(kSpecials[in.byte() % (sizeof kSpecials / sizeof kSpecials[0])]);
    case 3:
      if (!categories.empty()) return pmmlrt::Value(categories[in.byte() % categories.size()]);
      return pmmlrt::Value(double(std::int8_t(in.byte())));
    case 4: return pmmlrt::Value(in.text(16));
    case 5: return pmmlrt::Value(std::string(kTexts[in.byte() % (sizeof kTexts / sizeof kTexts[0])]));
    case 6: return pmmlrt::Value::boolean(in.byte() & 1);
    case 7: return pmmlrt::Value(double(std::int32_t(in.u32())), pmmlrt::DataType::Integer);
    case 8: {
      float f;
      std::uint32_t bits = in.u32();
      std::memcpy(&f, &bits, sizeof f);
      return pmmlrt::Value(double(f), pmmlrt::DataType::Float);
    }
    case 9: return pmmlrt::Value(in.f64(), pmmlrt::DataType::Integer);  // a non-integral "integer"
    case 10: {  // a category with a change: case, whitespace, suffix
      std::string c = categories.empty() ? std::string("x") : categories[in.byte() % categories.size()];
      switch (in.byte() % 3) {
        case 0: c = " " + c; break;
        case 1: c += "_"; break;
        default:
          for (auto& ch : c) ch = char(std::toupper(static_cast<unsigned char>(ch)));
      }
      return pmmlrt::Value(c);
    }
    default: return pmmlrt::Value(double(in.byte()) / 8.0 - 16.0);
  }
}

/// The same cell as a number for the numeric batch: categories by code, everything else NaN when not a number.
double as_number(const pmmlrt::Value& v, const pmmlrt::FieldInfo& f, Bytes& in) {
  if (v.is_number() || v.is_boolean()) return v.number();
  if (v.is_string() && !f.values.empty()) {
    for (std::size_t i = 0; i < f.values.size(); ++i)
      if (f.values[i] == v.text()) return double(i);
    return double(std::int8_t(in.byte()));  // an unknown code, often out of range
  }
  return std::nan("");
}

bool same_value(const pmmlrt::Value& a, const pmmlrt::Value& b) { return a == b; }

void check_result(const pmmlrt::Model& model, const pmmlrt::Result& r) {
  const auto& p = r.probabilities();
  FUZZ_CHECK(p.empty() || p.size() == model.class_labels().size(), "probabilities/classes size mismatch");
  for (double x : p)
    FUZZ_CHECK(std::isnan(x) || (x >= -1e-12 && x <= 1 + 1e-12), "class probability " + std::to_string(x));
  (void)r.predicted().to_string();
  for (const auto& o : r.outputs()) (void)o.value.to_string();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)models();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& all = models();
  Bytes in(data, size);
  const pmmlrt::Model& model = all[in.byte() % all.size()];
  const auto& fields = model.input_fields();
  const std::size_t rows = 1 + in.byte() % 3;

  std::vector<pmmlrt::Record> records(rows);
  std::vector<std::string> columns;
  for (const auto& f : fields) columns.push_back(f.name);
  const bool extra = in.byte() & 1;  // an unknown column, which must be ignored
  if (extra) columns.push_back(in.text(8) + "\x01unknown");
  std::vector<std::vector<pmmlrt::Value>> cells(columns.size(), std::vector<pmmlrt::Value>(rows));
  std::vector<double> matrix(rows * columns.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < columns.size(); ++j) {
      static const std::vector<std::string> none;
      const bool known = j < fields.size();
      pmmlrt::Value v = value(in, known ? fields[j].values : none);
      const bool absent = known && (in.byte() % 8 == 0);  // not in the record at all
      if (!absent) records[r][columns[j]] = v;
      cells[j][r] = absent ? pmmlrt::Value() : v;
      matrix[r * columns.size() + j] = known ? (absent ? std::nan("") : as_number(v, fields[j], in)) : in.f64();
    }

  // Single records, twice each (determinism, and the frame pool must not leak state between calls).
  std::vector<int> ok(rows, 0);
  std::vector<pmmlrt::Value> predicted(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    std::string first_error;
    for (int pass = 0; pass < 2; ++pass) {
      try {
        pmmlrt::Result res = model.score(records[r]);
        check_result(model, res);
        FUZZ_CHECK(pass == 0 || ok[r] == 1, "the second scoring succeeded, the first failed: " + first_error);
        if (pass == 1) FUZZ_CHECK(same_value(res.predicted(), predicted[r]), "non-deterministic prediction");
        ok[r] = 1;
        predicted[r] = res.predicted();
      } catch (const pmmlrt::Error& e) {
        FUZZ_CHECK(e.kind() == pmmlrt::ErrorKind::Input || e.kind() == pmmlrt::ErrorKind::Evaluation,
                   std::string("scoring threw a non-row error: ") + e.what());
        FUZZ_CHECK(pass == 0 || ok[r] == 0, "the first scoring succeeded, the second failed");
        first_error = e.what();
      }
    }
  }

  // The Value batch must agree row by row with the single records.
  {
    pmmlrt::BatchOptions record;
    record.on_error = pmmlrt::RowErrorPolicy::Record;
    pmmlrt::BatchResult b = model.score(columns, cells, record);
    FUZZ_CHECK(b.rows() == rows && b.errors().size() == rows, "Value batch shape");
    for (std::size_t r = 0; r < rows; ++r) {
      FUZZ_CHECK(b.errors()[r].empty() == bool(ok[r]), "Value batch and single record disagree on row " +
                                                           std::to_string(r) + ": " + b.errors()[r]);
      if (ok[r]) FUZZ_CHECK(same_value(b.predicted_values()[r], predicted[r]), "Value batch prediction differs");
    }
    bool all_ok = true;
    for (int o : ok) all_ok = all_ok && o;
    try {
      model.score(columns, cells);
      FUZZ_CHECK(all_ok, "the throwing Value batch did not throw");
    } catch (const pmmlrt::Error& e) {
      FUZZ_CHECK(!all_ok, std::string("the throwing Value batch threw for good rows: ") + e.what());
    }
  }

  // The numeric batches: no result to compare (cells mean codes there), but they must not misbehave.
  for (auto layout : {pmmlrt::Layout::RowMajor, pmmlrt::Layout::ColumnMajor}) {
    std::vector<double> m = matrix;
    if (layout == pmmlrt::Layout::ColumnMajor)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < columns.size(); ++j) m[j * rows + r] = matrix[r * columns.size() + j];
    pmmlrt::BatchOptions record;
    record.on_error = pmmlrt::RowErrorPolicy::Record;
    auto b = model.score(m.data(), rows, columns.size(), layout, columns, record);
    FUZZ_CHECK(b.rows() == rows, "numeric batch rows");
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < b.classes().size(); ++c) {
        double p = b.probabilities()(r, c);
        FUZZ_CHECK(std::isnan(p) || (p >= -1e-12 && p <= 1 + 1e-12), "batch probability " + std::to_string(p));
      }
    for (const auto& name : b.output_names()) (void)b.output_numbers(name);
  }
  {
    std::vector<float> f(matrix.begin(), matrix.end());
    pmmlrt::BatchOptions record;
    record.on_error = pmmlrt::RowErrorPolicy::Record;
    auto b = model.score(f.data(), rows, columns.size(), pmmlrt::Layout::RowMajor, columns, record);
    FUZZ_CHECK(b.rows() == rows, "float batch rows");
  }
  // Unnamed columns: exactly the input fields, so the extra column makes it a Usage error.
  try {
    std::vector<double> m(rows * (fields.size() + 1), 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < fields.size(); ++j) m[r * fields.size() + j] = matrix[r * columns.size() + j];
    pmmlrt::BatchOptions record;
    record.on_error = pmmlrt::RowErrorPolicy::Record;
    model.score(m.data(), rows, fields.size() + (extra ? 1 : 0), pmmlrt::Layout::RowMajor, {}, record);
    FUZZ_CHECK(!extra, "a matrix with one column too many was accepted");
  } catch (const pmmlrt::Error& e) {
    FUZZ_CHECK(extra && e.kind() == pmmlrt::ErrorKind::Usage, std::string("unnamed batch: ") + e.what());
  }
  return 0;
}
