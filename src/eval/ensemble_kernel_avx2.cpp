// The binned walks with AVX2, for x86-64 CPUs without AVX-512: the layout, steps and order of additions of
// the AVX-512 walks (ensemble_kernel_simd.cpp), eight 32-bit lanes per vector. AVX2 has no mask registers,
// so a lane condition is an all-ones lane from a compare, combined with and/andnot. Its gathers take four
// 64-bit elements but eight 32-bit ones, so these walks read the nodes' two halves from two arrays
// (Binned::test_words and first_children): 10-30% faster than two 64-bit gathers and a shuffle back into
// lane order. Built for any x86-64 with the instructions enabled per function, and chosen at run time
// (simd_level()) only on CPUs that have them. Results are identical to the scalar walk.

#include "eval/ensemble_kernel.hpp"

#include <algorithm>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's gather intrinsics start from _mm*_undefined_*() and then warn about it (-Wmaybe-uninitialized, a
// false positive inside the system header), as in ensemble_kernel_simd.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define PMMLRT_HAVE_AVX2_KERNEL 1
#endif

namespace pmmlrt::eval {

#ifdef PMMLRT_HAVE_AVX2_KERNEL

namespace {

#define PMMLRT_AVX2 __attribute__((target("avx2")))

/// The fields of a binned test word (ensemble_kernel.hpp), as vectors.
struct BinnedTest {
  __m256i feature_mask, missing_yes, missing_null, missing_bin;
  __m128i k_shift;
};

PMMLRT_AVX2 inline BinnedTest binned_test(const EnsembleKernel& k) {
  const int fb = k.bins.feature_bits;
  return {_mm256_set1_epi32((1 << fb) - 1), _mm256_set1_epi32(1 << fb), _mm256_set1_epi32(1 << (fb + 1)),
          _mm256_set1_epi32(k.bins.missing_bin), _mm_cvtsi32_si128(fb + 2)};
}

/// The one place a binned node is decided: from eight lanes' test words `w`, first children `child` and bins
/// `b` of the tested features, the next nodes. `bin <= k` goes to the first child (yes), else the second; a
/// missing bin (above every k) goes to the first child at a missing_yes test and to node 0, the leaf of no
/// prediction, at a missing_null test. A leaf's k is above every bin: it stays where it is.
PMMLRT_AVX2 inline __m256i binned_step(const BinnedTest& t, __m256i w, __m256i child, __m256i b) {
  const __m256i missing = _mm256_cmpeq_epi32(b, t.missing_bin);
  const __m256i above = _mm256_cmpgt_epi32(b, _mm256_srl_epi32(w, t.k_shift));
  const __m256i yes_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, t.missing_yes), t.missing_yes);
  const __m256i null_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, t.missing_null), t.missing_null);
  const __m256i to_no = _mm256_andnot_si256(_mm256_and_si256(yes_if_missing, missing), above);
  // to_no is -1 where the walk takes the second child.
  return _mm256_andnot_si256(_mm256_and_si256(null_if_missing, missing), _mm256_sub_epi32(child, to_no));
}

/// One record's bins (at most 16 features) held in two registers instead of memory.
struct RowBins {
  __m256i low, high;
};

PMMLRT_AVX2 inline RowBins load_row_bins(const std::int32_t* bins, std::size_t nf) {
  alignas(32) std::int32_t lane[16] = {};
  std::copy(bins, bins + std::min<std::size_t>(nf, 16), lane);
  return {_mm256_load_si256(reinterpret_cast<const __m256i*>(lane)),
          _mm256_load_si256(reinterpret_cast<const __m256i*>(lane + 8))};
}

/// Features 0-7 from `low`, 8-15 from `high` (bit 3, shifted to the sign bit, chooses); a row of at most
/// eight features needs only `low`.
template <bool kEight>
PMMLRT_AVX2 inline __m256i row_bin(const RowBins& r, __m256i f) {
  if (kEight) return _mm256_permutevar8x32_epi32(r.low, f);
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(r.low, f)),
                                               _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(r.high, f)),
                                               _mm256_castsi256_ps(_mm256_slli_epi32(f, 28))));
}

/// Steps G vectors of eight binned walks `depth` times. Lane j of vector g is at node e[g] and reads its bins
/// at bins + offset[g][j] (offset[0] for every g when kSameRow). The G walks are independent, so their gathers
/// overlap. With kRegisters (one row of at most 8 or 16 features: 1 or 2) the bins come from registers.
template <int G, bool kSameRow = false, int kRegisters = 0>
PMMLRT_AVX2 inline void walk_binned(const EnsembleKernel& k, __m256i* e, const __m256i* offset,
                                    const std::int32_t* bins, std::int32_t depth) {
  const BinnedTest test = binned_test(k);
  RowBins row{};
  if (kRegisters) row = load_row_bins(bins, k.features());
  const auto* words = reinterpret_cast<const int*>(k.bins.test_words.data());
  const auto* children = reinterpret_cast<const int*>(k.bins.first_children.data());
  for (std::int32_t s = 0; s < depth; ++s) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const __m256i w = _mm256_i32gather_epi32(words, e[g], 4);
      const __m256i child = _mm256_i32gather_epi32(children, e[g], 4);
      const __m256i f = _mm256_and_si256(w, test.feature_mask);
      const __m256i b = kRegisters ? row_bin<kRegisters == 1>(row, f)
                                     : _mm256_i32gather_epi32(bins, _mm256_add_epi32(offset[kSameRow ? 0 : g], f), 4);
      e[g] = binned_step(test, w, child, b);
    }
  }
}

PMMLRT_AVX2 inline void store_binned(const EnsembleKernel& k, __m256i e, std::int32_t* out, std::size_t step,
                                     std::size_t lanes) {
  alignas(32) std::int32_t lane[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane), e);
  for (std::size_t j = 0; j < lanes; ++j) out[j * step] = k.bins.result[std::size_t(lane[j])];
}

/// Adds the leaf terms at `e` (four lanes) to four sums, in float when the model sums in float.
PMMLRT_AVX2 inline void add_terms(double* s, const double* terms, __m128i e, bool in_float) {
  const __m256d term = _mm256_i32gather_pd(terms, e, 8);
  if (in_float)
    _mm256_storeu_pd(s, _mm256_cvtps_pd(_mm_add_ps(_mm256_cvtpd_ps(_mm256_loadu_pd(s)), _mm256_cvtpd_ps(term))));
  else
    _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), term));
}

/// (tree, row vector) chains in flight, tree-major as in the AVX-512 block walk, but four instead of eight:
/// AVX2 has sixteen vector registers, and four chains' nodes and row offsets fit in them (measured against
/// 2, 3, 5, 6, 8 and 12 chains: 8 was 20-50% slower, the others no faster).
constexpr int kChains = 4;

struct Chain {
  std::int32_t tree;    // its tree
  std::int32_t vector;  // its row vector within the block (rows 8 * vector ...)
};

}  // namespace

PMMLRT_AVX2 void walk_binned_block_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows,
                                        std::int32_t* out, std::size_t out_rows, double* sums) {
  const std::size_t nf = k.features(), nt = k.trees();
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(nf)));
  const std::size_t vectors = rows / 8;
  if (vectors == 0) return;
  const double* terms = k.bins.leaf_value.data();
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t width = k.sum_width, nodes = k.bins.nodes.size();
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
    walk_binned<kChains>(k, e, offset, bins, depth);
    for (std::size_t g = 0; g < here; ++g) {
      const std::size_t r0 = std::size_t(chain[g].vector) * 8;
      if (sums) {
        // Chains are in tree order, so each row adds its terms in tree order, as the generic aggregation does.
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          add_terms(s, terms + c * nodes, _mm256_castsi256_si128(e[g]), in_float);
          add_terms(s + 4, terms + c * nodes, _mm256_extracti128_si256(e[g], 1), in_float);
        }
      } else {
        store_binned(k, e[g], out + r0 * nt + std::size_t(chain[g].tree), nt,
                     std::min<std::size_t>(8, out_rows > r0 ? out_rows - r0 : 0));
      }
    }
  }
}

PMMLRT_AVX2 void walk_binned_row_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::int32_t* out) {
  // Eight trees per vector, all reading the same row; four vectors in flight, as in the block walk.
  constexpr int kRowChains = 4;
  const std::size_t nt = k.trees();
  const std::size_t groups = (nt + 7) / 8;
  const __m256i same_row = _mm256_setzero_si256();
  const std::int32_t* roots = k.bins.roots.data();
  for (std::size_t g0 = 0; g0 < groups; g0 += kRowChains) {
    const std::size_t here = std::min<std::size_t>(kRowChains, groups - g0);
    __m256i e[kRowChains];
    std::int32_t depth = 0;
    for (std::size_t g = 0; g < std::size_t(kRowChains); ++g) {
      const std::size_t t = (g0 + std::min(g, here - 1)) * 8;
      // Lanes past the last tree start at the group's first root (walked, never stored).
      alignas(32) std::int32_t start[8];
      for (std::size_t j = 0; j < 8; ++j) start[j] = roots[t + j < nt ? t + j : t];
      e[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(start));
      depth = std::max(depth, k.bins.group_depth[t / 8]);
    }
    if (k.features() <= 8) walk_binned<kRowChains, true, 1>(k, e, &same_row, bins, depth);
    else if (k.features() <= 16) walk_binned<kRowChains, true, 2>(k, e, &same_row, bins, depth);
    else walk_binned<kRowChains, true>(k, e, &same_row, bins, depth);
    for (std::size_t g = 0; g < here; ++g) {
      const std::size_t t = (g0 + g) * 8;
      store_binned(k, e[g], out + t, 1, std::min<std::size_t>(8, nt - t));
    }
  }
}

namespace {

#define PMMLRT_AVX2_POPCNT __attribute__((target("avx2,popcnt")))

/// The entries of a block of Binned::search below `v` (v in every lane): its four quarters compared, the
/// results narrowed to bytes (two per entry, in an order that a count does not need) and counted.
PMMLRT_AVX2_POPCNT inline unsigned entries_below(const double* block, __m256d v) {
  const __m256i c0 = _mm256_castpd_si256(_mm256_cmp_pd(v, _mm256_load_pd(block), _CMP_GT_OQ));
  const __m256i c1 = _mm256_castpd_si256(_mm256_cmp_pd(v, _mm256_load_pd(block + 4), _CMP_GT_OQ));
  const __m256i c2 = _mm256_castpd_si256(_mm256_cmp_pd(v, _mm256_load_pd(block + 8), _CMP_GT_OQ));
  const __m256i c3 = _mm256_castpd_si256(_mm256_cmp_pd(v, _mm256_load_pd(block + 12), _CMP_GT_OQ));
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
  return unsigned(_mm_popcnt_u32(unsigned(_mm256_movemask_epi8(bytes)))) / 2;
}

/// The levels of feature `f`'s search below its top, from `pos`, the count at its top, for value `x`.
PMMLRT_AVX2_POPCNT inline std::int64_t search_below_top(const EnsembleKernel::Binned& b, std::size_t f,
                                                        std::size_t pos, double x) {
  constexpr std::size_t kWidth = EnsembleKernel::Binned::kSearchWidth;
  const __m256d v = _mm256_set1_pd(x);
  const std::size_t* level = b.search_levels.data() + b.level_begin[f];
  const std::size_t* end = b.search_levels.data() + b.level_begin[f + 1];
  do pos = kWidth * pos + entries_below(b.search.data() + *level + kWidth * pos, v);
  while (++level != end);
  return std::int64_t(pos);
}

}  // namespace

PMMLRT_AVX2_POPCNT void bin_row_avx2(const EnsembleKernel& k, const double* x, std::int32_t* out) {
  // As bin_row_avx512: eight features' tops side by side (two vectors of four), then the deeper levels of
  // the features that have them one by one; the bins of exact features from the next edge.
  constexpr std::size_t kWidth = EnsembleKernel::Binned::kSearchWidth;
  const auto& b = k.bins;
  const std::size_t nf = k.features();
  const __m256d missing_bin = _mm256_castsi256_pd(_mm256_set1_epi64x(b.missing_bin));
  for (std::size_t f0 = 0, g = 0; f0 < nf; f0 += 8, ++g) {
    const std::size_t here = std::min<std::size_t>(8, nf - f0);
    alignas(32) double value[8];
    for (std::size_t i = 0; i < 8; ++i) value[i] = i < here ? x[f0 + i] : 0.0;
    const __m256d low = _mm256_load_pd(value), high = _mm256_load_pd(value + 4);
    const double* top = b.search_top.data() + g * 8 * kWidth;
    __m256i count_low = _mm256_setzero_si256(), count_high = _mm256_setzero_si256();
    for (std::int32_t j = 0, n = b.search_top_entries[g]; j < n; ++j) {
      count_low = _mm256_sub_epi64(count_low, _mm256_castpd_si256(_mm256_cmp_pd(low, _mm256_load_pd(top + 8 * j), _CMP_GT_OQ)));
      count_high =
          _mm256_sub_epi64(count_high, _mm256_castpd_si256(_mm256_cmp_pd(high, _mm256_load_pd(top + 8 * j + 4), _CMP_GT_OQ)));
    }
    alignas(32) std::int64_t bin[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(bin), count_low);
    _mm256_store_si256(reinterpret_cast<__m256i*>(bin + 4), count_high);
    for (unsigned deep = b.search_deep[g]; deep; deep &= deep - 1) {
      const auto lane = unsigned(__builtin_ctz(deep));
      bin[lane] = search_below_top(b, f0 + lane, std::size_t(bin[lane]), value[lane]);
    }
    for (unsigned exact = b.search_exact[g]; exact; exact &= exact - 1) {
      const auto lane = unsigned(__builtin_ctz(exact));
      const double* first = b.edges.data() + b.edge_begin[f0 + lane];
      const std::int64_t count = b.edge_begin[f0 + lane + 1] - b.edge_begin[f0 + lane];
      bin[lane] = 2 * bin[lane] + (bin[lane] < count && first[bin[lane]] == value[lane] ? 1 : 0);
    }
    _mm256_store_pd(reinterpret_cast<double*>(bin),
                    _mm256_blendv_pd(_mm256_load_pd(reinterpret_cast<const double*>(bin)), missing_bin,
                                     _mm256_cmp_pd(low, low, _CMP_UNORD_Q)));
    _mm256_store_pd(reinterpret_cast<double*>(bin + 4),
                    _mm256_blendv_pd(_mm256_load_pd(reinterpret_cast<const double*>(bin + 4)), missing_bin,
                                     _mm256_cmp_pd(high, high, _CMP_UNORD_Q)));
    for (std::size_t i = 0; i < here; ++i) out[f0 + i] = std::int32_t(bin[i]);
  }
}

PMMLRT_AVX2_POPCNT std::size_t bin_rows_avx2(const EnsembleKernel& k, const double* x, std::size_t rows,
                                             std::int32_t* out) {
  // Row by row: four rows' searches of one feature side by side (a lane per row) were chains of dependent
  // gathers, measured twice as slow as bin_row_avx2's search.
  const std::size_t nf = k.features();
  for (std::size_t r = 0; r < rows; ++r) bin_row_avx2(k, x + r * nf, out + r * nf);
  return rows;
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}

#else

void walk_binned_block_avx2(const EnsembleKernel&, const std::int32_t*, std::size_t, std::int32_t*, std::size_t,
                            double*) {}
void walk_binned_row_avx2(const EnsembleKernel&, const std::int32_t*, std::int32_t*) {}
std::size_t bin_rows_avx2(const EnsembleKernel&, const double*, std::size_t, std::int32_t*) { return 0; }
void bin_row_avx2(const EnsembleKernel&, const double*, std::int32_t*) {}
bool cpu_has_avx2() { return false; }

#endif

}  // namespace pmmlrt::eval
