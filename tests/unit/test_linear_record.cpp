// The single-record fast paths of linear models (score_into and Model::score(Record) summing the tables
// straight from the caller's numbers) and the per-field input preparation of numeric rows (inputs whose
// MiningSchema treatment cannot fail are prepared on first use) must give what the generic evaluator gives,
// bit for bit and with the same first error. The generic reference is the batch of Values: every cell goes
// through prepare_input in program order and every table through RegressionTableEval.
//
// The models vary the MiningSchema: defaults and numeric replacements (the fast path), and fields that must
// leave it or be prepared before evaluation (returnInvalid for missing or invalid values, intervals,
// outliers, categorical and integer fields, float fields).

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;

struct Field {
  std::string name;
  std::string data_type = "double";
  std::string op_type = "continuous";
  std::string dictionary;      // children of the DataField (Interval, Value)
  std::string mining;          // attributes of the MiningField
  bool numeric_predictor = true;
  std::string category;        // a CategoricalPredictor on this value when not empty
};

enum class Shape { Logit, Softmax3, Regression };

struct Spec {
  std::string name;
  Shape shape = Shape::Logit;
  std::vector<Field> fields;
  bool messages_comparable = true;  // the numeric cell and its Value give the same error text
};

std::vector<Field> plain_fields(std::size_t n, const std::string& data_type = "double") {
  std::vector<Field> fields;
  for (std::size_t i = 0; i < n; ++i) {
    Field f;
    f.name = "x" + std::to_string(i);
    f.data_type = data_type;
    fields.push_back(f);
  }
  return fields;
}

std::string coefficient(std::mt19937_64& rng, std::size_t i) {
  if (i % 7 == 3) return "0";  // 0 * inf is NaN: such a record must leave the fast path
  std::normal_distribution<double> c(0.0, 0.7);
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", c(rng));
  return text;
}

std::string table(const Spec& spec, std::mt19937_64& rng, const std::string& target, double intercept) {
  char head[128];
  std::snprintf(head, sizeof head, "<RegressionTable intercept=\"%.17g\"%s>", intercept,
                target.empty() ? "" : (" targetCategory=\"" + target + "\"").c_str());
  std::string t = head;
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const Field& f = spec.fields[i];
    if (!f.category.empty())
      t += "<CategoricalPredictor name=\"" + f.name + "\" value=\"" + f.category + "\" coefficient=\"" +
           coefficient(rng, i + 1) + "\"/>";
    else if (f.numeric_predictor)
      t += "<NumericPredictor name=\"" + f.name + "\" coefficient=\"" + coefficient(rng, i) + "\"/>";
  }
  return t + "</RegressionTable>";
}

std::string document(const Spec& spec) {
  std::mt19937_64 rng(std::hash<std::string>{}(spec.name));
  std::string d = "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><Header/><DataDictionary>";
  const bool classification = spec.shape != Shape::Regression;
  if (classification) {
    d += "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"a\"/><Value value=\"b\"/>";
    if (spec.shape == Shape::Softmax3) d += "<Value value=\"c\"/>";
    d += "</DataField>";
  } else {
    d += "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
  }
  for (const auto& f : spec.fields)
    d += "<DataField name=\"" + f.name + "\" optype=\"" + f.op_type + "\" dataType=\"" + f.data_type + "\">" +
         f.dictionary + "</DataField>";
  d += "</DataDictionary>";
  switch (spec.shape) {
    case Shape::Logit: d += "<RegressionModel functionName=\"classification\" normalizationMethod=\"logit\">"; break;
    case Shape::Softmax3: d += "<RegressionModel functionName=\"classification\" normalizationMethod=\"softmax\">"; break;
    case Shape::Regression: d += "<RegressionModel functionName=\"regression\">"; break;
  }
  d += "<MiningSchema><MiningField name=\"y\" usageType=\"target\"/>";
  for (const auto& f : spec.fields) d += "<MiningField name=\"" + f.name + "\" " + f.mining + "/>";
  d += "</MiningSchema>";
  if (classification) {
    d += "<Output><OutputField name=\"p_a\" optype=\"continuous\" dataType=\"double\" feature=\"probability\" value=\"a\"/>"
         "<OutputField name=\"p_b\" optype=\"continuous\" dataType=\"double\" feature=\"probability\" value=\"b\"/>"
         "<OutputField name=\"label\" optype=\"categorical\" dataType=\"string\" feature=\"predictedValue\"/></Output>";
    d += table(spec, rng, "b", 0.25);
    if (spec.shape == Shape::Softmax3) {
      d += table(spec, rng, "c", -1.5);
      d += table(spec, rng, "a", 0.0);
    } else {
      d += "<RegressionTable intercept=\"0\" targetCategory=\"a\"/>";
    }
  } else {
    d += "<Output><OutputField name=\"yhat\" optype=\"continuous\" dataType=\"double\" feature=\"predictedValue\"/></Output>";
    d += table(spec, rng, "", 3.0);
  }
  return d + "</RegressionModel></PMML>";
}

std::vector<Spec> specs() {
  std::vector<Spec> out;
  auto add = [&](std::string name, Shape shape, std::vector<Field> fields) {
    Spec s;
    s.name = std::move(name);
    s.shape = shape;
    s.fields = std::move(fields);
    out.push_back(std::move(s));
    return &out.back();
  };
  // The fast path as sklearn2pmml writes it, and with numeric replacements of missing values.
  add("defaults", Shape::Logit, plain_fields(12));
  add("defaults-softmax", Shape::Softmax3, plain_fields(11));
  add("defaults-regression", Shape::Regression, plain_fields(13));
  {
    auto fields = plain_fields(12);
    fields[0].mining = "missingValueReplacement=\"0.5\" missingValueTreatment=\"asMean\"";
    fields[5].mining = "missingValueReplacement=\"-2\"";
    fields[11].mining = "missingValueReplacement=\"1e300\" invalidValueTreatment=\"asIs\"";
    add("replacements", Shape::Logit, fields);
    add("replacements-regression", Shape::Regression, fields);
  }
  {
    auto fields = plain_fields(12, "float");
    fields[2].mining = "missingValueReplacement=\"0.1\"";
    add("float-replacements", Shape::Logit, fields);
  }
  // Must stay on the generic path or prepare before evaluating.
  {
    auto fields = plain_fields(12);
    fields[3].mining = "missingValueTreatment=\"returnInvalid\"";
    fields[7].mining = "missingValueTreatment=\"returnInvalid\" missingValueReplacement=\"1\"";  // still an error
    add("missing-returnInvalid", Shape::Logit, fields);
  }
  {
    auto fields = plain_fields(12);
    fields[1].dictionary = "<Interval closure=\"closedClosed\" leftMargin=\"-2\" rightMargin=\"2\"/>";
    fields[1].mining = "invalidValueTreatment=\"returnInvalid\"";
    fields[9].dictionary = "<Interval closure=\"openOpen\" leftMargin=\"-1\" rightMargin=\"3\"/>";
    fields[9].mining = "invalidValueTreatment=\"asMissing\" missingValueReplacement=\"0.25\"";
    fields[10].dictionary = "<Interval closure=\"closedOpen\" leftMargin=\"0\" rightMargin=\"1\"/>";
    fields[10].mining = "invalidValueTreatment=\"asIs\"";
    fields[4].dictionary = "<Interval closure=\"closedClosed\" leftMargin=\"-1\" rightMargin=\"1\"/>";
    fields[4].mining = "invalidValueTreatment=\"asValue\" invalidValueReplacement=\"0.75\"";
    add("intervals", Shape::Logit, fields);
  }
  {
    auto fields = plain_fields(12);
    fields[2].mining = "outliers=\"asMissingValues\" lowValue=\"-1.5\" highValue=\"1.5\"";
    fields[6].mining = "outliers=\"asExtremeValues\" lowValue=\"-1\" highValue=\"2\"";
    fields[8].mining = "outliers=\"asMissingValues\" lowValue=\"-1\" highValue=\"1\" missingValueReplacement=\"9\"";
    add("outliers", Shape::Regression, fields);
  }
  {
    auto fields = plain_fields(12);
    fields[4].data_type = "integer";
    fields[5].data_type = "integer";
    fields[5].mining = "invalidValueTreatment=\"asMissing\"";
    add("integers", Shape::Logit, fields);
  }
  {
    auto fields = plain_fields(12);
    Field color;
    color.name = "color";
    color.data_type = "string";
    color.op_type = "categorical";
    color.dictionary = "<Value value=\"red\"/><Value value=\"green\"/><Value value=\"blue\"/>";
    color.category = "green";
    color.numeric_predictor = false;
    fields.insert(fields.begin() + 3, color);
    Field size = color;
    size.name = "size";
    size.dictionary = "<Value value=\"s\"/><Value value=\"m\"/>";
    size.category = "m";
    size.mining = "invalidValueTreatment=\"asMissing\"";
    fields.push_back(size);
    // The numeric path names an invalid category by its code, the Value path by its text.
    add("categorical", Shape::Softmax3, fields)->messages_comparable = false;
  }
  {
    // Inputs no table reads: one whose missing value is an error, two whose out-of-range values are.
    auto fields = plain_fields(12);
    Field unused_missing;
    unused_missing.name = "unused_missing";
    unused_missing.numeric_predictor = false;
    unused_missing.mining = "missingValueTreatment=\"returnInvalid\"";
    fields.insert(fields.begin() + 6, unused_missing);
    Field unused_range;
    unused_range.name = "unused_range";
    unused_range.numeric_predictor = false;
    unused_range.dictionary = "<Interval closure=\"closedClosed\" leftMargin=\"-1\" rightMargin=\"1\"/>";
    fields.push_back(unused_range);
    Field unused_as_value = unused_range;  // asValue without a replacement: an error too
    unused_as_value.name = "unused_as_value";
    unused_as_value.mining = "invalidValueTreatment=\"asValue\"";
    fields.insert(fields.begin() + 2, unused_as_value);
    add("unused-inputs", Shape::Logit, fields);
  }
  return out;
}

/// A random cell: mostly ordinary numbers, and some missing, infinite, signed zero, huge or out-of-range
/// ones; for a string field a category code, sometimes one that is no category.
double random_cell(std::mt19937_64& rng, const pmmlrt::FieldInfo& field) {
  const auto r = rng() % 50;
  if (r < 3) return std::nan("");
  if (field.data_type == pmmlrt::DataType::String) {
    if (r == 3) return double(field.values.size());  // no such category
    return double(rng() % field.values.size());
  }
  if (r == 4) return std::numeric_limits<double>::infinity();
  if (r == 5) return -std::numeric_limits<double>::infinity();
  if (r == 6) return -0.0;
  if (r == 7) return 1e308;
  if (r == 8) return 2.5;  // not an integer
  std::normal_distribution<double> value(0.0, 1.5);
  return field.data_type == pmmlrt::DataType::Integer ? std::round(value(rng)) : value(rng);
}

/// The Value a numeric cell stands for: missing for NaN, the category label for a string field's code.
pmmlrt::Value value_of(const pmmlrt::FieldInfo& field, double x) {
  if (std::isnan(x)) return pmmlrt::Value();
  if (field.data_type == pmmlrt::DataType::String)
    return x >= 0 && std::size_t(x) < field.values.size() ? pmmlrt::Value(field.values[std::size_t(x)])
                                                         : pmmlrt::Value("no such category");
  return pmmlrt::Value(x);
}

/// One record's results, flattened: predicted, probabilities, numeric outputs; or the error.
struct Outcome {
  std::string error;
  std::vector<double> numbers;
};

Outcome from_batch(const pmmlrt::Model& m, const pmmlrt::BatchResult& b, std::size_t row) {
  Outcome o;
  o.error = b.errors()[row];
  if (!o.error.empty()) return o;
  o.numbers.push_back(b.predicted()(row));
  for (std::size_t c = 0; c < m.class_labels().size(); ++c) o.numbers.push_back(b.probabilities()(row, c));
  for (const auto& name : b.output_names()) {
    const auto& v = b.output(name)[row];
    o.numbers.push_back(v.is_number() ? v.number() : std::nan(""));
  }
  return o;
}

Outcome from_into(const pmmlrt::Model& m, const std::vector<double>& x) {
  const std::size_t k = m.class_labels().size(), n = m.output_fields().size();
  Outcome o;
  o.numbers.assign(1 + k + n, -1.0);
  pmmlrt::RecordOutput out{o.numbers.data(), o.numbers.data() + 1, o.numbers.data() + 1 + k};
  try {
    m.score_into(x.data(), x.size(), out);
  } catch (const pmmlrt::Error& e) {
    o.error = e.what();
    o.numbers.clear();
  }
  return o;
}

Outcome from_record(const pmmlrt::Model& m, const pmmlrt::Record& record) {
  Outcome o;
  pmmlrt::Result r;
  try {
    r = m.score(record);
  } catch (const pmmlrt::Error& e) {
    o.error = e.what();
    return o;
  }
  const auto& p = r.predicted();
  if (m.function() == pmmlrt::MiningFunction::Classification) {
    double label = std::nan("");
    for (std::size_t c = 0; c < m.class_labels().size(); ++c)
      if (p.is_string() && p.text() == m.class_labels()[c]) label = double(c);
    o.numbers.push_back(label);
  } else {
    o.numbers.push_back(p.is_number() ? p.number() : std::nan(""));
  }
  for (std::size_t c = 0; c < m.class_labels().size(); ++c)
    o.numbers.push_back(r.probabilities().empty() ? std::nan("") : r.probabilities()[c]);
  for (const auto& out : r.outputs()) o.numbers.push_back(out.value.is_number() ? out.value.number() : std::nan(""));
  return o;
}

/// The error texts name the batch row ("row 5: ..."); a single record is row 0.
std::string without_row(const std::string& message) {
  if (message.rfind("row ", 0) != 0) return message;
  auto colon = message.find(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

void check_same(const Outcome& want, const Outcome& got, bool compare_messages, int line = __builtin_LINE()) {
  CAPTURE(line);
  REQUIRE(want.error.empty() == got.error.empty());
  if (!want.error.empty()) {
    if (compare_messages) REQUIRE(without_row(want.error) == without_row(got.error));
    return;
  }
  REQUIRE(want.numbers.size() == got.numbers.size());
  for (std::size_t i = 0; i < want.numbers.size(); ++i) {
    CAPTURE(i);
    CAPTURE(want.numbers[i]);
    CAPTURE(got.numbers[i]);
    REQUIRE(same_bits(want.numbers[i], got.numbers[i]));
  }
}

}  // namespace

TEST_CASE("linear models: score_into, records and numeric batches equal the generic evaluator per MiningSchema") {
  pmmlrt::BatchOptions keep;
  keep.on_error = pmmlrt::RowErrorPolicy::Record;
  for (const Spec& spec : specs()) {
    CAPTURE(spec.name);
    const auto m = pmmlrt::Model::load_string(document(spec));
    const auto& fields = m.input_fields();
    const std::size_t cols = fields.size(), rows = 301;
    std::mt19937_64 rng(std::hash<std::string>{}(spec.name) + 1);
    std::vector<double> x(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) x[r * cols + c] = random_cell(rng, fields[c]);
    // Every fifth row has no missing or odd cell at all, so that the fast paths are taken often.
    for (std::size_t r = 0; r < rows; r += 5)
      for (std::size_t c = 0; c < cols; ++c)
        if (fields[c].data_type != pmmlrt::DataType::String) x[r * cols + c] = 0.125 * double((r + c) % 9) - 0.5;

    std::vector<std::string> names;
    std::vector<std::vector<pmmlrt::Value>> cells(cols);
    for (const auto& f : fields) names.push_back(f.name);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) cells[c].push_back(value_of(fields[c], x[r * cols + c]));
    const auto generic = m.score(names, cells, keep);
    const auto numeric = m.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep);
    // A float32 matrix (its table sums come from the scalar loop) against the generic path on its cells.
    const std::vector<float> xf(x.begin(), x.end());
    std::vector<std::vector<pmmlrt::Value>> float_cells(cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) float_cells[c].push_back(value_of(fields[c], double(xf[r * cols + c])));
    const auto generic_floats = m.score(names, float_cells, keep);
    const auto floats = m.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep);
    // Without the first input's column: that input is missing in every row (its replacement, if any).
    const std::vector<std::string> rest(names.begin() + 1, names.end());
    std::vector<double> x_rest;
    for (std::size_t r = 0; r < rows; ++r) x_rest.insert(x_rest.end(), x.begin() + std::ptrdiff_t(r * cols + 1),
                                                         x.begin() + std::ptrdiff_t((r + 1) * cols));
    const auto generic_rest = m.score(rest, {cells.begin() + 1, cells.end()}, keep);
    const auto numeric_rest = m.score(x_rest.data(), rows, cols - 1, pmmlrt::Layout::RowMajor, rest, keep);

    for (std::size_t r = 0; r < rows; ++r) {
      CAPTURE(r);
      const Outcome want = from_batch(m, generic, r);
      std::vector<double> in(x.begin() + std::ptrdiff_t(r * cols), x.begin() + std::ptrdiff_t((r + 1) * cols));
      check_same(want, from_batch(m, numeric, r), spec.messages_comparable);
      check_same(from_batch(m, generic_floats, r), from_batch(m, floats, r), spec.messages_comparable);
      check_same(from_batch(m, generic_rest, r), from_batch(m, numeric_rest, r), spec.messages_comparable);
      // A batch of one row (no block of table sums) and the single-record paths.
      check_same(want, from_batch(m, m.score(in.data(), 1, cols, pmmlrt::Layout::RowMajor, {}, keep), 0),
                 spec.messages_comparable);
      check_same(want, from_into(m, in), spec.messages_comparable);
      pmmlrt::Record record;
      for (std::size_t c = 0; c < cols; ++c)
        if (!std::isnan(in[c])) record.emplace(fields[c].name, value_of(fields[c], in[c]));
      check_same(want, from_record(m, record), true);
    }
  }
}

TEST_CASE("linear models: a record with a value the numeric row cannot hold takes the generic path") {
  // Text to be parsed, a NaN number (an invalid value, unlike a NaN cell), a boolean, an unknown name.
  pmmlrt::BatchOptions keep;
  keep.on_error = pmmlrt::RowErrorPolicy::Record;
  for (const Spec& spec : specs()) {
    if (spec.name != "defaults" && spec.name != "replacements" && spec.name != "intervals") continue;
    CAPTURE(spec.name);
    const auto m = pmmlrt::Model::load_string(document(spec));
    const auto& fields = m.input_fields();
    const std::vector<pmmlrt::Value> odd{pmmlrt::Value("0.75"), pmmlrt::Value("1e3"), pmmlrt::Value(std::nan("")),
                                         pmmlrt::Value::boolean(true), pmmlrt::Value("not a number"),
                                         pmmlrt::Value(2.0, pmmlrt::DataType::Integer)};
    for (std::size_t at = 0; at < fields.size(); at += 3)
      for (const auto& v : odd) {
        CAPTURE(at);
        CAPTURE(v.to_string());
        pmmlrt::Record record;
        std::vector<std::string> names;
        std::vector<std::vector<pmmlrt::Value>> cells;
        for (std::size_t c = 0; c < fields.size(); ++c) {
          pmmlrt::Value cell = c == at ? v : pmmlrt::Value(0.1 * double(c) - 0.3);
          record.emplace(fields[c].name, cell);
          names.push_back(fields[c].name);
          cells.push_back({cell});
        }
        record.emplace("zzz_not_an_input", pmmlrt::Value("ignored"));
        check_same(from_batch(m, m.score(names, cells, keep), 0), from_record(m, record), true);
      }
  }
}
