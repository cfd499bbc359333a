// The linear kernels (eval::linear_sums at the dispatch level, and the AVX2 kernel itself wherever the CPU has
// AVX2) against a plain sum in the table's order, bit for bit: every lane count from 1 to 16, row- and
// column-major, double and float cells, columns consecutive or scattered, term counts that are not a
// multiple of the vector width, to_float on and off, with and without missing value replacement. The rows
// read are a matrix's last ones and end where an unreadable page begins, so a read past the caller's buffer
// faults.

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "eval/ensemble_kernel.hpp"  // simd_level, cpu_has_avx2
#include "eval/linear_kernel.hpp"
#include "support.hpp"

namespace {

using pmmlrt::eval::LinearRowsOf;
using pmmlrt_test::same_bits;

/// Memory followed by a page that cannot be read: the last cells of a matrix placed by ending() lie just
/// before it.
class GuardedMemory {
 public:
  explicit GuardedMemory(std::size_t bytes)
      : page_(std::size_t(sysconf(_SC_PAGESIZE))), size_((bytes + page_ - 1) / page_ * page_ + page_) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    memory_ = static_cast<char*>(p);
    REQUIRE(mprotect(memory_ + size_ - page_, page_, PROT_NONE) == 0);
  }
  ~GuardedMemory() { munmap(memory_, size_); }
  GuardedMemory(const GuardedMemory&) = delete;
  GuardedMemory& operator=(const GuardedMemory&) = delete;

  /// n cells of T that end where the unreadable page begins.
  template <class T>
  T* ending(std::size_t n) {
    REQUIRE(n * sizeof(T) <= size_ - page_);
    return reinterpret_cast<T*>(memory_ + size_ - page_) - n;
  }

 private:
  std::size_t page_, size_;
  char* memory_ = nullptr;
};

/// c * x rounded before it is added, as the kernels add it (a fused multiply-add would round once, and the
/// tests are built without -ffp-contract=off).
double product(double c, double x) {
  volatile double p = c * x;
  return p;
}

/// A cell: mostly numbers that are not floats (so that rounding to float matters) over several magnitudes
/// (so that any other order of additions rounds differently), sometimes NaN, infinities, -0, a subnormal,
/// or a double beyond the float range.
double random_cell(std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  switch (rng() % 24) {
    case 0: case 1: return std::nan("");
    case 2: return std::numeric_limits<double>::infinity();
    case 3: return -std::numeric_limits<double>::infinity();
    case 4: return -0.0;
    case 5: return 3e-310;
    case 6: return -1e300;
    default: return normal(rng) * std::pow(10.0, double(int(rng() % 7) - 3));
  }
}

/// Term columns: 0, 1, 2, ... (every step of the vector width reads consecutive columns), or runs of one to
/// nine consecutive columns from random places, a column now and then twice.
std::vector<std::ptrdiff_t> term_columns(std::mt19937_64& rng, std::size_t count, std::size_t cols, bool consecutive) {
  std::vector<std::ptrdiff_t> columns;
  while (columns.size() < count) {
    if (consecutive) {
      columns.push_back(std::ptrdiff_t(columns.size()));
      continue;
    }
    const std::size_t run = 1 + rng() % 9, start = rng() % cols;
    for (std::size_t k = 0; k < run && start + k < cols && columns.size() < count; ++k)
      columns.push_back(std::ptrdiff_t(start + k));
  }
  return columns;
}

/// The table's sum for one row, as the batch path's scalar loop adds it; cell(c) is the row's cell of column c.
template <class Cell>
double reference_sum(const Cell& cell, const std::vector<std::ptrdiff_t>& columns,
                     const std::vector<double>& coefficients, const std::vector<std::uint8_t>& to_float,
                     const double* missing_values) {
  double acc = 0.0;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    double x = double(cell(columns[i]));
    if (missing_values && x != x) x = missing_values[i];
    else if (to_float[i]) x = double(float(x));
    acc += product(coefficients[i], x);
  }
  return acc;
}

enum class Layout { RowMajor, ColumnMajor };

template <class T>
void check_kernels(Layout layout, std::size_t lanes, bool consecutive, bool replace_missing, std::size_t count,
                   std::mt19937_64& rng) {
  constexpr std::size_t kCols = 41;  // more than the terms, not a multiple of 4 or 8
  const std::size_t before = rng() % 3;  // rows before the block's: a column-major block need not start a column
  const std::size_t rows_in_matrix = before + lanes;
  GuardedMemory memory(rows_in_matrix * kCols * sizeof(T));
  T* data = memory.ending<T>(rows_in_matrix * kCols);
  for (std::size_t k = 0; k < rows_in_matrix * kCols; ++k) data[k] = T(random_cell(rng));
  auto cell = [&](std::size_t row, std::ptrdiff_t c) {
    const std::size_t col = std::size_t(c);
    return layout == Layout::RowMajor ? data[row * kCols + col] : data[col * rows_in_matrix + row];
  };

  const auto columns = term_columns(rng, count, kCols, consecutive);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> coefficients(count), missing_values(count);
  std::vector<std::uint8_t> to_float(count);
  const unsigned rounding = unsigned(rng() % 3);  // none, every term, or about half of them
  for (std::size_t i = 0; i < count; ++i) {
    coefficients[i] = i % 11 == 5 ? 0.0 : normal(rng) * std::pow(10.0, double(int(rng() % 5) - 2));
    // A table with replacements may have terms without one (NaN: the row then leaves the fast path).
    missing_values[i] = i % 5 == 4 ? std::nan("") : normal(rng);
    to_float[i] = rounding == 1 || (rounding == 2 && rng() % 2);
  }
  const double* missing = replace_missing ? missing_values.data() : nullptr;

  LinearRowsOf<T> rows;
  rows.lanes = lanes;
  rows.column_stride = layout == Layout::RowMajor ? 1 : rows_in_matrix;
  for (std::size_t j = 0; j < LinearRowsOf<T>::kMaxLanes; ++j) {
    rows.base[j] = layout == Layout::RowMajor ? data + (before + std::min(j, lanes - 1)) * kCols : data + before;
    // Rows to prefetch (never read): any readable row does.
    if (layout == Layout::RowMajor && before > 0) rows.next[j] = data;
  }

  std::vector<double> want(lanes);
  for (std::size_t j = 0; j < lanes; ++j)
    want[j] = reference_sum([&](std::ptrdiff_t c) { return cell(before + j, c); }, columns, coefficients, to_float,
                            missing);
  auto require_sums = [&](const double* acc) {
    for (std::size_t j = 0; j < lanes; ++j) {
      CAPTURE(j);
      CAPTURE(want[j]);
      CAPTURE(acc[j]);
      REQUIRE(same_bits(acc[j], want[j]));
    }
  };

  double acc[LinearRowsOf<T>::kMaxLanes];
  std::fill(std::begin(acc), std::end(acc), -1.0);
  if (pmmlrt::eval::linear_sums(rows, columns.data(), coefficients.data(), to_float.data(), missing, count, acc))
    require_sums(acc);
  else  // the caller's scalar loop runs: only at the scalar level
    REQUIRE(pmmlrt::eval::simd_level() == pmmlrt::eval::SimdLevel::Scalar);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // The AVX2 kernel, also where the dispatch takes AVX-512 (and under PMMLRT_SIMD=scalar, the CPU allowing).
  if (pmmlrt::eval::cpu_has_avx2()) {
    std::fill(std::begin(acc), std::end(acc), -1.0);
    pmmlrt::eval::linear_sums_avx2(rows, columns.data(), coefficients.data(), to_float.data(), missing, count, acc);
    require_sums(acc);
  }
#endif
}

}  // namespace

TEST_CASE("linear kernel: every lane count, layout, cell type, column pattern, rounding and replacement, bit for bit") {
  std::mt19937_64 rng(2024);
  for (const Layout layout : {Layout::RowMajor, Layout::ColumnMajor})
    for (std::size_t lanes = 1; lanes <= 16; ++lanes)
      for (const bool consecutive : {true, false})
        for (const bool replace_missing : {false, true})
          // 0 terms; fewer than one step of four or eight; steps and a tail of every length.
          for (const std::size_t count : {0, 1, 3, 4, 7, 8, 9, 13, 16, 27, 32, 35}) {
            const char* order = layout == Layout::RowMajor ? "row-major" : "column-major";
            CAPTURE(order);
            CAPTURE(lanes);
            CAPTURE(consecutive);
            CAPTURE(replace_missing);
            CAPTURE(count);
            check_kernels<double>(layout, lanes, consecutive, replace_missing, count, rng);
            check_kernels<float>(layout, lanes, consecutive, replace_missing, count, rng);
          }
}
