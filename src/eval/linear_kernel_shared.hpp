#pragma once
// What the AVX-512 and AVX2 linear kernels (linear_kernel.cpp, linear_kernel_avx2.cpp) share: the steps that
// do not depend on the vector width. Included only where <immintrin.h> is (x86-64 GCC or Clang); no target
// attribute, so that both kernels inline these into their own.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "eval/linear_kernel.hpp"

namespace pmmlrt::eval::linear {

/// How far ahead of the columns being read each row is prefetched (bytes): eight cache lines, the best of
/// 4, 6, 8, 12 and 16 lines on 100,000 rows of 1,000 doubles (AMD Zen 5, AVX-512: 25 GB/s against 15
/// without). The AVX2 kernel on AMD Zen 3, batches of 4,096 such rows: 1.70M rows/s against 1.51M without;
/// four lines 0-5% faster than eight (within the noise), two, six and sixteen no faster.
constexpr std::ptrdiff_t kPrefetchBytes = 512;

/// Whether columns[0 .. kWidth - 1] are kWidth consecutive columns (then one load per row reads them).
template <std::size_t kWidth>
inline bool consecutive(const std::ptrdiff_t* columns) {
  bool yes = true;
  for (std::size_t k = 1; k < kWidth; ++k) yes &= columns[k] == columns[0] + std::ptrdiff_t(k);
  return yes;
}

/// Whether the step that reads kWidth consecutive columns from term i prefetches: it reads kWidth cells of each
/// row, so a row's next line is due every 64 / (kWidth * sizeof(T)) steps.
template <std::size_t kWidth, class T>
constexpr bool prefetches_at(std::size_t i) {
  constexpr std::size_t kEvery = 64 / (kWidth * sizeof(T));
  return kEvery <= 1 || (i / kWidth) % kEvery == 0;
}

/// Prefetches the first kRows row-major rows kPrefetchBytes past column c; once that is past `end` (where the
/// table stops reading them), the next rows' starts instead, as far past them. Each row is its own stream:
/// sixteen at once are more than the hardware prefetchers keep up with. Always inlined: GCC 12 finds a function
/// of nothing but prefetches pure (they write nothing) and drops its calls, result unused.
template <std::size_t kRows, class T>
__attribute__((always_inline)) inline void prefetch_rows(const LinearRowsOf<T>& rows, std::ptrdiff_t c,
                                                         std::ptrdiff_t end) {
  const std::ptrdiff_t ahead = c + kPrefetchBytes / std::ptrdiff_t(sizeof(T));
  if (ahead < end) {
    for (std::size_t j = 0; j < kRows; ++j)
      _mm_prefetch(reinterpret_cast<const char*>(rows.base[j] + ahead), _MM_HINT_T0);
  } else if (rows.next[0]) {
    for (std::size_t j = 0; j < kRows; ++j)
      if (rows.next[j]) _mm_prefetch(reinterpret_cast<const char*>(rows.next[j] + (ahead - end)), _MM_HINT_T0);
  }
}

/// Whether term i's cell is rounded to float. A float cell is a float already: rounding it again is skipped.
template <class T>
inline bool rounds_to_float(const std::uint8_t* to_float, std::size_t i) {
  return std::is_same_v<T, double> && to_float[i];
}

}  // namespace pmmlrt::eval::linear
