// What a load builds must not depend on how it was built: on one load thread or several (the kernel of a
// forest is then built beside the compile of its trees, see KernelPipeline in compiler.cpp), the program's
// predicates, its trees and its kernels must be the same to the bit. And the kernel's edges, which the
// builder gathers value by value (each distinct threshold once), must be those of a sort of every threshold
// its nodes test, signed zeros included.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "eval/program.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt::LoadOptions;
using pmmlrt::eval::EnsembleKernel;

/// The bytes of what the compiler built, field by field (no padding): predicates, set values, tree nodes
/// and distributions, and every array of every kernel.
class Bytes {
 public:
  template <class T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class V>
  void all(const V& v) {
    put(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string compiled_bytes(const pmmlrt::compile::Compiled& c) {
  const auto& p = c.program;
  Bytes b;
  for (const auto& x : p.predicates) {
    b.put(x.op), b.put(x.string_compare), b.put(x.slot), b.put(x.num), b.put(x.sym), b.put(x.begin), b.put(x.end);
  }
  b.all(p.set_nums), b.all(p.set_syms), b.all(p.pred_children), b.put(p.slots.size()), b.put(p.models.size());
  for (const auto& m : p.models) {
    b.put(m->id);
    const auto* t = dynamic_cast<const pmmlrt::eval::TreeEval*>(m.get());
    if (!t) continue;
    for (const auto& n : t->nodes) {
      b.put(n.predicate), b.put(n.first_child), b.put(n.child_count), b.put(n.default_child), b.put(n.label);
      b.put(n.dist_begin), b.put(n.dist_end), b.put(n.embedded), b.put(n.id), b.put(n.has_score), b.put(n.value);
      b.put(n.record_count);
    }
    for (const auto& d : t->dists) b.put(d.label), b.put(d.weight), b.put(d.confidence), b.put(d.has_confidence);
  }
  b.all(p.kernel_models);
  for (auto id : p.kernel_models) {
    const EnsembleKernel& k = *p.models[std::size_t(id)]->kernel;
    b.all(k.feature_slots), b.all(k.direct_specs), b.all(k.direct_float), b.all(k.threshold), b.all(k.feature);
    b.all(k.yes), b.all(k.no), b.all(k.aux), b.all(k.kind), b.all(k.sets), b.all(k.packed), b.all(k.exits);
    for (const auto& o : k.others) b.put(o.op), b.put(o.threshold), b.put(o.set_begin), b.put(o.set_end), b.put(o.on_missing);
    for (bool s : k.simple_tree) b.put(s);
    b.put(k.simd), b.all(k.roots), b.all(k.weights), b.all(k.values), b.all(k.labels), b.all(k.probabilities);
    b.put(k.classes), b.put(k.null_result), b.put(k.binned), b.put(k.summing), b.put(k.sum_width), b.put(k.sum_start);
    b.put(k.weighted_sum), b.put(k.class_average), b.put(k.weight_total), b.all(k.class_rank);
    const auto& n = k.bins;
    b.put(n.feature_bits), b.put(n.missing_bin), b.put(n.leaf_k), b.all(n.edges), b.all(n.edge_begin), b.all(n.exact);
    b.put(n.any_exact), b.all(n.search_top), b.all(n.search_top_entries), b.all(n.search_deep), b.all(n.search_exact);
    b.all(n.search), b.all(n.search_levels), b.all(n.level_begin), b.all(n.set_words), b.all(n.nodes), b.all(n.result);
    b.all(n.leaf_value), b.all(n.roots), b.all(n.depth), b.all(n.group_depth), b.all(n.test_words);
    b.all(n.first_children), b.put(n.perfect_depth), b.put(n.gathered_levels), b.all(n.perfect_tests), b.all(n.perfect_leaves);
    b.all(n.perfect_terms), b.all(n.perfect_terms_float);
  }
  return b.take();
}

using pmmlrt_test::on_threads;

/// compiled_bytes of the document, or its error.
std::string build_of(const std::string& text, const LoadOptions& options) {
  try {
    return compiled_bytes(*pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options));
  } catch (const pmmlrt::Error& e) {
    return std::string("error ") + e.what();
  }
}

// Thresholds on a grid that holds both zeros, and sets of the string field's values.
const char* const kGrid[] = {"-1", "-0.5", "-0", "0", "0.25", "0.5", "1", "-0.0", "0.0"};
const char* const kSets[] = {"a", "a b", "b c", "d", "a c d"};

/// A forest of `trees` trees of depth `depth` over two double, a float and a string field: regression (sum)
/// or classification (average of ScoreDistributions), with thresholds on a grid that holds both zeros ("0"
/// and "-0"), and set tests on the string field. `binnable`: no tree sends a missing value to its own
/// prediction (lastPrediction), which the binned layout cannot express. `set_tests`: some tests are isIn
/// tests (which the AVX2 level does not bin).
std::string forest(std::size_t trees, int depth, bool classification, bool binnable, bool set_tests, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::ostringstream s;
  s.precision(17);
  const char* function = classification ? "classification" : "regression";
  s << "<?xml version=\"1.0\"?>\n<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">\n<DataDictionary>\n"
       "<DataField name=\"x0\" optype=\"continuous\" dataType=\"double\"/>\n"
       "<DataField name=\"x1\" optype=\"continuous\" dataType=\"double\"/>\n"
       "<DataField name=\"x2\" optype=\"continuous\" dataType=\"float\"/>\n"
       "<DataField name=\"c\" optype=\"categorical\" dataType=\"string\"><Value value=\"a\"/><Value value=\"b\"/>"
       "<Value value=\"c\"/><Value value=\"d\"/></DataField>\n";
  if (classification)
    s << "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"no\"/><Value value=\"yes\"/>"
         "</DataField>\n";
  else
    s << "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>\n";
  const std::string schema = "<MiningField name=\"x0\"/><MiningField name=\"x1\"/><MiningField name=\"x2\"/>"
                             "<MiningField name=\"c\"/>";
  s << "</DataDictionary>\n<MiningModel functionName=\"" << function << "\">\n<MiningSchema>" << schema
    << "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n<Segmentation multipleModelMethod=\""
    << (classification ? "average" : "sum") << "\">\n";
  auto leaf_content = [&] {
    std::ostringstream l;
    l.precision(17);
    if (classification) {
      const double p = double(rng() % 5) / 4;
      l << " score=\"" << (p >= 0.5 ? "yes" : "no") << "\">";
      return std::make_pair(l.str(), "<ScoreDistribution value=\"no\" recordCount=\"" + std::to_string(1 + rng() % 9) +
                                         "\"/><ScoreDistribution value=\"yes\" recordCount=\"" +
                                         std::to_string(1 + rng() % 9) + "\"/>");
    }
    l << " score=\"" << u(rng) << "\">";
    return std::make_pair(l.str(), std::string());
  };
  auto node = [&](auto&& self, int level, const std::string& predicate) -> void {
    const auto [head, distributions] = leaf_content();
    s << "<Node" << head << predicate << distributions << "\n";
    if (level < depth) {
      std::string test;
      if (set_tests && rng() % 5 == 0) {
        test = "<SimpleSetPredicate field=\"c\" booleanOperator=\"isIn\"><Array type=\"string\">" +
               std::string(kSets[rng() % 5]) + "</Array></SimpleSetPredicate>";
      } else {
        const int f = int(rng() % 3);
        test = "<SimplePredicate field=\"x" + std::to_string(f) + "\" operator=\"" +
               (rng() % 2 ? "lessThan" : "lessOrEqual") + "\" value=\"" + kGrid[rng() % 9] + "\"/>";
      }
      self(self, level + 1, test);
      self(self, level + 1, "<True/>");
    }
    s << "</Node>\n";
  };
  for (std::size_t t = 0; t < trees; ++t) {
    s << "<Segment id=\"t" << t << "\"><True/>\n<TreeModel functionName=\"" << function << "\" missingValueStrategy=\""
      << (t % 3 == 0 ? "nullPrediction" : t % 3 == 1 || binnable ? "none" : "lastPrediction") << "\">\n<MiningSchema>" << schema << "</MiningSchema>\n";
    node(node, 0, "<True/>");
    s << "</TreeModel>\n</Segment>\n";
  }
  s << "</Segmentation>\n</MiningModel>\n</PMML>\n";
  return s.str();
}

/// The kernel's edges as a sort of every value its nodes test gives them: each reachable test's thresholds
/// and set members, by feature, in the builder's order of visit, sorted, equal ones (-0.0 and 0.0 among
/// them) kept once, the first of them.
std::vector<double> edges_by_sorting_all(const EnsembleKernel& k) {
  using Kind = EnsembleKernel::Kind;
  using Op = EnsembleKernel::Op;
  std::vector<std::vector<double>> of(k.features());
  std::vector<char> seen(k.kind.size(), 0);
  for (auto root : k.roots) {
    std::vector<std::int32_t> todo{root};
    while (!todo.empty()) {
      const auto i = std::size_t(todo.back());
      todo.pop_back();
      if (seen[i] || k.kind[i] == Kind::Leaf) continue;
      seen[i] = 1;
      auto& out = of[std::size_t(k.feature[i])];
      if (k.kind[i] != Kind::Other) {
        out.push_back(k.threshold[i]);
      } else {
        const auto& o = k.others[std::size_t(k.aux[i])];
        if (o.op == Op::In || o.op == Op::NotIn) out.insert(out.end(), k.sets.begin() + o.set_begin, k.sets.begin() + o.set_end);
        else if (o.op == Op::Equal || o.op == Op::NotEqual || o.op == Op::LessEq) out.push_back(o.threshold);
      }
      todo.push_back(k.yes[i]);
      todo.push_back(k.no[i]);
    }
  }
  std::vector<double> edges;
  for (auto& v : of) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    edges.insert(edges.end(), v.begin(), v.end());
  }
  return edges;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

/// The documents to check: the corpora's, and forests made here.
std::vector<std::pair<std::string, std::string>> documents() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!std::filesystem::is_directory(root)) continue;
    for (auto& p : std::filesystem::recursive_directory_iterator(root))
      if (p.path().extension() == ".pmml") out.emplace_back(p.path().string(), pmmlrt_test::slurp(p.path()));
  }
  out.emplace_back("regression forest", forest(300, 5, false, true, true, 3));
  out.emplace_back("classification forest", forest(200, 4, true, true, true, 5));
  out.emplace_back("threshold forest", forest(100, 5, false, true, false, 11));
  out.emplace_back("unbinned forest", forest(40, 4, false, false, true, 7));
  out.emplace_back("small forest", forest(20, 3, false, true, true, 9));
  return out;
}

}  // namespace

TEST_CASE("a load builds the same program and kernels on 1, 2 and 4 threads") {
  std::size_t loaded = 0;
  for (const auto& [name, text] : documents()) {
    CAPTURE(name);
    const std::string one = build_of(text, on_threads(1));
    for (std::size_t threads : {2, 4}) {
      CAPTURE(threads);
      CHECK(build_of(text, on_threads(threads)) == one);
    }
    if (one.rfind("error ", 0) != 0) ++loaded;
  }
  CHECK(loaded > 10);
}

TEST_CASE("a kernel's edges are those of a sort of every value its nodes test, signed zeros included") {
  std::size_t checked = 0, with_both_zeros = 0;
  for (const auto& [name, text] : documents()) {
    CAPTURE(name);
    std::unique_ptr<pmmlrt::compile::Compiled> c;
    try {
      c = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, {}), {});
    } catch (const pmmlrt::Error&) {
      continue;
    }
    for (auto id : c->program.kernel_models) {
      const EnsembleKernel& k = *c->program.models[std::size_t(id)]->kernel;
      if (!k.binned) continue;
      const auto reference = edges_by_sorting_all(k);
      CHECK(same_bits(k.bins.edges, reference));
      ++checked;
      bool plus = false, minus = false;
      for (std::size_t i = 0; i < k.kind.size(); ++i)
        if (k.kind[i] != EnsembleKernel::Kind::Leaf && k.threshold[i] == 0.0) (std::signbit(k.threshold[i]) ? minus : plus) = true;
      with_both_zeros += plus && minus;
    }
  }
  MESSAGE(checked << " binned kernels checked, " << with_both_zeros << " with both zeros among their thresholds");
  if (pmmlrt::eval::simd_level() != pmmlrt::eval::SimdLevel::Scalar) {
    CHECK(checked >= 20);
    CHECK(with_both_zeros >= (pmmlrt::eval::simd_level() == pmmlrt::eval::SimdLevel::Avx512 ? 3 : 1));
  }
}

TEST_CASE("a large model file loads as its text does") {
  // Model::load_file reads the file and parses it in place: files over 1 MiB, one whose size is a whole
  // number of pages, and a malformed one, against load_string; and files of about 10 MiB whose bytes with
  // their NUL end just at and just past a 2 MiB boundary (a size where a reader might round its buffer).
  const std::string text = forest(400, 5, false, true, false, 17);
  REQUIRE(text.size() > (std::size_t(1) << 20));
  const auto dir = std::filesystem::temp_directory_path() / ("pmmlrt-load-identity-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& content) {
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  };
  std::string whole_pages = text;
  whole_pages.append(4096 - whole_pages.size() % 4096, '\n');  // whitespace after the root is allowed
  REQUIRE(whole_pages.size() % 4096 == 0);
  std::string malformed = text;
  malformed.replace(malformed.rfind("</PMML>"), 7, "</PMM>");
  constexpr std::size_t huge_page = std::size_t(2) << 20;
  const auto padded = [&](const std::string& content, std::size_t size) {
    REQUIRE(size >= content.size());
    return content + std::string(size - content.size(), ' ');
  };
  const std::string huge_fit = padded(text, 5 * huge_page - 1), huge_spill = padded(text, 5 * huge_page);
  const std::string huge_malformed = padded(malformed, 4 * huge_page + 12345);

  const pmmlrt::Model reference = pmmlrt::Model::load_string(text);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.2, 1.2);
  std::vector<double> rows(100 * 4);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i % 4 == 3 ? std::nan("") : i % 3 ? u(rng) : -0.0;
  const auto expected = reference.score(rows.data(), 100, 4, pmmlrt::Layout::RowMajor).predicted();
  for (const auto& [name, content] : {std::make_pair("large.pmml", text), std::make_pair("pages.pmml", whole_pages),
                                      std::make_pair("huge_fit.pmml", huge_fit),
                                      std::make_pair("huge_spill.pmml", huge_spill)}) {
    CAPTURE(name);
    const auto got = pmmlrt::Model::load_file(write(name, content)).score(rows.data(), 100, 4, pmmlrt::Layout::RowMajor).predicted();
    REQUIRE(got.size() == expected.size());
    for (std::size_t r = 0; r < got.size(); ++r) CHECK(pmmlrt_test::same_bits(got[r], expected[r]));
  }
  auto error_of = [](auto&& load) {
    try {
      load();
    } catch (const pmmlrt::Error& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  const auto malformed_path = write("malformed.pmml", malformed);
  const std::string from_text = error_of([&] { pmmlrt::Model::load_string(malformed); });
  CHECK(from_text != "loaded");
  CHECK(error_of([&] { pmmlrt::Model::load_file(malformed_path); }) == from_text);
  const auto huge_malformed_path = write("huge_malformed.pmml", huge_malformed);
  const std::string huge_from_text = error_of([&] { pmmlrt::Model::load_string(huge_malformed); });
  CHECK(huge_from_text == from_text);  // the padding lies after the error
  CHECK(error_of([&] { pmmlrt::Model::load_file(huge_malformed_path); }) == huge_from_text);
  std::filesystem::remove_all(dir);
}
