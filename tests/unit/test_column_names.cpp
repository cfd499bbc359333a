// A numeric batch's columns are found by name when names are given: in the input fields' own order (found
// without hashing), in any other order, with unknown or repeated names (the last column of a name wins).
// Every way must score what the unnamed matrix in field order scores.

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;


}  // namespace

TEST_CASE("batch column names: field order, other orders, unknown and repeated names") {
  auto model = pmmlrt::Model::load_file(PMMLRT_SOURCE_DIR "/examples/models/iris_forest.pmml");
  std::vector<std::string> names;
  for (const auto& f : model.input_fields()) names.push_back(f.name);
  const std::size_t cols = names.size(), rows = 40;
  REQUIRE(cols == 4);
  std::vector<double> x(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) x[r * cols + c] = 0.5 + double((r * 7 + c * 3) % 23) * 0.3;
  const auto unnamed = model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor);

  // The fields' own names in their order.
  pmmlrt_test::require_same_batches(model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, names), unnamed);

  // Reversed names over a matrix whose columns are reversed too.
  std::vector<std::string> reversed(names.rbegin(), names.rend());
  std::vector<double> xr(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) xr[r * cols + c] = x[r * cols + (cols - 1 - c)];
  pmmlrt_test::require_same_batches(model.score(xr.data(), rows, cols, pmmlrt::Layout::RowMajor, reversed), unnamed);

  // One more column, named as the first field: the last column of a name wins.
  std::vector<std::string> repeated = names;
  repeated.push_back(names[0]);
  std::vector<double> xp(rows * (cols + 1));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) xp[r * (cols + 1) + c] = c == 0 ? -100.0 : x[r * cols + c];
    xp[r * (cols + 1) + cols] = x[r * cols];
  }
  pmmlrt_test::require_same_batches(model.score(xp.data(), rows, cols + 1, pmmlrt::Layout::RowMajor, repeated), unnamed);

  // A field named wrongly is missing: the same as a NaN column, not the column in that position.
  std::vector<std::string> unknown = names;
  unknown[2] = "no such field";
  std::vector<double> xm = x;
  for (std::size_t r = 0; r < rows; ++r) xm[r * cols + 2] = std::nan("");
  pmmlrt::BatchOptions keep_going;
  keep_going.on_error = pmmlrt::RowErrorPolicy::Record;
  const auto missing = model.score(xm.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep_going);
  const auto named_unknown = model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, unknown, keep_going);
  pmmlrt_test::require_same_batches(named_unknown, missing);
  REQUIRE(named_unknown.errors() == missing.errors());

  // Names that do not match the matrix's width.
  std::vector<std::string> short_names(names.begin(), names.end() - 1);
  CHECK_THROWS_AS(model.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, short_names), pmmlrt::Error);
}
