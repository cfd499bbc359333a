// ChainTail: a boosted classifier's modelChain (summing ensembles into a RegressionModel) scored from the
// kernel sums without a Frame. It must be taken by the XGBoost, LightGBM and scikit-learn boosting
// classifiers, refused by every other shape, and give the generic path's results to the bit, row by row,
// also for rows that fall back (missing values), across threads, and one record at a time.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "compile/compiler.hpp"
#include "eval/chain_tail.hpp"
#include "eval/ensemble_kernel.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using pmmlrt_test::same_bits;

namespace {

const fs::path kGenerated = PMMLRT_SOURCE_DIR "/tests/generated/cases";

// The tail starts from the kernels' sums. Every model below gets summing kernels at AVX-512; at AVX2 those
// with categorical splits do not (no set tests there), and at the scalar level none does.
bool all_sum() { return pmmlrt::eval::simd_level() == pmmlrt::eval::SimdLevel::Avx512; }

// Whether a model gets a chain tail, and a plain one (ChainTail::plain: from the sums into the batch columns
// without a Prediction); read while the compiled program the tail points into is alive.
struct TailShape {
  bool tail = false, plain = false;
};

TailShape tail_shape(const fs::path& pmml) {
  pmmlrt::LoadOptions o;
  const auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(pmmlrt_test::slurp(pmml), o), o);
  const auto tail = pmmlrt::eval::ChainTail::plan(compiled->program);
  return {tail != nullptr, tail && tail->plain()};
}

bool has_tail(const fs::path& pmml) { return tail_shape(pmml).tail; }
bool plain_tail(const fs::path& pmml) { return tail_shape(pmml).plain; }

pmmlrt::Model load(const fs::path& pmml, bool tail) {
  // The switch is read when a model is loaded.
  if (tail) unsetenv("PMMLRT_CHAIN_TAIL");
  else setenv("PMMLRT_CHAIN_TAIL", "generic", 1);
  auto m = pmmlrt::Model::load_file(pmml);
  unsetenv("PMMLRT_CHAIN_TAIL");
  return m;
}

bool identical(const pmmlrt::Value& a, const pmmlrt::Value& b) {
  if (a.kind() != b.kind() || a.type() != b.type()) return false;
  return a.is_number() ? same_bits(a.number(), b.number()) : a == b;
}

void require_same(const pmmlrt::BatchResult& a, const pmmlrt::BatchResult& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.output_names() == b.output_names());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    CAPTURE(r);
    REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
    REQUIRE(identical(a.predicted_values()[r], b.predicted_values()[r]));
    for (std::size_t c = 0; c < a.classes().size(); ++c) REQUIRE(same_bits(a.probabilities()(r, c), b.probabilities()(r, c)));
    for (const auto& name : a.output_names()) REQUIRE(identical(a.output(name)[r], b.output(name)[r]));
    REQUIRE(a.errors()[r] == b.errors()[r]);
  }
}

}  // namespace

TEST_CASE("chain tail (kernel sums): taken by boosted classifiers, refused by other shapes") {
  for (const char* name : {"XGBoostBreastCancer", "XGBoostWine", "XGBoostLoanNA", "LightGBMBreastCancer", "LightGBMWine",
                           "LightGBMLoanCat", "GradientBoostingBreastCancer", "GradientBoostingWine"}) {
    const std::string model = name;
    CAPTURE(model);
    if (all_sum()) CHECK(has_tail(kGenerated / name / "model.pmml"));
    if (all_sum()) CHECK(plain_tail(kGenerated / name / "model.pmml"));
  }
  for (const char* name : {"XGBoostDiabetes", "XGBoostLoanCat", "LightGBMDiabetes", "LightGBMLoanNA", "GradientBoostingDiabetes",
                           "RandomForestWine", "RandomForestBreastCancer", "DecisionTreeIris", "LogisticRegressionIris",
                           "PipelineLogisticLoan"}) {
    const std::string model = name;
    CAPTURE(model);
    CHECK_FALSE(has_tail(kGenerated / name / "model.pmml"));
  }
  // Real exports of the corpus; the Spark one has a top-level transformedValue output, which the tail leaves
  // to the generic path.
  for (const char* id : {"jpmml-transpiler/XGBoostAudit", "jpmml-transpiler/XGBoostIris", "jpmml-transpiler/LightGBMAudit",
                         "jpmml-transpiler/GradientBoostingAudit"}) {
    const std::string model = id;
    CAPTURE(model);
    if (all_sum()) CHECK(has_tail(fs::path(PMMLRT_CONFORMANCE_DIR) / id / "model.pmml"));
  }
  CHECK_FALSE(has_tail(fs::path(PMMLRT_CONFORMANCE_DIR) / "jpmml-sparkml-lightgbm/LightGBMAuditNA/model.pmml"));
}

TEST_CASE("chain tail (kernel sums): every batch result is the generic path's, with missing values and on threads") {
  for (const char* name : {"XGBoostBreastCancer", "XGBoostWine", "XGBoostLoanNA", "LightGBMBreastCancer", "LightGBMWine",
                           "GradientBoostingWine", "LightGBMLoanCat"}) {
    const std::string model = name;
    CAPTURE(model);
    const fs::path pmml = kGenerated / name / "model.pmml";
    if (all_sum()) REQUIRE(has_tail(pmml));
    const auto fast = load(pmml, true), slow = load(pmml, false);
    const std::size_t cols = fast.input_fields().size(), rows = 2000;
    std::mt19937_64 rng(11);
    std::normal_distribution<double> value(0.0, 4.0);
    std::vector<double> x(rows * cols);
    for (auto& v : x) v = rng() % 13 == 0 ? std::nan("") : std::round(value(rng) * 8) / 8;
    // One record at a time: score_into and score(Record), tail against generic.
    const std::size_t k = fast.class_labels().size(), outputs = fast.output_fields().size();
    for (std::size_t r = 0; r < 300; ++r) {
      CAPTURE(r);
      const double* row = x.data() + r * cols;
      std::vector<double> pa(k), pb(k), oa(outputs), ob(outputs);
      double ya = 0, yb = 0;
      std::string ea, eb;
      try { fast.score_into(row, cols, {&ya, pa.data(), oa.data()}); } catch (const pmmlrt::Error& e) { ea = e.what(); }
      try { slow.score_into(row, cols, {&yb, pb.data(), ob.data()}); } catch (const pmmlrt::Error& e) { eb = e.what(); }
      REQUIRE(ea == eb);
      if (!ea.empty()) continue;
      REQUIRE(same_bits(ya, yb));
      for (std::size_t c = 0; c < k; ++c) REQUIRE(same_bits(pa[c], pb[c]));
      for (std::size_t o = 0; o < outputs; ++o) REQUIRE(same_bits(oa[o], ob[o]));
      pmmlrt::Record record;
      for (std::size_t c = 0; c < cols; ++c)
        if (!std::isnan(row[c])) record[fast.input_fields()[c].name] = pmmlrt::Value(row[c]);
      const auto a = fast.score(record), b = slow.score(record);
      REQUIRE(identical(a.predicted(), b.predicted()));
      REQUIRE(a.probabilities().size() == b.probabilities().size());
      for (std::size_t c = 0; c < a.probabilities().size(); ++c) REQUIRE(same_bits(a.probabilities()[c], b.probabilities()[c]));
      REQUIRE(a.outputs().size() == b.outputs().size());
      for (std::size_t o = 0; o < a.outputs().size(); ++o) REQUIRE(identical(a.outputs()[o].value, b.outputs()[o].value));
    }
    for (std::size_t threads : {1, 3}) {
      CAPTURE(threads);
      pmmlrt::BatchOptions o;
      o.on_error = pmmlrt::RowErrorPolicy::Record;
      o.threads = threads;
      require_same(fast.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o),
                   slow.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o));
    }
    // The same rows with the columns named in reverse order, column-major, and as float32: the kernels'
    // features are then no longer consecutive row-major doubles (MatrixFill::direct_rows' other branch).
    std::vector<double> reversed(rows * cols), by_column(rows * cols);
    std::vector<float> narrow(rows * cols);
    std::vector<std::string> names;
    for (std::size_t c = 0; c < cols; ++c) names.push_back(fast.input_fields()[cols - 1 - c].name);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        reversed[r * cols + c] = x[r * cols + cols - 1 - c];
        by_column[c * rows + r] = x[r * cols + c];
        narrow[r * cols + c] = float(x[r * cols + c]);  // the values are eighths: exact in float
      }
    pmmlrt::BatchOptions o;
    o.on_error = pmmlrt::RowErrorPolicy::Record;
    const auto reference = slow.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o);
    require_same(fast.score(reversed.data(), rows, cols, pmmlrt::Layout::RowMajor, names, o), reference);
    require_same(fast.score(by_column.data(), rows, cols, pmmlrt::Layout::ColumnMajor, {}, o), reference);
    require_same(fast.score(narrow.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o), reference);

    // Columns that are exactly the first kernel's features in its order (the other inputs missing): the rows
    // are one run of cells (MatrixFill::direct_rows' consecutive branch). Values that are not floats, as real
    // data are.
    pmmlrt::LoadOptions lo;
    const auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(pmmlrt_test::slurp(pmml), lo), lo);
    const auto& prog = compiled->program;
    const auto tail = pmmlrt::eval::ChainTail::plan(prog);
    if (!tail) continue;
    const auto& kernel = *prog.models[std::size_t(prog.kernel_models[std::size_t(tail->kernels()[0])])]->kernel;
    if (kernel.direct_specs.empty()) continue;  // it reads its features another way (categorical inputs)
    std::vector<std::string> kernel_names;
    for (auto spec : kernel.direct_specs) kernel_names.push_back(prog.inputs[std::size_t(spec)].name);
    const std::size_t nk = kernel_names.size();
    std::vector<double> only(rows * nk), full(rows * cols, std::nan(""));
    std::uniform_real_distribution<double> wide(-12.0, 12.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < nk; ++j) {
        const double v = rng() % 17 == 0 ? std::nan("") : wide(rng);
        only[r * nk + j] = v;
        for (std::size_t c = 0; c < cols; ++c)
          if (fast.input_fields()[c].name == kernel_names[j]) full[r * cols + c] = v;
      }
    require_same(fast.score(only.data(), rows, nk, pmmlrt::Layout::RowMajor, kernel_names, o),
                 slow.score(full.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o));
  }
}
