#pragma once
// The inner loop of the linear fast path: one regression table's sums for up to sixteen rows of a double or
// float matrix, each row's products added in the table's order exactly as RegressionTableEval adds them
// (acc += c * x, from 0, no fused multiply-add), so the vector lanes are rows and no addition is reordered.
// AVX-512 (linear_kernel.cpp) or AVX2 (linear_kernel_avx2.cpp), as simd_level() says.

#include <cstddef>
#include <cstdint>

namespace pmmlrt::eval {

/// Up to sixteen rows of a matrix of T (double or float): row j's cell of column c is at
/// base[j] + c * column_stride.
template <class T>
struct LinearRowsOf {
  static constexpr std::size_t kMaxLanes = 16;
  const T* base[kMaxLanes];   // row-major: each row's start (rows past `lanes` repeat the last real row)
  std::size_t column_stride;  // 1 for a row-major matrix; the row count for a column-major one, whose rows
                              // are then base[0] + j (only `lanes` of them are read)
  std::size_t lanes;          // the real rows, 1 to 16; acc[j] for j >= lanes is meaningless
  /// Row-major: the starts of the rows the caller sums next (null: none). Only prefetched, never read: as
  /// this call's rows run out, their first lines are fetched while the caller finishes these rows.
  const T* next[kMaxLanes] = {};
};
using LinearRows = LinearRowsOf<double>;

/// acc[j] (j < 16) = sum over i < count of coefficients[i] * x_j(columns[i]), where x is rounded to float first when
/// to_float[i], and a NaN x is missing_values[i] instead (as it is, not rounded) when missing_values is not
/// null. Every column must be >= 0. Uses AVX-512 or else AVX2, whichever simd_level() allows; false if it did
/// nothing (the caller's scalar loop then runs). AVX-512 adds more than eight lanes as two blocks of eight
/// side by side, AVX2 four rows per block and up to four blocks: each row's sum is one chain of dependent
/// additions, so the other blocks' chains hide its latency.
bool linear_sums(const LinearRows& rows, const std::ptrdiff_t* columns, const double* coefficients,
                 const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc);
/// The same over a float matrix: each cell widened to double exactly (rounding it to float again is the
/// identity, so to_float changes nothing), then summed as above.
bool linear_sums(const LinearRowsOf<float>& rows, const std::ptrdiff_t* columns, const double* coefficients,
                 const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc);

/// linear_sums with AVX2 (linear_kernel_avx2.cpp), on x86-64 only; call only when simd_level() is Avx2 or
/// above.
void linear_sums_avx2(const LinearRows& rows, const std::ptrdiff_t* columns, const double* coefficients,
                      const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc);
void linear_sums_avx2(const LinearRowsOf<float>& rows, const std::ptrdiff_t* columns, const double* coefficients,
                      const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc);

}  // namespace pmmlrt::eval
