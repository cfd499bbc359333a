// The vector walks: eight rows (a block) or eight trees (one record) per AVX-512 vector. Built for any x86-64
// with the instructions enabled per function, and chosen at run time only on CPUs that have them; the scalar
// walk serves everything else. Same comparisons, same exits: results are identical to the scalar walk.

#include "eval/ensemble_kernel.hpp"

#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 headers start several intrinsics from _mm*_undefined_*() and then warn about it
// (-Wmaybe-uninitialized, a false positive inside the system header): silence that warning in this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define PMMLRT_HAVE_AVX512_KERNEL 1
#endif

namespace pmmlrt::eval {

#ifdef PMMLRT_HAVE_AVX512_KERNEL

namespace {

#define PMMLRT_AVX512 __attribute__((target("avx512f,avx512vl,avx2")))

/// Walks the eight lanes in `e` to their leaves. Lane j reads its features at x + j * stride (a row each in
/// a block, the same row for eight trees); the gather offset of lane j's features is lane_offset[j].
PMMLRT_AVX512 inline __m256i walk8(const EnsembleKernel& k, __m256i e, const double* x, std::size_t stride,
                                   __m256i lane_offset) {
  const auto* packed = k.packed.data();
  const auto* exits = reinterpret_cast<const long long*>(k.exits.data());
  const double* thresholds = k.threshold.data();
  const __m256i leaf = _mm256_set1_epi32(int(EnsembleKernel::Kind::Leaf));
  const __m256i missing_yes = _mm256_set1_epi32(int(EnsembleKernel::Kind::LessEqMissingYes));
  const __m256i other_kind = _mm256_set1_epi32(int(EnsembleKernel::Kind::Other));
  const __m256i feature_mask = _mm256_set1_epi32((1 << EnsembleKernel::kKindShift) - 1);
  for (;;) {
    __m256i p = _mm256_i32gather_epi32(packed, e, 4);
    __m256i kd = _mm256_srli_epi32(p, EnsembleKernel::kKindShift);
    if (!_mm256_cmpneq_epi32_mask(kd, leaf)) return e;
    __m256i f = _mm256_and_si256(p, feature_mask);
    __m512d thr = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xFF, e, thresholds, 8);
    __m512d v = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xFF, _mm256_add_epi32(lane_offset, f), x, 8);
    __mmask8 le = _mm512_cmp_pd_mask(v, thr, _CMP_LE_OQ);    // false for a missing value
    __mmask8 ngt = _mm512_cmp_pd_mask(v, thr, _CMP_NGT_UQ);  // true for a missing value
    __mmask8 my = _mm256_cmpeq_epi32_mask(kd, missing_yes);
    __mmask8 go = __mmask8((le & ~my) | (ngt & my));
    __m512i ex = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), 0xFF, e, exits, 8);
    __m256i next = _mm256_mask_blend_epi32(go, _mm512_cvtepi64_epi32(_mm512_srli_epi64(ex, 32)),
                                           _mm512_cvtepi64_epi32(ex));
    // Set tests and the rarer comparisons: those lanes take the scalar step.
    if (__mmask8 other = _mm256_cmpeq_epi32_mask(kd, other_kind)) {
      alignas(32) std::int32_t cur[8], nxt[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(cur), e);
      _mm256_store_si256(reinterpret_cast<__m256i*>(nxt), next);
      for (std::size_t j = 0; j < 8; ++j)
        if (other & (1u << j)) nxt[j] = k.step_other_at(cur[j], x + j * stride);
      next = _mm256_load_si256(reinterpret_cast<const __m256i*>(nxt));
    }
    e = next;
  }
}

PMMLRT_AVX512 inline void store_results(const EnsembleKernel& k, __m256i e, std::int32_t* out, std::size_t step) {
  alignas(32) std::int32_t lane[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane), e);
  for (std::size_t j = 0; j < 8; ++j) out[j * step] = k.aux[std::size_t(lane[j])];
}

}  // namespace

PMMLRT_AVX512 void walk_block_avx512(const EnsembleKernel& k, const double* x, std::size_t rows, std::int32_t* out) {
  const std::size_t nf = k.features(), nt = k.trees();
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(nf)));
  for (std::size_t t = 0; t < nt; ++t) {
    const __m256i root = _mm256_set1_epi32(k.roots[t]);
    std::size_t r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) store_results(k, walk8(k, root, x + r0 * nf, nf, lanes), out + r0 * nt + t, nt);
    for (; r0 < rows; ++r0) out[r0 * nt + t] = k.walk(t, x + r0 * nf);
  }
}

PMMLRT_AVX512 void walk_row_avx512(const EnsembleKernel& k, const double* x, std::int32_t* out) {
  const std::size_t nt = k.trees();
  const __m256i same_row = _mm256_setzero_si256();
  std::size_t t = 0;
  for (; t + 8 <= nt; t += 8) {
    __m256i roots = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k.roots.data() + t));
    store_results(k, walk8(k, roots, x, 0, same_row), out + t, 1);
  }
  for (; t < nt; ++t) out[t] = k.walk(t, x);
}

bool cpu_has_avx512() {
  // PMMLRT_DISABLE_AVX512=1 forces the scalar walk (the test suite runs both ways).
  if (const char* off = std::getenv("PMMLRT_DISABLE_AVX512"); off && *off && *off != '0') return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2");
}

#else

void walk_block_avx512(const EnsembleKernel&, const double*, std::size_t, std::int32_t*) {}
void walk_row_avx512(const EnsembleKernel&, const double*, std::int32_t*) {}
bool cpu_has_avx512() { return false; }

#endif

}  // namespace pmmlrt::eval
