// The split parse (loader.cpp: a skeleton, then each innermost Segment on its own) must give the IR that the
// DOM of the whole document gives, to every path and line, and report every error as the whole parse does;
// so must a load that reads the Segments on several threads (LoadOptions::threads), whatever their count.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace pmmlrt;

namespace {

/// Everything of an IR that says where it came from, and the trees' contents, as text.
class Dump {
 public:
  std::string of(const ir::Document& d) {
    line("version", d.version);
    for (const auto& f : d.data_dictionary) line("DataField", f.name + " " + f.path);
    for (const auto& f : d.transformations) derived(f);
    for (const auto& f : d.functions) {
      line("DefineFunction", f.name + " " + f.path);
      expression(f.body.get());
    }
    model(*d.model);
    return out_.str();
  }

 private:
  std::ostringstream out_;
  void line(const char* what, const std::string& text) { out_ << what << ": " << text << "\n"; }
  void derived(const ir::DerivedField& f) {
    line("DerivedField", f.name + " " + f.path);
    expression(f.expression.get());
  }
  void expression(const ir::Expression* e) {
    if (!e) return;
    line("Expression", e->path + " " + e->field + " " + e->value);
    for (const auto& a : e->arguments) expression(a.get());
  }
  void predicate(const ir::Predicate& p) {
    line("Predicate", p.path + " line " + std::to_string(p.line) + " " + p.field + " " + p.op + " " + p.value);
    for (const auto& v : p.values) line("value", v);
    for (const auto& c : p.children) predicate(*c);
  }
  void model(const ir::Model& m) {
    line("Model", m.element + " " + m.path + " " + m.name);
    for (const auto& f : m.mining_schema) line("MiningField", f.name + " " + f.path());
    for (const auto& f : m.output) {
      line("OutputField", f.name + " " + f.path);
      expression(f.expression.get());
    }
    for (const auto& t : m.targets) line("Target", t.field + " " + t.path);
    for (const auto& f : m.local_transformations) derived(f);
    if (m.regression)
      for (const auto& t : m.regression->tables) line("RegressionTable", t.path);
    if (m.tree) {
      const auto& t = *m.tree;
      for (const auto& n : t.nodes)
        out_ << "Node " << t.str(n.id) << " " << t.str(n.score) << " " << t.str(n.default_child) << " line " << n.line
             << " " << n.record_count << " " << n.predicate << " " << n.first_child << " " << n.child_count << " "
             << n.dist_begin << " " << n.dist_end << " " << n.embedded << "\n";
      for (const auto& p : t.predicates)
        out_ << "TreePredicate " << int(p.kind) << " " << int(p.op) << " line " << p.line << " " << t.str(p.field) << " "
             << t.str(p.value) << " " << p.begin << " " << p.end << "\n";
      for (const auto& v : t.set_values) line("set value", t.str(v));
      for (const auto& d : t.distributions) line("ScoreDistribution", t.str(d.value));
      for (const auto& e : t.embedded) model(*e);
    }
    if (m.mining)
      for (const auto& s : m.mining->segments) {
        line("Segment", s.id + " " + s.path);
        predicate(*s.predicate);
        model(*s.model);
      }
  }
};

std::vector<fs::path> models() {
  std::vector<fs::path> out;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!fs::is_directory(root)) continue;
    for (auto& p : fs::recursive_directory_iterator(root))
      if (p.path().extension() == ".pmml") out.push_back(p.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string error_of(const std::string& text, const LoadOptions& options = {}) {
  try {
    Model::load_string(text, options);
  } catch (const Error& e) {
    return std::to_string(int(e.kind())) + " " + e.what();
  }
  return "loaded";
}

/// A forest of three small trees; `tree(i)` gives the content of the i-th TreeModel's root Node.
std::string forest(const std::vector<std::string>& roots) {
  std::string s =
      "<?xml version=\"1.0\"?>\n<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">\n"
      "<DataDictionary>\n<DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>\n"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>\n</DataDictionary>\n"
      "<MiningModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n"
      "<Segmentation multipleModelMethod=\"sum\">\n";
  for (std::size_t i = 0; i < roots.size(); ++i)
    s += "<Segment id=\"" + std::to_string(i + 1) + "\"><True/>\n<TreeModel functionName=\"regression\">\n"
         "<MiningSchema><MiningField name=\"x\"/></MiningSchema>\n<Node score=\"0\"><True/>\n" + roots[i] +
         "</Node>\n</TreeModel>\n</Segment>\n";
  return s + "</Segmentation>\n</MiningModel>\n</PMML>\n";
}

using pmmlrt_test::on_threads;

/// The IR as text, or the error.
std::string dump_or_error(const std::string& text, const LoadOptions& options) {
  try {
    return Dump().of(pmml::load_document(text, options));
  } catch (const Error& e) {
    return "error " + std::to_string(int(e.kind())) + " " + e.what();
  }
}

/// A regression forest of `trees` random trees of depth `depth` over x0, x1 (double) and x2, x3 (float),
/// what make_big_forest.py makes of a real model, in small: every node has an id and a score.
std::string random_forest(std::size_t trees, int depth, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::ostringstream s;
  s.precision(17);
  s << "<?xml version=\"1.0\"?>\n<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">\n<DataDictionary>\n";
  for (int f = 0; f < 4; ++f)
    s << "<DataField name=\"x" << f << "\" optype=\"continuous\" dataType=\"" << (f < 2 ? "double" : "float") << "\"/>\n";
  s << "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>\n</DataDictionary>\n"
       "<MiningModel functionName=\"regression\">\n<MiningSchema>";
  for (int f = 0; f < 4; ++f) s << "<MiningField name=\"x" << f << "\"/>";
  s << "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n<Segmentation multipleModelMethod=\"sum\">\n";
  int id = 0;
  auto node = [&](auto&& self, int level, const std::string& predicate) -> void {
    s << "<Node id=\"" << ++id << "\" score=\"" << u(rng) << "\">" << predicate << "\n";
    if (level < depth) {
      const int f = int(rng() % 4);
      const double t = double(int(rng() % 17) - 8) / 8;  // on a grid that test inputs hit exactly
      self(self, level + 1, "<SimplePredicate field=\"x" + std::to_string(f) + "\" operator=\"lessThan\" value=\"" +
                                std::to_string(t) + "\"/>");
      self(self, level + 1, "<True/>");
    }
    s << "</Node>\n";
  };
  for (std::size_t t = 0; t < trees; ++t) {
    s << "<Segment id=\"t" << t << "\"><True/>\n<TreeModel functionName=\"regression\" missingValueStrategy=\""
      << (t % 3 == 0 ? "nullPrediction" : "lastPrediction") << "\">\n<MiningSchema>";
    for (int f = 0; f < 4; ++f) s << "<MiningField name=\"x" << f << "\"/>";
    s << "</MiningSchema>\n";
    node(node, 0, "<True/>");
    s << "</TreeModel>\n</Segment>\n";
  }
  s << "</Segmentation>\n</MiningModel>\n</PMML>\n";
  return s.str();
}

const std::string good_leaves =
    "<Node score=\"1\"><SimplePredicate field=\"x\" operator=\"lessThan\" value=\"0.5\"/></Node>\n"
    "<Node score=\"2\"><True/></Node>\n";

}  // namespace

TEST_CASE("the split parse gives the IR of the whole parse on every real model") {
  auto paths = models();
  REQUIRE(paths.size() > 20);
  std::size_t ensembles = 0;
  for (const auto& p : paths) {
    CAPTURE(p.string());
    std::string text = pmmlrt_test::slurp(p);
    std::string whole, split;
    try {
      whole = Dump().of(pmml::load_document_whole(text, {}));
    } catch (const Error& e) {
      whole = std::string("error: ") + e.what();
    }
    try {
      split = Dump().of(pmml::load_document(text, {}));
    } catch (const Error& e) {
      split = std::string("error: ") + e.what();
    }
    CHECK(split == whole);
    if (pmml::split_segments(text, {}) > 0) ++ensembles;
  }
  CHECK(ensembles > 10);
}

TEST_CASE("the split parse names the elements of a Segment as the whole parse does") {
  // Messages that the compiler gives from the IR: its paths and lines come from the split parse.
  std::string undeclared = forest({good_leaves,
                                   "<Node score=\"1\"><SimplePredicate field=\"z\" operator=\"lessThan\" value=\"1\"/>"
                                   "</Node>\n<Node score=\"2\"><True/></Node>\n",
                                   good_leaves});
  CHECK(error_of(undeclared) ==
        std::to_string(int(ErrorKind::Model)) + " field \"z\" is not declared (at predicate at line 23)");
  std::string schema = forest({good_leaves, good_leaves, good_leaves});
  schema.replace(schema.rfind("<MiningField name=\"x\"/></MiningSchema>"), 23, "<MiningField name=\"w\"/>");
  CHECK(error_of(schema) == std::to_string(int(ErrorKind::Model)) +
                                " MiningField \"w\" names no DataField or visible field (at "
                                "/PMML/MiningModel/Segmentation/Segment[3]/TreeModel/MiningSchema/MiningField)");
}

TEST_CASE("a failed split load reports what the whole parse reports") {
  const std::string broken_later = "<Node score=\"1\"><True/></Node>\n<Node score=\"2\"><True x/></Node>\n";
  const std::string bad_operator =
      "<Node score=\"1\"><SimplePredicate field=\"x\" operator=\"near\" value=\"1\"/></Node>\n"
      "<Node score=\"2\"><True/></Node>\n";
  for (const auto& text : {
           forest({good_leaves, bad_operator, good_leaves}),     // a semantic error in a Segment
           forest({bad_operator, good_leaves, broken_later}),    // malformed XML after a semantic error
           forest({good_leaves, good_leaves, broken_later}),     // malformed XML in the last Segment
           forest({good_leaves}) + "<Extra/>",                    // a second root element
       }) {
    CAPTURE(text);
    CHECK(pmml::split_segments(text, {}) > 0);
    std::string whole;
    try {
      pmml::load_document_whole(text, {});
      whole = "loaded";
    } catch (const Error& e) {
      whole = std::to_string(int(e.kind())) + " " + e.what();
    }
    CHECK(whole != "loaded");
    CHECK(error_of(text) == whole);
  }
  CHECK(error_of(forest({bad_operator, good_leaves, broken_later})).find("malformed XML") != std::string::npos);
}

TEST_CASE("the split parse reads documents it cannot split whole") {
  // A DOCTYPE, a Segment in a comment, quoted '>' and a CDATA section: the scan must follow each.
  std::string doc = forest({good_leaves, good_leaves});
  CHECK(pmml::split_segments(doc, {}) == 2);
  doc.insert(doc.find("<PMML"), "<!DOCTYPE PMML>\n");
  CHECK(pmml::split_segments(doc, {}) == 0);
  CHECK(Model::load_string(doc).model_type() == "MiningModel");
  std::string tricky = forest({good_leaves, good_leaves});
  tricky.replace(tricky.find("<Segment id=\"2\">"), 16, "<!-- <Segment> --><Segment id=\"2&gt;\" note='a>b'>");
  tricky.replace(tricky.find("<Node score=\"0\">"), 16, "<Node score=\"0\"><Extension><![CDATA[</Segment>]]></Extension>");
  CHECK(pmml::split_segments(tricky, {}) == 2);
  auto whole = Dump().of(pmml::load_document_whole(tricky, {}));
  CHECK(Dump().of(pmml::load_document(tricky, {})) == whole);
  CHECK(whole.find("Segment: 2> ") != std::string::npos);
}

TEST_CASE("a load on several threads gives the IR of a one-thread load on every real model") {
  auto paths = models();
  REQUIRE(paths.size() > 20);
  std::size_t ensembles = 0;
  for (const auto& p : paths) {
    CAPTURE(p.string());
    const std::string text = pmmlrt_test::slurp(p);
    const std::string one = dump_or_error(text, on_threads(1));
    for (std::size_t threads : {2, 4, 0}) {
      CAPTURE(threads);
      CHECK(dump_or_error(text, on_threads(threads)) == one);
    }
    if (pmml::split_segments(text, {}) > 1) ++ensembles;
  }
  CHECK(ensembles > 10);
}

TEST_CASE("a large forest loads to the same IR and scores on 1, 2 and 4 threads") {
  const std::string text = random_forest(400, 5, 7);
  REQUIRE(pmml::split_segments(text, {}) == 400);
  const std::string one = dump_or_error(text, on_threads(1));
  REQUIRE(one.rfind("error", 0) != 0);
  CHECK(Dump().of(pmml::load_document_whole(text, {})) == one);
  const Model reference = Model::load_string(text, on_threads(1));
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.2, 1.2);
  std::vector<double> rows(200 * 4);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i % 2 ? u(rng) : double(int(rng() % 17) - 8) / 8;
  for (std::size_t r = 0; r < 200; r += 17) rows[r * 4 + r % 4] = std::nan("");  // some missing inputs
  const auto expected = reference.score(rows.data(), 200, 4, Layout::RowMajor).predicted();
  for (std::size_t threads : {2, 4}) {
    CAPTURE(threads);
    CHECK(dump_or_error(text, on_threads(threads)) == one);
    const auto got = Model::load_string(text, on_threads(threads)).score(rows.data(), 200, 4, Layout::RowMajor).predicted();
    REQUIRE(got.size() == expected.size());
    for (std::size_t r = 0; r < got.size(); ++r) CHECK(pmmlrt_test::same_bits(got[r], expected[r]));
  }
}

TEST_CASE("a load on several threads reports the error of a one-thread load") {
  // Errors in the middle of a forest wide enough that several threads read Segments when it fails.
  std::vector<std::string> roots(40, good_leaves);
  const std::string broken = "<Node score=\"1\"><True/></Node>\n<Node score=\"2\"><True x/></Node>\n";
  const std::string bad_operator =
      "<Node score=\"1\"><SimplePredicate field=\"x\" operator=\"near\" value=\"1\"/></Node>\n"
      "<Node score=\"2\"><True/></Node>\n";
  const std::string bad_number =
      "<Node score=\"1\" recordCount=\"many\"><True/></Node>\n<Node score=\"2\"><True/></Node>\n";
  auto with = [&](std::vector<std::pair<std::size_t, std::string>> changes) {
    auto r = roots;
    for (auto& [at, root] : changes) r[at] = root;
    return forest(r);
  };
  struct Case {
    std::string text;
    LoadOptions options;
  };
  LoadOptions few_nodes;
  few_nodes.max_nodes = 20 * 3 + 1;  // exceeded in the 21st tree
  LoadOptions few_segments;
  few_segments.max_segments = 25;
  std::vector<Case> cases = {
      {with({{20, broken}}), {}},                          // malformed XML in a middle Segment
      {with({{20, bad_operator}}), {}},                    // a semantic error there
      {with({{30, bad_number}, {10, bad_operator}}), {}},  // two: the first in document order counts
      {with({{10, bad_operator}, {30, broken}}), {}},      // malformed XML after a semantic error
      {with({{39, bad_number}}), {}},                      // in the last Segment
      {with({}), few_nodes},                               // the limit of tree nodes
      {with({}), few_segments},                            // the limit of Segments
  };
  for (auto& c : cases) {
    CAPTURE(c.text);
    const std::string one = error_of(c.text, [&] {
      LoadOptions o = c.options;
      o.threads = 1;
      return o;
    }());
    CHECK(one != "loaded");
    for (std::size_t threads : {2, 4, 0}) {
      CAPTURE(threads);
      LoadOptions o = c.options;
      o.threads = threads;
      CHECK(error_of(c.text, o) == one);
    }
  }
}
