// Set tests in the binned kernel (categorical splits: isIn / isNotIn, equal / notEqual, isMissing on a
// category, mixed with thresholds on the same field). Random ensembles over integer, float, double and string
// fields are scored with the kernel on and off, record by record and in batches, on the values where a set
// test can go wrong: each member, its neighbouring doubles, values in no set, signed zeros, infinities,
// unknown texts, invalid and missing values. The results must agree bit for bit, and the kernels must have
// taken the binned path.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;

struct Field {
  const char* name;
  const char* data_type;
  const char* optype;
  const char* array_type;
  std::vector<std::string> pool;  // the constants its predicates use
  bool numeric;
};

/// The fields of a generated model. With `wide`, one of more than 64 categories (several membership words);
/// without it every set test fits in the perfect layout's test words (Binned::perfect_inline_sets).
std::vector<Field> fields(bool with_string, bool wide) {
  std::vector<Field> out{
      {"i", "integer", "categorical", "int", {}, true},
      {"d", "double", "continuous", "real", {"-1.5", "-0", "0", "0.25", "0.5", "2", "3", "1e300", "INF", "-INF"}, true},
      {"f", "float", "continuous", "real", {"0.1", "0.2", "0.3", "1.5", "-2.5"}, true},
  };
  for (int v = -3; v <= 12; ++v) out[0].pool.push_back(std::to_string(v));
  if (wide) {
    out.insert(out.begin() + 1, {"w", "integer", "categorical", "int", {}, true});
    for (int v = 0; v < 200; ++v) out[1].pool.push_back(std::to_string(v));
  }
  if (with_string) out.push_back({"s", "string", "categorical", "string", {"a", "b", "c", "d", "e"}, false});
  return out;
}

std::string quoted(const Field& f, const std::string& v) { return f.numeric ? v : "&quot;" + v + "&quot;"; }

/// Generates random ensembles; every tree of a model shares one missingValueStrategy.
class Generator {
 public:
  Generator(std::uint64_t seed, bool classification, bool with_string, bool wide, const char* missing_strategy,
            const char* invalid_treatment)
      : rng_(seed), classification_(classification), binary_(!wide), fields_(fields(with_string, wide)),
        strategy_(missing_strategy),
        invalid_(invalid_treatment) {}

  std::string model(int trees) {
    std::string s = "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><Header/><DataDictionary>";
    if (classification_)
      s += "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"x\"/><Value value=\"y\"/>"
           "<Value value=\"z\"/></DataField>";
    else
      s += "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
    for (const auto& f : fields_)
      s += std::string("<DataField name=\"") + f.name + "\" optype=\"" + f.optype + "\" dataType=\"" + f.data_type + "\"/>";
    s += "</DataDictionary>";
    s += std::string("<MiningModel functionName=\"") + function() + "\">" + schema(true);
    s += std::string("<Segmentation multipleModelMethod=\"") + (classification_ ? "majorityVote" : "sum") + "\">";
    for (int t = 0; t < trees; ++t) {
      s += "<Segment id=\"" + std::to_string(t + 1) + "\"><True/>";
      s += std::string("<TreeModel functionName=\"") + function() + "\" missingValueStrategy=\"" + strategy_ +
           "\" noTrueChildStrategy=\"" + (pick(2) ? "returnLastPrediction" : "returnNullPrediction") + "\">" +
           schema(false);
      next_id_ = 0;
      s += node("<True/>", 0) + "</TreeModel></Segment>";
    }
    return s + "</Segmentation></MiningModel></PMML>";
  }

 private:
  std::mt19937_64 rng_;
  bool classification_;
  bool binary_;  // two children per node (a perfect layout of depth <= 12 is possible), else two or three
  std::vector<Field> fields_;
  const char* strategy_;
  const char* invalid_;
  int next_id_ = 0;

  std::size_t pick(std::size_t n) { return std::size_t(rng_() % n); }
  const char* function() const { return classification_ ? "classification" : "regression"; }

  std::string schema(bool top) {
    std::string s = "<MiningSchema><MiningField name=\"y\" usageType=\"target\"/>";
    for (const auto& f : fields_)
      s += std::string("<MiningField name=\"") + f.name + "\"" +
           (top ? std::string(" invalidValueTreatment=\"") + invalid_ + "\"" : std::string()) + "/>";
    return s + "</MiningSchema>";
  }

  std::string score() {
    if (classification_) return std::string(1, "xyz"[pick(3)]);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", (double(pick(2001)) - 1000.0) / 96.0);
    return buf;
  }

  std::string predicate() {
    const Field& f = fields_[pick(fields_.size())];
    const std::string name = std::string("field=\"") + f.name + "\"";
    const std::string value = f.pool[pick(f.pool.size())];
    switch (pick(10)) {
      case 0: return "<SimplePredicate " + name + " operator=\"equal\" value=\"" + value + "\"/>";
      case 1: return "<SimplePredicate " + name + " operator=\"notEqual\" value=\"" + value + "\"/>";
      case 2: return "<SimplePredicate " + name + (pick(2) ? " operator=\"isMissing\"/>" : " operator=\"isNotMissing\"/>");
      case 3: {
        if (!f.numeric) break;
        static const char* ops[] = {"lessOrEqual", "lessThan", "greaterThan", "greaterOrEqual"};
        return "<SimplePredicate " + name + " operator=\"" + ops[pick(4)] + "\" value=\"" + value + "\"/>";
      }
      default: break;
    }
    // A set of 1 to (up to) 100 distinct members.
    std::vector<std::string> members;
    const std::size_t n = 1 + pick(std::min<std::size_t>(f.pool.size(), 100));
    for (std::size_t j = 0; j < n; ++j) members.push_back(f.pool[pick(f.pool.size())]);
    std::string array;
    for (const auto& m : members) array += (array.empty() ? "" : " ") + quoted(f, m);
    return "<SimpleSetPredicate " + name + " booleanOperator=\"" + (pick(3) ? "isIn" : "isNotIn") +
           "\"><Array type=\"" + f.array_type + "\">" + array + "</Array></SimpleSetPredicate>";
  }

  std::string node(const std::string& pred, int depth) {
    const int id = next_id_++;
    std::vector<std::string> children;
    if (depth < (binary_ ? 4 : 5) && pick(5) != 0) {
      const std::size_t n = binary_ ? 2 : 2 + pick(2);
      for (std::size_t c = 0; c < n; ++c)
        children.push_back(node(c + 1 == n && pick(2) ? "<True/>" : predicate(), depth + 1));
    }
    std::string s = "<Node id=\"" + std::to_string(id) + "\" score=\"" + score() + "\"";
    if (!children.empty() && std::string(strategy_) == "defaultChild") {
      // The id of a random child: each child's id is this node's id + 1 + the sizes of the subtrees before it.
      const std::size_t c = pick(children.size());
      s += " defaultChild=\"" + child_id(children, c) + "\"";
    }
    s += ">" + pred;
    for (const auto& c : children) s += c;
    return s + "</Node>";
  }

  static std::string child_id(const std::vector<std::string>& children, std::size_t c) {
    // Each child's text starts with <Node id="N": read it back.
    const std::string& text = children[c];
    const auto b = text.find('"') + 1;
    return text.substr(b, text.find('"', b) - b);
  }
};

/// The values a set test can get wrong, for field `f`: members, their neighbours, values in no set, zeros,
/// infinities, NaN, texts, missing.
pmmlrt::Value hostile(const Field& f, std::mt19937_64& rng) {
  const double inf = std::numeric_limits<double>::infinity();
  if (rng() % 12 == 0) return pmmlrt::Value();
  if (!f.numeric) {
    static const char* others[] = {"zz", "", "x", "A", " a"};
    if (rng() % 3 == 0) return pmmlrt::Value(others[rng() % 5]);
    return pmmlrt::Value(f.pool[rng() % f.pool.size()]);
  }
  const std::string& token = f.pool[rng() % f.pool.size()];
  const double t = token == "INF" ? inf : token == "-INF" ? -inf : std::stod(token);
  switch (rng() % 12) {
    case 0: return pmmlrt::Value(std::nextafter(t, inf));
    case 1: return pmmlrt::Value(std::nextafter(t, -inf));
    case 2: return pmmlrt::Value(double(float(t)));
    case 3: return pmmlrt::Value(double(std::nextafter(float(t), float(inf))));
    case 4: return pmmlrt::Value((rng() & 1) ? -0.0 : 0.0);
    case 5: return pmmlrt::Value((rng() & 1) ? inf : -inf);
    case 6: return pmmlrt::Value(std::nan(""));
    case 7: return pmmlrt::Value(t + 0.5);  // between the integers, or next to a member
    case 8: return pmmlrt::Value(double(std::int64_t(rng() % 2001) - 1000));
    case 9: return pmmlrt::Value(token);     // the text of a member
    default: return pmmlrt::Value(t);
  }
}

struct KernelCount {
  std::size_t kernels = 0, binned = 0, binned_with_sets = 0, perfect_with_sets = 0, inline_sets = 0;
};

/// The model's ensemble kernels: how many there are, how many are binned, how many of those have set tests.
KernelCount kernels(const std::string& text) {
  pmmlrt::LoadOptions options;
  auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options);
  const auto& program = compiled->program;
  KernelCount n;
  for (auto id : program.kernel_models) {
    // Ensembles only: a single TreeModel's kernel may keep its lastPrediction exits unbinned.
    const auto& model = *program.models[std::size_t(id)];
    if (!dynamic_cast<const pmmlrt::eval::MiningEval*>(&model)) continue;
    const auto& kernel = *model.kernel;
    ++n.kernels;
    n.binned += kernel.binned ? 1 : 0;
    n.binned_with_sets += kernel.binned && !kernel.bins.set_words.empty() ? 1 : 0;
    // The 16-lane (AVX-512) perfect layout, the one that takes memberships into its words.
    const bool perfect_sets = kernel.binned && kernel.bins.perfect_depth && kernel.bins.perfect_lanes == 16 &&
                              !kernel.bins.set_words.empty();
    n.perfect_with_sets += perfect_sets ? 1 : 0;
    n.inline_sets += perfect_sets && kernel.bins.perfect_inline_sets ? 1 : 0;
  }
  return n;
}

bool identical(const pmmlrt::Value& a, const pmmlrt::Value& b) {
  if (a.kind() != b.kind()) return false;
  return a.is_number() ? same_bits(a.number(), b.number()) : a == b;
}

/// Scores `record` with both models: the same error, or the same results to the bit.
std::string describe(const pmmlrt::Record& record) {
  std::string out;
  for (const auto& [name, v] : record) {
    char buf[40];
    if (v.is_number()) std::snprintf(buf, sizeof buf, "%.17g", v.number());
    out += name + "=" + (v.is_missing() ? std::string("(missing)") : v.is_number() ? std::string(buf) : "'" + v.text() + "'") + " ";
  }
  return out;
}

void require_same_record(const pmmlrt::Model& fast, const pmmlrt::Model& slow, const pmmlrt::Record& record) {
  const std::string values = describe(record);
  CAPTURE(values);
  pmmlrt::Result a, b;
  std::string ea, eb;
  try { a = fast.score(record); } catch (const pmmlrt::Error& e) { ea = e.what(); }
  try { b = slow.score(record); } catch (const pmmlrt::Error& e) { eb = e.what(); }
  REQUIRE(ea == eb);
  if (!ea.empty()) return;
  REQUIRE(identical(a.predicted(), b.predicted()));
  REQUIRE(a.probabilities().size() == b.probabilities().size());
  for (std::size_t c = 0; c < a.probabilities().size(); ++c) REQUIRE(same_bits(a.probabilities()[c], b.probabilities()[c]));
}

}  // namespace

TEST_CASE("set tests: the binned kernel and the generic walk agree on members, non-members and missing values") {
  // Set tests are binned for the AVX-512 walks only (the AVX2 and scalar levels take the scalar steps).
  const bool vector_walks = pmmlrt::eval::simd_level() == pmmlrt::eval::SimdLevel::Avx512;
  const char* layout = std::getenv("PMMLRT_TREE_LAYOUT");  // "nodes": no perfect layout
  const bool nodes_layout = layout && std::string(layout) == "nodes";
  std::size_t models = 0, binned = 0, inlined = 0, records = 0;
  std::mt19937_64 values(7);
  std::uint64_t seed = 1;
  for (const char* strategy : {"none", "nullPrediction", "defaultChild", "lastPrediction"})
    for (const char* invalid : {"returnInvalid", "asIs", "asMissing"})
      for (bool classification : {false, true})
        for (bool with_string : {false, true})
        for (bool wide : {true, false}) {
          const std::string label = std::string(strategy) + " " + invalid + (classification ? " vote" : " sum") +
                                    (with_string ? " with string" : "") + (wide ? " wide" : "") + " seed " +
                                    std::to_string(seed);
          CAPTURE(label);
          Generator gen(seed++, classification, with_string, wide, strategy, invalid);
          const int trees = seed % 2 ? 20 : 12;  // 20: the perfect layout (16 trees or more)
          const std::string text = gen.model(trees);
          pmmlrt::LoadOptions slow_options;
          slow_options.ensemble_kernel = false;
          auto fast = pmmlrt::Model::load_string(text);
          auto slow = pmmlrt::Model::load_string(text, slow_options);
          const auto counted = kernels(text);
          const std::size_t with_sets = counted.binned_with_sets;
          REQUIRE(counted.kernels == 1);
          ++models;
          binned += with_sets;
          // lastPrediction and defaultChild trees send a missing value to a third place (the node itself, a
          // child after the next): those stay unbinned, on the scalar steps. The others must be binned.
          const bool two_exits = std::string(strategy) == "none" || std::string(strategy) == "nullPrediction";
          if (vector_walks && two_exits) REQUIRE(with_sets == 1);
          // Two hundred categories cannot go in a test word; the perfect layout (16 trees or more) of a model
          // without them carries its memberships in its words.
          if (wide) REQUIRE(counted.inline_sets == 0);
          else REQUIRE(counted.inline_sets == counted.perfect_with_sets);
          if (vector_walks && two_exits && trees >= 16 && !nodes_layout) REQUIRE(counted.perfect_with_sets == 1);
          inlined += counted.inline_sets;

          const auto spec = fields(with_string, wide);
          std::vector<std::string> names;
          for (const auto& f : spec) names.push_back(f.name);
          // Rows: one record at a time (the single-record walk), then as batches of several sizes (the block
          // walks, their tails and padding).
          const std::size_t rows = 203;
          std::vector<std::vector<pmmlrt::Value>> columns(spec.size());
          std::vector<pmmlrt::Record> recs(rows);
          for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < spec.size(); ++c) {
              auto v = hostile(spec[c], values);
              recs[r][spec[c].name] = v;
              columns[c].push_back(v);
            }
          for (const auto& rec : recs) require_same_record(fast, slow, rec);
          records += rows;
          pmmlrt::BatchOptions keep_going;
          keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
          for (std::size_t n : {std::size_t(3), std::size_t(9), rows}) {
            CAPTURE(n);
            std::vector<std::vector<pmmlrt::Value>> part(columns.size());
            for (std::size_t c = 0; c < columns.size(); ++c) part[c].assign(columns[c].begin(), columns[c].begin() + std::ptrdiff_t(n));
            auto a = fast.score(names, part, keep_going);
            auto b = slow.score(names, part, keep_going);
            REQUIRE(a.rows() == n);
            for (std::size_t r = 0; r < n; ++r) {
              CAPTURE(r);
              REQUIRE(a.errors()[r] == b.errors()[r]);
              REQUIRE(identical(a.predicted_values()[r], b.predicted_values()[r]));
            }
          }
          // Numeric models also through the matrix batch and the latency path (score_into).
          if (!with_string) {
            std::vector<double> x(rows * spec.size());
            for (std::size_t r = 0; r < rows; ++r)
              for (std::size_t c = 0; c < spec.size(); ++c) {
                const auto& v = columns[c][r];
                x[r * spec.size() + c] = v.is_number() ? v.number() : std::nan("");
              }
            auto a = fast.score(x.data(), rows, spec.size(), pmmlrt::Layout::RowMajor, names, keep_going);
            auto b = slow.score(x.data(), rows, spec.size(), pmmlrt::Layout::RowMajor, names, keep_going);
            for (std::size_t r = 0; r < rows; ++r) {
              CAPTURE(r);
              REQUIRE(a.errors()[r] == b.errors()[r]);
              REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
              for (std::size_t c = 0; c < a.classes().size(); ++c)
                REQUIRE(same_bits(a.probabilities()(r, c), b.probabilities()(r, c)));
            }
          }
        }
  MESSAGE(records << " records over " << models << " random ensembles, " << binned << " binned with set tests, "
                  << inlined << " with their memberships in the test words");
  if (vector_walks && !nodes_layout) CHECK(inlined >= 12);
}

TEST_CASE("set tests: the real ensembles with categorical splits take the binned kernel") {
  // Set tests are binned for the AVX-512 walks only.
  if (pmmlrt::eval::simd_level() != pmmlrt::eval::SimdLevel::Avx512) return;
  std::size_t models = 0, with_sets = 0;
  for (auto& p : std::filesystem::recursive_directory_iterator(PMMLRT_CONFORMANCE_DIR)) {
    if (p.path().filename() != "model.pmml") continue;
    const std::string text = pmmlrt_test::slurp(p.path());
    if (text.find("SimpleSetPredicate") == std::string::npos) continue;
    CAPTURE(p.path().string());
    const auto n = kernels(text);
    REQUIRE(n.binned == n.kernels);
    models += n.kernels ? 1 : 0;
    with_sets += n.binned_with_sets;
  }
  MESSAGE(models << " ensembles with set tests in the corpus, " << with_sets << " binned kernels with set tests");
  CHECK(with_sets >= 12);
}
