// The vector walks: eight rows (a block) or eight trees (one record) per AVX-512 vector. Built for any x86-64
// with the instructions enabled per function, and chosen at run time only on CPUs that have them; AVX2 CPUs
// get ensemble_kernel_avx2.cpp, the rest the scalar walk. Same comparisons, same exits: results are identical
// to the scalar walk.

#include "eval/ensemble_kernel.hpp"

#include <algorithm>
#include <cstdlib>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 headers start several intrinsics from _mm*_undefined_*() and then warn about it
// (-Wmaybe-uninitialized and -Wuninitialized, false positives inside the system header): silence them in this
// file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "eval/simd_transpose.hpp"
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

/// The outcome of a step for the set tests among the lanes `sets` (Binned::set_words): whether the bin `b` is
/// one of the node's members. A missing value is a member of no set (the node's missing flags decide where it
/// goes), and its lane reads no word. The other lanes keep `go`.
PMMLRT_AVX512 inline __mmask8 set_test_step(__mmask8 go, __mmask8 sets, __mmask8 missing, __m256i w, __m256i b,
                                            __m128i k_shift, const long long* set_words) {
  const __mmask8 present = sets & __mmask8(~missing);
  const __m256i first_word =
      _mm256_srl_epi32(_mm256_andnot_si256(_mm256_set1_epi32(int(EnsembleKernel::Binned::kSetTest)), w), k_shift);
  const __m256i at = _mm256_add_epi32(first_word, _mm256_srli_epi32(b, 6));
  const __m512i words = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), present, at, set_words, 8);
  const __m512i bit = _mm512_srlv_epi64(words, _mm512_cvtepu32_epi64(_mm256_and_si256(b, _mm256_set1_epi32(63))));
  const __mmask8 member = _mm512_test_epi64_mask(bit, _mm512_set1_epi64(1));
  return __mmask8((go & ~sets) | (member & present));
}

/// How a binned walk meets set tests: the kernel has none; test every step (the block walk: its rows meet set
/// nodes too irregularly for a branch); or only when some lane is at a set node (one record's walk).
enum class SetTests { None, Always, WhenMet };

/// Steps G vectors of eight binned walks `depth` times. Lane j of vector g is at node e[g] and reads its bins
/// at bins + offset[g][j] (offset[0] for every g when kSameRow). The G walks are independent, so their gathers
/// overlap. With kInRegisters (one row of at most 32 features), the bins come from two registers instead of
/// memory: a permute replaces half of the gathers, which bound this walk.
template <int G, SetTests kSets, bool kSameRow = false, bool kInRegisters = false>
PMMLRT_AVX512 inline void walk_binned(const EnsembleKernel& k, __m256i* e, const __m256i* offset,
                                      const std::int32_t* bins, std::int32_t depth) {
  __m512i low_bins = _mm512_setzero_si512(), high_bins = _mm512_setzero_si512();
  if (kInRegisters) {
    const std::size_t nf = k.features();
    low_bins = _mm512_maskz_loadu_epi32(__mmask16(nf >= 16 ? 0xFFFF : (1u << nf) - 1), bins);
    if (nf > 16) high_bins = _mm512_maskz_loadu_epi32(__mmask16(nf >= 32 ? 0xFFFF : (1u << (nf - 16)) - 1), bins + 16);
  }
  const auto* nodes = reinterpret_cast<const long long*>(k.bins.nodes.data());
  const auto* set_words = reinterpret_cast<const long long*>(k.bins.set_words.data());
  const __m256i set_flag = _mm256_set1_epi32(int(EnsembleKernel::Binned::kSetTest));
  const int fb = k.bins.feature_bits;
  const __m256i feature_mask = _mm256_set1_epi32((1 << fb) - 1);
  const __m256i missing_yes = _mm256_set1_epi32(1 << fb);
  const __m256i missing_bin = _mm256_set1_epi32(k.bins.missing_bin);
  const __m128i k_shift = _mm_cvtsi32_si128(fb + 2);
  const __m256i missing_null = _mm256_set1_epi32(1 << (fb + 1));
  const __m256i null_leaf = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  // Even dwords (the test words) to the low half, odd ones (the first children) to the high half.
  const __m512i split = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (std::int32_t s = 0; s < depth; ++s) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      __m512i n = _mm512_permutexvar_epi32(split, _mm512_i32gather_epi64(e[g], nodes, 8));
      __m256i w = _mm512_castsi512_si256(n);
      __m256i child = _mm512_extracti64x4_epi64(n, 1);
      __m256i b;
      if (kInRegisters)
        b = _mm512_castsi512_si256(_mm512_permutex2var_epi32(
            low_bins, _mm512_castsi256_si512(_mm256_and_si256(w, feature_mask)), high_bins));
      else
        b = _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), 0xFF,
                                         _mm256_add_epi32(offset[kSameRow ? 0 : g], _mm256_and_si256(w, feature_mask)),
                                         bins, 4);
      const __mmask8 missing = _mm256_cmpeq_epi32_mask(b, missing_bin);
      __mmask8 go = _mm256_cmple_epi32_mask(b, _mm256_srl_epi32(w, k_shift));
      if (kSets == SetTests::Always)
        go = set_test_step(go, _mm256_test_epi32_mask(w, set_flag), missing, w, b, k_shift, set_words);
      else if (kSets == SetTests::WhenMet)
        if (const __mmask8 sets = _mm256_test_epi32_mask(w, set_flag))
          go = set_test_step(go, sets, missing, w, b, k_shift, set_words);
      go |= _mm256_test_epi32_mask(w, missing_yes) & missing;
      e[g] = _mm256_mask_mov_epi32(_mm256_mask_add_epi32(child, __mmask8(~go), child, one),
                                   __mmask8(_mm256_test_epi32_mask(w, missing_null) & missing), null_leaf);
    }
  }
}

PMMLRT_AVX512 inline void store_binned(const EnsembleKernel& k, __m256i e, std::int32_t* out, std::size_t step,
                                       std::size_t lanes) {
  alignas(32) std::int32_t lane[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane), e);
  for (std::size_t j = 0; j < lanes; ++j) out[j * step] = k.bins.result[std::size_t(lane[j])];
}

}  // namespace

namespace {

/// Eight walks of eight lanes in flight, whatever the shape: `chains` independent (tree, row vector) pairs are
/// walked eight at a time (the last eight padded with repeats), each for the largest depth among them.
constexpr int kChains = 8;

struct Chain {
  std::int32_t tree;    // its tree
  std::int32_t vector;  // its row vector within the block (rows 8 * vector ...), or for one record its lane group
};

}  // namespace

namespace {

/// walk_binned_block_avx512 for kernels with or without set tests. Kept out of line, one function each: with
/// both walks inlined into one loop, the compiler's allocation made the numeric walk a third slower.
template <SetTests kSets>
__attribute__((noinline)) PMMLRT_AVX512 void walk_binned_block(const EnsembleKernel& k, const std::int32_t* bins,
                                                               std::size_t rows, std::int32_t* out,
                                                               std::size_t out_rows, double* sums) {
  const std::size_t nf = k.features(), nt = k.trees();
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(nf)));
  const std::size_t vectors = rows / 8;
  if (vectors == 0) return;
  const double* terms = k.bins.leaf_value.data();
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t width = k.sum_width, nodes = k.bins.nodes.size();
  // Tree-major chains: every row vector of a tree, then the next tree. Small blocks put several trees in flight.
  const std::size_t total = nt * vectors;
  for (std::size_t c0 = 0; c0 < total; c0 += kChains) {
    const std::size_t here = std::min<std::size_t>(kChains, total - c0);
    Chain chain[kChains];
    __m256i e[kChains], offset[kChains];
    std::int32_t depth = 0;
    for (std::size_t g = 0; g < std::size_t(kChains); ++g) {
      const std::size_t c = c0 + std::min(g, here - 1);
      chain[g] = {std::int32_t(c / vectors), std::int32_t(c % vectors)};
      e[g] = _mm256_set1_epi32(k.bins.roots[std::size_t(chain[g].tree)]);
      offset[g] = _mm256_add_epi32(lanes, _mm256_set1_epi32(chain[g].vector * 8 * int(nf)));
      depth = std::max(depth, k.bins.depth[std::size_t(chain[g].tree)]);
    }
    walk_binned<kChains, kSets>(k, e, offset, bins, depth);
    for (std::size_t g = 0; g < here; ++g) {
      const std::size_t r0 = std::size_t(chain[g].vector) * 8;
      if (sums) {
        // Chains are in tree order, so each row adds its terms in tree order, as the generic aggregation does.
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          __m512d term = _mm512_i32gather_pd(e[g], terms + c * nodes, 8);
          if (in_float)
            _mm512_storeu_pd(s, _mm512_cvtps_pd(_mm256_add_ps(_mm512_cvtpd_ps(_mm512_loadu_pd(s)), _mm512_cvtpd_ps(term))));
          else
            _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), term));
        }
      } else {
        store_binned(k, e[g], out + r0 * nt + std::size_t(chain[g].tree), nt,
                     std::min<std::size_t>(8, out_rows > r0 ? out_rows - r0 : 0));
      }
    }
  }
}

}  // namespace

namespace {

/// set_test_step for sixteen lanes.
PMMLRT_AVX512 inline __mmask16 set_test_step16(__mmask16 go, __mmask16 sets, __mmask16 missing, __m512i w, __m512i b,
                                               __m128i k_shift, const long long* set_words) {
  const __mmask16 present = sets & __mmask16(~missing);
  const __m512i first_word =
      _mm512_srl_epi32(_mm512_andnot_si512(_mm512_set1_epi32(int(EnsembleKernel::Binned::kSetTest)), w), k_shift);
  const __m512i at = _mm512_add_epi32(first_word, _mm512_srli_epi32(b, 6));
  const __m512i bit = _mm512_and_si512(b, _mm512_set1_epi32(63));
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i low = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), __mmask8(present), _mm512_castsi512_si256(at),
                                                  set_words, 8);
  const __m512i high = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), __mmask8(present >> 8),
                                                   _mm512_extracti64x4_epi64(at, 1), set_words, 8);
  const __mmask8 member_low =
      _mm512_test_epi64_mask(_mm512_srlv_epi64(low, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(bit))), one);
  const __mmask8 member_high =
      _mm512_test_epi64_mask(_mm512_srlv_epi64(high, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(bit, 1))), one);
  const __mmask16 member = __mmask16(member_low | (unsigned(member_high) << 8));
  return __mmask16((go & ~sets) | (member & present));
}

/// What a perfect walk stores per tree: its leaf's node (of Binned::nodes), or its leaf's terms
/// (Binned::perfect_terms or perfect_terms_float, one run of `sum_stride` per sum).
enum class LeafOut { Nodes, Terms, FloatTerms };

/// What the steps of a perfect walk meet: threshold tests of a row without missing values (Plain: the
/// missing-value routing, more than half of a step's instructions, skipped), or any other row (Full, set
/// tests included with kSets). A 512-bit step is bound by the two vector ports, so every instruction counts.
enum class StepKind { Plain, Full };

/// Walks G groups of sixteen trees of the perfect layout (Binned::perfect_*) for one row, groups g0 ...
/// g0 + G - 1, into `out` (16 per group, at 16 * group; kOut says what). Every tree has `depth` levels: no
/// child index is loaded (node i's children are 2i + 1 and 2i + 2, so h = i + 1 becomes 2h or 2h + 1), so
/// a step is one gather of test words and, with kRegisters (1: at most 16 features, 2: at most 32), a
/// permute of the row's bins instead of a second gather. kStep says which tests the steps meet.
template <int G, bool kSets, int kRegisters, LeafOut kOut, StepKind kStep>
PMMLRT_AVX512 inline void walk_perfect(const EnsembleKernel& k, std::size_t g0, const std::int32_t* bins, void* out,
                                       std::size_t sum_stride) {
  const auto& b = k.bins;
  const std::int32_t depth = b.perfect_depth;
  const std::size_t tests_per_group = (std::size_t(16) << depth) - 16;
  const auto* tests = reinterpret_cast<const int*>(b.perfect_tests.data());
  const auto* set_words = reinterpret_cast<const long long*>(b.set_words.data());
  const int fb = b.feature_bits;
  const bool inline_sets = b.perfect_inline_sets;
  // The per-lane shift is one instruction; a shift by a register's count is two.
  const __m512i k_shifts = _mm512_set1_epi32(fb + 2);
  // A plain step from registers compares the bin shifted as the test word's k is, bin << (fb + 2), with the
  // whole word: greater exactly when bin > k, since the bits below k are less than 1 << (fb + 2). The
  // permutes read only an index's low four or five bits, where the word's feature is (feature_bits >= 5):
  // the step is a permute, a compare and h's two additions.
  constexpr bool kShifted = kRegisters > 0 && kStep == StepKind::Plain;
  __m512i low_bins = _mm512_setzero_si512(), high_bins = _mm512_setzero_si512();
  if constexpr (kRegisters > 0) {
    const std::size_t nf = k.features();
    low_bins = _mm512_maskz_loadu_epi32(__mmask16(nf >= 16 ? 0xFFFF : (1u << nf) - 1), bins);
    if (kRegisters > 1 && nf > 16)
      high_bins = _mm512_maskz_loadu_epi32(__mmask16(nf >= 32 ? 0xFFFF : (1u << (nf - 16)) - 1), bins + 16);
    if constexpr (kShifted) {
      low_bins = _mm512_sllv_epi32(low_bins, k_shifts);
      high_bins = _mm512_sllv_epi32(high_bins, k_shifts);
    }
  }
  // The row's bin of the feature in the low bits of `index` (masked to the feature for a gather).
  auto row_bin = [&](__m512i index) PMMLRT_AVX512 {
    if constexpr (kRegisters == 1) return _mm512_permutexvar_epi32(index, low_bins);
    else if constexpr (kRegisters == 2) return _mm512_permutex2var_epi32(low_bins, index, high_bins);
    else return _mm512_i32gather_epi32(_mm512_and_si512(index, _mm512_set1_epi32((1 << fb) - 1)), bins, 4);
  };
  const __m512i missing_yes = _mm512_set1_epi32(1 << fb);
  const __m512i missing_null = _mm512_set1_epi32(1 << (fb + 1));
  const __m512i missing_bin = _mm512_set1_epi32(b.missing_bin);
  const __m512i set_flag = _mm512_set1_epi32(int(EnsembleKernel::Binned::kSetTest));
  const __m128i k_shift = _mm_cvtsi32_si128(fb + 2);
  const __m512i one = _mm512_set1_epi32(1), three = _mm512_set1_epi32(3), six = _mm512_set1_epi32(6);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i h[G], base[G];
  __mmask16 null[G];
  for (int g = 0; g < G; ++g) {
    h[g] = one;
    null[g] = 0;
    // Node h - 1 of lane j is word 16 (h - 1) + j of the group's tests.
    base[g] = _mm512_add_epi32(lane, _mm512_set1_epi32(int((g0 + std::size_t(g)) * tests_per_group) - 16));
  }
  // One step of group g from its test words w: h becomes 2h where the test holds, else 2h + 1.
  auto step = [&](int g, __m512i w) __attribute__((always_inline)) PMMLRT_AVX512 {
    const __m512i twice = _mm512_add_epi32(h[g], h[g]);
    if constexpr (kShifted) {
      h[g] = _mm512_mask_add_epi32(twice, _mm512_cmpgt_epi32_mask(row_bin(w), w), twice, one);
      return;
    }
    const __m512i bin = row_bin(w);
    if constexpr (kStep == StepKind::Plain) {  // bins from memory
      h[g] = _mm512_mask_add_epi32(twice, _mm512_cmpgt_epi32_mask(bin, _mm512_srlv_epi32(w, k_shifts)), twice, one);
      return;
    }
    const __mmask16 missing = _mm512_cmpeq_epi32_mask(bin, missing_bin);
    const __m512i k_field = _mm512_srlv_epi32(w, k_shifts);
    __mmask16 go = _mm512_cmple_epi32_mask(bin, k_field);
    if constexpr (kSets) {
      const __mmask16 sets = _mm512_test_epi32_mask(w, set_flag);
      if (inline_sets) {
        // Bit 0 of k is the membership of the bins between edges, bit i + 1 that of edge i (bin 2i + 1):
        // the bit at (bin + 1) / 2 for an odd bin, else bit 0. Missing lanes go by their flags below.
        const __m512i at = _mm512_maskz_srli_epi32(_mm512_test_epi32_mask(bin, one), _mm512_add_epi32(bin, one), 1);
        const __mmask16 member = _mm512_test_epi32_mask(_mm512_srlv_epi32(k_field, at), one);
        go = __mmask16((go & ~sets) | (member & sets & ~missing));
      } else if (sets) {  // most steps meet no set test in any of their sixteen lanes
        go = set_test_step16(go, sets, missing, w, bin, k_shift, set_words);
      }
    }
    go |= _mm512_test_epi32_mask(w, missing_yes) & missing;
    null[g] |= _mm512_test_epi32_mask(w, missing_null) & missing;
    h[g] = _mm512_mask_add_epi32(twice, __mmask16(~go), twice, one);
  };
  auto group_tests = [&](int g) { return tests + (g0 + std::size_t(g)) * tests_per_group; };
  // Levels 0 to 2 (node i of the sixteen trees is the sixteen words at 16 i): level 0 is one vector, level 1
  // picks between two, level 2 among four.
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) step(g, _mm512_loadu_si512(group_tests(g)));
  if (depth > 1) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const int* level = group_tests(g);
      step(g, _mm512_mask_blend_epi32(_mm512_cmpeq_epi32_mask(h[g], three), _mm512_loadu_si512(level + 16),
                                      _mm512_loadu_si512(level + 32)));
    }
  }
  if (depth > 2) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const int* level = group_tests(g);
      const __mmask16 odd = _mm512_testn_epi32_mask(h[g], one);  // nodes 3 and 5 (rather than 4 and 6)
      const __mmask16 high = _mm512_cmpge_epi32_mask(h[g], six);
      const __m512i low_pair = _mm512_mask_blend_epi32(odd, _mm512_loadu_si512(level + 64), _mm512_loadu_si512(level + 48));
      const __m512i high_pair = _mm512_mask_blend_epi32(odd, _mm512_loadu_si512(level + 96), _mm512_loadu_si512(level + 80));
      step(g, _mm512_mask_blend_epi32(high, low_pair, high_pair));
    }
  }
  // Levels 3 and 4 are stored tree by tree (build_perfect), a tree's 2^s nodes in a run. Where gathers are
  // slow (Zen 5: 21-25 cycles per sixteen lanes), a two-register permute (32 words) reads the words of 32 /
  // 2^s trees at once (four at level 3, two at level 4), and blends put the lanes together; where they are
  // not (Intel), the permutes and blends, all on the two vector ports a step needs, cost more than a gather
  // (Binned::gathered_levels).
  const bool gathered_levels = b.gathered_levels;
  auto by_tree_level = [&](auto level_index) PMMLRT_AVX512 {
    constexpr int kNodes = 1 << decltype(level_index)::value, kTrees = 32 / kNodes;  // per permute
    if (gathered_levels) {
      // Node h - 1 of lane j: word 2^s j + h - 2^s of the level.
      const __m512i at = _mm512_sub_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(kNodes)), _mm512_set1_epi32(kNodes));
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g)
        step(g, _mm512_i32gather_epi32(_mm512_add_epi32(h[g], at), group_tests(g) + (kNodes - 1) * 16, 4));
      return;
    }
    const __m512i at = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(kTrees - 1)),
                                                           _mm512_set1_epi32(kNodes)),
                                        _mm512_set1_epi32(-kNodes));
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const int* level = group_tests(g) + (kNodes - 1) * 16;
      const __m512i idx = _mm512_add_epi32(h[g], at);  // kNodes (lane % kTrees) + node - (kNodes - 1)
      __m512i w = _mm512_permutex2var_epi32(_mm512_loadu_si512(level), idx, _mm512_loadu_si512(level + 16));
      for (int part = 1; part < 16 / kTrees; ++part)
        w = _mm512_mask_blend_epi32(__mmask16(((1u << kTrees) - 1) << (kTrees * part)), w,
                                    _mm512_permutex2var_epi32(_mm512_loadu_si512(level + 32 * part), idx,
                                                              _mm512_loadu_si512(level + 32 * part + 16)));
      step(g, w);
    }
  };
  if (depth > 3) by_tree_level(std::integral_constant<int, 3>{});
  if (depth > 4) by_tree_level(std::integral_constant<int, 4>{});
  for (std::int32_t s = 5; s < depth; ++s) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g)
      step(g, _mm512_i32gather_epi32(_mm512_add_epi32(_mm512_slli_epi32(h[g], 4), base[g]), tests, 4));
  }
  const auto* leaves = b.perfect_leaves.data();
  const __m512i first_slot = _mm512_set1_epi32(1 << depth);  // h of the first leaf
  const std::size_t width = k.sum_width, slots = b.perfect_slots(), node_count = b.nodes.size();
  for (int g = 0; g < G; ++g) {
    const std::size_t group = g0 + std::size_t(g);
    const __m512i at = _mm512_add_epi32(_mm512_slli_epi32(_mm512_sub_epi32(h[g], first_slot), 4),
                                        _mm512_add_epi32(lane, _mm512_set1_epi32(int(group << (depth + 4)))));
    const auto live = __mmask16(~null[g]);
    if constexpr (kOut == LeafOut::Nodes) {
      const __m512i leaf = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, at, leaves, 4);
      _mm512_storeu_si512(static_cast<std::int32_t*>(out) + group * 16, leaf);
    } else {
      // A lane at the null leaf (node 0) takes node 0's term, as the node walk's sum would.
      for (std::size_t c = 0; c < width; ++c) {
        const double null_term = b.leaf_value[c * node_count];
        if constexpr (kOut == LeafOut::FloatTerms) {
          const float* terms = b.perfect_terms_float.data() + c * slots;
          _mm512_storeu_ps(static_cast<float*>(out) + c * sum_stride + group * 16,
                           _mm512_mask_i32gather_ps(_mm512_set1_ps(float(null_term)), live, at, terms, 4));
        } else {
          const double* terms = b.perfect_terms.data() + c * slots;
          double* o = static_cast<double*>(out) + c * sum_stride + group * 16;
          _mm512_storeu_pd(o, _mm512_mask_i32gather_pd(_mm512_set1_pd(null_term), __mmask8(live),
                                                       _mm512_castsi512_si256(at), terms, 8));
          _mm512_storeu_pd(o + 8, _mm512_mask_i32gather_pd(_mm512_set1_pd(null_term), __mmask8(live >> 8),
                                                           _mm512_extracti64x4_epi64(at, 1), terms, 8));
        }
      }
    }
  }
}

/// walk_perfect for exactly `chains` (1 to 8) groups: no padding group is walked.
template <bool kSets, int kRegisters, LeafOut kOut, StepKind kStep, int G = 8>
PMMLRT_AVX512 inline void walk_perfect_chains(const EnsembleKernel& k, std::size_t chains, std::size_t g0,
                                              const std::int32_t* bins, void* out, std::size_t sum_stride) {
  if constexpr (G > 1) {
    if (chains < std::size_t(G))
      return walk_perfect_chains<kSets, kRegisters, kOut, kStep, G - 1>(k, chains, g0, bins, out, sum_stride);
  }
  walk_perfect<G, kSets, kRegisters, kOut, kStep>(k, g0, bins, out, sum_stride);
}

/// Whether one of the row's `nf` bins is the missing bin.
PMMLRT_AVX512 inline bool row_has_missing(const std::int32_t* bins, std::size_t nf, std::int32_t missing_bin) {
  const __m512i missing = _mm512_set1_epi32(missing_bin);
  for (std::size_t f = 0; f < nf; f += 16) {
    const auto live = __mmask16(nf - f >= 16 ? 0xFFFF : (1u << (nf - f)) - 1);
    if (_mm512_mask_cmpeq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, bins + f), missing)) return true;
  }
  return false;
}

/// Groups [first, last) of the perfect layout for one row, eight groups in flight.
template <bool kSets, int kRegisters, LeafOut kOut>
__attribute__((noinline)) PMMLRT_AVX512 void walk_perfect_groups(const EnsembleKernel& k, const std::int32_t* bins,
                                                                 std::size_t first, std::size_t last, void* out,
                                                                 std::size_t sum_stride) {
  constexpr std::size_t kGroupsInFlight = 8;
  bool plain = false;
  if constexpr (!kSets) plain = !row_has_missing(bins, k.features(), k.bins.missing_bin);
  for (std::size_t g0 = first; g0 < last; g0 += kGroupsInFlight) {
    const std::size_t chains = std::min(kGroupsInFlight, last - g0);
    if constexpr (!kSets)
      if (plain) {
        walk_perfect_chains<kSets, kRegisters, kOut, StepKind::Plain>(k, chains, g0, bins, out, sum_stride);
        continue;
      }
    walk_perfect_chains<kSets, kRegisters, kOut, StepKind::Full>(k, chains, g0, bins, out, sum_stride);
  }
}

template <bool kSets, LeafOut kOut>
PMMLRT_AVX512 void walk_perfect_range_of(const EnsembleKernel& k, const std::int32_t* bins, std::size_t first,
                                         std::size_t last, void* out, std::size_t sum_stride) {
  const std::size_t nf = k.features();
  if (nf <= 16) walk_perfect_groups<kSets, 1, kOut>(k, bins, first, last, out, sum_stride);
  else if (nf <= 32) walk_perfect_groups<kSets, 2, kOut>(k, bins, first, last, out, sum_stride);
  else walk_perfect_groups<kSets, 0, kOut>(k, bins, first, last, out, sum_stride);
}

template <LeafOut kOut>
PMMLRT_AVX512 void walk_perfect_range(const EnsembleKernel& k, const std::int32_t* bins, std::size_t first,
                                      std::size_t last, void* out, std::size_t sum_stride = 0) {
  if (!k.bins.set_words.empty()) walk_perfect_range_of<true, kOut>(k, bins, first, last, out, sum_stride);
  else walk_perfect_range_of<false, kOut>(k, bins, first, last, out, sum_stride);
}

/// Adds the terms of trees [first, last) (first a multiple of 8) of eight rows to their sums `acc` (lane j:
/// row j), tree by tree: row j's terms of tree t are at rows[j * row_stride + t]. Eight trees at a time are
/// read as eight rows and transposed, so that each tree's terms of the eight rows are one vector.
PMMLRT_AVX512 inline __m512d add_terms(__m512d acc, const double* rows, std::size_t row_stride, std::size_t first,
                                       std::size_t last) {
  for (std::size_t t = first; t < last; t += 8) {
    __m512d r[8], by_tree[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = _mm512_loadu_pd(rows + j * row_stride + t);
    simd::transpose8x8(r, by_tree);
    const std::size_t n = std::min<std::size_t>(8, last - t);
    for (std::size_t q = 0; q < n; ++q) acc = _mm512_add_pd(acc, by_tree[q]);
  }
  return acc;
}

/// add_terms in float, for Summing::Float.
PMMLRT_AVX512 inline __m256 add_terms(__m256 acc, const float* rows, std::size_t row_stride, std::size_t first,
                                      std::size_t last) {
  for (std::size_t t = first; t < last; t += 8) {
    __m256 r[8], by_tree[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(rows + j * row_stride + t);
    simd::transpose8x8(r, by_tree);
    const std::size_t n = std::min<std::size_t>(8, last - t);
    for (std::size_t q = 0; q < n; ++q) acc = _mm256_add_ps(acc, by_tree[q]);
  }
  return acc;
}

/// The block walk of the perfect layout (Binned::perfect_depth > 0): walk_binned_block_avx512's contract.
PMMLRT_AVX512 void walk_perfect_block(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows,
                                      std::int32_t* out, std::size_t out_rows, double* sums) {
  // Trees in chunks of kChunk groups, so that a chunk stays in cache while every row of the block passes
  // through it (a large forest does not fit). Within a chunk, eight rows at a time: each row's trees walked,
  // then their results stored or their terms added, eight rows per vector and tree by tree; chunks go in
  // tree order, so each row's sum keeps the trees' order.
  constexpr std::size_t kRows = 8, kChunk = 8;
  const std::size_t nf = k.features(), nt = k.trees(), groups = k.bins.perfect_groups();
  const std::size_t stride = groups * 16;
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t width = k.sum_width, node_count = k.bins.nodes.size();
  // With the leaves' terms in the layout, the walk stores each row's terms (sum by sum, `stride` apart) and
  // the eight rows' terms are transposed into their sums. Rows are a cache line more than their terms apart,
  // so that the eight rows of a transpose do not share a cache set. Otherwise the walk stores leaf nodes.
  const bool by_terms = sums && (in_float ? !k.bins.perfect_terms_float.empty() : !k.bins.perfect_terms.empty());
  const std::size_t row_stride = width * stride + 16;
  thread_local std::vector<double> double_terms;
  thread_local std::vector<float> float_terms;
  thread_local std::vector<std::int32_t> leaf_nodes;
  if (by_terms && in_float && float_terms.size() < kRows * row_stride) float_terms.resize(kRows * row_stride);
  if (by_terms && !in_float && double_terms.size() < kRows * row_stride) double_terms.resize(kRows * row_stride);
  if (!by_terms && leaf_nodes.size() < kRows * stride) leaf_nodes.resize(kRows * stride);
  std::int32_t* ids = leaf_nodes.data();
  const std::int32_t* result = k.bins.result.data();
  const double* terms = k.bins.leaf_value.data();
  const __m256i row_of_lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(stride)));
  for (std::size_t g_first = 0; g_first < groups; g_first += kChunk) {
    const std::size_t g_last = std::min(groups, g_first + kChunk);
    const std::size_t t_first = g_first * 16, t_last = std::min(nt, g_last * 16);
    for (std::size_t r0 = 0; r0 + kRows <= rows; r0 += kRows) {
      const std::size_t here = sums ? kRows : std::min(kRows, out_rows > r0 ? out_rows - r0 : 0);
      if (by_terms && in_float) {
        for (std::size_t j = 0; j < kRows; ++j)
          walk_perfect_range<LeafOut::FloatTerms>(k, bins + (r0 + j) * nf, g_first, g_last,
                                                  float_terms.data() + j * row_stride, stride);
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          const __m256 acc = _mm512_cvtpd_ps(_mm512_loadu_pd(s));
          _mm512_storeu_pd(s, _mm512_cvtps_pd(add_terms(acc, float_terms.data() + c * stride, row_stride, t_first, t_last)));
        }
        continue;
      }
      if (by_terms) {
        for (std::size_t j = 0; j < kRows; ++j)
          walk_perfect_range<LeafOut::Terms>(k, bins + (r0 + j) * nf, g_first, g_last,
                                             double_terms.data() + j * row_stride, stride);
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          _mm512_storeu_pd(s, add_terms(_mm512_loadu_pd(s), double_terms.data() + c * stride, row_stride, t_first, t_last));
        }
        continue;
      }
      for (std::size_t j = 0; j < here; ++j)
        walk_perfect_range<LeafOut::Nodes>(k, bins + (r0 + j) * nf, g_first, g_last, ids + j * stride);
      if (!sums) {
        for (std::size_t j = 0; j < here; ++j) {
          std::int32_t* o = out + (r0 + j) * nt;
          const std::int32_t* row_ids = ids + j * stride;
          std::size_t t = t_first;
          for (; t + 16 <= t_last; t += 16)
            _mm512_storeu_si512(o + t, _mm512_i32gather_epi32(_mm512_loadu_si512(row_ids + t), result, 4));
          for (; t < t_last; ++t) o[t] = result[row_ids[t]];
        }
        continue;
      }
      for (std::size_t c = 0; c < width; ++c) {
        double* s = sums + c * rows + r0;
        const double* sum_terms = terms + c * node_count;
        if (in_float) {
          __m256 acc = _mm512_cvtpd_ps(_mm512_loadu_pd(s));
          for (std::size_t t = t_first; t < t_last; ++t) {
            const __m256i node = _mm256_i32gather_epi32(ids + t, row_of_lane, 4);
            acc = _mm256_add_ps(acc, _mm512_cvtpd_ps(_mm512_i32gather_pd(node, sum_terms, 8)));
          }
          _mm512_storeu_pd(s, _mm512_cvtps_pd(acc));
        } else {
          __m512d acc = _mm512_loadu_pd(s);
          for (std::size_t t = t_first; t < t_last; ++t) {
            const __m256i node = _mm256_i32gather_epi32(ids + t, row_of_lane, 4);
            acc = _mm512_add_pd(acc, _mm512_i32gather_pd(node, sum_terms, 8));
          }
          _mm512_storeu_pd(s, acc);
        }
      }
    }
  }
}

}  // namespace

PMMLRT_AVX512 void walk_binned_block_avx512(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows,
                                            std::int32_t* out, std::size_t out_rows, double* sums) {
  if (k.bins.perfect_depth) return walk_perfect_block(k, bins, rows, out, out_rows, sums);
  if (k.bins.set_words.empty()) walk_binned_block<SetTests::None>(k, bins, rows, out, out_rows, sums);
  else walk_binned_block<SetTests::Always>(k, bins, rows, out, out_rows, sums);
}

namespace {

#define PMMLRT_AVX512_POPCNT __attribute__((target("avx512f,avx512vl,avx2,popcnt")))

/// The bins of exact features (set tests, see Binned::exact) from the number of edges below v, `below`:
/// 2 * below + 1 when v equals the next edge, 2 * below when it lies between edges. Lane j's edges are
/// edges[first[j] ...], count[j] of them; only `lanes` change.
PMMLRT_AVX512 inline __m256i exact_bins(__m256i below, __m256i first, __m256i count, __m512d v, const double* edges,
                                        __mmask8 lanes) {
  const __mmask8 inside = lanes & _mm256_cmplt_epi32_mask(below, count);
  const __m512d next = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), inside, _mm256_add_epi32(first, below), edges, 8);
  const __mmask8 equal = inside & _mm512_cmp_pd_mask(next, v, _CMP_EQ_OQ);
  const __m256i twice = _mm256_mask_add_epi32(below, lanes, below, below);
  return _mm256_mask_add_epi32(twice, equal, twice, _mm256_set1_epi32(1));
}

/// The entries of a block of Binned::search below `v` (all lanes v): its two halves compared (v > entry, so
/// that the loads fold into the compares) and counted.
PMMLRT_AVX512_POPCNT inline std::size_t entries_below(const double* block, __m512d v) {
  const __mmask8 low = _mm512_cmp_pd_mask(v, _mm512_load_pd(block), _CMP_GT_OQ);
  const __mmask8 high = _mm512_cmp_pd_mask(v, _mm512_load_pd(block + 8), _CMP_GT_OQ);
  return std::size_t(_mm_popcnt_u32(_cvtmask16_u32(_mm512_kunpackb(high, low))));
}

/// Binned::search's levels below the tops, read once per row.
struct LowerLevels {
  const double* search;
  const std::size_t* levels;
  const std::int32_t* level_begin;
};

/// The number of edges below `x` for feature `f`, which has levels below its top, from its count at the top.
PMMLRT_AVX512_POPCNT inline std::size_t search_below_top(const LowerLevels& l, std::size_t f, std::size_t pos,
                                                         double x) {
  constexpr std::size_t kWidth = EnsembleKernel::Binned::kSearchWidth;
  const __m512d v = _mm512_set1_pd(x);
  const std::size_t* level = l.levels + l.level_begin[f];
  const std::size_t* end = l.levels + l.level_begin[f + 1];
  do pos = kWidth * pos + entries_below(l.search + *level + kWidth * pos, v);
  while (++level != end);
  return pos;
}

template <bool kExact>
PMMLRT_AVX512_POPCNT inline void bin_row(const EnsembleKernel::Binned& b, std::size_t nf, const double* x,
                                         std::int32_t* out) {
  // Eight features per vector: their tops compared side by side, which bins the features of at most
  // kSearchWidth edges; then the features with more levels one by one (a short chain of loads and compares
  // each, independent of the others', so that they overlap).
  constexpr std::size_t kWidth = EnsembleKernel::Binned::kSearchWidth;
  const LowerLevels lower{b.search.data(), b.search_levels.data(), b.level_begin.data()};
  const double* tops = b.search_top.data();
  const __m256i minus_one = _mm256_set1_epi32(-1);
  for (std::size_t f0 = 0, g = 0; f0 < nf; f0 += 8, ++g) {
    const auto live = __mmask8(nf - f0 >= 8 ? 0xFF : (1u << (nf - f0)) - 1);
    const __m512d v = _mm512_maskz_loadu_pd(live, x + f0);
    const double* top = tops + g * 8 * kWidth;
    __m256i bin = _mm256_setzero_si256();
    for (std::int32_t j = 0, n = b.search_top_entries[g]; j < n; ++j)
      bin = _mm256_mask_sub_epi32(bin, _mm512_cmp_pd_mask(v, _mm512_load_pd(top + 8 * j), _CMP_GT_OQ), bin, minus_one);
    // Missing values are binned here, with the features that have no more levels.
    const __mmask8 missing_values = _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
    const auto deep = __mmask8(b.search_deep[g] & ~missing_values);
    alignas(32) std::int32_t pos[8];
    if (deep) _mm256_store_si256(reinterpret_cast<__m256i*>(pos), bin);
    const auto exact = kExact ? __mmask8(b.search_exact[g]) : __mmask8(0);
    if (kExact && (exact & ~deep)) {
      const __m256i first = _mm256_maskz_loadu_epi32(live, b.edge_begin.data() + f0);
      const __m256i count = _mm256_sub_epi32(_mm256_maskz_loadu_epi32(live, b.edge_begin.data() + f0 + 1), first);
      bin = exact_bins(bin, first, count, v, b.edges.data(), __mmask8(exact & ~deep));
    }
    bin = _mm256_mask_mov_epi32(bin, missing_values, _mm256_set1_epi32(b.missing_bin));
    _mm256_mask_storeu_epi32(out + f0, __mmask8(live & ~deep), bin);
    for (unsigned lanes = deep; lanes; lanes &= lanes - 1) {
      const auto lane = unsigned(__builtin_ctz(lanes));
      const std::size_t f = f0 + lane;
      const double value = x[f];
      std::size_t below = search_below_top(lower, f, std::size_t(pos[lane]), value);
      if (kExact && (exact >> lane & 1)) {  // 2 * below + 1 when the value is the next edge
        const auto count = std::size_t(b.edge_begin[f + 1] - b.edge_begin[f]);
        below = 2 * below + (below < count && b.edges[std::size_t(b.edge_begin[f]) + below] == value ? 1 : 0);
      }
      out[f] = std::int32_t(below);
    }
  }
}

}  // namespace

PMMLRT_AVX512_POPCNT void bin_row_avx512(const EnsembleKernel& k, const double* x, std::int32_t* out) {
  if (k.bins.any_exact) bin_row<true>(k.bins, k.features(), x, out);
  else bin_row<false>(k.bins, k.features(), x, out);
}

namespace {

/// The bins of the features `feats` (count of them) of rows [r0, r0 + 8 * blocks): a lane per row, the same
/// branch-free lower bound as bin_rows. Each search is a chain of dependent gathers, so the eight features'
/// searches step side by side to overlap their latency.
PMMLRT_AVX512 void bin_rows8(const EnsembleKernel& k, const double* x, std::size_t r0, std::size_t r_end,
                             const std::int32_t* feats, std::size_t count, std::int32_t* out) {
  constexpr std::size_t kFeatures = 8;
  const std::size_t nf = k.features();
  const double* edges = k.bins.edges.data();
  const std::int32_t* edge_begin = k.bins.edge_begin.data();
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(nf)));
  const __m256i missing_bin = _mm256_set1_epi32(k.bins.missing_bin);
  for (; r0 + 8 <= r_end; r0 += 8) {
    const double* block = x + r0 * nf;
    std::int32_t* o = out + r0 * nf;
    for (std::size_t f0 = 0; f0 < count; f0 += kFeatures) {
      const std::size_t here = std::min(kFeatures, count - f0);
      __m512d v[kFeatures];
      __m256i base[kFeatures];
      std::int32_t len[kFeatures], feature[kFeatures];
      for (std::size_t g = 0; g < kFeatures; ++g) {
        const auto f = std::size_t(feats[f0 + std::min(g, here - 1)]);
        feature[g] = std::int32_t(f);
        v[g] = _mm512_i32gather_pd(_mm256_add_epi32(lanes, _mm256_set1_epi32(int(f))), block, 8);
        base[g] = _mm256_setzero_si256();
        len[g] = g < here ? edge_begin[f + 1] - edge_begin[f] : 0;
      }
      for (bool more = true; more;) {
        more = false;
        for (std::size_t g = 0; g < kFeatures; ++g) {
          if (len[g] <= 1) continue;
          more = true;
          const std::int32_t half = len[g] / 2;
          const __m512d probe = _mm512_i32gather_pd(base[g], edges + edge_begin[feature[g]] + (half - 1), 8);
          base[g] = _mm256_mask_add_epi32(base[g], _mm512_cmp_pd_mask(probe, v[g], _CMP_LT_OQ), base[g],
                                          _mm256_set1_epi32(half));
          len[g] -= half;
        }
      }
      for (std::size_t g = 0; g < here; ++g) {
        const auto f = std::size_t(feature[g]);
        if (len[g] == 1) {
          const __m512d probe = _mm512_i32gather_pd(base[g], edges + edge_begin[f], 8);
          base[g] = _mm256_mask_add_epi32(base[g], _mm512_cmp_pd_mask(probe, v[g], _CMP_LT_OQ), base[g],
                                          _mm256_set1_epi32(1));
        }
        if (k.bins.exact[f])
          base[g] = exact_bins(base[g], _mm256_set1_epi32(edge_begin[f]), _mm256_set1_epi32(edge_begin[f + 1] - edge_begin[f]),
                               v[g], edges, 0xFF);
        base[g] = _mm256_mask_mov_epi32(base[g], _mm512_cmp_pd_mask(v[g], v[g], _CMP_UNORD_Q), missing_bin);
        _mm256_i32scatter_epi32(o, _mm256_add_epi32(lanes, _mm256_set1_epi32(int(f))), base[g], 4);
      }
    }
  }
}

/// Sixteen rows of feature `f` (row stride nf from `block`) as floats rounded towards -inf, and the lanes
/// where that rounding was inexact. For a float edge e and any double v: e < v exactly when e < down(v)
/// (v a float) or e <= down(v) (v not a float; down(v) is then the largest float below it), so that a float
/// search counts the edges below v exactly. NaN stays NaN and compares false.
PMMLRT_AVX512 inline __m512 rows16_down(const double* block, std::size_t nf, std::size_t f, __mmask16& inexact) {
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(nf)));
  const __m256i at = _mm256_add_epi32(lanes, _mm256_set1_epi32(int(f)));
  const __m512d lo = _mm512_i32gather_pd(at, block, 8);
  const __m512d hi = _mm512_i32gather_pd(at, block + 8 * nf, 8);
  const __m256 lo_f = _mm512_cvt_roundpd_ps(lo, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m256 hi_f = _mm512_cvt_roundpd_ps(hi, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __mmask8 lo_in = _mm512_cmp_pd_mask(_mm512_cvtps_pd(lo_f), lo, _CMP_NEQ_OQ) & ~_mm512_cmp_pd_mask(lo, lo, _CMP_UNORD_Q);
  const __mmask8 hi_in = _mm512_cmp_pd_mask(_mm512_cvtps_pd(hi_f), hi, _CMP_NEQ_OQ) & ~_mm512_cmp_pd_mask(hi, hi, _CMP_UNORD_Q);
  inexact = __mmask16(lo_in | (unsigned(hi_in) << 8));
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo_f)), _mm256_castps_pd(hi_f), 1));
}

/// The lanes where the edge is below v, for down = rows16_down(v). A float edge e: e < v, which is e <
/// down(v), or e == down(v) where down(v) is below v. kAbove, an edge e just below the float t = `probe`: e
/// < v, which is t <= v, which is t <= down(v).
template <bool kAbove>
PMMLRT_AVX512 inline __mmask16 float_below(__m512 probe, __m512 down, __mmask16 inexact) {
  if constexpr (kAbove) return _mm512_cmp_ps_mask(probe, down, _CMP_LE_OQ);
  return __mmask16(_mm512_cmp_ps_mask(probe, down, _CMP_LT_OQ) | (_mm512_cmp_ps_mask(probe, down, _CMP_EQ_OQ) & inexact));
}

/// bin_rows8 for the features with float edges (Binned::float_features, or float_above_features with
/// kAbove), sixteen rows per vector.
template <bool kAbove>
PMMLRT_AVX512 void bin_rows16_float(const EnsembleKernel& k, const double* x, std::size_t r_end, std::int32_t* out) {
  constexpr std::size_t kFeatures = 8;
  const std::size_t nf = k.features();
  const float* edges = k.bins.edges_float.data();
  const std::int32_t* edge_begin = k.bins.edge_begin.data();
  const auto& list = kAbove ? k.bins.float_above_features : k.bins.float_features;
  const std::int32_t* feats = list.data();
  const std::size_t count = list.size();
  const __m512i lanes = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(int(nf)));
  const __m512i missing_bin = _mm512_set1_epi32(k.bins.missing_bin);
  for (std::size_t r0 = 0; r0 + 16 <= r_end; r0 += 16) {
    const double* block = x + r0 * nf;
    std::int32_t* o = out + r0 * nf;
    for (std::size_t f0 = 0; f0 < count; f0 += kFeatures) {
      const std::size_t here = std::min(kFeatures, count - f0);
      __m512 v[kFeatures];
      __mmask16 inexact[kFeatures];
      __m512i base[kFeatures];
      std::int32_t len[kFeatures], feature[kFeatures];
      for (std::size_t g = 0; g < kFeatures; ++g) {
        const auto f = std::size_t(feats[f0 + std::min(g, here - 1)]);
        feature[g] = std::int32_t(f);
        v[g] = rows16_down(block, nf, f, inexact[g]);
        base[g] = _mm512_setzero_si512();
        len[g] = g < here ? edge_begin[f + 1] - edge_begin[f] : 0;
      }
      for (bool more = true; more;) {
        more = false;
        for (std::size_t g = 0; g < kFeatures; ++g) {
          if (len[g] <= 1) continue;
          more = true;
          const std::int32_t half = len[g] / 2;
          const __m512 probe = _mm512_i32gather_ps(base[g], edges + edge_begin[feature[g]] + (half - 1), 4);
          base[g] = _mm512_mask_add_epi32(base[g], float_below<kAbove>(probe, v[g], inexact[g]), base[g], _mm512_set1_epi32(half));
          len[g] -= half;
        }
      }
      for (std::size_t g = 0; g < here; ++g) {
        const auto f = std::size_t(feature[g]);
        if (len[g] == 1) {
          const __m512 probe = _mm512_i32gather_ps(base[g], edges + edge_begin[f], 4);
          base[g] = _mm512_mask_add_epi32(base[g], float_below<kAbove>(probe, v[g], inexact[g]), base[g], _mm512_set1_epi32(1));
        }
        base[g] = _mm512_mask_mov_epi32(base[g], _mm512_cmp_ps_mask(v[g], v[g], _CMP_UNORD_Q), missing_bin);
        _mm512_i32scatter_epi32(o, _mm512_add_epi32(lanes, _mm512_set1_epi32(int(f))), base[g], 4);
      }
    }
  }
}

}  // namespace

PMMLRT_AVX512 std::size_t bin_rows_avx512(const EnsembleKernel& k, const double* x, std::size_t rows, std::int32_t* out) {
  // The features with float edges sixteen rows at a time (in float, exactly), the others eight rows at a
  // time (in double); the rows after the last sixteen, every feature in double.
  const auto& b = k.bins;
  const std::size_t rows16 = b.float_features.empty() && b.float_above_features.empty() ? 0 : rows / 16 * 16;
  if (rows16) {
    if (!b.float_features.empty()) bin_rows16_float<false>(k, x, rows16, out);
    if (!b.float_above_features.empty()) bin_rows16_float<true>(k, x, rows16, out);
    bin_rows8(k, x, 0, rows16, b.double_features.data(), b.double_features.size(), out);
  }
  bin_rows8(k, x, rows16, rows, b.all_features.data(), b.all_features.size(), out);
  return rows / 8 * 8;
}

namespace {

/// walk_binned for exactly `chains` (1 to 16) vectors of one record's trees: no padding chain is walked.
template <SetTests kSets, bool kInRegisters, int G = 16>
PMMLRT_AVX512 inline void walk_row_chains(const EnsembleKernel& k, std::size_t chains, __m256i* e, const __m256i* offset,
                                          const std::int32_t* bins, std::int32_t depth) {
  if constexpr (G > 1) {
    if (chains < std::size_t(G)) return walk_row_chains<kSets, kInRegisters, G - 1>(k, chains, e, offset, bins, depth);
  }
  walk_binned<G, kSets, true, kInRegisters>(k, e, offset, bins, depth);
}

/// One record's walk of `chains` vectors of trees: its bins from registers when they fit in two.
template <SetTests kSets>
PMMLRT_AVX512 inline void walk_record(const EnsembleKernel& k, std::size_t chains, __m256i* e, const __m256i* offset,
                                      const std::int32_t* bins, std::int32_t depth) {
  if (k.features() <= 32) walk_row_chains<kSets, true>(k, chains, e, offset, bins, depth);
  else walk_row_chains<kSets, false>(k, chains, e, offset, bins, depth);
}

}  // namespace

PMMLRT_AVX512 void walk_binned_row_avx512(const EnsembleKernel& k, const std::int32_t* bins, std::int32_t* out) {
  if (k.bins.perfect_depth) {
    constexpr std::size_t kOnStack = 2048;
    std::int32_t on_stack[kOnStack];
    thread_local std::vector<std::int32_t> many;  // kept between records: no allocation per record
    const std::size_t slots = k.bins.perfect_groups() * 16;
    std::int32_t* nodes = on_stack;
    if (slots > kOnStack) {
      if (many.size() < slots) many.resize(slots);
      nodes = many.data();
    }
    walk_perfect_range<LeafOut::Nodes>(k, bins, 0, k.bins.perfect_groups(), nodes);
    const std::size_t nt = k.trees();
    const std::int32_t* result = k.bins.result.data();
    for (std::size_t t = 0; t < nt; t += 16) {
      const auto lanes = __mmask16(nt - t >= 16 ? 0xFFFF : (1u << (nt - t)) - 1);
      _mm512_mask_storeu_epi32(out + t, lanes, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), lanes,
                                                                           _mm512_loadu_si512(nodes + t), result, 4));
    }
    return;
  }
  // Eight trees per vector, all reading the same row; up to sixteen vectors in flight, since one record has
  // no other rows to hide the gathers' latency behind.
  constexpr int kRowChains = 16;
  const std::size_t nt = k.trees();
  const std::size_t groups = (nt + 7) / 8;
  const __m256i same_row = _mm256_setzero_si256();
  const std::int32_t* roots = k.bins.roots.data();
  const std::int32_t* result = k.bins.result.data();
  for (std::size_t g0 = 0; g0 < groups; g0 += kRowChains) {
    const std::size_t here = std::min<std::size_t>(kRowChains, groups - g0);
    __m256i e[kRowChains];
    std::int32_t depth = 0;
    for (std::size_t g = 0; g < std::size_t(kRowChains); ++g) {
      const std::size_t t = (g0 + std::min(g, here - 1)) * 8;
      const auto lanes = __mmask8(nt - t >= 8 ? 0xFF : (1u << (nt - t)) - 1);
      // Lanes past the last tree start at the group's first root (walked, never stored).
      e[g] = _mm256_mask_loadu_epi32(_mm256_set1_epi32(roots[t]), lanes, roots + t);
      depth = std::max(depth, k.bins.group_depth[t / 8]);
    }
    if (k.bins.set_words.empty()) walk_record<SetTests::None>(k, here, e, &same_row, bins, depth);
    else walk_record<SetTests::WhenMet>(k, here, e, &same_row, bins, depth);
    for (std::size_t g = 0; g < here; ++g) {
      const std::size_t t = (g0 + g) * 8;
      const auto lanes = __mmask8(nt - t >= 8 ? 0xFF : (1u << (nt - t)) - 1);
      _mm256_mask_storeu_epi32(out + t, lanes, _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), lanes, e[g], result, 4));
    }
  }
}

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
  // The CPU only: simd_level() applies PMMLRT_SIMD and PMMLRT_DISABLE_AVX512.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("popcnt");
}

#else

void walk_block_avx512(const EnsembleKernel&, const double*, std::size_t, std::int32_t*) {}
void walk_binned_block_avx512(const EnsembleKernel&, const std::int32_t*, std::size_t, std::int32_t*, std::size_t,
                              double*) {}
void walk_binned_row_avx512(const EnsembleKernel&, const std::int32_t*, std::int32_t*) {}
std::size_t bin_rows_avx512(const EnsembleKernel&, const double*, std::size_t, std::int32_t*) { return 0; }
void bin_row_avx512(const EnsembleKernel&, const double*, std::int32_t*) {}
void walk_row_avx512(const EnsembleKernel&, const double*, std::int32_t*) {}
bool cpu_has_avx512() { return false; }

#endif

}  // namespace pmmlrt::eval
