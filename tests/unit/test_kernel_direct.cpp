// A single tree of threshold tests takes the direct layout (EnsembleKernel::direct): its raw features walked
// node by node, yes exits laid out next to their tests, missing values following the tree's strategy. Deep,
// lopsided generated trees under every strategy the kernel expresses, and the corpora's trees: the direct
// walk must give the node the kernel's own walk gives, and the model what the generic walk gives, bit for bit.

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

using pmmlrt_test::same_bits;

const double kGrid[] = {-2.5, -1.0, -0.0, 0.25, 0.5, 1.0, 3.0, 7.5};

struct TreeSpec {
  std::string missing;        // missingValueStrategy
  std::string no_true_child;  // noTrueChildStrategy
  bool classification;
  bool compact;  // a test node has only its predicate's child (sklearn2pmml's compact trees)
  std::size_t features;
  std::string after_schema = {};  // Output and Targets elements
  const char* score_type = "double";  // the target field's type
};

class TreeWriter {
 public:
  TreeWriter(const TreeSpec& spec, std::mt19937_64& rng) : spec_(spec), rng_(rng) {}

  std::string pmml() {
    std::ostringstream o;
    o << "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><Header/><DataDictionary>";
    for (std::size_t f = 0; f < spec_.features; ++f)
      o << "<DataField name=\"x" << f << "\" optype=\"continuous\" dataType=\"" << (f % 3 == 2 ? "float" : "double")
        << "\"/>";
    if (spec_.classification)
      o << "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"a\"/><Value value=\"b\"/>"
           "<Value value=\"c\"/></DataField>";
    else
      o << "<DataField name=\"y\" optype=\"continuous\" dataType=\"" << spec_.score_type << "\"/>";
    o << "</DataDictionary><TreeModel functionName=\"" << (spec_.classification ? "classification" : "regression")
      << "\" missingValueStrategy=\"" << spec_.missing << "\" noTrueChildStrategy=\"" << spec_.no_true_child
      << "\"><MiningSchema><MiningField name=\"y\" usageType=\"target\"/>";
    for (std::size_t f = 0; f < spec_.features; ++f) o << "<MiningField name=\"x" << f << "\"/>";
    o << "</MiningSchema>" << spec_.after_schema << node(0, "<True/>") << "</TreeModel></PMML>";
    return o.str();
  }

 private:
  const TreeSpec& spec_;
  std::mt19937_64& rng_;
  int next_id_ = 0;

  /// A node and its subtree, depth first: the first paths go on for up to 40 levels, until 2,500 nodes.
  std::string node(int depth, const std::string& predicate) {
    const int id = ++next_id_;
    const bool leaf = depth >= 40 || next_id_ > 2500 || (depth > 2 && rng_() % 5 == 0);
    std::string children;
    int chosen = 0;
    if (!leaf) {
      const char* ops[] = {"lessOrEqual", "lessThan", "greaterThan", "greaterOrEqual"};
      std::ostringstream test;
      test << "<SimplePredicate field=\"x" << rng_() % spec_.features << "\" operator=\"" << ops[rng_() % 4]
           << "\" value=\"" << kGrid[rng_() % 8] << "\"/>";
      const int first = next_id_ + 1;
      children = node(depth + 1, test.str());
      chosen = first;
      if (!spec_.compact) {
        const int second = next_id_ + 1;
        children += node(depth + 1, "<True/>");
        if (rng_() % 2) chosen = second;
      }
    }
    std::ostringstream o;
    o << "<Node id=\"" << id << "\"";
    if (!leaf && spec_.missing == "defaultChild") o << " defaultChild=\"" << chosen << "\"";
    if (spec_.classification) {
      const char* labels[] = {"a", "b", "c"};
      const unsigned counts[] = {unsigned(rng_() % 5), unsigned(rng_() % 5), unsigned(rng_() % 5) + 1};
      std::size_t best = 0;
      for (std::size_t c = 1; c < 3; ++c)
        if (counts[c] > counts[best]) best = c;
      o << " score=\"" << labels[best] << "\">" << predicate;
      for (std::size_t c = 0; c < 3; ++c)
        o << "<ScoreDistribution value=\"" << labels[c] << "\" recordCount=\"" << counts[c] << "\"/>";
    } else {
      o << " score=\"" << double(std::int64_t(rng_() % 2001) - 1000) / 64.0 << "\">" << predicate;
    }
    o << children << "</Node>";
    return o.str();
  }
};

std::vector<double> hostile_inputs(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> x(rows * cols);
  for (auto& v : x) {
    const double t = kGrid[rng() % 8];
    switch (rng() % 8) {
      case 0: v = std::nan(""); break;
      case 1: v = std::nextafter(t, inf); break;
      case 2: v = std::nextafter(t, -inf); break;
      case 3: v = (rng() & 1) ? inf : -inf; break;
      case 4: v = (rng() & 1) ? 0.0 : -0.0; break;
      case 5: v = double(std::int64_t(rng() % 200) - 100) / 10.0; break;
      default: v = t; break;
    }
  }
  return x;
}


/// The top model's kernel, when it has one.
const pmmlrt::eval::EnsembleKernel* top_kernel(const pmmlrt::compile::Compiled& c) {
  const auto& top = c.program.top();
  return top.kernel.get();
}

/// The direct walk against the kernel's own walk, row by row and as blocks of every size up to 20.
void check_direct_walks(const pmmlrt::eval::EnsembleKernel& k, std::mt19937_64& rng) {
  const std::size_t nf = k.features();
  const auto x = hostile_inputs(300, nf, rng);
  for (std::size_t r = 0; r < 300; ++r) REQUIRE(k.walk_direct(x.data() + r * nf) == k.walk(0, x.data() + r * nf));
  for (std::size_t rows = 1; rows <= 20; ++rows) {
    std::vector<std::int32_t> out(rows + 1, -7);
    k.walk_direct_block(x.data() + rows * nf, rows, out.data());
    for (std::size_t r = 0; r < rows; ++r) REQUIRE(out[r] == k.walk(0, x.data() + (rows + r) * nf));
    REQUIRE(out[rows] == -7);  // nothing written past the rows
  }
}

}  // namespace

TEST_CASE("kernel direct layout: deep generated trees under every missing-value and no-true-child strategy") {
  std::mt19937_64 rng(20261202);
  std::size_t direct = 0, trees = 0;
  for (const char* missing : {"none", "nullPrediction", "lastPrediction", "defaultChild"})
    for (const char* no_true_child : {"returnNullPrediction", "returnLastPrediction"})
      for (bool classification : {false, true})
        for (bool compact : {false, true}) {
          if (compact && std::string(missing) == "defaultChild") continue;  // a default child needs two children
          const TreeSpec spec{missing, no_true_child, classification, compact, 3 + rng() % 30};
          const std::string text = TreeWriter(spec, rng).pmml();
          const std::string missing_strategy = missing, no_true_child_strategy = no_true_child;
          CAPTURE(missing_strategy);
          CAPTURE(no_true_child_strategy);
          CAPTURE(classification);
          CAPTURE(compact);
          ++trees;
          pmmlrt::LoadOptions options, slow;
          slow.ensemble_kernel = false;
          auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options);
          const auto* k = top_kernel(*compiled);
          REQUIRE(k != nullptr);
          // lastPrediction and nullPrediction send a missing value to a node of their own, defaultChild to
          // a child: every one of these trees has the direct layout.
          REQUIRE(!k->direct.empty());
          REQUIRE(!k->binned);
          ++direct;
          check_direct_walks(*k, rng);

          auto fast_model = pmmlrt::Model::load_string(text);
          auto slow_model = pmmlrt::Model::load_string(text, slow);
          pmmlrt::BatchOptions keep_going;
          keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
          const std::size_t cols = spec.features;
          for (std::size_t rows : {2, 7, 9, 64, 71, 203}) {
            CAPTURE(rows);
            const auto x = hostile_inputs(rows, cols, rng);
            pmmlrt_test::require_same_batches(fast_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going),
                         slow_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going));
            const std::vector<float> xf(x.begin(), x.end());
            pmmlrt_test::require_same_batches(fast_model.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going),
                         slow_model.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going));
            if (rows != 71) continue;
            for (std::size_t r = 0; r < rows; ++r) {
              pmmlrt_test::require_same_score_into(fast_model, slow_model, x.data() + r * cols, cols);
              pmmlrt_test::require_same_record(fast_model, slow_model, x.data() + r * cols, cols, r % 2 == 1);
            }
          }
        }
  MESSAGE(direct << " of " << trees << " generated trees took the direct layout");
}

TEST_CASE("kernel direct layout: the corpora's single trees of threshold tests take it and agree") {
  const std::vector<fs::path> models = pmmlrt_test::corpus_models();
  std::mt19937_64 rng(7);
  std::size_t direct = 0;
  for (const auto& path : models) {
    const std::string text = pmmlrt_test::slurp(path);
    if (text.find("<TreeModel") == std::string::npos || text.find("FMTWIDTH") != std::string::npos) continue;
    CAPTURE(path.string());
    pmmlrt::LoadOptions options;
    std::unique_ptr<pmmlrt::compile::Compiled> compiled;
    try {
      compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options);
    } catch (const pmmlrt::Error&) {
      continue;  // the conformance suite covers the documents that are rejected
    }
    for (auto id : compiled->program.kernel_models) {
      const auto& k = *compiled->program.models[std::size_t(id)]->kernel;
      if (k.direct.empty()) continue;
      REQUIRE(k.trees() == 1);
      ++direct;
      check_direct_walks(k, rng);
    }
  }
  MESSAGE(direct << " kernels of the corpora took the direct layout");
  CHECK(direct >= 5);
}

TEST_CASE("kernel direct layout: a tree's batch tail gives the generic outputs, Targets and value types") {
  // The numeric batch path finishes a single tree from its walk (TreeTail), regression trees from the leaf
  // value the walk carries: their outputs, Targets, float scores and casts must be the generic path's.
  struct Variant {
    bool classification;
    const char* score_type;
    std::string after_schema;
  };
  const std::vector<Variant> variants{
      {false, "double",
       "<Output><OutputField name=\"p\" feature=\"predictedValue\" dataType=\"double\"/></Output>"
       "<Targets><Target field=\"y\" rescaleFactor=\"3.5\" rescaleConstant=\"-1.25\"/></Targets>"},
      {false, "float", "<Output><OutputField name=\"p\" feature=\"predictedValue\" dataType=\"float\"/></Output>"},
      {false, "integer",
       "<Output><OutputField name=\"p\" feature=\"predictedValue\" dataType=\"integer\"/></Output>"
       "<Targets><Target field=\"y\" castInteger=\"round\"/></Targets>"},
      {false, "double", "<Targets><Target field=\"y\" min=\"-3\" max=\"4\"/></Targets>"},
      {true, "",
       "<Output><OutputField name=\"pa\" feature=\"probability\" value=\"a\" dataType=\"double\"/>"
       "<OutputField name=\"label\" feature=\"predictedValue\" dataType=\"string\"/>"
       "<OutputField name=\"c\" feature=\"confidence\" dataType=\"double\"/></Output>"},
  };
  std::mt19937_64 rng(99);
  for (const auto& v : variants)
    for (const char* no_true_child : {"returnNullPrediction", "returnLastPrediction"}) {
      TreeSpec spec{"nullPrediction", no_true_child, v.classification, true, 6, v.after_schema, v.score_type};
      const std::string text = TreeWriter(spec, rng).pmml();
      CAPTURE(text.substr(0, 1500));
      pmmlrt::LoadOptions slow;
      slow.ensemble_kernel = false;
      auto fast_model = pmmlrt::Model::load_string(text);
      auto slow_model = pmmlrt::Model::load_string(text, slow);
      pmmlrt::BatchOptions keep_going;
      keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
      for (std::size_t rows : {2, 9, 64, 130}) {
        const auto x = hostile_inputs(rows, spec.features, rng);
        pmmlrt_test::require_same_batches(fast_model.score(x.data(), rows, spec.features, pmmlrt::Layout::RowMajor, {}, keep_going),
                     slow_model.score(x.data(), rows, spec.features, pmmlrt::Layout::RowMajor, {}, keep_going));
        // score_into, where a regression tree is walked straight from the span, and score(Record), from the
        // record's numbers.
        for (std::size_t r = 0; r < rows; ++r) {
          pmmlrt_test::require_same_score_into(fast_model, slow_model, x.data() + r * spec.features, spec.features);
          pmmlrt_test::require_same_record(fast_model, slow_model, x.data() + r * spec.features, spec.features,
                                           r % 2 == 1);
        }
      }
    }
}
