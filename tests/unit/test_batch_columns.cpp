// BatchResult keeps its Value columns compact while scoring (tags and numbers, class labels by index, other
// strings spilled per thread range) and builds the Values on first request. Every Value it hands out must be
// the one the record path gives for that row: kind, type, number to the bit, text. Checked over the whole
// conformance corpus, on one thread and split across threads, and through output_numbers().

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/csv.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using pmmlrt_test::same_bits;

namespace {

bool identical(const pmmlrt::Value& a, const pmmlrt::Value& b) {
  if (a.kind() != b.kind() || a.type() != b.type()) return false;
  return a.is_number() || a.is_boolean() ? same_bits(a.number(), b.number()) : a == b;
}

/// The case's input rows, repeated up to `rows` (enough for a batch to be split across threads).
std::vector<std::vector<pmmlrt::Value>> read_columns(const fs::path& dir, const pmmlrt::Model& model,
                                                     std::size_t rows) {
  std::vector<std::vector<pmmlrt::Value>> columns(model.input_fields().size());
  std::ifstream in(dir / "input.csv");
  pmmlrt::csv::TableReader table(in);
  std::vector<std::string> row;
  std::size_t read = 0;
  while (table.next(row) && read < rows) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      auto col = table.column(model.input_fields()[i].name);
      const bool missing = !col || row[*col] == "N/A" || row[*col] == "NA";
      columns[i].push_back(missing ? pmmlrt::Value() : pmmlrt::Value(row[*col]));
    }
    ++read;
  }
  for (std::size_t r = read; read && r < rows; ++r)
    for (auto& column : columns) column.push_back(column[r % read]);
  return columns;
}

struct Coverage {
  std::size_t models = 0, values = 0, labels = 0, other_strings = 0, integers = 0, booleans = 0, missing = 0;
};

void note(Coverage& seen, const pmmlrt::Value& v, const std::vector<std::string>& classes) {
  ++seen.values;
  if (v.is_missing()) ++seen.missing;
  if (v.is_boolean()) ++seen.booleans;
  if (v.is_number() && v.type() == pmmlrt::DataType::Integer) ++seen.integers;
  if (v.is_string()) {
    bool label = false;
    for (const auto& c : classes) label = label || c == v.text();
    ++(label ? seen.labels : seen.other_strings);
  }
}

}  // namespace

TEST_CASE("batch Value columns: every predicted value and output is the record path's, on every thread count") {
  Coverage seen;
  const unsigned threads = 3;
  for (const auto& source : fs::directory_iterator(PMMLRT_CONFORMANCE_DIR)) {
    if (!source.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(source.path())) {
      const fs::path dir = entry.path();
      if (!fs::exists(dir / "model.pmml") || !fs::exists(dir / "input.csv")) continue;
      CAPTURE(dir.string());
      std::optional<pmmlrt::Model> loaded;
      try {
        loaded.emplace(pmmlrt::Model::load_file(dir / "model.pmml"));
      } catch (const pmmlrt::Error&) {
        continue;  // the corpus's known failures; the conformance test covers them
      }
      const pmmlrt::Model& model = *loaded;
      std::vector<std::string> names;
      for (const auto& f : model.input_fields()) names.push_back(f.name);
      // 256 rows per thread at least: 3 threads need 768.
      const auto columns = read_columns(dir, model, 800);
      if (columns.empty() || columns[0].empty()) continue;
      const std::size_t rows = columns[0].size();
      pmmlrt::BatchOptions one;
      one.on_error = pmmlrt::RowErrorPolicy::Record;
      pmmlrt::BatchOptions split = one;
      split.threads = threads;
      const auto a = model.score(names, columns, one);
      const auto b = model.score(names, columns, split);
      REQUIRE(a.rows() == rows);
      REQUIRE(b.rows() == rows);
      REQUIRE(a.predicted_values().size() == rows);
      const auto& outputs = a.output_names();
      std::vector<xt::xtensor<double, 1>> numbers;
      for (const auto& name : outputs) numbers.push_back(a.output_numbers(name));
      for (std::size_t r = 0; r < rows; ++r) {
        CAPTURE(r);
        pmmlrt::Record record;
        for (std::size_t i = 0; i < names.size(); ++i) record[names[i]] = columns[i][r];
        pmmlrt::Result expected;
        bool failed = false;
        try {
          expected = model.score(record);
        } catch (const pmmlrt::Error&) {
          failed = true;
        }
        REQUIRE(failed == !a.errors()[r].empty());
        const pmmlrt::Value want = failed ? pmmlrt::Value() : expected.predicted();
        REQUIRE(identical(a.predicted_values()[r], want));
        REQUIRE(identical(b.predicted_values()[r], want));
        // The numbers beside the Values: probabilities to the bit, the predicted class's index or value.
        const auto& probabilities = failed ? std::vector<double>() : expected.probabilities();
        for (std::size_t c = 0; c < a.classes().size(); ++c) {
          const double p = c < probabilities.size() ? probabilities[c] : std::nan("");
          REQUIRE(same_bits(a.probabilities()(r, c), p));
          REQUIRE(same_bits(b.probabilities()(r, c), p));
        }
        REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
        if (want.is_number() && a.classes().empty()) REQUIRE(same_bits(a.predicted()(r), want.number()));
        note(seen, want, a.classes());
        for (std::size_t o = 0; o < outputs.size(); ++o) {
          CAPTURE(outputs[o]);
          const pmmlrt::Value* v = failed ? nullptr : expected.output(outputs[o]);
          const pmmlrt::Value out = v ? *v : pmmlrt::Value();
          REQUIRE(identical(a.output(outputs[o])[r], out));
          REQUIRE(identical(b.output(outputs[o])[r], out));
          const double number = out.is_number() || out.is_boolean() ? out.number() : std::nan("");
          REQUIRE(same_bits(numbers[o](r), number));
          note(seen, out, a.classes());
        }
      }
      ++seen.models;
    }
  }
  MESSAGE(seen.models << " models, " << seen.values << " values: " << seen.labels << " class labels, "
                      << seen.other_strings << " other strings, " << seen.integers << " integers, " << seen.booleans
                      << " booleans, " << seen.missing << " missing");
  // The corpus must exercise every kind of cell the columns keep apart.
  CHECK(seen.models > 80);
  CHECK(seen.labels > 1000);
  CHECK(seen.other_strings > 100);
  CHECK(seen.integers > 100);
  CHECK(seen.missing > 100);
}

TEST_CASE("batch Value columns: copies share the built Values and an empty result has none") {
  auto model = pmmlrt::Model::load_file(PMMLRT_SOURCE_DIR "/tests/generated/cases/DecisionTreeIris/model.pmml");
  std::vector<double> x(4 * model.input_fields().size(), 1.0);
  const auto a = model.score(x.data(), 4, model.input_fields().size(), pmmlrt::Layout::RowMajor);
  const pmmlrt::BatchResult copy = a;
  REQUIRE(copy.predicted_values().size() == 4);
  CHECK(&copy.predicted_values() == &a.predicted_values());
  for (std::size_t r = 0; r < 4; ++r) CHECK(copy.predicted_values()[r].is_string());
  const pmmlrt::BatchResult empty;
  CHECK(empty.predicted_values().empty());
  CHECK_THROWS_AS(empty.output("nothing"), pmmlrt::Error);
  // Concurrent first requests build the Values once.
  const auto fresh = model.score(x.data(), 4, model.input_fields().size(), pmmlrt::Layout::RowMajor);
  const std::vector<pmmlrt::Value>* seen[4] = {};
  std::vector<std::thread> readers;
  for (auto& s : seen) readers.emplace_back([&] { s = &fresh.predicted_values(); });
  for (auto& t : readers) t.join();
  for (auto* s : seen) CHECK(s == seen[0]);
}
