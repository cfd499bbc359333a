// AVX2 for the linear fast path (see linear_kernel.hpp), for x86-64 CPUs without AVX-512: the AVX-512
// kernel's steps (linear_kernel.cpp) with four rows per vector, so sixteen rows are four blocks whose chains
// are interleaved. Row-major rows are read four consecutive columns at a time and transposed in registers;
// column-major matrices already hold a column's four rows side by side. Built for any x86-64 with the
// instructions enabled per function, and chosen at run time (simd_level()) only on CPUs that have them.
// "avx2" and not "fma": with FMA enabled the compiler could fuse c * x + acc into one rounding.

#include "eval/linear_kernel.hpp"

#include <algorithm>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "eval/linear_kernel_shared.hpp"
#include "eval/simd_transpose.hpp"
#define PMMLRT_HAVE_AVX2_LINEAR 1
#endif

namespace pmmlrt::eval {

#ifdef PMMLRT_HAVE_AVX2_LINEAR

namespace {

#define PMMLRT_AVX2 __attribute__((target("avx2")))

constexpr std::size_t kWidth = 4;  // rows per vector

PMMLRT_AVX2 inline __m256d term(__m256d acc, double c, __m256d x, bool to_float) {
  if (to_float) x = _mm256_cvtps_pd(_mm256_cvtpd_ps(x));
  return _mm256_add_pd(acc, _mm256_mul_pd(_mm256_set1_pd(c), x));
}

/// term() where a NaN cell stands for `missing` (a field's missing value replacement).
PMMLRT_AVX2 inline __m256d term(__m256d acc, double c, __m256d x, bool to_float, double missing) {
  const __m256d is_missing = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  if (to_float) x = _mm256_cvtps_pd(_mm256_cvtpd_ps(x));
  x = _mm256_blendv_pd(x, _mm256_set1_pd(missing), is_missing);
  return _mm256_add_pd(acc, _mm256_mul_pd(_mm256_set1_pd(c), x));
}

/// Four cells of one row from column c, widened to double (exactly, for float).
PMMLRT_AVX2 inline __m256d load_cells(const double* p) { return _mm256_loadu_pd(p); }
PMMLRT_AVX2 inline __m256d load_cells(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
/// The first `lanes` (0 to 3) of them; the others are 0 and their memory is not read (it may be past the
/// caller's buffer).
PMMLRT_AVX2 inline __m256d load_cells(std::size_t lanes, const double* p) {
  const __m256i first = _mm256_cmpgt_epi64(_mm256_set1_epi64x(std::int64_t(lanes)), _mm256_setr_epi64x(0, 1, 2, 3));
  return _mm256_maskload_pd(p, first);
}
PMMLRT_AVX2 inline __m256d load_cells(std::size_t lanes, const float* p) {
  const __m128i first = _mm_cmpgt_epi32(_mm_set1_epi32(int(lanes)), _mm_setr_epi32(0, 1, 2, 3));
  return _mm256_cvtps_pd(_mm_maskload_ps(p, first));
}

/// Two cells of row `low` in the low half, two of row `high` in the high half.
PMMLRT_AVX2 inline __m256d load_halves(const double* low, const double* high) {
  return _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(low)), _mm_loadu_pd(high), 1);
}

/// Columns c .. c + 3 of four rows (base[0..3]), transposed: out[k] holds column c + k of rows 0..3. Each
/// pair of a row's cells is loaded into the half of a register it ends in (rows 0 and 2 side by side, 1 and
/// 3), so one unpack per column is left: more loads, but no shuffle across halves, and faster than four loads
/// and transpose4x4 (see add_row_major).
PMMLRT_AVX2 inline void load_transposed(const double* const* base, std::ptrdiff_t c, __m256d* out) {
  const __m256d rows02_c01 = load_halves(base[0] + c, base[2] + c);
  const __m256d rows13_c01 = load_halves(base[1] + c, base[3] + c);
  const __m256d rows02_c23 = load_halves(base[0] + c + 2, base[2] + c + 2);
  const __m256d rows13_c23 = load_halves(base[1] + c + 2, base[3] + c + 2);
  out[0] = _mm256_unpacklo_pd(rows02_c01, rows13_c01);
  out[1] = _mm256_unpackhi_pd(rows02_c01, rows13_c01);
  out[2] = _mm256_unpacklo_pd(rows02_c23, rows13_c23);
  out[3] = _mm256_unpackhi_pd(rows02_c23, rows13_c23);
}

/// The same for float cells: a row's four cells are one load, widened to a register of doubles, then
/// transposed.
PMMLRT_AVX2 inline void load_transposed(const float* const* base, std::ptrdiff_t c, __m256d* out) {
  __m256d r[kWidth];
  for (std::size_t j = 0; j < kWidth; ++j) r[j] = load_cells(base[j] + c);
  simd::transpose4x4(r, out);
}

/// Column c of four row-major rows (base[0..3]), one cell at a time (columns that are not four consecutive
/// ones).
template <class T>
PMMLRT_AVX2 inline __m256d load_column(const T* const* base, std::ptrdiff_t c) {
  return _mm256_setr_pd(double(base[0][c]), double(base[1][c]), double(base[2][c]), double(base[3][c]));
}

/// One product added. Without kMayRound no term's cell is rounded to float, and none is tested.
template <class T, bool kReplaceMissing, bool kMayRound>
PMMLRT_AVX2 inline __m256d term_at(__m256d acc, const double* coefficients, const std::uint8_t* to_float,
                                   const double* missing_values, std::size_t i, __m256d x) {
  const bool round = kMayRound && linear::rounds_to_float<T>(to_float, i);
  if constexpr (kReplaceMissing) return term(acc, coefficients[i], x, round, missing_values[i]);
  else return term(acc, coefficients[i], x, round);
}

/// The terms of kBlocks blocks of four row-major rows into acc[0 .. kBlocks - 1]: four consecutive columns at
/// a time where they are, else one column at a time.
template <class T, bool kReplaceMissing, bool kMayRound, int kBlocks>
PMMLRT_AVX2 inline void add_row_major(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns,
                                      const double* coefficients, const std::uint8_t* to_float,
                                      const double* missing_values, std::size_t count, __m256d* acc) {
  // Where the rows end, as far as this table reads them: past it, the next rows' starts are prefetched.
  const std::ptrdiff_t end = count ? columns[count - 1] + 1 : 0;
  std::size_t i = 0;
  for (; i + kWidth <= count; i += kWidth) {
    const std::ptrdiff_t c = columns[i];
    if (!linear::consecutive<kWidth>(columns + i)) {
      for (std::size_t k = 0; k < kWidth; ++k)
        for (int b = 0; b < kBlocks; ++b)
          acc[b] = term_at<T, kReplaceMissing, kMayRound>(
              acc[b], coefficients, to_float, missing_values, i + k,
              load_column(rows.base + kWidth * std::size_t(b), columns[i + k]));
      continue;
    }
    if (linear::prefetches_at<kWidth, T>(i))
      linear::prefetch_rows<kWidth * kBlocks>(rows, c, end);
    // A block's four columns, then its four terms: sixteen columns at once are more registers than AVX2 has,
    // and the out-of-order core runs the blocks' chains side by side all the same. With load_transposed's
    // loads, 1.1-1.2x the speed of loading every block first and transposing with transpose4x4 (16 and 32
    // rows of 1,000 doubles, in L2; AMD Zen 3).
    for (int b = 0; b < kBlocks; ++b) {
      __m256d col[kWidth];
      load_transposed(rows.base + kWidth * std::size_t(b), c, col);
      for (std::size_t k = 0; k < kWidth; ++k)
        acc[b] = term_at<T, kReplaceMissing, kMayRound>(acc[b], coefficients, to_float, missing_values, i + k,
                                                        col[k]);
    }
  }
  for (; i < count; ++i)
    for (int b = 0; b < kBlocks; ++b)
      acc[b] = term_at<T, kReplaceMissing, kMayRound>(acc[b], coefficients, to_float, missing_values, i,
                                                      load_column(rows.base + kWidth * std::size_t(b), columns[i]));
}

/// The same for column-major rows: a column's rows are side by side, so each block's cells are one load, a
/// masked one for a last block of fewer than four rows.
template <class T, bool kReplaceMissing, bool kMayRound, int kBlocks>
PMMLRT_AVX2 inline void add_column_major(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns,
                                         const double* coefficients, const std::uint8_t* to_float,
                                         const double* missing_values, std::size_t count, __m256d* acc) {
  const std::size_t last_lanes = rows.lanes - kWidth * std::size_t(kBlocks - 1);
  for (std::size_t i = 0; i < count; ++i) {
    const T* cells = rows.base[0] + std::size_t(columns[i]) * rows.column_stride;
    for (int b = 0; b < kBlocks; ++b) {
      const T* block = cells + kWidth * std::size_t(b);
      const __m256d x = b + 1 < kBlocks || last_lanes >= kWidth ? load_cells(block) : load_cells(last_lanes, block);
      acc[b] = term_at<T, kReplaceMissing, kMayRound>(acc[b], coefficients, to_float, missing_values, i, x);
    }
  }
}

/// The sums of kBlocks blocks of four rows (rows 4b .. 4b + 3 in block b), the blocks' chains interleaved.
/// Every block holds a real row (kBlocks = lanes / 4 rounded up).
template <class T, bool kReplaceMissing, bool kMayRound, int kBlocks>
PMMLRT_AVX2 void linear_sums_blocks(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns,
                                    const double* coefficients, const std::uint8_t* to_float,
                                    const double* missing_values, std::size_t count, double* acc_out) {
  __m256d acc[kBlocks];
  for (int b = 0; b < kBlocks; ++b) acc[b] = _mm256_setzero_pd();
  if (rows.column_stride == 1)
    add_row_major<T, kReplaceMissing, kMayRound, kBlocks>(rows, columns, coefficients, to_float, missing_values,
                                                          count, acc);
  else
    add_column_major<T, kReplaceMissing, kMayRound, kBlocks>(rows, columns, coefficients, to_float, missing_values,
                                                             count, acc);
  for (int b = 0; b < kBlocks; ++b) _mm256_storeu_pd(acc_out + kWidth * std::size_t(b), acc[b]);
}

template <class T>
using LinearSums = void (*)(const LinearRowsOf<T>&, const std::ptrdiff_t*, const double*, const std::uint8_t*,
                            const double*, std::size_t, double*);

template <class T, bool kReplaceMissing, bool kMayRound>
constexpr LinearSums<T> kOfBlocks[] = {
    linear_sums_blocks<T, kReplaceMissing, kMayRound, 1>, linear_sums_blocks<T, kReplaceMissing, kMayRound, 2>,
    linear_sums_blocks<T, kReplaceMissing, kMayRound, 3>, linear_sums_blocks<T, kReplaceMissing, kMayRound, 4>};

/// The kernel for `lanes` rows: as few blocks as hold them (a batch's last, short call adds no chains of
/// copies), testing each term's to_float only where some term rounds. Most tables round none (double fields),
/// and float cells never need it; the test in every term halves the speed of column-major doubles.
template <class T, bool kReplaceMissing>
LinearSums<T> kernel_for(std::size_t lanes, bool may_round) {
  const std::size_t blocks = std::min<std::size_t>(3, (lanes - 1) / kWidth);
  if constexpr (std::is_same_v<T, double>)
    if (may_round) return kOfBlocks<T, kReplaceMissing, true>[blocks];
  return kOfBlocks<T, kReplaceMissing, false>[blocks];
}

/// Whether some term rounds its cell to float (to_float[i] for some i < count), 32 terms at a time: a byte at
/// a time takes some 8% of a call over 1,000 terms.
PMMLRT_AVX2 inline bool any_rounds(const std::uint8_t* to_float, std::size_t count) {
  __m256i any = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 32 <= count; i += 32)
    any = _mm256_or_si256(any, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(to_float + i)));
  bool found = !_mm256_testz_si256(any, any);
  for (; i < count; ++i) found |= to_float[i] != 0;
  return found;
}

template <class T>
PMMLRT_AVX2 void dispatch(const LinearRowsOf<T>& rows, const std::ptrdiff_t* columns, const double* coefficients,
                          const std::uint8_t* to_float, const double* missing_values, std::size_t count,
                          double* acc) {
  const bool may_round = std::is_same_v<T, double> && any_rounds(to_float, count);
  const LinearSums<T> sums = missing_values ? kernel_for<T, true>(rows.lanes, may_round)
                                            : kernel_for<T, false>(rows.lanes, may_round);
  sums(rows, columns, coefficients, to_float, missing_values, count, acc);
}

}  // namespace

void linear_sums_avx2(const LinearRows& rows, const std::ptrdiff_t* columns, const double* coefficients,
                      const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc) {
  dispatch(rows, columns, coefficients, to_float, missing_values, count, acc);
}

void linear_sums_avx2(const LinearRowsOf<float>& rows, const std::ptrdiff_t* columns, const double* coefficients,
                      const std::uint8_t* to_float, const double* missing_values, std::size_t count, double* acc) {
  dispatch(rows, columns, coefficients, to_float, missing_values, count, acc);
}

#endif

}  // namespace pmmlrt::eval
