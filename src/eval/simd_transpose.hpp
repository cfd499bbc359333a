#pragma once
// 8 x 8 and 4 x 4 transposes in registers, for the kernels that read rows but add columns (each row's sum
// must keep its order, so its terms go down one lane). Included only where <immintrin.h> is (x86-64 GCC or
// Clang).

#include <immintrin.h>

namespace pmmlrt::eval::simd {

/// out[k] = column k of the eight rows r[0..7] of eight doubles.
__attribute__((target("avx512f"))) inline void transpose8x8(const __m512d* r, __m512d* out) {
  // Pairs of rows interleaved, then their 128-bit lanes regrouped twice.
  __m512d t[8];
  for (int j = 0; j < 4; ++j) {
    t[2 * j] = _mm512_unpacklo_pd(r[2 * j], r[2 * j + 1]);      // columns 0 2 4 6 of rows 2j, 2j+1
    t[2 * j + 1] = _mm512_unpackhi_pd(r[2 * j], r[2 * j + 1]);  // columns 1 3 5 7
  }
  // u: rows 0-3; v: rows 4-7. u[0]: columns 0|4, u[1]: 2|6, u[2]: 1|5, u[3]: 3|7.
  const __m512d u[4] = {_mm512_shuffle_f64x2(t[0], t[2], 0x88), _mm512_shuffle_f64x2(t[0], t[2], 0xDD),
                        _mm512_shuffle_f64x2(t[1], t[3], 0x88), _mm512_shuffle_f64x2(t[1], t[3], 0xDD)};
  const __m512d v[4] = {_mm512_shuffle_f64x2(t[4], t[6], 0x88), _mm512_shuffle_f64x2(t[4], t[6], 0xDD),
                        _mm512_shuffle_f64x2(t[5], t[7], 0x88), _mm512_shuffle_f64x2(t[5], t[7], 0xDD)};
  out[0] = _mm512_shuffle_f64x2(u[0], v[0], 0x88);
  out[4] = _mm512_shuffle_f64x2(u[0], v[0], 0xDD);
  out[2] = _mm512_shuffle_f64x2(u[1], v[1], 0x88);
  out[6] = _mm512_shuffle_f64x2(u[1], v[1], 0xDD);
  out[1] = _mm512_shuffle_f64x2(u[2], v[2], 0x88);
  out[5] = _mm512_shuffle_f64x2(u[2], v[2], 0xDD);
  out[3] = _mm512_shuffle_f64x2(u[3], v[3], 0x88);
  out[7] = _mm512_shuffle_f64x2(u[3], v[3], 0xDD);
}

/// out[k] = column k of the eight rows r[0..7] of eight floats.
__attribute__((target("avx2"))) inline void transpose8x8(const __m256* r, __m256* out) {
  __m256 t[8], q[8];
  for (int j = 0; j < 4; ++j) {
    t[2 * j] = _mm256_unpacklo_ps(r[2 * j], r[2 * j + 1]);      // columns 0 0 1 1 | 4 4 5 5 of rows 2j, 2j+1
    t[2 * j + 1] = _mm256_unpackhi_ps(r[2 * j], r[2 * j + 1]);  // columns 2 2 3 3 | 6 6 7 7
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7: q[4h + k] holds column k | k + 4 of those rows
    q[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    q[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    q[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    q[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm256_permute2f128_ps(q[k], q[4 + k], 0x20);
    out[k + 4] = _mm256_permute2f128_ps(q[k], q[4 + k], 0x31);
  }
}

/// out[k] = column k of the four rows r[0..3] of four doubles.
__attribute__((target("avx2"))) inline void transpose4x4(const __m256d* r, __m256d* out) {
  // Pairs of rows interleaved, then their 128-bit halves regrouped.
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]);  // columns 0 | 2 of rows 0, 1
  const __m256d t1 = _mm256_unpackhi_pd(r[0], r[1]);  // columns 1 | 3 of rows 0, 1
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]);  // columns 0 | 2 of rows 2, 3
  const __m256d t3 = _mm256_unpackhi_pd(r[2], r[3]);  // columns 1 | 3 of rows 2, 3
  out[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  out[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  out[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  out[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

}  // namespace pmmlrt::eval::simd
