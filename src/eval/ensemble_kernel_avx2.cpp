// The binned walks with AVX2, for x86-64 CPUs without AVX-512: the layouts, steps and order of additions of
// the AVX-512 walks (ensemble_kernel_simd.cpp), eight 32-bit lanes per vector. AVX2 has no mask registers,
// so a lane condition is an all-ones lane from a compare, combined with and/andnot. Forests that suit it
// take the perfect layout, eight trees per vector (below); the others the node layout, whose gathers take
// four 64-bit elements but eight 32-bit ones, so its walks read the nodes' two halves from two arrays
// (Binned::test_words and first_children): 10-30% faster than two 64-bit gathers and a shuffle back into
// lane order. Built for any x86-64 with the instructions enabled per function, and chosen at run time
// (simd_level()) only on CPUs that have them. Results are identical to the scalar walk.

#include "eval/ensemble_kernel.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's gather intrinsics start from _mm*_undefined_*() and then warn about it (-Wmaybe-uninitialized, a
// false positive inside the system header), as in ensemble_kernel_simd.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "eval/simd_transpose.hpp"
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
  const int* set_words;  // Binned::set_words as 32-bit words (null without set tests)
};

PMMLRT_AVX2 inline BinnedTest binned_test(const EnsembleKernel& k) {
  const int fb = k.bins.feature_bits;
  return {_mm256_set1_epi32((1 << fb) - 1), _mm256_set1_epi32(1 << fb), _mm256_set1_epi32(1 << (fb + 1)),
          _mm256_set1_epi32(k.bins.missing_bin), _mm_cvtsi32_si128(fb + 2),
          k.bins.set_words.empty() ? nullptr : reinterpret_cast<const int*>(k.bins.set_words.data())};
}

/// `above` (-1 where the walk takes the second child) with the set tests among the lanes decided, for a
/// kernel with set tests: a lane at a set node (kSetTest, the sign bit of its word `w`) takes the first
/// child when its bin `b` is a member of the node's set, the second otherwise; a missing value is a member
/// of no set (the node's missing flags then decide). The set of the node's k is bit b % 32 of 32-bit word
/// 2k + b / 32 (little-endian 64-bit words). The words are gathered only when some lane is at a set node.
PMMLRT_AVX2 inline __m256i decide_sets(const BinnedTest& t, __m256i w, __m256i b, __m256i missing, __m256i above) {
  const __m256i sets = _mm256_srai_epi32(w, 31);
  if (_mm256_testz_si256(sets, sets)) return above;
  const __m256i k = _mm256_srl_epi32(_mm256_andnot_si256(_mm256_set1_epi32(int(EnsembleKernel::Binned::kSetTest)), w), t.k_shift);
  const __m256i at = _mm256_add_epi32(_mm256_add_epi32(k, k), _mm256_srli_epi32(b, 5));
  const __m256i words =
      _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), t.set_words, at, _mm256_andnot_si256(missing, sets), 4);
  const __m256i bit = _mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_and_si256(b, _mm256_set1_epi32(31)));
  const __m256i outside = _mm256_cmpeq_epi32(_mm256_and_si256(words, bit), _mm256_setzero_si256());
  return _mm256_or_si256(_mm256_andnot_si256(sets, above), _mm256_and_si256(sets, outside));
}

/// The one place a binned node is decided: from eight lanes' test words `w`, first children `child` and bins
/// `b` of the tested features, the next nodes. `bin <= k` goes to the first child (yes), else the second; a
/// missing bin (above every k) goes to the first child at a missing_yes test and to node 0, the leaf of no
/// prediction, at a missing_null test. A leaf's k is above every bin: it stays where it is. kSets: the
/// kernel has set tests (decide_sets).
template <bool kSets>
PMMLRT_AVX2 inline __m256i binned_step(const BinnedTest& t, __m256i w, __m256i child, __m256i b) {
  const __m256i missing = _mm256_cmpeq_epi32(b, t.missing_bin);
  __m256i above = _mm256_cmpgt_epi32(b, _mm256_srl_epi32(w, t.k_shift));
  if (kSets) above = decide_sets(t, w, b, missing, above);
  const __m256i yes_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, t.missing_yes), t.missing_yes);
  const __m256i null_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, t.missing_null), t.missing_null);
  const __m256i to_no = _mm256_andnot_si256(_mm256_and_si256(yes_if_missing, missing), above);
  // to_no is -1 where the walk takes the second child.
  return _mm256_andnot_si256(_mm256_and_si256(null_if_missing, missing), _mm256_sub_epi32(child, to_no));
}

/// One record's bins (at most 32 features) held in registers instead of memory: features 8r .. 8r + 7 in
/// reg[r].
struct RowBins {
  __m256i reg[4];
};

PMMLRT_AVX2 inline RowBins load_row_bins(const std::int32_t* bins, std::size_t nf) {
  // Masked loads: never past the row's last bin (copying the row to the stack first stalled on the
  // store-to-load forwarding of the vector loads).
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  RowBins r;
  for (int i = 0; i < 4; ++i) {
    const __m256i present = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(nf) - 8 * i), lane);
    r.reg[i] = _mm256_setzero_si256();
    if (std::size_t(8 * i) < nf) r.reg[i] = _mm256_maskload_epi32(bins + 8 * i, present);
  }
  return r;
}

/// The registers a row of `nf` features needs (0: more than 32 features, read from memory).
inline int row_registers(std::size_t nf) { return nf <= 32 ? int((nf + 7) / 8) : 0; }

/// a where bit `b` of f is clear, else c (bit b shifted to the sign bit chooses).
template <int kBit>
PMMLRT_AVX2 inline __m256i choose_by_bit(__m256i a, __m256i c, __m256i f) {
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(c),
                                              _mm256_castsi256_ps(_mm256_slli_epi32(f, 31 - kBit))));
}

/// The bins of features f (at most 32) from the kRegisters (1 to 4) registers of `r`: each register
/// permuted by the feature's low three bits, then bits 3 and 4 choose the register.
template <int kRegisters>
PMMLRT_AVX2 inline __m256i row_bin(const RowBins& r, __m256i f) {
  const __m256i r0 = _mm256_permutevar8x32_epi32(r.reg[0], f);
  if (kRegisters == 1) return r0;
  const __m256i low = choose_by_bit<3>(r0, _mm256_permutevar8x32_epi32(r.reg[1], f), f);
  if (kRegisters == 2) return low;
  const __m256i r2 = _mm256_permutevar8x32_epi32(r.reg[2], f);
  const __m256i high = kRegisters == 3 ? r2 : choose_by_bit<3>(r2, _mm256_permutevar8x32_epi32(r.reg[3], f), f);
  return choose_by_bit<4>(low, high, f);
}

/// Steps G vectors of eight binned walks `depth` times. Lane j of vector g is at node e[g] and reads its bins
/// at bins + offset[g][j] (offset[0] for every g when kSameRow). The G walks are independent, so their gathers
/// overlap. With kRegisters (one row of at most 8 kRegisters features) the bins come from registers. kSets:
/// the kernel has set tests.
template <int G, bool kSets, bool kSameRow = false, int kRegisters = 0>
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
      const __m256i b = kRegisters ? row_bin<kRegisters>(row, f)
                                     : _mm256_i32gather_epi32(bins, _mm256_add_epi32(offset[kSameRow ? 0 : g], f), 4);
      e[g] = binned_step<kSets>(test, w, child, b);
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

// The perfect layout (Binned::perfect_*, eight trees per vector): a row's walk through eight trees at once
// reads only test words, the children of a node being at fixed places. Lane j of a walk holds its node of
// tree j as a heap index h = i + 1 (node i of the perfect tree; the children of h are 2h and 2h + 1), which
// makes a step one add and one subtract.

/// What a perfect walk stores per tree: its leaf's node (of Binned::nodes), or its leaf's terms
/// (Binned::perfect_terms or perfect_terms_float, one run of `sum_stride` per sum).
enum class LeafOut { Nodes, Terms, FloatTerms };

/// The test words of level kLevel (nodes 2^kLevel - 1 ..., at `level`, eight lanes per node) for heap
/// indices h: the level's nodes are loaded whole and blended down by the bits of h, cheaper than a gather
/// for the top levels (2^kLevel loads and 2^kLevel - 1 blends).
template <int kLevel>
PMMLRT_AVX2 inline __m256i level_words(const int* level, __m256i h) {
  constexpr int kNodes = 1 << kLevel;
  __m256i v[kNodes];
  for (int m = 0; m < kNodes; ++m) v[m] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(level + 8 * m));
  for (int bit = 0, n = kNodes; bit < kLevel; ++bit, n /= 2) {
    const __m256 by = _mm256_castsi256_ps(_mm256_sll_epi32(h, _mm_cvtsi32_si128(31 - bit)));
    for (int m = 0; m < n / 2; ++m)
      v[m] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(v[2 * m]), _mm256_castsi256_ps(v[2 * m + 1]), by));
  }
  return v[0];
}

/// Levels below this one are read by level_words, the rest by a gather.
constexpr int kBlendedLevels = 3;

/// What the steps of a perfect walk meet: threshold tests of a row without missing values (Plain: the
/// missing-value routing, a third of a step's instructions, skipped); any other row (Full), set tests
/// included when the kernel has them (a branch per step, the same way every time: a third kind of walk
/// cost more to compile than it saved).
enum class StepKind { Plain, Full };

/// Walks G groups of eight trees of the perfect layout, groups g0 ... g0 + G - 1, for one row (its bins from
/// kRegisters registers, or from memory with 0), into `out` (8 per group, at 8 * group; kOut says what).
/// kStep says which tests the steps meet.
template <int G, int kRegisters, LeafOut kOut, StepKind kStep>
PMMLRT_AVX2 inline void walk_perfect(const EnsembleKernel& k, std::size_t g0, const std::int32_t* bins, void* out,
                                     std::size_t sum_stride) {
  const auto& b = k.bins;
  const std::int32_t depth = b.perfect_depth;
  const std::size_t tests_per_group = (std::size_t(8) << depth) - 8;
  const auto* tests = reinterpret_cast<const int*>(b.perfect_tests.data());
  const BinnedTest test = binned_test(k);
  RowBins row{};
  if (kRegisters) row = load_row_bins(bins, k.features());
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i h[G], null[G];
  for (int g = 0; g < G; ++g) {
    h[g] = _mm256_set1_epi32(1);
    null[g] = _mm256_setzero_si256();
  }
  auto group_tests = [&](int g) { return tests + (g0 + std::size_t(g)) * tests_per_group; };
  // One step of group g from its test words w.
  auto step = [&](int g, __m256i w) PMMLRT_AVX2 {
    const __m256i f = _mm256_and_si256(w, test.feature_mask);
    const __m256i bin = kRegisters ? row_bin<kRegisters>(row, f) : _mm256_i32gather_epi32(bins, f, 4);
    __m256i above = _mm256_cmpgt_epi32(bin, _mm256_srl_epi32(w, test.k_shift));
    if (kStep == StepKind::Plain) {  // above is -1 at the second child: h becomes 2h + 1 there, 2h elsewhere
      h[g] = _mm256_sub_epi32(_mm256_add_epi32(h[g], h[g]), above);
      return;
    }
    const __m256i missing = _mm256_cmpeq_epi32(bin, test.missing_bin);
    if (test.set_words) above = decide_sets(test, w, bin, missing, above);
    const __m256i yes_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, test.missing_yes), test.missing_yes);
    const __m256i null_if_missing = _mm256_cmpeq_epi32(_mm256_and_si256(w, test.missing_null), test.missing_null);
    null[g] = _mm256_or_si256(null[g], _mm256_and_si256(null_if_missing, missing));
    const __m256i to_no = _mm256_andnot_si256(_mm256_and_si256(yes_if_missing, missing), above);
    h[g] = _mm256_sub_epi32(_mm256_add_epi32(h[g], h[g]), to_no);
  };
  auto blended = [&](auto level_index) PMMLRT_AVX2 {
    constexpr int kLevel = decltype(level_index)::value;
    if (depth <= kLevel) return;
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) step(g, level_words<kLevel>(group_tests(g) + 8 * ((1 << kLevel) - 1), h[g]));
  };
  blended(std::integral_constant<int, 0>{});
  blended(std::integral_constant<int, 1>{});
  blended(std::integral_constant<int, 2>{});
  static_assert(kBlendedLevels == 3, "the levels above are the blended ones");
  for (std::int32_t s = kBlendedLevels; s < depth; ++s) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      // Node h - 1, lane j: 8 (h - 1) + j within the group.
      const __m256i at = _mm256_add_epi32(_mm256_slli_epi32(h[g], 3), _mm256_sub_epi32(lane, _mm256_set1_epi32(8)));
      step(g, _mm256_i32gather_epi32(group_tests(g), at, 4));
    }
  }
  const std::size_t width = k.sum_width, slots = b.perfect_slots(), node_count = b.nodes.size();
  const std::size_t leaves_per_group = std::size_t(8) << depth;
  for (int g = 0; g < G; ++g) {
    const std::size_t group = g0 + std::size_t(g);
    // Leaf slot h - 2^depth of lane j: 8 (h - 2^depth) + j within the group.
    const __m256i at = _mm256_add_epi32(
        _mm256_slli_epi32(h[g], 3),
        _mm256_add_epi32(lane, _mm256_set1_epi32(int(group * leaves_per_group) - int(leaves_per_group))));
    const __m256i live = _mm256_xor_si256(null[g], _mm256_set1_epi32(-1));
    if constexpr (kOut == LeafOut::Nodes) {
      const __m256i leaf = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), b.perfect_leaves.data(), at, live, 4);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<std::int32_t*>(out) + group * 8), leaf);
    } else {
      // A lane at the null leaf (node 0) takes node 0's term, as the node walk's sum would.
      for (std::size_t c = 0; c < width; ++c) {
        const double null_term = b.leaf_value[c * node_count];
        if constexpr (kOut == LeafOut::FloatTerms) {
          const float* terms = b.perfect_terms_float.data() + c * slots;
          _mm256_storeu_ps(static_cast<float*>(out) + c * sum_stride + group * 8,
                           _mm256_mask_i32gather_ps(_mm256_set1_ps(float(null_term)), terms, at,
                                                    _mm256_castsi256_ps(live), 4));
        } else {
          const double* terms = b.perfect_terms.data() + c * slots;
          double* o = static_cast<double*>(out) + c * sum_stride + group * 8;
          const __m256i live_low = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(live));
          const __m256i live_high = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(live, 1));
          _mm256_storeu_pd(o, _mm256_mask_i32gather_pd(_mm256_set1_pd(null_term), terms, _mm256_castsi256_si128(at),
                                                       _mm256_castsi256_pd(live_low), 8));
          _mm256_storeu_pd(o + 4, _mm256_mask_i32gather_pd(_mm256_set1_pd(null_term), terms,
                                                           _mm256_extracti128_si256(at, 1),
                                                           _mm256_castsi256_pd(live_high), 8));
        }
      }
    }
  }
}

/// Groups in flight in a perfect walk. More than AVX2's sixteen registers hold beside a row's bins, but
/// the walk waits on its gathers' latency: eight were faster than four.
constexpr std::size_t kPerfectGroupsInFlight = 8;

/// walk_perfect for exactly `chains` (1 to kPerfectGroupsInFlight) groups: no padding group is walked.
template <int kRegisters, LeafOut kOut, StepKind kStep, int G = int(kPerfectGroupsInFlight)>
PMMLRT_AVX2 inline void walk_perfect_chains(const EnsembleKernel& k, std::size_t chains, std::size_t g0,
                                            const std::int32_t* bins, void* out, std::size_t sum_stride) {
  if constexpr (G > 1) {
    if (chains < std::size_t(G))
      return walk_perfect_chains<kRegisters, kOut, kStep, G - 1>(k, chains, g0, bins, out, sum_stride);
  }
  walk_perfect<G, kRegisters, kOut, kStep>(k, g0, bins, out, sum_stride);
}

/// Whether one of the row's `nf` bins is the missing bin.
PMMLRT_AVX2 inline bool row_has_missing(const std::int32_t* bins, std::size_t nf, std::int32_t missing_bin) {
  const __m256i missing = _mm256_set1_epi32(missing_bin);
  std::size_t f = 0;
  __m256i any = _mm256_setzero_si256();
  for (; f + 8 <= nf; f += 8)
    any = _mm256_or_si256(any, _mm256_cmpeq_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bins + f)), missing));
  bool found = !_mm256_testz_si256(any, any);
  for (; f < nf; ++f) found |= bins[f] == missing_bin;
  return found;
}

/// Groups [first, last) of the perfect layout for one row.
template <int kRegisters, LeafOut kOut>
__attribute__((noinline)) PMMLRT_AVX2 void walk_perfect_groups(const EnsembleKernel& k, const std::int32_t* bins,
                                                               std::size_t first, std::size_t last, void* out,
                                                               std::size_t sum_stride) {
  const bool plain = k.bins.set_words.empty() && !row_has_missing(bins, k.features(), k.bins.missing_bin);
  // As few walks as kPerfectGroupsInFlight allows, of equal sizes: a short last walk would wait on its
  // gathers' latency alone.
  const std::size_t n = last - first, walks = (n + kPerfectGroupsInFlight - 1) / kPerfectGroupsInFlight;
  for (std::size_t w = 0, g0 = first; w < walks; ++w) {
    const std::size_t size = (n - (g0 - first) + (walks - w) - 1) / (walks - w);
    if (plain) walk_perfect_chains<kRegisters, kOut, StepKind::Plain>(k, size, g0, bins, out, sum_stride);
    else walk_perfect_chains<kRegisters, kOut, StepKind::Full>(k, size, g0, bins, out, sum_stride);
    g0 += size;
  }
}

template <LeafOut kOut>
PMMLRT_AVX2 void walk_perfect_range(const EnsembleKernel& k, const std::int32_t* bins, std::size_t first,
                                    std::size_t last, void* out, std::size_t sum_stride = 0) {
  switch (row_registers(k.features())) {
    case 1: return walk_perfect_groups<1, kOut>(k, bins, first, last, out, sum_stride);
    case 2: return walk_perfect_groups<2, kOut>(k, bins, first, last, out, sum_stride);
    case 3: return walk_perfect_groups<3, kOut>(k, bins, first, last, out, sum_stride);
    case 4: return walk_perfect_groups<4, kOut>(k, bins, first, last, out, sum_stride);
    default: return walk_perfect_groups<0, kOut>(k, bins, first, last, out, sum_stride);
  }
}

/// Eight doubles at s as floats (the float sum's running value, which holds floats).
PMMLRT_AVX2 inline __m256 load_float_sums(const double* s) {
  return _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(s + 4)), _mm256_cvtpd_ps(_mm256_loadu_pd(s)));
}

PMMLRT_AVX2 inline void store_float_sums(double* s, __m256 acc) {
  _mm256_storeu_pd(s, _mm256_cvtps_pd(_mm256_castps256_ps128(acc)));
  _mm256_storeu_pd(s + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(acc, 1)));
}

/// Adds the terms of trees [first, last) (first a multiple of 8) of eight rows to their float sums `acc`
/// (lane j: row j), tree by tree: row j's terms of tree t are at rows[j * row_stride + t]. Eight trees at a
/// time are read as eight rows and transposed, so that each tree's terms of the eight rows are one vector.
PMMLRT_AVX2 inline __m256 add_row_terms(__m256 acc, const float* rows, std::size_t row_stride, std::size_t first,
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

/// add_row_terms for four rows' double sums, four trees at a time.
PMMLRT_AVX2 inline __m256d add_row_terms(__m256d acc, const double* rows, std::size_t row_stride, std::size_t first,
                                         std::size_t last) {
  for (std::size_t t = first; t < last; t += 4) {
    __m256d r[4], by_tree[4];
    for (std::size_t j = 0; j < 4; ++j) r[j] = _mm256_loadu_pd(rows + j * row_stride + t);
    simd::transpose4x4(r, by_tree);
    const std::size_t n = std::min<std::size_t>(4, last - t);
    for (std::size_t q = 0; q < n; ++q) acc = _mm256_add_pd(acc, by_tree[q]);
  }
  return acc;
}

/// The block walk of the perfect layout (Binned::perfect_depth > 0): walk_binned_block_avx2's contract.
PMMLRT_AVX2 void walk_perfect_block(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows,
                                    std::int32_t* out, std::size_t out_rows, double* sums) {
  // As the AVX-512 block walk: trees in chunks of kChunk groups that stay in cache while the block's rows
  // pass through them, eight rows at a time, each row's trees walked and then their terms added (or their
  // results stored) tree by tree; chunks go in tree order, so each row's sum keeps the trees' order.
  constexpr std::size_t kRows = 8, kChunk = 16;
  const std::size_t nf = k.features(), nt = k.trees(), groups = k.bins.perfect_groups();
  const std::size_t stride = groups * 8;
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t width = k.sum_width, node_count = k.bins.nodes.size();
  const bool by_terms = sums && (in_float ? !k.bins.perfect_terms_float.empty() : !k.bins.perfect_terms.empty());
  // Rows a cache line more than their terms apart, so that the rows of a transpose do not share a cache set.
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
    const std::size_t t_first = g_first * 8, t_last = std::min(nt, g_last * 8);
    for (std::size_t r0 = 0; r0 + kRows <= rows; r0 += kRows) {
      const std::size_t here = sums ? kRows : std::min(kRows, out_rows > r0 ? out_rows - r0 : 0);
      if (by_terms && in_float) {
        for (std::size_t j = 0; j < kRows; ++j)
          walk_perfect_range<LeafOut::FloatTerms>(k, bins + (r0 + j) * nf, g_first, g_last,
                                                  float_terms.data() + j * row_stride, stride);
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          store_float_sums(s, add_row_terms(load_float_sums(s), float_terms.data() + c * stride, row_stride, t_first,
                                            t_last));
        }
        continue;
      }
      if (by_terms) {
        for (std::size_t j = 0; j < kRows; ++j)
          walk_perfect_range<LeafOut::Terms>(k, bins + (r0 + j) * nf, g_first, g_last,
                                             double_terms.data() + j * row_stride, stride);
        for (std::size_t c = 0; c < width; ++c) {
          double* s = sums + c * rows + r0;
          const double* row_terms = double_terms.data() + c * stride;
          _mm256_storeu_pd(s, add_row_terms(_mm256_loadu_pd(s), row_terms, row_stride, t_first, t_last));
          _mm256_storeu_pd(s + 4, add_row_terms(_mm256_loadu_pd(s + 4), row_terms + 4 * row_stride, row_stride,
                                                t_first, t_last));
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
          for (; t + 8 <= t_last; t += 8)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + t),
                                _mm256_i32gather_epi32(result, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_ids + t)), 4));
          for (; t < t_last; ++t) o[t] = result[row_ids[t]];
        }
        continue;
      }
      // Summing without the terms in the layout (they would take too much memory): each tree's leaf nodes of
      // the eight rows, then their terms.
      for (std::size_t c = 0; c < width; ++c) {
        double* s = sums + c * rows + r0;
        const double* sum_terms = terms + c * node_count;
        if (in_float) {
          __m256 acc = load_float_sums(s);
          for (std::size_t t = t_first; t < t_last; ++t) {
            const __m256i node = _mm256_i32gather_epi32(ids + t, row_of_lane, 4);
            const __m128 low = _mm256_cvtpd_ps(_mm256_i32gather_pd(sum_terms, _mm256_castsi256_si128(node), 8));
            const __m128 high = _mm256_cvtpd_ps(_mm256_i32gather_pd(sum_terms, _mm256_extracti128_si256(node, 1), 8));
            acc = _mm256_add_ps(acc, _mm256_set_m128(high, low));
          }
          store_float_sums(s, acc);
        } else {
          __m256d low = _mm256_loadu_pd(s), high = _mm256_loadu_pd(s + 4);
          for (std::size_t t = t_first; t < t_last; ++t) {
            const __m256i node = _mm256_i32gather_epi32(ids + t, row_of_lane, 4);
            low = _mm256_add_pd(low, _mm256_i32gather_pd(sum_terms, _mm256_castsi256_si128(node), 8));
            high = _mm256_add_pd(high, _mm256_i32gather_pd(sum_terms, _mm256_extracti128_si256(node, 1), 8));
          }
          _mm256_storeu_pd(s, low);
          _mm256_storeu_pd(s + 4, high);
        }
      }
    }
  }
}

}  // namespace

PMMLRT_AVX2 void walk_binned_block_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows,
                                        std::int32_t* out, std::size_t out_rows, double* sums) {
  if (k.bins.perfect_depth) return walk_perfect_block(k, bins, rows, out, out_rows, sums);
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
    if (k.bins.set_words.empty()) walk_binned<kChains, false>(k, e, offset, bins, depth);
    else walk_binned<kChains, true>(k, e, offset, bins, depth);
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

PMMLRT_AVX2 bool sum_binned_row_avx2(const EnsembleKernel& k, const std::int32_t* bins, double* sums) {
  // The row's terms, sum by sum (`stride` apart), then added in tree order from sum_start, as sum_one and
  // sum_results add them.
  const std::size_t groups = k.bins.perfect_groups(), stride = groups * 8, nt = k.trees(), width = k.sum_width;
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t bytes = width * stride * (in_float ? sizeof(float) : sizeof(double));
  constexpr std::size_t kOnStack = 8192;
  alignas(32) unsigned char on_stack[kOnStack];
  thread_local std::vector<double> many;  // kept between records: no allocation per record
  void* terms = on_stack;
  if (bytes > kOnStack) {
    if (many.size() * sizeof(double) < bytes) many.resize(bytes / sizeof(double) + 1);
    terms = many.data();
  }
  if (in_float) {
    walk_perfect_range<LeafOut::FloatTerms>(k, bins, 0, groups, terms, stride);
    const auto* t = static_cast<const float*>(terms);
    float acc = float(k.sum_start);
    for (std::size_t i = 0; i < nt; ++i) acc += t[i];
    sums[0] = double(acc);
    return acc == acc;
  }
  walk_perfect_range<LeafOut::Terms>(k, bins, 0, groups, terms, stride);
  bool all = true;
  for (std::size_t c = 0; c < width; ++c) {
    const double* t = static_cast<const double*>(terms) + c * stride;
    double acc = k.sum_start;
    for (std::size_t i = 0; i < nt; ++i) acc += t[i];
    sums[c] = acc;
    all &= acc == acc;
  }
  return all;
}

namespace {

/// One record's node walk of kRowChains vectors of trees: its bins from registers when they fit in four.
template <bool kSets, int kRowChains>
PMMLRT_AVX2 inline void walk_record(const EnsembleKernel& k, __m256i* e, const std::int32_t* bins, std::int32_t depth) {
  const __m256i same_row = _mm256_setzero_si256();
  switch (row_registers(k.features())) {
    case 1: return walk_binned<kRowChains, kSets, true, 1>(k, e, &same_row, bins, depth);
    case 2: return walk_binned<kRowChains, kSets, true, 2>(k, e, &same_row, bins, depth);
    case 3: return walk_binned<kRowChains, kSets, true, 3>(k, e, &same_row, bins, depth);
    case 4: return walk_binned<kRowChains, kSets, true, 4>(k, e, &same_row, bins, depth);
    default: return walk_binned<kRowChains, kSets, true>(k, e, &same_row, bins, depth);
  }
}

}  // namespace

PMMLRT_AVX2 void walk_binned_row_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::int32_t* out) {
  if (k.bins.perfect_depth) {
    constexpr std::size_t kOnStack = 2048;
    std::int32_t on_stack[kOnStack];
    thread_local std::vector<std::int32_t> many;  // kept between records: no allocation per record
    const std::size_t slots = k.bins.perfect_groups() * 8;
    std::int32_t* nodes = on_stack;
    if (slots > kOnStack) {
      if (many.size() < slots) many.resize(slots);
      nodes = many.data();
    }
    walk_perfect_range<LeafOut::Nodes>(k, bins, 0, k.bins.perfect_groups(), nodes);
    const std::size_t nt = k.trees();
    const std::int32_t* result = k.bins.result.data();
    std::size_t t = 0;
    for (; t + 8 <= nt; t += 8)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + t),
                          _mm256_i32gather_epi32(result, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(nodes + t)), 4));
    for (; t < nt; ++t) out[t] = result[nodes[t]];
    return;
  }
  // Eight trees per vector, all reading the same row; four vectors in flight, as in the block walk.
  constexpr int kRowChains = 4;
  const std::size_t nt = k.trees();
  const std::size_t groups = (nt + 7) / 8;
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
    if (k.bins.set_words.empty()) walk_record<false, kRowChains>(k, e, bins, depth);
    else walk_record<true, kRowChains>(k, e, bins, depth);
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
bool sum_binned_row_avx2(const EnsembleKernel&, const std::int32_t*, double*) { return false; }
bool cpu_has_avx2() { return false; }

#endif

}  // namespace pmmlrt::eval
