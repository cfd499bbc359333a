// pmmlrt_conformance: runs a PMML conformance corpus (../shared/conformance, or tests/generated/cases)
// through pmmlrt::Model::score and compares every check of every case.json with expected.csv.
//
//   pmmlrt_conformance ROOT_DIR [--known-failures FILE] [--filter SUBSTR]... [--cli PMMLRT] [-v]
//
// The corpus format (case.json, tolerances, missing tokens, quirks) is specified in the corpus README.md.
// Cases are found at ROOT/*/*/case.json (source/case) and ROOT/*/case.json (one level, generated corpora).
//
// Output: one line per failing case (every case with -v), pass counts per family, and a final line
// "N passed, M failed" (", K skipped" when known failures were skipped).
// Exit status: 0 when every case passes or is a listed known failure that still fails; 1 when a case
// fails that is not listed, or a listed case now passes (so the list stays honest); 2 for a bad command
// line, a missing or empty corpus, or an unreadable known-failures file.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/csv.hpp"
#include "pmmlrt/error.hpp"
#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// ---- small helpers ---------------------------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// strtod over the whole cell (surrounding blanks allowed); nullopt when it is not a number.
std::optional<double> parse_number(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double x = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return x;
}

std::string fmt_double(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string kind_name(pmmlrt::ErrorKind kind) {
  switch (kind) {
    case pmmlrt::ErrorKind::Parse: return "parse";
    case pmmlrt::ErrorKind::Unsupported: return "unsupported";
    case pmmlrt::ErrorKind::Model: return "model";
    case pmmlrt::ErrorKind::Input: return "input";
    case pmmlrt::ErrorKind::Evaluation: return "evaluation";
    case pmmlrt::ErrorKind::Limit: return "limit";
    case pmmlrt::ErrorKind::Io: return "io";
    case pmmlrt::ErrorKind::Usage: return "usage";
  }
  return "unknown";
}

std::string describe(const pmmlrt::Error& e) {
  std::string s = kind_name(e.kind()) + " error: " + e.what();
  if (auto* p = dynamic_cast<const pmmlrt::InputError*>(&e); p && !p->field().empty())
    s += " [field " + p->field() + "]";
  if (auto* p = dynamic_cast<const pmmlrt::ParseError*>(&e); p && p->line() != 0)
    s += " [line " + std::to_string(p->line()) + "]";
  return s;
}

// ---- the SAS FMTWIDTH quirk ------------------------------------------------------------------------------

// SAS writes the name of a DefineFunction parameter as a string Constant; the source test read every
// <Constant>FMTWIDTH</Constant> inside a DefineFunction as <FieldRef field="FMTWIDTH"/>. Patch the text.
std::string patch_fmtwidth(const std::string& doc, std::size_t& replaced) {
  static const std::regex constant(R"(<Constant(\s[^>]*)?>\s*FMTWIDTH\s*</Constant>)");
  std::string out;
  out.reserve(doc.size());
  std::size_t pos = 0;
  replaced = 0;
  while (true) {
    const std::size_t open = doc.find("<DefineFunction", pos);
    if (open == std::string::npos) break;
    std::size_t close = doc.find("</DefineFunction>", open);
    if (close == std::string::npos) break;
    close += std::string_view("</DefineFunction>").size();
    out.append(doc, pos, open - pos);
    const std::string body = doc.substr(open, close - open);
    std::string patched;
    auto begin = std::sregex_iterator(body.begin(), body.end(), constant);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      patched.append(body, last, static_cast<std::size_t>(it->position()) - last);
      patched += R"(<FieldRef field="FMTWIDTH"/>)";
      last = static_cast<std::size_t>(it->position() + it->length());
      ++replaced;
    }
    patched.append(body, last, std::string::npos);
    out += patched;
    pos = close;
  }
  out.append(doc, pos, std::string::npos);
  return out;
}

// ---- tolerances ------------------------------------------------------------------------------------------

struct Tolerance {
  enum class Kind { Exact, Relative, Absolute, FloatUlps } kind = Kind::Exact;
  double rel = 0, zero = 0, abs = 0;
  double ulps = 0;

  static Tolerance from_json(const json& j) {
    Tolerance t;
    const std::string kind = j.value("kind", "exact");
    if (kind == "exact") {
      t.kind = Kind::Exact;
    } else if (kind == "relative") {
      t.kind = Kind::Relative;
      t.rel = j.at("rel").get<double>();
      t.zero = j.value("zero", 0.0);
    } else if (kind == "absolute") {
      t.kind = Kind::Absolute;
      t.abs = j.at("abs").get<double>();
    } else if (kind == "float_ulps") {
      t.kind = Kind::FloatUlps;
      t.ulps = j.at("ulps").get<double>();
    } else {
      throw std::runtime_error("unknown tolerance kind '" + kind + "'");
    }
    return t;
  }

  std::string describe() const {
    switch (kind) {
      case Kind::Exact: return "exact";
      case Kind::Relative: return "relative " + fmt_double(rel) + ", zero " + fmt_double(zero);
      case Kind::Absolute: return "absolute " + fmt_double(abs);
      case Kind::FloatUlps: return "float32 " + fmt_double(ulps) + " ulps";
    }
    return "?";
  }
};

// Java Math.ulp(float).
double ulp32(float x) {
  x = std::fabs(x);
  if (std::isinf(x)) return INFINITY;
  if (x == 0.0f || x < std::ldexp(1.0f, -126)) return std::ldexp(1.0, -149);
  int exp = 0;
  std::frexp(x, &exp);  // x = m * 2^exp, m in [0.5, 1)
  return std::ldexp(1.0, exp - 24);
}

bool within(const Tolerance& t, double e, double a) {
  switch (t.kind) {
    case Tolerance::Kind::Exact:
      return a == e;
    case Tolerance::Kind::Absolute:
      return std::fabs(a - e) <= t.abs;
    case Tolerance::Kind::Relative:  // JPMML PMMLEquivalence / VerificationUtil.acceptable
      if (std::fabs(e) <= t.zero && std::fabs(a) <= t.zero) return true;
      if (e >= 0) return e * (1 - t.rel) <= a && a <= e * (1 + t.rel);
      return e * (1 + t.rel) <= a && a <= e * (1 - t.rel);
    case Tolerance::Kind::FloatUlps: {  // JPMML FloatEquivalence
      const float ef = static_cast<float>(e), af = static_cast<float>(a);
      if (std::isinf(ef) || std::isinf(af)) return ef == af;
      return std::fabs(double(af) - double(ef)) <= t.ulps * ulp32(ef);
    }
  }
  return false;
}

// ---- checks ----------------------------------------------------------------------------------------------

struct Check {
  std::string column;
  enum class Shape { Target, Output, Probability, ProbabilityOfPredicted, ConfidenceOfPredicted } shape;
  std::string name;   // target field or OutputField
  std::string label;  // class, for Shape::Probability
  bool numeric = false;
  Tolerance tolerance;
  std::vector<std::string> missing_expected;
  std::size_t expected_column = 0;

  std::string describe_result() const {
    switch (shape) {
      case Shape::Target: return "target " + name;
      case Shape::Output: return "output " + name;
      case Shape::Probability: return "probability(" + label + ") of " + name;
      case Shape::ProbabilityOfPredicted: return "probability of predicted " + name;
      case Shape::ConfidenceOfPredicted: return "confidence of predicted " + name;
    }
    return "?";
  }
};

Check parse_check(const json& j) {
  Check c;
  c.column = j.at("column").get<std::string>();
  const json& r = j.at("result");
  if (r.contains("probability")) {
    c.shape = Check::Shape::Probability;
    c.label = r.at("probability").get<std::string>();
    c.name = r.value("target", "");
  } else if (r.contains("target")) {
    c.shape = Check::Shape::Target;
    c.name = r.at("target").get<std::string>();
  } else if (r.contains("output")) {
    c.shape = Check::Shape::Output;
    c.name = r.at("output").get<std::string>();
  } else if (r.contains("probability_of_predicted")) {
    c.shape = Check::Shape::ProbabilityOfPredicted;
    c.name = r.at("probability_of_predicted").get<std::string>();
  } else if (r.contains("confidence_of_predicted")) {
    c.shape = Check::Shape::ConfidenceOfPredicted;
    c.name = r.at("confidence_of_predicted").get<std::string>();
  } else {
    throw std::runtime_error("check of column '" + c.column + "': unknown result shape " + r.dump());
  }
  const std::string type = j.value("type", "string");
  if (type != "number" && type != "string") throw std::runtime_error("unknown check type '" + type + "'");
  c.numeric = type == "number";
  c.tolerance = j.contains("tolerance") ? Tolerance::from_json(j.at("tolerance")) : Tolerance{};
  if (j.contains("missing_expected_tokens"))
    c.missing_expected = j.at("missing_expected_tokens").get<std::vector<std::string>>();
  return c;
}

// What the evaluator gave for a check: nothing, a Value, or a bare number (probabilities, confidences).
struct Actual {
  std::optional<pmmlrt::Value> value;
  std::string note;  // why there is no value, when it helps

  bool missing() const {
    if (!value || value->is_missing()) return true;
    return value->is_number() && std::isnan(value->number());  // "treat an actual NaN as no value"
  }
  std::string text() const {
    if (!value) return note.empty() ? "(no value)" : "(no value: " + note + ")";
    if (value->is_missing()) return "(missing)";
    if (value->is_string()) return "\"" + value->text() + "\"";
    return value->to_string();
  }
};

const pmmlrt::Value* find_target(const pmmlrt::Result& r, const std::string& name) {
  for (const auto& t : r.targets())
    if (t.name == name) return &t.value;
  if (r.targets().size() <= 1) return &r.predicted();  // a model whose single target is named differently
  return nullptr;
}

std::optional<std::size_t> class_index(const pmmlrt::Result& r, const pmmlrt::Value& predicted) {
  const auto& classes = r.classes();
  const std::string label = predicted.to_string();
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (classes[i] == label) return i;
  // Numeric categories may be spelled differently ("1" vs "1.0").
  if (auto x = parse_number(label))
    for (std::size_t i = 0; i < classes.size(); ++i)
      if (auto y = parse_number(classes[i]); y && *y == *x) return i;
  return std::nullopt;
}

Actual actual_for(const Check& c, const pmmlrt::Result& r) {
  Actual a;
  switch (c.shape) {
    case Check::Shape::Target: {
      const pmmlrt::Value* v = find_target(r, c.name);
      if (v) a.value = *v;
      else a.note = "no target named " + c.name;
      break;
    }
    case Check::Shape::Output: {
      const pmmlrt::Value* v = r.output(c.name);
      if (v) a.value = *v;
      else a.note = "the model has no output named " + c.name;
      break;
    }
    case Check::Shape::Probability: {
      if (auto p = r.probability(c.label)) a.value = pmmlrt::Value(*p);
      else a.note = "no probability for class " + c.label;
      break;
    }
    case Check::Shape::ProbabilityOfPredicted:
    case Check::Shape::ConfidenceOfPredicted: {
      const bool prob = c.shape == Check::Shape::ProbabilityOfPredicted;
      const pmmlrt::Value* v = find_target(r, c.name);
      if (!v || v->is_missing()) {
        a.note = "no predicted value";
        break;
      }
      const auto& values = prob ? r.probabilities() : r.confidences();
      auto i = class_index(r, *v);
      if (!i) a.note = "predicted " + v->to_string() + " is not among classes()";
      else if (*i >= values.size()) a.note = prob ? "no probabilities" : "no confidences";
      else a.value = pmmlrt::Value(values[*i]);
      break;
    }
  }
  return a;
}

// Compares one cell; returns an empty string when it passes, else what went wrong.
std::string compare(const Check& c, const std::string& expected, const Actual& actual) {
  const bool want_none =
      std::find(c.missing_expected.begin(), c.missing_expected.end(), expected) != c.missing_expected.end();
  if (want_none) return actual.missing() ? std::string() : "expected no value, actual " + actual.text();
  if (actual.missing()) return "expected " + expected + ", actual " + actual.text();
  if (!c.numeric) {
    const std::string a = actual.value->to_string();
    return a == expected ? std::string() : "expected \"" + expected + "\", actual " + actual.text();
  }
  const auto e = parse_number(expected);
  if (!e) return "expected cell \"" + expected + "\" is not a number";
  std::optional<double> a;
  const pmmlrt::Value& v = *actual.value;
  if (v.is_number() || v.is_boolean()) a = v.number();
  else if (v.is_string()) a = parse_number(v.text());
  if (!a) return "expected " + expected + ", actual " + actual.text() + " is not a number";
  if (within(c.tolerance, *e, *a)) return {};
  std::string msg = "expected " + expected + ", actual " + fmt_double(*a) + " (" + c.tolerance.describe();
  if (*e != 0) msg += "; relative error " + fmt_double(std::fabs(*a - *e) / std::fabs(*e));
  else msg += "; absolute error " + fmt_double(std::fabs(*a - *e));
  return msg + ")";
}

// ---- one case --------------------------------------------------------------------------------------------

struct CaseInfo {
  std::string id;
  fs::path dir;
  fs::path manifest;
  std::string family;
};

struct Outcome {
  bool passed = false;
  std::string message;  // first failure, or a summary for a pass
  double seconds = 0;
};

// With --cli PATH the rows are scored by `PATH score` over the whole input.csv instead of Model::score, and the
// checks read the CSV it writes: the command-line tool is held to the same expectations as the library.
std::string g_cli;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// The actual value of a check, read from a row of the CLI's output.
Actual actual_from_cli(const Check& c, const pmmlrt::csv::Table& out, std::size_t row) {
  Actual a;
  auto cell = [&](const std::string& column) -> std::optional<std::string> {
    auto col = out.column(column);
    if (!col) return std::nullopt;
    return out.rows[row][*col];
  };
  std::optional<std::string> text;
  switch (c.shape) {
    case Check::Shape::Target: text = cell(c.name); break;
    case Check::Shape::Output: text = cell(c.name); break;
    case Check::Shape::Probability: text = cell("probability(" + c.label + ")"); break;
    case Check::Shape::ProbabilityOfPredicted:
    case Check::Shape::ConfidenceOfPredicted: {
      auto predicted = cell(c.name);
      if (predicted && !predicted->empty())
        text = cell((c.shape == Check::Shape::ProbabilityOfPredicted ? "probability(" : "confidence(") + *predicted + ")");
      break;
    }
  }
  if (!text) {
    a.note = "no such column in the CLI output";
    return a;
  }
  a.value = text->empty() ? pmmlrt::Value() : pmmlrt::Value(*text);
  return a;
}

Outcome run_case(const CaseInfo& info, const json& manifest) {
  Outcome out;
  const auto fail = [&](std::string m) {
    out.passed = false;
    out.message = std::move(m);
    return out;
  };

  const fs::path model_path = info.dir / manifest.value("model", "model.pmml");
  const fs::path input_path = info.dir / manifest.value("input", "input.csv");
  const fs::path expected_path = info.dir / manifest.value("expected", "expected.csv");
  std::vector<std::string> missing_tokens;
  if (manifest.contains("missing_tokens")) missing_tokens = manifest.at("missing_tokens").get<std::vector<std::string>>();

  std::vector<Check> checks;
  try {
    for (const auto& j : manifest.value("checks", json::array())) checks.push_back(parse_check(j));
  } catch (const std::exception& e) {
    return fail(std::string("bad case.json: ") + e.what());
  }

  std::string document;
  try {
    document = read_file(model_path);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  const std::string notes = manifest.value("notes", "");
  if (notes.find("FMTWIDTH") != std::string::npos || info.id.rfind("jpmml-evaluator-sas/", 0) == 0) {
    std::size_t n = 0;
    document = patch_fmtwidth(document, n);
  }

  std::optional<pmmlrt::Model> model;
  try {
    model = pmmlrt::Model::load_string(document);
  } catch (const pmmlrt::Error& e) {
    return fail("load: " + describe(e));
  } catch (const std::exception& e) {
    return fail(std::string("load: ") + e.what());
  }

  pmmlrt::csv::Table input, expected;
  try {
    input = pmmlrt::csv::read_table_file(input_path);
    expected = pmmlrt::csv::read_table_file(expected_path);
  } catch (const pmmlrt::csv::CsvError& e) {
    return fail(std::string("CSV: ") + e.what());
  }
  if (!checks.empty() && input.rows.size() != expected.rows.size())
    return fail("input.csv has " + std::to_string(input.rows.size()) + " rows but expected.csv has " +
                std::to_string(expected.rows.size()));
  for (auto& c : checks) {
    auto col = expected.column(c.column);
    if (!col) return fail("expected.csv has no column '" + c.column + "'");
    c.expected_column = *col;
  }

  // Bind the model's input fields to input.csv columns; absent columns stay missing.
  pmmlrt::Record record;
  std::vector<std::pair<std::size_t, pmmlrt::Value*>> bound;
  for (const auto& f : model->input_fields()) {
    auto col = input.column(f.name);
    if (!col) continue;
    auto [it, inserted] = record.emplace(f.name, pmmlrt::Value());
    if (inserted) bound.emplace_back(*col, &it->second);
  }
  const auto is_missing = [&](const std::string& cell) {
    return std::find(missing_tokens.begin(), missing_tokens.end(), cell) != missing_tokens.end();
  };

  std::string first_failure;
  std::size_t failing_rows = 0, failing_cells = 0;
  if (!g_cli.empty()) {
    const fs::path work = fs::temp_directory_path() / ("pmmlrt_conformance_cli_" + std::to_string(::getpid()));
    fs::create_directories(work);
    const fs::path model_file = work / "model.pmml", out_file = work / "out.csv";
    {
      std::ofstream m(model_file, std::ios::binary);
      m << document;
    }
    std::string tokens;
    for (const auto& t : missing_tokens) tokens += (tokens.empty() ? "" : ",") + (t.empty() ? std::string("empty") : t);
    if (tokens.empty()) tokens = "none";
    const std::string command = shell_quote(g_cli) + " score " + shell_quote(model_file.string()) + " " +
                                shell_quote(input_path.string()) + " -o " + shell_quote(out_file.string()) +
                                " --all-outputs --missing " + shell_quote(tokens) + " 2>" +
                                shell_quote((work / "err.txt").string());
    const int status = std::system(command.c_str());
    if (status != 0) {
      std::string err = read_file(work / "err.txt");
      fs::remove_all(work);
      return fail("pmmlrt score exited with status " + std::to_string(status) + ": " + trim(err));
    }
    pmmlrt::csv::Table scored;
    try {
      scored = pmmlrt::csv::read_table_file(out_file);
    } catch (const pmmlrt::csv::CsvError& e) {
      fs::remove_all(work);
      return fail(std::string("CLI output: ") + e.what());
    }
    fs::remove_all(work);
    if (scored.rows.size() != input.rows.size())
      return fail("the CLI wrote " + std::to_string(scored.rows.size()) + " rows for " +
                  std::to_string(input.rows.size()) + " input rows");
    for (std::size_t row = 0; row < input.rows.size(); ++row) {
      bool row_failed = false;
      for (const auto& c : checks) {
        const std::string problem = compare(c, expected.rows[row][c.expected_column], actual_from_cli(c, scored, row));
        if (problem.empty()) continue;
        ++failing_cells;
        row_failed = true;
        if (first_failure.empty())
          first_failure = "row " + std::to_string(row + 1) + ", column '" + c.column + "' (" + c.describe_result() +
                          ", via the CLI): " + problem;
      }
      if (row_failed) ++failing_rows;
    }
  }
  for (std::size_t row = 0; g_cli.empty() && row < input.rows.size(); ++row) {
    const auto& cells = input.rows[row];
    for (auto& [col, slot] : bound) *slot = is_missing(cells[col]) ? pmmlrt::Value() : pmmlrt::Value(cells[col]);
    pmmlrt::Result result;
    try {
      result = model->score(record);
    } catch (const pmmlrt::Error& e) {
      return fail("row " + std::to_string(row + 1) + ": score: " + describe(e));
    } catch (const std::exception& e) {
      return fail("row " + std::to_string(row + 1) + ": score: " + e.what());
    }
    bool row_failed = false;
    for (const auto& c : checks) {
      const std::string& cell = expected.rows[row][c.expected_column];
      const std::string problem = compare(c, cell, actual_for(c, result));
      if (problem.empty()) continue;
      ++failing_cells;
      row_failed = true;
      if (first_failure.empty())
        first_failure = "row " + std::to_string(row + 1) + ", column '" + c.column + "' (" + c.describe_result() +
                        "): " + problem;
    }
    if (row_failed) ++failing_rows;
  }
  if (!first_failure.empty()) {
    return fail(first_failure + " [" + std::to_string(failing_rows) + " of " + std::to_string(input.rows.size()) +
                " rows fail, " + std::to_string(failing_cells) + " cells]");
  }
  out.passed = true;
  out.message = std::to_string(input.rows.size()) + " rows, " + std::to_string(checks.size()) + " checks" +
                (checks.empty() ? " (smoke test: no checks)" : "");
  return out;
}

// ---- corpus discovery and the known-failures list --------------------------------------------------------

std::vector<CaseInfo> find_cases(const fs::path& root) {
  std::vector<CaseInfo> cases;
  const auto add = [&](const fs::path& dir) {
    CaseInfo c;
    c.dir = dir;
    c.manifest = dir / "case.json";
    c.id = fs::relative(dir, root).generic_string();
    cases.push_back(std::move(c));
  };
  std::error_code ec;
  for (const auto& a : fs::directory_iterator(root, ec)) {
    if (!a.is_directory()) continue;
    if (fs::exists(a.path() / "case.json")) add(a.path());
    for (const auto& b : fs::directory_iterator(a.path(), ec))
      if (b.is_directory() && fs::exists(b.path() / "case.json")) add(b.path());
  }
  std::sort(cases.begin(), cases.end(), [](const CaseInfo& x, const CaseInfo& y) { return x.id < y.id; });
  return cases;
}

// "<case id> | <reason>" per line; '#' starts a comment; blank lines are ignored.
std::map<std::string, std::string> read_known_failures(const fs::path& path) {
  std::map<std::string, std::string> known;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open known-failures file " + path.string());
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto bar = t.find('|');
    const std::string id = trim(t.substr(0, bar));
    const std::string reason = bar == std::string::npos ? std::string() : trim(t.substr(bar + 1));
    if (id.empty()) throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": no case id");
    known[id] = reason;
  }
  return known;
}

int usage(const char* message) {
  std::fprintf(stderr,
               "pmmlrt_conformance: %s\n"
               "usage: pmmlrt_conformance ROOT_DIR [--known-failures FILE] [--filter SUBSTR]... [-v]\n",
               message);
  return 2;
}

struct FamilyCount {
  std::size_t total = 0, passed = 0, known = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string root_arg, known_path;
  std::vector<std::string> filters;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else if (arg == "--known-failures" || arg == "--filter") {
      if (i + 1 >= argc) return usage(("option " + arg + " needs a value").c_str());
      if (arg == "--filter")
        filters.emplace_back(argv[++i]);
      else
        known_path = argv[++i];
    } else if (arg == "--cli" && i + 1 < argc) {
      g_cli = argv[++i];
    } else if (arg.rfind("--known-failures=", 0) == 0) {
      known_path = arg.substr(std::string("--known-failures=").size());
    } else if (arg.rfind("--filter=", 0) == 0) {
      filters.push_back(arg.substr(std::string("--filter=").size()));
    } else if (arg == "-h" || arg == "--help") {
      usage("runs a PMML conformance corpus");
      return 0;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage(("unknown option " + arg).c_str());
    } else if (root_arg.empty()) {
      root_arg = arg;
    } else {
      return usage(("unexpected argument " + arg).c_str());
    }
  }
  if (root_arg.empty()) return usage("needs ROOT_DIR");

  const fs::path root(root_arg);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    std::fprintf(stderr, "pmmlrt_conformance: corpus folder %s does not exist\n", root_arg.c_str());
    return 2;
  }

  std::map<std::string, std::string> known;
  if (!known_path.empty()) {
    try {
      known = read_known_failures(known_path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pmmlrt_conformance: %s\n", e.what());
      return 2;
    }
  }

  std::vector<CaseInfo> cases = find_cases(root);
  if (cases.empty()) {
    std::fprintf(stderr, "pmmlrt_conformance: no */case.json or */*/case.json under %s\n", root_arg.c_str());
    return 2;
  }

  std::size_t passed = 0, failed = 0, skipped = 0, unexpected_passes = 0, run = 0;
  std::map<std::string, FamilyCount> families;
  std::set<std::string> seen;
  for (auto& info : cases) {
    json manifest;
    std::string manifest_error;
    try {
      manifest = json::parse(read_file(info.manifest));
      if (manifest.contains("id") && manifest["id"].is_string()) info.id = manifest["id"].get<std::string>();
      info.family = manifest.value("family", "(none)");
    } catch (const std::exception& e) {
      manifest_error = std::string("bad case.json: ") + e.what();
      info.family = "(unreadable)";
    }
    seen.insert(info.id);
    if (!filters.empty() && std::none_of(filters.begin(), filters.end(), [&](const std::string& f) {
          return info.id.find(f) != std::string::npos;
        }))
      continue;
    ++run;

    Outcome outcome;
    const auto start = std::chrono::steady_clock::now();
    if (!manifest_error.empty()) {
      outcome.message = manifest_error;
    } else {
      try {
        outcome = run_case(info, manifest);
      } catch (const std::exception& e) {
        outcome.passed = false;
        outcome.message = std::string("harness error: ") + e.what();
      }
    }
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    FamilyCount& fam = families[info.family];
    ++fam.total;
    const auto k = known.find(info.id);
    const bool is_known = k != known.end();
    if (outcome.passed) {
      ++passed;
      ++fam.passed;
      if (is_known) {
        ++unexpected_passes;
        std::printf("UNEXPECTED PASS %s: listed as a known failure (%s); remove it from the list\n", info.id.c_str(),
                    k->second.c_str());
      } else if (verbose) {
        std::printf("PASS %s: %s (%.3f s)\n", info.id.c_str(), outcome.message.c_str(), outcome.seconds);
      }
    } else if (is_known) {
      ++skipped;
      ++fam.known;
      std::printf("known failure %s: %s -- %s\n", info.id.c_str(), k->second.c_str(), outcome.message.c_str());
    } else {
      ++failed;
      std::printf("FAIL %s: %s\n", info.id.c_str(), outcome.message.c_str());
    }
    std::fflush(stdout);
  }

  if (run == 0) {
    std::fprintf(stderr, "pmmlrt_conformance: no case matches the filter\n");
    return 2;
  }
  if (filters.empty())
    for (const auto& [id, reason] : known)
      if (!seen.count(id)) std::printf("warning: known failure %s is not a case of this corpus\n", id.c_str());

  std::printf("\nper family:\n");
  std::size_t width = 0;
  for (const auto& [name, f] : families) width = std::max(width, name.size());
  for (const auto& [name, f] : families) {
    std::printf("  %-*s %3zu/%-3zu passed", static_cast<int>(width), name.c_str(), f.passed, f.total);
    if (f.known) std::printf(" (%zu known failures)", f.known);
    std::printf("\n");
  }
  if (unexpected_passes)
    std::printf("\n%zu known failure(s) now pass: update the known-failures list\n", unexpected_passes);
  std::printf("\n%zu passed, %zu failed", passed, failed);
  if (skipped) std::printf(", %zu skipped", skipped);
  std::printf("\n");
  return failed == 0 && unexpected_passes == 0 ? 0 : 1;
}
