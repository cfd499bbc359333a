// The real models have few features; the vector walks change strategy with the width of a row (a record's
// bins in registers up to 16 or 32 features, from memory beyond that; a per-thread buffer past 256). Generate
// tree ensembles over 5 to 600 features, with shared thresholds and every binnable missing-value strategy,
// and compare the kernel with the generic walk bit for bit, as a batch and record by record.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;

struct EnsembleSpec {
  std::size_t features, trees;
  bool classification;
  bool default_child_only = false;  // every tree routes missing values to a child, as XGBoost and LightGBM do
};

const double kGrid[] = {-2.5, -1.0, -0.0, 0.25, 0.5, 1.0, 3.0, 7.5};

class EnsembleWriter {
 public:
  EnsembleWriter(const EnsembleSpec& spec, std::mt19937_64& rng) : spec_(spec), rng_(rng) {}

  std::string pmml() {
    std::ostringstream o;
    o << "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><Header/><DataDictionary>";
    for (std::size_t f = 0; f < spec_.features; ++f) o << "<DataField name=\"x" << f << "\" optype=\"continuous\" dataType=\"double\"/>";
    if (spec_.classification)
      o << "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"a\"/><Value value=\"b\"/>"
           "<Value value=\"c\"/></DataField>";
    else
      o << "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
    const char* function = spec_.classification ? "classification" : "regression";
    o << "</DataDictionary><MiningModel functionName=\"" << function << "\">" << schema()
      << "<Segmentation multipleModelMethod=\"" << (spec_.classification ? "average" : "sum") << "\">";
    const char* strategies[] = {"none", "defaultChild", "nullPrediction"};
    for (std::size_t t = 0; t < spec_.trees; ++t) {
      std::string strategy = spec_.default_child_only ? "defaultChild" : strategies[rng_() % 3];
      o << "<Segment id=\"" << t + 1 << "\"><True/><TreeModel functionName=\"" << function
        << "\" missingValueStrategy=\"" << strategy << "\" splitCharacteristic=\"binarySplit\">" << schema();
      o << node(0, strategy == "defaultChild", "<True/>");
      o << "</TreeModel></Segment>";
    }
    o << "</Segmentation></MiningModel></PMML>";
    return o.str();
  }

 private:
  const EnsembleSpec& spec_;
  std::mt19937_64& rng_;
  int next_id_ = 0;

  std::string schema() const {
    std::ostringstream o;
    o << "<MiningSchema><MiningField name=\"y\" usageType=\"target\"/>";
    for (std::size_t f = 0; f < spec_.features; ++f) o << "<MiningField name=\"x" << f << "\"/>";
    o << "</MiningSchema>";
    return o.str();
  }

  /// A node and its subtree; ids in document order, as the children's ids need for defaultChild.
  std::string node(int depth, bool default_child, const std::string& predicate) {
    const int id = ++next_id_;
    const bool leaf = depth >= 7 || (depth > 0 && rng_() % 4 == 0);
    std::string children;
    int chosen = 0;
    if (!leaf) {
      // Binary splits as the converters write them: a comparison, then True for the rest.
      const char* ops[] = {"lessOrEqual", "lessThan", "greaterThan", "greaterOrEqual"};
      std::ostringstream test;
      test << "<SimplePredicate field=\"x" << rng_() % spec_.features << "\" operator=\"" << ops[rng_() % 4]
           << "\" value=\"" << kGrid[rng_() % 8] << "\"/>";
      const int first = next_id_ + 1;
      children = node(depth + 1, default_child, test.str());
      const int second = next_id_ + 1;
      children += node(depth + 1, default_child, "<True/>");
      chosen = rng_() % 2 ? first : second;
    }
    std::ostringstream o;
    o << "<Node id=\"" << id << "\"";
    if (!leaf && default_child) o << " defaultChild=\"" << chosen << "\"";
    if (spec_.classification) {
      const char* labels[] = {"a", "b", "c"};
      const unsigned counts[] = {unsigned(rng_() % 5), unsigned(rng_() % 5), unsigned(rng_() % 5) + 1};
      std::size_t best = 0;
      for (std::size_t c = 1; c < 3; ++c)
        if (counts[c] > counts[best]) best = c;
      o << " score=\"" << labels[best] << "\">" << predicate;
      if (leaf)
        for (std::size_t c = 0; c < 3; ++c)
          o << "<ScoreDistribution value=\"" << labels[c] << "\" recordCount=\"" << counts[c] << "\"/>";
    } else {
      o << " score=\"" << double(std::int64_t(rng_() % 2001) - 1000) / 64.0 << "\">" << predicate;
    }
    o << children << "</Node>";
    return o.str();
  }
};

/// Cells at and around the grid's thresholds, infinities and NaNs; every third row has no NaN, since the vector
/// walks take another way for a row without a missing value (and with many features nearly every row has one).
std::vector<double> hostile_inputs(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> x(rows * cols);
  for (std::size_t i = 0; i < x.size(); ++i) {
    double& v = x[i];
    const double t = kGrid[rng() % 8];
    switch (rng() % 8) {
      case 0: v = (i / cols) % 3 == 0 ? t : std::nan(""); break;
      case 1: v = std::nextafter(t, inf); break;
      case 2: v = std::nextafter(t, -inf); break;
      case 3: v = (rng() & 1) ? inf : -inf; break;
      case 4: v = double(std::int64_t(rng() % 200) - 100) / 10.0; break;
      default: v = t; break;
    }
  }
  return x;
}

}  // namespace

TEST_CASE("kernel and generic walk agree on generated ensembles of 5 to 600 features") {
  std::mt19937_64 rng(7);
  for (EnsembleSpec spec : {EnsembleSpec{5, 37, false}, EnsembleSpec{24, 37, false}, EnsembleSpec{40, 70, false},
                            EnsembleSpec{600, 30, false}, EnsembleSpec{12, 23, true}, EnsembleSpec{40, 45, true},
                            EnsembleSpec{9, 37, false, true}, EnsembleSpec{28, 45, true, true}}) {
    CAPTURE(spec.features);
    CAPTURE(spec.classification);
    const std::string text = EnsembleWriter(spec, rng).pmml();
    pmmlrt::LoadOptions slow;
    slow.ensemble_kernel = false;
    auto fast_model = pmmlrt::Model::load_string(text);
    auto slow_model = pmmlrt::Model::load_string(text, slow);
    const std::size_t cols = fast_model.input_fields().size(), rows = 67;
    REQUIRE(cols == spec.features);
    const auto x = hostile_inputs(rows, cols, rng);
    pmmlrt::BatchOptions keep_going;
    keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
    auto a = fast_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
    auto b = slow_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
    REQUIRE(a.rows() == b.rows());
    const std::size_t k = fast_model.class_labels().size();
    for (std::size_t r = 0; r < rows; ++r) {
      CAPTURE(r);
      REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
      for (std::size_t c = 0; c < k; ++c) REQUIRE(same_bits(a.probabilities()(r, c), b.probabilities()(r, c)));
      std::vector<double> pa(k + 1), pb(k + 1);
      for (auto* run : {&pa, &pb}) {
        pmmlrt::RecordOutput out;
        out.predicted = run->data();
        out.probabilities = run->data() + 1;
        (run == &pa ? fast_model : slow_model).score_into(x.data() + r * cols, cols, out);
      }
      for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(same_bits(pa[i], pb[i]));
    }
  }
}
