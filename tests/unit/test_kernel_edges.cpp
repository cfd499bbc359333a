// The binned kernel maps each input to the number of split thresholds below it: the values where that can go
// wrong are the thresholds themselves, their neighbouring doubles, signed zeros, infinities and missing
// values. Score batches made of exactly those values with the kernel on and off and compare bit for bit.

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

using pmmlrt_test::slurp;

using pmmlrt_test::same_bits;

/// Every number in a `value="..."` attribute of the document: the split thresholds, among others.
std::vector<double> numbers_in_values(const std::string& text) {
  std::set<double> out;
  static const std::regex value_attr("value=\"(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\"");
  for (std::sregex_iterator it(text.begin(), text.end(), value_attr), end; it != end; ++it) {
    double v = std::strtod((*it)[1].str().c_str(), nullptr);
    out.insert(v);
    out.insert(double(float(v)));  // the float a float-typed field turns it into
  }
  return {out.begin(), out.end()};
}

/// Rows of hostile values for every input: thresholds and their neighbours, zeros, infinities, NaN.
std::vector<double> hostile_rows(const pmmlrt::Model& m, const std::vector<double>& thresholds, std::size_t rows,
                                 std::mt19937_64& rng) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t cols = m.input_fields().size();
  std::vector<double> x(rows * cols);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<std::size_t> pick(0, thresholds.empty() ? 0 : thresholds.size() - 1);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const auto& field = m.input_fields()[c];
      double v;
      if (!field.values.empty()) {
        std::uniform_int_distribution<int> code(-1, int(field.values.size()));
        v = kind(rng) == 0 ? std::nan("") : double(code(rng));
      } else {
        double t = thresholds.empty() ? 0.0 : thresholds[pick(rng)];
        switch (kind(rng)) {
          case 0: v = std::nan(""); break;
          case 1: v = std::nextafter(t, inf); break;
          case 2: v = std::nextafter(t, -inf); break;
          case 3: v = double(std::nextafter(float(t), float(inf))); break;
          case 4: v = double(std::nextafter(float(t), -float(inf))); break;
          case 5: v = (rng() & 1) ? -0.0 : 0.0; break;
          case 6: v = (rng() & 1) ? inf : -inf; break;
          default: v = t; break;
        }
      }
      x[r * cols + c] = v;
    }
  return x;
}


}  // namespace

TEST_CASE("kernel and generic walk agree on thresholds, their neighbours, zeros, infinities and NaN") {
  const std::vector<fs::path> models = pmmlrt_test::corpus_models();
  REQUIRE(models.size() > 20);
  std::mt19937_64 rng(20261201);
  std::size_t ensembles = 0;
  for (const auto& path : models) {
    std::string text = slurp(path);
    const bool has_trees = text.find("<Segmentation") != std::string::npos || text.find("<TreeModel") != std::string::npos;
    if (!has_trees || text.find("FMTWIDTH") != std::string::npos) continue;
    CAPTURE(path.string());
    pmmlrt::LoadOptions slow;
    slow.ensemble_kernel = false;
    auto fast_model = pmmlrt::Model::load_string(text);
    auto slow_model = pmmlrt::Model::load_string(text, slow);
    if (fast_model.input_fields().empty()) continue;
    ++ensembles;
    const auto thresholds = numbers_in_values(text);
    pmmlrt::BatchOptions keep_going;
    keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
    // Batch sizes around the vector width and the block size, so that tails and padding are exercised.
    for (std::size_t rows : {2, 7, 9, 64, 71, 203}) {
      CAPTURE(rows);
      auto x = hostile_rows(fast_model, thresholds, rows, rng);
      const std::size_t cols = fast_model.input_fields().size();
      pmmlrt_test::require_same_batches(fast_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going),
                   slow_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going));
      // One record at a time (the single-row walk), through the latency path.
      if (rows == 71) {
        for (std::size_t r = 0; r < rows; ++r)
          pmmlrt_test::require_same_score_into(fast_model, slow_model, x.data() + r * cols, cols);
      }
      std::vector<float> xf(x.begin(), x.end());
      pmmlrt_test::require_same_batches(fast_model.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going),
                   slow_model.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going));
      if (rows == 64) {
        // Named columns in reverse order, column-major, and without the first input (always missing): the
        // kernels that read their features straight from the matrix must follow the names and the layout.
        std::vector<std::string> names;
        for (std::size_t c = cols; c-- > 0;) names.push_back(fast_model.input_fields()[c].name);
        std::vector<double> by_column(rows * cols);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < cols; ++c) by_column[(cols - 1 - c) * rows + r] = x[r * cols + c];
        const auto expected = slow_model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
        pmmlrt_test::require_same_batches(fast_model.score(by_column.data(), rows, cols, pmmlrt::Layout::ColumnMajor, names, keep_going),
                     expected);
        if (cols > 1) {
          names.pop_back();
          pmmlrt_test::require_same_batches(fast_model.score(by_column.data(), rows, cols - 1, pmmlrt::Layout::ColumnMajor, names, keep_going),
                       slow_model.score(by_column.data(), rows, cols - 1, pmmlrt::Layout::ColumnMajor, names, keep_going));
        }
      }
    }
  }
  MESSAGE("compared hostile batches over " << ensembles << " ensembles");
  CHECK(ensembles > 20);
}
