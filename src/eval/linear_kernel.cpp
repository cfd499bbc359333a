// AVX-512 for the linear fast path (see linear_kernel.hpp), and the choice between it, the AVX2 kernel
// (linear_kernel_avx2.cpp) and none. Row-major rows are read eight consecutive columns at a time and
// transposed in registers, so that every load is contiguous; column-major matrices already hold a column's
// eight rows side by side.

#include "eval/linear_kernel.hpp"

#include <algorithm>

#include "eval/ensemble_kernel.hpp"  // simd_level

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's own AVX-512 headers (see ensemble_kernel_simd.cpp)
#endif
#include <immintrin.h>

#include "eval/linear_kernel_shared.hpp"
#include "eval/simd_transpose.hpp"
#define PMMLRT_HAVE_AVX512_LINEAR 1
#endif

namespace pmmlrt::eval {

#ifdef PMMLRT_HAVE_AVX512_LINEAR

namespace {

#define PMMLRT_AVX512 __attribute__((target("avx512f,avx512vl")))

PMMLRT_AVX512 inline __m512d term(__m512d acc, double c, __m512d x, bool to_float) {
  if (to_float) x = _mm512_cvtps_pd(_mm512_cvtpd_ps(x));
  return _mm512_add_pd(acc, _mm512_mul_pd(_mm512_set1_pd(c), x));
}

/// term() where a NaN cell stands for `missing` (a field's missing value replacement).
PMMLRT_AVX512 inline __m512d term(__m512d acc, double c, __m512d x, bool to_float, double missing) {
  const __mmask8 is_missing = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  if (to_float) x = _mm512_cvtps_pd(_mm512_cvtpd_ps(x));
  x = _mm512_mask_mov_pd(x, is_missing, _mm512_set1_pd(missing));
  return _mm512_add_pd(acc, _mm512_mul_pd(_mm512_set1_pd(c), x));
}

/// Eight cells of one row from column c, widened to double (exactly, for float).
PMMLRT_AVX512 inline __m512d load_cells(const double* p) { return _mm512_loadu_pd(p); }
PMMLRT_AVX512 inline __m512d load_cells(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
PMMLRT_AVX512 inline __m512d load_cells(__mmask8 m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
PMMLRT_AVX512 inline __m512d load_cells(__mmask8 m, const float* p) {
  return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p));
}

/// Columns c .. c + 7 of eight rows (base[0..7]), transposed: out[k] holds column c + k of rows 0..7.
template <class T>
PMMLRT_AVX512 inline void load_transposed(const T* const* base, std::ptrdiff_t c, __m512d* out) {
  __m512d r[8];
  for (int j = 0; j < 8; ++j) r[j] = load_cells(base[j] + c);
  simd::transpose8x8(r, out);
}

/// Column c of eight rows from row `first`, one cell at a time (columns that are not eight consecutive ones).
template <class T>
PMMLRT_AVX512 inline __m512d load_column(const LinearRowsOf<T>& rows, std::size_t first, std::ptrdiff_t c) {
  if (rows.column_stride != 1) {
    const std::size_t lanes = rows.lanes > first ? std::min<std::size_t>(8, rows.lanes - first) : 0;
    return load_cells(__mmask8((1u << lanes) - 1), rows.base[0] + first + std::size_t(c) * rows.column_stride);
  }
  alignas(64) double cell[8];
  for (std::size_t j = 0; j < 8; ++j) cell[j] = double(rows.base[first + j][c]);
  return _mm512_load_pd(cell);
}

/// One product added.
template <class T, bool kReplaceMissing>
PMMLRT_AVX512 inline __m512d term_at(__m512d acc, const double* coefficients, const std::uint8_t* to_float,
                                     const double* missing_values, std::size_t i, __m512d x) {
  const bool round = linear::rounds_to_float<T>(to_float, i);
  if constexpr (kReplaceMissing) return term(acc, coefficients[i], x, round, missing_values[i]);
  else return term(acc, coefficients[i], x, round);
}

/// The sums of kBlocks blocks of eight rows (rows 8b .. 8b + 7 in block b), the blocks' chains interleaved.
template <class T, bool kReplaceMissing, int kBlocks>
PMMLRT_AVX512 void linear_sums_avx512(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns,
                                      const double* coefficients, const std::uint8_t* to_float,
                                      const double* missing_values, std::size_t count, double* acc_out) {
  __m512d acc[kBlocks];
  for (int b = 0; b < kBlocks; ++b) acc[b] = _mm512_setzero_pd();
  std::size_t i = 0;
  if (rows.column_stride == 1) {
    // Where the rows end, as far as this table reads them: past it, the next rows' starts are prefetched.
    const std::ptrdiff_t end = count ? columns[count - 1] + 1 : 0;
    for (; i + 8 <= count; i += 8) {
      const std::ptrdiff_t c = columns[i];
      if (!linear::consecutive<8>(columns + i)) {
        for (std::size_t k = 0; k < 8; ++k)
          for (int b = 0; b < kBlocks; ++b)
            acc[b] = term_at<T, kReplaceMissing>(acc[b], coefficients, to_float, missing_values, i + k,
                                                 load_column(rows, std::size_t(8 * b), columns[i + k]));
        continue;
      }
      if (linear::prefetches_at<8, T>(i)) linear::prefetch_rows<8 * kBlocks>(rows, c, end);
      __m512d col[kBlocks][8];
      for (int b = 0; b < kBlocks; ++b) load_transposed(rows.base + 8 * b, c, col[b]);
      for (std::size_t k = 0; k < 8; ++k)
        for (int b = 0; b < kBlocks; ++b)
          acc[b] = term_at<T, kReplaceMissing>(acc[b], coefficients, to_float, missing_values, i + k, col[b][k]);
    }
  }
  for (; i < count; ++i)
    for (int b = 0; b < kBlocks; ++b)
      acc[b] = term_at<T, kReplaceMissing>(acc[b], coefficients, to_float, missing_values, i,
                                           load_column(rows, std::size_t(8 * b), columns[i]));
  for (int b = 0; b < kBlocks; ++b) _mm512_storeu_pd(acc_out + 8 * b, acc[b]);
}

template <class T>
bool dispatch(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns, const double* coefficients,
              const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc) {
  static const SimdLevel level = simd_level();
  if (level == SimdLevel::Avx2) {
    linear_sums_avx2(rows, columns, coefficients, to_float, missing_values, count, acc);
    return true;
  }
  if (level != SimdLevel::Avx512) return false;
  const bool two = rows.lanes > 8;
  if (missing_values) {
    two ? linear_sums_avx512<T, true, 2>(rows, columns, coefficients, to_float, missing_values, count, acc)
        : linear_sums_avx512<T, true, 1>(rows, columns, coefficients, to_float, missing_values, count, acc);
  } else {
    two ? linear_sums_avx512<T, false, 2>(rows, columns, coefficients, to_float, nullptr, count, acc)
        : linear_sums_avx512<T, false, 1>(rows, columns, coefficients, to_float, nullptr, count, acc);
  }
  return true;
}

}  // namespace

bool linear_sums(const LinearRows& rows, const std::ptrdiff_t* columns, const double* coefficients,
                 const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc) {
  return dispatch(rows, columns, coefficients, to_float, missing_values, count, acc);
}

bool linear_sums(const LinearRowsOf<float>& rows, const std::ptrdiff_t* columns, const double* coefficients,
                 const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc) {
  return dispatch(rows, columns, coefficients, to_float, missing_values, count, acc);
}

#else

bool linear_sums(const LinearRows&, const std::ptrdiff_t*, const double*, const std::uint8_t*, const double*, std::size_t,
                 double*) {
  return false;
}

bool linear_sums(const LinearRowsOf<float>&, const std::ptrdiff_t*, const double*, const std::uint8_t*, const double*,
                 std::size_t, double*) {
  return false;
}

#endif

}  // namespace pmmlrt::eval
