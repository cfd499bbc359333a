// The malformed-input corpus runner: every entry of cases.txt must fail with its declared error category
// (or load cleanly, for kind None) and must never crash, hang or blow up memory.
//
//   pmmlrt_malformed_tests CASES.txt [--only SUBSTRING] [--no-fork] [--verbose]
//
// Each case runs in a forked child with a time limit, so that a crash (signal, sanitizer report), a hang or
// a runaway allocation is reported as a failure of that case instead of ending the run. See README.md for the
// manifest format. Cases marked `bug=...` are known bugs: their failure is reported but tolerated, and the
// run fails when one of them starts passing (so that the marker is removed when the bug is fixed). Cases marked
// `sanbug=...` fail only in sanitizer builds (undefined behaviour, stack depth): tolerated there, fine elsewhere.

#include <pmmlrt/pmmlrt.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/csv.hpp"

namespace fs = std::filesystem;
using pmmlrt::ErrorKind;

namespace {

// ---- manifest ------------------------------------------------------------------------------------------

struct Case {
  std::size_t line = 0;
  std::string file;                         // a path relative to the manifest, or @generator:arg
  std::vector<std::string> kinds;           // accepted outcomes: Parse, Unsupported, ..., None, Csv
  std::string phase;                        // load | score | file | batch | csv
  std::vector<std::pair<std::string, std::string>> record;  // ordered k=v
  std::string message;                      // substring the message must contain; for None: expected prediction
  std::map<std::string, std::string> options;
  std::string bug;                          // non-empty: a known bug (the case is expected to fail for now)
  std::string sanitizer_bug;                // non-empty: a known bug that shows only in sanitizer builds
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

std::vector<Case> read_manifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<Case> cases;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto cols = split(t, '|');
    if (cols.size() < 3) throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": need at least 3 columns");
    cols.resize(6);
    Case c;
    c.line = n;
    c.file = cols[0];
    c.kinds = split(cols[1], ',');
    c.phase = cols[2];
    if (!cols[3].empty())
      for (const auto& kv : split(cols[3], ';')) {
        if (kv.empty()) continue;
        auto eq = kv.find('=');
        if (eq == std::string::npos) throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": bad record");
        c.record.emplace_back(trim(kv.substr(0, eq)), kv.substr(eq + 1));
      }
    c.message = cols[4];
    if (!cols[5].empty())
      for (const auto& kv : split(cols[5], ';')) {
        if (kv.empty()) continue;
        auto eq = kv.find('=');
        c.options[trim(kv.substr(0, eq))] = eq == std::string::npos ? "" : trim(kv.substr(eq + 1));
      }
    if (auto it = c.options.find("bug"); it != c.options.end()) c.bug = it->second.empty() ? "yes" : it->second;
    if (auto it = c.options.find("sanbug"); it != c.options.end())
      c.sanitizer_bug = it->second.empty() ? "yes" : it->second;
    static const char* const phases[] = {"load", "score", "file", "batch", "csv"};
    if (std::none_of(std::begin(phases), std::end(phases), [&](const char* p) { return c.phase == p; }))
      throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": unknown phase " + c.phase);
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---- generated documents -------------------------------------------------------------------------------

const char* const kHead =
    "<?xml version=\"1.0\"?>\n<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">\n<Header/>\n"
    "<DataDictionary>\n<DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>\n"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>\n</DataDictionary>\n";
const char* const kRegression =
    "<RegressionModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
    "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n"
    "<RegressionTable intercept=\"1\"><NumericPredictor name=\"%s\" coefficient=\"2\"/></RegressionTable>\n"
    "</RegressionModel>\n</PMML>\n";

std::string regression_using(const std::string& field) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kRegression, field.c_str());
  return buf;
}

std::string generate(const std::string& spec) {
  auto colon = spec.find(':');
  std::string name = spec.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
  std::size_t n = colon == std::string::npos ? 0 : std::stoul(spec.substr(colon + 1));
  std::string d;
  if (name == "deep_xml") {  // n nested unknown elements in the Header
    d = kHead;
    d.insert(d.find("<Header/>"), "<Header>");
    d.erase(d.find("<Header/>"), 9);
    std::string open, close;
    for (std::size_t i = 0; i < n; ++i) open += "<a>";
    for (std::size_t i = 0; i < n; ++i) close += "</a>";
    d.insert(d.find("<DataDictionary>"), open + close + "</Header>\n");
    d += regression_using("x");
  } else if (name == "deep_xml_unclosed") {  // n open elements, never closed
    d = "<PMML version=\"4.4\">";
    for (std::size_t i = 0; i < n; ++i) d += "<a>";
  } else if (name == "deep_tree") {  // a degenerate tree: a chain of n nodes
    d = kHead;
    d += "<TreeModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n";
    for (std::size_t i = 0; i < n; ++i)
      d += "<Node score=\"" + std::to_string(i) + "\"><SimplePredicate field=\"x\" operator=\"greaterThan\" value=\"" +
           std::to_string(-double(i)) + "\"/>";
    for (std::size_t i = 0; i < n; ++i) d += "</Node>";
    d += "\n</TreeModel>\n</PMML>\n";
  } else if (name == "deep_compound") {  // n nested CompoundPredicates in a tree node
    d = kHead;
    d += "<TreeModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n<Node score=\"0\"><True/><Node score=\"1\">";
    for (std::size_t i = 0; i < n; ++i) d += "<CompoundPredicate booleanOperator=\"and\"><True/>";
    d += "<True/>";
    for (std::size_t i = 0; i < n; ++i) d += "</CompoundPredicate>";
    d += "</Node></Node>\n</TreeModel>\n</PMML>\n";
  } else if (name == "deep_apply") {  // n nested Apply elements in a DerivedField
    d = kHead;
    d += "<TransformationDictionary><DerivedField name=\"d\" optype=\"continuous\" dataType=\"double\">";
    for (std::size_t i = 0; i < n; ++i) d += "<Apply function=\"+\"><Constant>1</Constant>";
    d += "<FieldRef field=\"x\"/>";
    for (std::size_t i = 0; i < n; ++i) d += "</Apply>";
    d += "</DerivedField></TransformationDictionary>\n";
    d += regression_using("d");
  } else if (name == "derived_chain") {  // d0 = x + 1, d_i = d_{i-1} + 1: a long dependency chain
    d = kHead;
    d += "<TransformationDictionary>\n";
    for (std::size_t i = 0; i < n; ++i)
      d += "<DerivedField name=\"d" + std::to_string(i) + "\" optype=\"continuous\" dataType=\"double\"><Apply function=\"+\">"
           "<FieldRef field=\"" + (i ? "d" + std::to_string(i - 1) : std::string("x")) + "\"/><Constant>1</Constant></Apply></DerivedField>\n";
    d += "</TransformationDictionary>\n";
    d += regression_using("d" + std::to_string(n - 1));
  } else if (name == "function_chain") {  // f_i(p) = f_{i+1}(p) + 1, f_{n-1}(p) = p: a long call chain
    d = kHead;
    d += "<TransformationDictionary>\n";
    for (std::size_t i = 0; i < n; ++i) {
      d += "<DefineFunction name=\"f" + std::to_string(i) + "\" optype=\"continuous\" dataType=\"double\">"
           "<ParameterField name=\"p\" dataType=\"double\"/>";
      if (i + 1 < n)
        d += "<Apply function=\"+\"><Apply function=\"f" + std::to_string(i + 1) +
             "\"><FieldRef field=\"p\"/></Apply><Constant>1</Constant></Apply>";
      else
        d += "<FieldRef field=\"p\"/>";
      d += "</DefineFunction>\n";
    }
    d += "<DerivedField name=\"d\" optype=\"continuous\" dataType=\"double\"><Apply function=\"f0\"><FieldRef field=\"x\"/>"
         "</Apply></DerivedField>\n</TransformationDictionary>\n";
    d += regression_using("d");
  } else if (name == "many_segments") {  // a sum of n regression segments
    d = kHead;
    d += "<MiningModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n<Segmentation multipleModelMethod=\"sum\">\n";
    for (std::size_t i = 0; i < n; ++i)
      d += "<Segment><True/><RegressionModel functionName=\"regression\"><MiningSchema><MiningField name=\"x\"/>"
           "</MiningSchema><RegressionTable intercept=\"1\"/></RegressionModel></Segment>\n";
    d += "</Segmentation>\n</MiningModel>\n</PMML>\n";
  } else if (name == "big_header") {  // a valid model padded to n bytes with a comment
    d = kHead;
    std::string rest = regression_using("x");
    std::size_t have = d.size() + rest.size() + 8;
    d += "<!--" + std::string(n > have ? n - have : 0, 'z') + "-->\n";
    d += rest;
  } else if (name == "wide_tree") {  // a root Node with n leaf children
    d = kHead;
    d += "<TreeModel functionName=\"regression\">\n<MiningSchema><MiningField name=\"x\"/>"
         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>\n<Node score=\"-1\"><True/>\n";
    for (std::size_t i = 0; i < n; ++i)
      d += "<Node score=\"" + std::to_string(i) + "\"><SimplePredicate field=\"x\" operator=\"lessThan\" value=\"" +
           std::to_string(i) + "\"/></Node>\n";
    d += "</Node>\n</TreeModel>\n</PMML>\n";
  } else if (name == "many_fields") {  // n DataFields, one of them used
    d = kHead;
    std::string fields;
    for (std::size_t i = 0; i < n; ++i)
      fields += "<DataField name=\"f" + std::to_string(i) + "\" optype=\"continuous\" dataType=\"double\"/>\n";
    d.replace(d.find("<DataField name=\"y\""), 0, fields);
    d += regression_using("x");
  } else if (name == "many_attributes") {  // one element with n attributes
    d = kHead;
    std::string attrs;
    for (std::size_t i = 0; i < n; ++i) attrs += " a" + std::to_string(i) + "=\"" + std::to_string(i) + "\"";
    d.replace(d.find("<Header/>"), 9, "<Header" + attrs + "/>");
    d += regression_using("x");
  } else if (name == "many_categories") {  // a categorical field with n Values
    d = kHead;
    std::string values;
    for (std::size_t i = 0; i < n; ++i) values += "<Value value=\"v" + std::to_string(i) + "\"/>";
    d.replace(d.find("<DataField name=\"y\""), 0,
              "<DataField name=\"c\" optype=\"categorical\" dataType=\"string\">" + values + "</DataField>\n");
    d += regression_using("x");
  } else if (name == "nul_bytes") {  // a valid document with NUL bytes inside an attribute
    d = kHead;
    d += regression_using("x");
    d.replace(d.find("intercept=\"1\""), 13, std::string("intercept=\"1\0\0\"", 15));
  } else {
    throw std::runtime_error("unknown generator " + name);
  }
  return d;
}

// ---- running one case ----------------------------------------------------------------------------------

std::string kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::Parse: return "Parse";
    case ErrorKind::Unsupported: return "Unsupported";
    case ErrorKind::Model: return "Model";
    case ErrorKind::Input: return "Input";
    case ErrorKind::Evaluation: return "Evaluation";
    case ErrorKind::Limit: return "Limit";
    case ErrorKind::Io: return "Io";
    case ErrorKind::Usage: return "Usage";
  }
  return "Kind" + std::to_string(int(k));
}

struct Failure {
  std::string message;
};

[[noreturn]] void failf(const std::string& m) { throw Failure{m}; }

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) failf("cannot read corpus file " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

pmmlrt::Value parse_value(const std::string& text) {
  if (!text.empty() && text[0] == '#') return pmmlrt::Value(std::strtod(text.c_str() + 1, nullptr));
  if (text == "~") return pmmlrt::Value();
  return pmmlrt::Value(text);
}

pmmlrt::LoadOptions load_options(const Case& c) {
  pmmlrt::LoadOptions o;
  for (const auto& option : c.options) {
    const std::string& k = option.first;
    const std::string& v = option.second;
    auto num = [&v] { return std::size_t(std::stoull(v)); };
    if (k == "max_document_bytes") o.max_document_bytes = num();
    else if (k == "max_element_depth") o.max_element_depth = num();
    else if (k == "max_tree_depth") o.max_tree_depth = num();
    else if (k == "max_nodes") o.max_nodes = num();
    else if (k == "max_segments") o.max_segments = num();
    else if (k == "max_fields") o.max_fields = num();
    else if (k == "max_categories") o.max_categories = num();
    else if (k == "sha256") o.expected_sha256 = v;
  }
  return o;
}

// Text that must never show up in what pmmlrt returns: a line of /etc/passwd (an external entity resolved).
std::string secret_marker() {
  std::ifstream in("/etc/passwd");
  std::string first;
  std::getline(in, first);
  return first.substr(0, std::min<std::size_t>(first.size(), 12));
}

void check_strings(const std::string& where, const std::string& s) {
  static const std::string secret = secret_marker();
  if (s.size() > 100000) failf(where + ": a string of " + std::to_string(s.size()) + " bytes (entity expansion?)");
  if (!secret.empty() && s.find(secret) != std::string::npos) failf(where + ": holds the text of /etc/passwd");
}

void check_model_strings(const pmmlrt::Model& m) {
  for (const auto& f : m.input_fields()) {
    check_strings("input field name", f.name);
    for (const auto& v : f.values) check_strings("input field value", v);
  }
  for (const auto& f : m.target_fields()) {
    check_strings("target field name", f.name);
    for (const auto& v : f.values) check_strings("target value", v);
  }
  for (const auto& l : m.class_labels()) check_strings("class label", l);
  for (const auto& o : m.output_fields()) check_strings("output name", o.name);
}

/// Checks an exception against the case. Returns normally when it fits.
void check_error(const Case& c, const pmmlrt::Error& e) {
  std::string kind = kind_name(e.kind());
  if (std::find(c.kinds.begin(), c.kinds.end(), kind) == c.kinds.end())
    failf("got " + kind + " error: " + e.what());
  std::string what = e.what();
  if (what.empty()) failf("empty error message");
  if (!c.message.empty() && what.find(c.message) == std::string::npos)
    failf("message lacks \"" + c.message + "\": " + what);
  // The exception's class must agree with its kind, and carry where the problem is.
  switch (e.kind()) {
    case ErrorKind::Parse: {
      auto* p = dynamic_cast<const pmmlrt::ParseError*>(&e);
      if (!p) failf("a Parse error that is not a ParseError: " + what);
      if (p->path().empty() && p->line() == 0) failf("ParseError with neither path nor line: " + what);
      break;
    }
    case ErrorKind::Unsupported: {
      auto* p = dynamic_cast<const pmmlrt::UnsupportedError*>(&e);
      if (!p) failf("an Unsupported error that is not an UnsupportedError: " + what);
      if (p->path().empty()) failf("UnsupportedError without a path: " + what);
      break;
    }
    case ErrorKind::Model: {
      auto* p = dynamic_cast<const pmmlrt::ModelError*>(&e);
      if (!p) failf("a Model error that is not a ModelError: " + what);
      if (p->path().empty()) failf("ModelError without a path: " + what);
      break;
    }
    case ErrorKind::Input: {
      auto* p = dynamic_cast<const pmmlrt::InputError*>(&e);
      if (!p) failf("an Input error that is not an InputError: " + what);
      if (p->field().empty()) failf("InputError without a field: " + what);
      break;
    }
    case ErrorKind::Evaluation:
      if (!dynamic_cast<const pmmlrt::EvaluationError*>(&e)) failf("an Evaluation error that is not an EvaluationError");
      break;
    case ErrorKind::Limit:
      if (!dynamic_cast<const pmmlrt::LimitError*>(&e)) failf("a Limit error that is not a LimitError");
      break;
    default: break;
  }
}

bool accepts(const Case& c, const char* kind) { return std::find(c.kinds.begin(), c.kinds.end(), kind) != c.kinds.end(); }

pmmlrt::Record make_record(const Case& c) {
  pmmlrt::Record r;
  for (const auto& [k, v] : c.record) r[k] = parse_value(v);
  return r;
}

void check_prediction(const Case& c, const pmmlrt::Result& r) {
  check_strings("predicted value", r.predicted().to_string());
  for (const auto& o : r.outputs()) check_strings("output " + o.name, o.value.to_string());
  if (!c.message.empty() && r.predicted().to_string() != c.message)
    failf("predicted " + r.predicted().to_string() + ", expected " + c.message);
}

/// Scores the record through the single-record API and the Value batch API (both error policies), and
/// through the numeric batch when every value is a number; all must agree on the outcome.
void score_all_ways(const Case& c, const pmmlrt::Model& model) {
  pmmlrt::Record record = make_record(c);
  const bool expect_ok = accepts(c, "None");
  std::optional<std::string> single_error;
  try {
    pmmlrt::Result r = model.score(record);
    if (!expect_ok) failf("scored without an error: predicted " + r.predicted().to_string());
    check_prediction(c, r);
  } catch (const pmmlrt::Error& e) {
    check_error(c, e);
    single_error = kind_name(e.kind());
  }

  std::vector<std::string> columns;
  std::vector<std::vector<pmmlrt::Value>> cells;
  for (const auto& [k, v] : record) {
    columns.push_back(k);
    cells.push_back({v});
  }
  try {
    pmmlrt::BatchResult b = model.score(columns, cells);
    if (single_error) failf("the Value batch scored a row the single-record API refused (" + *single_error + ")");
  } catch (const pmmlrt::Error& e) {
    if (!single_error || kind_name(e.kind()) != *single_error)
      failf("the Value batch threw " + kind_name(e.kind()) + " (" + e.what() + "), the single-record API " +
            (single_error ? *single_error : std::string("did not")));
  }
  try {
    pmmlrt::BatchOptions record_errors;
    record_errors.on_error = pmmlrt::RowErrorPolicy::Record;
    pmmlrt::BatchResult b = model.score(columns, cells, record_errors);
    bool has_error = b.errors().size() == 1 && !b.errors()[0].empty();
    if (has_error != bool(single_error)) failf("RowErrorPolicy::Record disagrees with the single-record API");
  } catch (const pmmlrt::Error& e) {
    if (e.kind() != ErrorKind::Usage) failf(std::string("RowErrorPolicy::Record threw: ") + e.what());
  }
  // The numeric batch, when it means the same as the record: every value a non-NaN number (NaN is "missing"
  // in a matrix) or missing, and fed to a continuous input (a matrix holds category codes, not values).
  bool all_numeric = true;
  std::vector<double> row;
  for (const auto& [k, v] : record) {
    const std::string& name = k;
    auto in = std::find_if(model.input_fields().begin(), model.input_fields().end(),
                           [&name](const pmmlrt::FieldInfo& f) { return f.name == name; });
    if (in != model.input_fields().end() && in->op_type != pmmlrt::OpType::Continuous) all_numeric = false;
    if (v.is_number() && !std::isnan(v.number())) {
      row.push_back(v.number());
    } else if (v.is_missing()) {
      row.push_back(std::nan(""));
    } else {
      all_numeric = false;
    }
  }
  if (all_numeric) {
    try {
      pmmlrt::BatchResult b = model.score(row.data(), 1, row.size(), pmmlrt::Layout::RowMajor, columns);
      if (single_error) failf("the numeric batch scored a row the single-record API refused (" + *single_error + ")");
    } catch (const pmmlrt::Error& e) {
      if (!single_error || kind_name(e.kind()) != *single_error)
        failf("the numeric batch threw " + kind_name(e.kind()) + " (" + e.what() + "), the single-record API " +
              (single_error ? *single_error : std::string("did not")));
    }
  }
}

void run_case(const Case& c, const fs::path& base) {
  const bool expect_ok = accepts(c, "None");
  pmmlrt::LoadOptions options = load_options(c);

  if (c.phase == "file") {  // load_file on a path (possibly absent, or a folder)
    fs::path p = c.file == "@missing_file" ? fs::path("/nonexistent/pmmlrt/model.pmml")
                 : c.file == "@folder"     ? base
                                           : base / c.file;
    try {
      auto m = pmmlrt::Model::load_file(p, options);
      if (!expect_ok) failf("loaded without an error");
    } catch (const pmmlrt::Error& e) {
      check_error(c, e);
    }
    return;
  }

  std::string bytes = c.file[0] == '@' ? generate(c.file) : read_bytes(base / c.file);

  if (c.phase == "csv") {  // the CLI's CSV reader, then (with model=) each row scored as text
    std::optional<pmmlrt::Model> model;
    if (auto it = c.options.find("model"); it != c.options.end())
      model = pmmlrt::Model::load_string(read_bytes(base / it->second));
    try {
      auto table = pmmlrt::csv::read_table(std::string_view(bytes));
      for (const auto& r : table.rows) {
        if (!model) continue;
        pmmlrt::Record rec;
        for (std::size_t j = 0; j < r.size(); ++j)
          if (!r[j].empty()) rec[table.header[j]] = pmmlrt::Value(r[j]);
        model->score(rec);
      }
      if (!expect_ok) failf("read and scored without an error");
    } catch (const pmmlrt::csv::CsvError& e) {
      if (!accepts(c, "Csv")) failf(std::string("got CsvError: ") + e.what());
      if (!c.message.empty() && std::string(e.what()).find(c.message) == std::string::npos)
        failf("message lacks \"" + c.message + "\": " + e.what());
      if (e.line() == 0) failf(std::string("CsvError without a line: ") + e.what());
    } catch (const pmmlrt::Error& e) {
      check_error(c, e);
    }
    return;
  }

  std::optional<pmmlrt::Model> model;
  auto t0 = std::chrono::steady_clock::now();
  try {
    model = pmmlrt::Model::load_memory(bytes.data(), bytes.size(), options);
  } catch (const pmmlrt::Error& e) {
    if (c.phase != "load") failf(std::string("the model does not load: ") + e.what());
    check_error(c, e);
    return;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double budget = c.options.count("max_seconds") ? std::stod(c.options.at("max_seconds")) : 10.0;
  if (seconds > budget) failf("loading took " + std::to_string(seconds) + " s (budget " + std::to_string(budget) + " s)");
  check_model_strings(*model);
  if (c.phase == "load") {
    if (!expect_ok) failf("loaded without an error (a " + model->model_type() + ")");
    if (!c.record.empty() || !c.message.empty()) score_all_ways(c, *model);
    return;
  }
  if (c.phase == "score") {
    score_all_ways(c, *model);
    return;
  }
  // batch: a numeric matrix of one row; option unnamed: no column names, else the record's keys.
  std::vector<std::string> columns;
  std::vector<double> row;
  for (const auto& [k, v] : c.record) {
    columns.push_back(k);
    row.push_back(std::strtod(v.c_str() + (v[0] == '#'), nullptr));
  }
  if (c.options.count("unnamed")) columns.clear();
  try {
    auto b = model->score(row.data(), 1, row.size(), pmmlrt::Layout::RowMajor, columns);
    if (!expect_ok) failf("the batch scored without an error");
  } catch (const pmmlrt::Error& e) {
    check_error(c, e);
  }
}

// ---- isolation -----------------------------------------------------------------------------------------

struct Outcome {
  bool pass = false;
  std::string detail;
};

Outcome run_in_process(const Case& c, const fs::path& base) {
  try {
    run_case(c, base);
    return {true, ""};
  } catch (const Failure& f) {
    return {false, f.message};
  } catch (const pmmlrt::Error& e) {
    return {false, "unexpected " + kind_name(e.kind()) + " error: " + e.what()};
  } catch (const std::exception& e) {
    return {false, std::string("an exception that is not a pmmlrt::Error: ") + e.what()};
  } catch (...) {
    return {false, "an unknown exception"};
  }
}

Outcome run_forked(const Case& c, const fs::path& base, unsigned timeout_seconds, long rss_limit_kb) {
  int fds[2];
  if (pipe(fds) != 0) return {false, "pipe failed"};
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid < 0) return {false, "fork failed"};
  if (pid == 0) {
    close(fds[0]);
    alarm(timeout_seconds);
    Outcome o = run_in_process(c, base);
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    if (o.pass && rss_limit_kb > 0 && u.ru_maxrss > rss_limit_kb)
      o = {false, "peak memory " + std::to_string(u.ru_maxrss / 1024) + " MiB"};
    std::string msg = (o.pass ? "P" : "F") + o.detail;
    ssize_t w = write(fds[1], msg.data(), msg.size());
    (void)w;
    close(fds[1]);
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  for (;;) {
    ssize_t r = read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    msg.append(buf, std::size_t(r));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM) return {false, "HANG: no result after " + std::to_string(timeout_seconds) + " s"};
    return {false, std::string("CRASH: signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")"};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return {false, "CRASH: the child exited with status " + std::to_string(WEXITSTATUS(status)) +
                       " (a sanitizer report or std::terminate?)"};
  if (msg.empty()) return {false, "CRASH: the child reported nothing"};
  return {msg[0] == 'P', msg.substr(1)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " CASES.txt [--only SUBSTRING] [--no-fork] [--verbose] [--timeout S]\n";
    return 2;
  }
  fs::path manifest = argv[1];
  std::string only;
  bool fork_cases = true, verbose = false;
  unsigned timeout = 60;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--no-fork") fork_cases = false;
    else if (a == "--verbose") verbose = true;
    else if (a == "--timeout" && i + 1 < argc) timeout = unsigned(std::stoul(argv[++i]));
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  // Sanitizer builds use much more memory; the memory check is meant for blow-ups, not for that.
  long rss_limit_kb = std::getenv("PMMLRT_MALFORMED_RSS_MB") ? std::atol(std::getenv("PMMLRT_MALFORMED_RSS_MB")) * 1024
                                                             : 1024L * 1024;
  std::vector<Case> cases;
  try {
    cases = read_manifest(manifest);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  fs::path base = manifest.parent_path();
  std::size_t passed = 0, failed = 0, known = 0, fixed = 0, run = 0;
  for (const auto& c : cases) {
    if (!only.empty() && c.file.find(only) == std::string::npos) continue;
    ++run;
    auto t0 = std::chrono::steady_clock::now();
    unsigned case_timeout = c.options.count("timeout") ? unsigned(std::stoul(c.options.at("timeout"))) : timeout;
    Outcome o = fork_cases ? run_forked(c, base, case_timeout, rss_limit_kb) : run_in_process(c, base);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string label = c.file + " [" + c.phase + "] (cases.txt:" + std::to_string(c.line) + ")";
    // A sanitizer-only bug passes in other builds: that is not "fixed".
    if (o.pass && c.bug.empty()) {
      ++passed;
      if (verbose) std::cout << "ok      " << label << " " << int(ms) << " ms\n";
    } else if (o.pass) {
      ++fixed;
      std::cout << "FIXED   " << label << ": passes now; remove its bug= marker (" << c.bug << ")\n";
    } else if (!c.bug.empty() || !c.sanitizer_bug.empty()) {
      ++known;
      std::cout << "KNOWN   " << label << ": " << o.detail << "  [bug: " << (c.bug.empty() ? c.sanitizer_bug : c.bug)
                << "]\n";
    } else {
      ++failed;
      std::cout << "FAIL    " << label << ": " << o.detail << "\n";
    }
  }
  std::cout << run << " cases: " << passed << " passed, " << failed << " failed, " << known << " known bugs, " << fixed
            << " known bugs that pass now\n";
  if (run == 0) return 1;
  return failed || fixed ? 1 : 0;
}
