// LoadOptions::leaf_precision: the opt-in binary16 leaf values. The rounding itself is checked against every
// binary16 value decoded from its bits; in Half mode every scoring path must still agree with every other to
// the bit (the kernel tests' names make ctest run these at each SIMD level too); the compiled leaves must be
// binary16 values; and Exact, the default, must leave results alone.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/csv.hpp"
#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "pmml/loader.hpp"
#include "pmml/numbers.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using pmmlrt::LeafPrecision;
using pmmlrt::numbers::round_to_binary16;
using pmmlrt_test::same_bits;

namespace {

/// The value of a binary16 bit pattern, decoded from the format's definition (independent of the rounding).
double decode_binary16(std::uint16_t bits) {
  const int sign = bits >> 15, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  double magnitude;
  if (exponent == 0x1f) magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (exponent == 0) magnitude = std::ldexp(double(mantissa), -24);
  else magnitude = std::ldexp(double(1024 + mantissa), exponent - 25);
  return sign ? -magnitude : magnitude;
}

/// Every finite binary16 value.
const std::set<double>& binary16_values() {
  static const std::set<double> values = [] {
    std::set<double> out;
    for (std::uint32_t b = 0; b <= 0xffff; ++b) {
      double v = decode_binary16(std::uint16_t(b));
      if (std::isfinite(v)) out.insert(v);
    }
    return out;
  }();
  return values;
}

bool is_binary16(double v) { return !std::isfinite(v) || binary16_values().count(v) != 0; }

bool identical(const pmmlrt::Value& a, const pmmlrt::Value& b) {
  if (a.kind() != b.kind()) return false;
  return a.is_number() ? same_bits(a.number(), b.number()) : a == b;
}

void require_same_results(const pmmlrt::Result& a, const pmmlrt::Result& b) {
  REQUIRE(identical(a.predicted(), b.predicted()));
  REQUIRE(a.probabilities().size() == b.probabilities().size());
  for (std::size_t c = 0; c < a.probabilities().size(); ++c) REQUIRE(same_bits(a.probabilities()[c], b.probabilities()[c]));
  REQUIRE(a.confidences().size() == b.confidences().size());
  for (std::size_t c = 0; c < a.confidences().size(); ++c) REQUIRE(same_bits(a.confidences()[c], b.confidences()[c]));
  REQUIRE(a.outputs().size() == b.outputs().size());
  for (std::size_t o = 0; o < a.outputs().size(); ++o) REQUIRE(identical(a.outputs()[o].value, b.outputs()[o].value));
}

pmmlrt::LoadOptions options(LeafPrecision precision, bool kernel) {
  pmmlrt::LoadOptions o;
  o.leaf_precision = precision;
  o.ensemble_kernel = kernel;
  return o;
}

/// Tree models of the conformance corpus: XGBoost, LightGBM, scikit-learn forests and boosting, R forests
/// and GBM, single trees with confidences, an isolation forest.
const char* const kTreeCases[] = {
    "jpmml-transpiler/XGBoostAudit",      "jpmml-transpiler/XGBoostAutoNA",    "jpmml-transpiler/XGBoostIris",
    "jpmml-transpiler/LightGBMAudit",     "jpmml-transpiler/LightGBMAuto",     "jpmml-sparkml-lightgbm/LightGBMAuditNA",
    "jpmml-transpiler/RandomForestAudit", "jpmml-transpiler/GradientBoostingAuto", "jpmml-transpiler/IsolationForestAuto",
    "jpmml-evaluator-rattle/RandomForestAuto", "cpmml/AuditRandomForest", "jpmml-evaluator-rattle/GBMAuto", "jpmml-evaluator-rattle/DecisionTreeAudit",
    "jpmml-evaluator-knime/GBTAuto",      "jpmml-transpiler/DecisionTreeAuto", "pmml4s-dmg/TreeMissingWeightedConfidence",
};

struct CaseRows {
  std::vector<std::string> names;                       // the model's input fields
  std::vector<pmmlrt::Record> records;
  std::vector<std::vector<pmmlrt::Value>> columns;      // the same rows by column
  std::vector<double> matrix;                           // row-major numbers; empty when some input is a string
};

CaseRows read_rows(const fs::path& dir, const pmmlrt::Model& model, std::size_t limit) {
  CaseRows out;
  bool numeric = true;
  for (const auto& f : model.input_fields()) {
    out.names.push_back(f.name);
    numeric = numeric && f.data_type != pmmlrt::DataType::String;
  }
  out.columns.resize(out.names.size());
  std::ifstream in(dir / "input.csv");
  pmmlrt::csv::TableReader table(in);
  std::vector<std::string> row;
  while (table.next(row) && out.records.size() < limit) {
    pmmlrt::Record record;
    for (std::size_t i = 0; i < out.names.size(); ++i) {
      auto col = table.column(out.names[i]);
      const bool missing = !col || row[*col] == "N/A" || row[*col] == "NA";
      pmmlrt::Value v = missing ? pmmlrt::Value() : pmmlrt::Value(row[*col]);
      record[out.names[i]] = v;
      out.columns[i].push_back(v);
      if (numeric) out.matrix.push_back(missing ? std::nan("") : std::strtod(row[*col].c_str(), nullptr));
    }
    out.records.push_back(std::move(record));
  }
  return out;
}

/// Scores `rows` with `fast` (kernel on) and `slow` (kernel off) through records, Value batches (one and two
/// threads), numeric batches and score_into, and requires every result to be the same to the bit.
void require_every_path_agrees(const pmmlrt::Model& fast, const pmmlrt::Model& slow, const CaseRows& rows) {
  std::vector<pmmlrt::Value> predictions;
  for (const auto& record : rows.records) {
    pmmlrt::Result a, b;
    std::string ea, eb;
    try { a = fast.score(record); } catch (const pmmlrt::Error& e) { ea = e.what(); }
    try { b = slow.score(record); } catch (const pmmlrt::Error& e) { eb = e.what(); }
    REQUIRE(ea == eb);
    predictions.push_back(ea.empty() ? a.predicted() : pmmlrt::Value());
    if (ea.empty()) require_same_results(a, b);
  }
  if (rows.names.empty()) return;
  pmmlrt::BatchOptions keep_going;
  keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
  pmmlrt::BatchOptions two_threads = keep_going;
  two_threads.threads = 2;
  const std::size_t n = rows.records.size();
  auto batch = fast.score(rows.names, rows.columns, keep_going);
  auto batch_slow = slow.score(rows.names, rows.columns, keep_going);
  auto batch_threads = fast.score(rows.names, rows.columns, two_threads);
  REQUIRE(batch.rows() == n);
  for (std::size_t r = 0; r < n; ++r) {
    CAPTURE(r);
    REQUIRE(identical(batch.predicted_values()[r], predictions[r]));
    REQUIRE(identical(batch.predicted_values()[r], batch_slow.predicted_values()[r]));
    REQUIRE(identical(batch.predicted_values()[r], batch_threads.predicted_values()[r]));
    for (std::size_t c = 0; c < batch.classes().size(); ++c) {
      REQUIRE(same_bits(batch.probabilities()(r, c), batch_slow.probabilities()(r, c)));
      REQUIRE(same_bits(batch.probabilities()(r, c), batch_threads.probabilities()(r, c)));
    }
  }
  if (rows.matrix.empty()) return;
  const std::size_t cols = rows.names.size();
  auto matrix = fast.score(rows.matrix.data(), n, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
  auto matrix_slow = slow.score(rows.matrix.data(), n, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
  const std::size_t classes = fast.class_labels().size();
  std::vector<double> probabilities(classes);
  for (std::size_t r = 0; r < n; ++r) {
    CAPTURE(r);
    REQUIRE(matrix.errors()[r] == matrix_slow.errors()[r]);
    REQUIRE(same_bits(matrix.predicted()(r), matrix_slow.predicted()(r)));
    for (std::size_t c = 0; c < classes; ++c) REQUIRE(same_bits(matrix.probabilities()(r, c), matrix_slow.probabilities()(r, c)));
    if (!matrix.errors()[r].empty()) continue;
    double predicted = 0;
    pmmlrt::RecordOutput out;
    out.predicted = &predicted;
    out.probabilities = classes ? probabilities.data() : nullptr;
    fast.score_into(rows.matrix.data() + r * cols, cols, out);
    REQUIRE(same_bits(predicted, matrix.predicted()(r)));
    for (std::size_t c = 0; c < classes; ++c) REQUIRE(same_bits(probabilities[c], matrix.probabilities()(r, c)));
  }
}

std::string tree_model(const std::string& score_a, const std::string& score_b) {
  return R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<TreeModel functionName="regression"><MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Node><True/><Node score=")" + score_a + R"("><SimplePredicate field="x" operator="lessThan" value="0"/></Node>
<Node score=")" + score_b + R"("><True/></Node></Node></TreeModel></PMML>)";
}

const char* const kClassificationTree = R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField></DataDictionary>
<TreeModel functionName="classification"><MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Node><True/>
<Node score="a"><SimplePredicate field="x" operator="lessThan" value="0"/>
<ScoreDistribution value="a" recordCount="2049" probability="0.7" confidence="0.65"/>
<ScoreDistribution value="b" recordCount="1" probability="0.3" confidence="0.35"/></Node>
<Node score="b"><True/>
<ScoreDistribution value="a" recordCount="2049"/><ScoreDistribution value="b" recordCount="3"/></Node></Node></TreeModel></PMML>)";

pmmlrt::Record record_x(double x) { return {{"x", pmmlrt::Value(x)}}; }

}  // namespace

TEST_CASE("binary16 rounding: every half is kept, ties go to the even neighbour, the rest to the nearest") {
  REQUIRE(binary16_values().size() == 63487);  // 2 * 31 * 1024 finite patterns, +0 and -0 the same double
  // Every finite half in increasing order, with the parity of its pattern (ties round to the even one).
  std::vector<std::pair<double, bool>> halves;
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const double v = decode_binary16(std::uint16_t(b));
    if (std::isfinite(v) && b != 0x8000) halves.emplace_back(v, (b & 1) == 0);
  }
  std::sort(halves.begin(), halves.end());
  for (std::size_t i = 0; i < halves.size(); ++i) {
    const auto [v, even] = halves[i];
    CAPTURE(v);
    REQUIRE(same_bits(round_to_binary16(v), v));
    if (i == 0) continue;
    const auto [below, below_even] = halves[i - 1];
    REQUIRE(below_even != even);
    const double tie = below + (v - below) / 2;  // exact in double
    REQUIRE(round_to_binary16(tie) == (even ? v : below));
    REQUIRE(round_to_binary16(std::nextafter(tie, -INFINITY)) == below);
    REQUIRE(round_to_binary16(std::nextafter(tie, INFINITY)) == v);
  }
  CHECK(round_to_binary16(65519.99) == 65504.0);
  CHECK(round_to_binary16(65520.0) == INFINITY);
  CHECK(round_to_binary16(-1e300) == -INFINITY);
  CHECK(round_to_binary16(std::ldexp(1.0, -25)) == 0.0);  // the tie between 0 and the smallest half
  CHECK(round_to_binary16(std::nextafter(std::ldexp(1.0, -25), 1.0)) == std::ldexp(1.0, -24));
  CHECK(std::signbit(round_to_binary16(-1e-30)));
  CHECK(round_to_binary16(0.1) == 0.0999755859375);
  CHECK(round_to_binary16(INFINITY) == INFINITY);
  CHECK(std::isnan(round_to_binary16(std::nan(""))));
}

TEST_CASE("half leaf precision: the default is Exact, and Half rounds scores, probabilities and confidences") {
  CHECK(pmmlrt::LoadOptions{}.leaf_precision == LeafPrecision::Exact);
  const auto exact = pmmlrt::Model::load_string(tree_model("0.1", "-3.14159"));
  const auto half = pmmlrt::Model::load_string(tree_model("0.1", "-3.14159"), options(LeafPrecision::Half, true));
  CHECK(exact.score(record_x(-1)).predicted().number() == 0.1);
  CHECK(half.score(record_x(-1)).predicted().number() == 0.0999755859375);
  CHECK(half.score(record_x(1)).predicted().number() == -3.140625);

  const auto exact_class = pmmlrt::Model::load_string(kClassificationTree);
  const auto half_class = pmmlrt::Model::load_string(kClassificationTree, options(LeafPrecision::Half, true));
  auto e = exact_class.score(record_x(-1)), h = half_class.score(record_x(-1));
  CHECK(e.probability("a").value() == 0.7);
  // The rounded probabilities no longer sum to 1: normalised, as any such distribution is.
  const double sum = round_to_binary16(0.7) + round_to_binary16(0.3);
  CHECK(sum != 1.0);
  CHECK(h.probability("a").value() == round_to_binary16(0.7) / sum);
  CHECK(h.probability("b").value() == round_to_binary16(0.3) / sum);
  CHECK(h.confidence("a").value() == round_to_binary16(0.65));
  CHECK(h.confidence("a").value() != 0.65);
  // Record counts are not rounded: 2049 is no binary16 (2048 and 2050 are).
  auto counted = half_class.score(record_x(1));
  CHECK(counted.probability("a").value() == 2049.0 / 2052.0);
}

TEST_CASE("half leaf precision: a leaf beyond the binary16 range refuses the load in Half mode only") {
  const auto model = tree_model("70000", "1");
  CHECK(pmmlrt::Model::load_string(model).score(record_x(-1)).predicted().number() == 70000.0);
  try {
    pmmlrt::Model::load_string(model, options(LeafPrecision::Half, true));
    FAIL("Half loaded a leaf of 70000");
  } catch (const pmmlrt::Error& e) {
    CHECK(e.kind() == pmmlrt::ErrorKind::Usage);
    CHECK(std::string(e.what()).find("binary16") != std::string::npos);
    // Words every binding's user knows (the C++ enum is not what a C, Python or CLI user sets).
    CHECK(std::string(e.what()).find("exact leaf precision") != std::string::npos);
    CHECK(std::string(e.what()).find("LeafPrecision::") == std::string::npos);
  }
  // A real one: house prices in dollars.
  const auto housing = pmmlrt_test::slurp(fs::path(PMMLRT_CONFORMANCE_DIR) / "cpmml/HousingRFRegressor_PCA/model.pmml");
  CHECK_THROWS_AS(pmmlrt::Model::load_string(housing, options(LeafPrecision::Half, true)), pmmlrt::Error);
  // Just below the rounding boundary: the largest half. Infinite scores stay infinite.
  CHECK(pmmlrt::Model::load_string(tree_model("65519", "INF"), options(LeafPrecision::Half, true))
            .score(record_x(-1)).predicted().number() == 65504.0);
  CHECK(pmmlrt::Model::load_string(tree_model("65519", "INF"), options(LeafPrecision::Half, true))
            .score(record_x(1)).predicted().number() == INFINITY);
}

TEST_CASE("half leaf precision: the kernel and the generic walk agree bit for bit on the conformance trees") {
  std::size_t models = 0, rows_compared = 0, rows_changed = 0;
  for (const char* id : kTreeCases) {
    const fs::path dir = fs::path(PMMLRT_CONFORMANCE_DIR) / id;
    CAPTURE(dir.string());
    REQUIRE(fs::exists(dir / "model.pmml"));
    const std::string text = pmmlrt_test::slurp(dir / "model.pmml");
    const auto fast = pmmlrt::Model::load_string(text, options(LeafPrecision::Half, true));
    const auto slow = pmmlrt::Model::load_string(text, options(LeafPrecision::Half, false));
    const auto exact = pmmlrt::Model::load_string(text);
    const auto exact_explicit = pmmlrt::Model::load_string(text, options(LeafPrecision::Exact, true));
    const CaseRows rows = read_rows(dir, fast, 400);
    require_every_path_agrees(fast, slow, rows);
    for (const auto& record : rows.records) {
      pmmlrt::Result h, e;
      try {
        h = fast.score(record);
        e = exact.score(record);
      } catch (const pmmlrt::Error&) {
        continue;
      }
      require_same_results(e, exact_explicit.score(record));
      bool changed = !identical(h.predicted(), e.predicted());
      for (std::size_t c = 0; c < h.probabilities().size(); ++c)
        changed = changed || !same_bits(h.probabilities()[c], e.probabilities()[c]);
      for (std::size_t c = 0; c < h.confidences().size(); ++c)
        changed = changed || !same_bits(h.confidences()[c], e.confidences()[c]);
      rows_changed += changed ? 1 : 0;
      ++rows_compared;
    }
    ++models;
  }
  MESSAGE(rows_compared << " rows over " << models << " tree models, " << rows_changed << " changed by Half");
  // Half must really round: most of these models' leaves are no binary16 values.
  CHECK(rows_changed > rows_compared / 2);
}

TEST_CASE("half leaf precision: every compiled leaf value, and every kernel leaf term, is a binary16 value") {
  std::size_t trees = 0, leaves = 0, kernel_values = 0, exact_not_half = 0, binned_sums = 0;
  for (const char* id : kTreeCases) {
    CAPTURE(id);
    const std::string text = pmmlrt_test::slurp(fs::path(PMMLRT_CONFORMANCE_DIR) / id / "model.pmml");
    for (LeafPrecision precision : {LeafPrecision::Half, LeafPrecision::Exact}) {
      const auto o = options(precision, true);
      const auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, o), o);
      const bool half = precision == LeafPrecision::Half;
      for (const auto& model : compiled->program.models) {
        const auto* tree = dynamic_cast<const pmmlrt::eval::TreeEval*>(model.get());
        if (!tree) continue;
        trees += half ? 1 : 0;
        for (const auto& node : tree->nodes) {
          if (!node.has_score || node.label >= 0) continue;
          if (half) {
            REQUIRE(is_binary16(node.value));
            REQUIRE(same_bits(node.score.num, node.value));
            ++leaves;
          } else {
            exact_not_half += is_binary16(node.value) ? 0 : 1;
          }
        }
        for (std::size_t i = 0; i < tree->dists.size() && half; ++i) {
          REQUIRE(is_binary16(tree->dists[i].confidence));
          ++leaves;
        }
        for (const auto& node : tree->nodes)
          for (auto i = node.dist_begin; i < node.dist_end && half && node.dist_probability; ++i)
            REQUIRE(is_binary16(tree->dists[std::size_t(i)].weight));
      }
      // The ensemble kernel's regression results of plain sums are the leaves themselves (no tree has its
      // own Targets in these models), and so are its binned leaf terms.
      if (!half) continue;
      for (auto k : compiled->program.kernel_models) {
        const auto& model = *compiled->program.models[std::size_t(k)];
        const auto* mining = dynamic_cast<const pmmlrt::eval::MiningEval*>(&model);
        if (!mining || model.function != pmmlrt::MiningFunction::Regression ||
            mining->method != pmmlrt::eval::MiningEval::Method::Sum)
          continue;
        for (double v : model.kernel->values) REQUIRE(is_binary16(v));
        kernel_values += model.kernel->values.size();
        if (model.kernel->binned) {
          for (double v : model.kernel->bins.leaf_value) REQUIRE(is_binary16(v));
          binned_sums += model.kernel->summing != pmmlrt::eval::EnsembleKernel::Summing::None ? 1 : 0;
        }
      }
    }
  }
  MESSAGE(trees << " trees, " << leaves << " leaf values, " << kernel_values << " kernel results checked, "
                << binned_sums << " binned summing kernels");
  CHECK(kernel_values > 1000);
  // Half keeps the fast paths: at a vector level the boosted sums are binned and summed inside the walk
  // (10 at AVX-512; 3 at AVX2, which bins no set tests).
  if (pmmlrt::eval::simd_level() != pmmlrt::eval::SimdLevel::Scalar) CHECK(binned_sums >= 3);
  CHECK(exact_not_half > 1000);  // the check above is not vacuous: Exact keeps values Half must round
}
