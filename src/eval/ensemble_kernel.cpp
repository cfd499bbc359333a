#include "eval/ensemble_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "eval/models.hpp"

namespace pmmlrt::eval {

SimdLevel simd_level() {
  static const SimdLevel level = [] {
    SimdLevel best = cpu_has_avx512() ? SimdLevel::Avx512 : cpu_has_avx2() ? SimdLevel::Avx2 : SimdLevel::Scalar;
    auto cap = [&](SimdLevel most) { best = std::min(best, most); };
    if (const char* off = std::getenv("PMMLRT_DISABLE_AVX512"); off && *off && *off != '0') cap(SimdLevel::Avx2);
    if (const char* want = std::getenv("PMMLRT_SIMD")) {
      const std::string_view w(want);
      if (w == "scalar") cap(SimdLevel::Scalar);
      else if (w == "avx2") cap(SimdLevel::Avx2);
      else if (w == "avx512") cap(SimdLevel::Avx512);
    }
    return best;
  }();
  return level;
}

bool gathers_preferred(bool intel, std::string_view gather_data_sampling) {
  // The fix (Skylake to Tiger Lake) makes a gather several times slower.
  return intel && gather_data_sampling.rfind("Mitigation: Microcode", 0) != 0;
}

std::string gather_data_sampling_report() {
  std::ifstream in("/sys/devices/system/cpu/vulnerabilities/gather_data_sampling");
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  return line;
}

bool perfect_levels_gathered() {
  static const bool gathered = [] {
    if (const char* want = std::getenv("PMMLRT_TREE_LEVELS")) {
      const std::string_view w(want);
      if (w == "gather") return true;
      if (w == "permute") return false;
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return gathers_preferred(__builtin_cpu_is("intel") != 0, gather_data_sampling_report());
#else
    return false;
#endif
  }();
  return gathered;
}

bool EnsembleKernel::gathers_directly(const Frame& f) const {
  return f.lazy.data && !feature_slots.empty() && direct_specs.size() == feature_slots.size();
}

bool EnsembleKernel::gather(Frame& f, double* x) const {
  if (gathers_directly(f)) {
    // A batch's NaN cell is a missing value to the generic walk too.
    for (std::size_t i = 0; i < direct_specs.size(); ++i) {
      double v = f.lazy.cell(direct_specs[i]);
      x[i] = direct_float[i] ? double(static_cast<float>(v)) : v;
    }
    return true;
  }
  bool plain = true;
  for (std::size_t i = 0; i < feature_slots.size(); ++i) {
    const Val& v = f.get(feature_slots[i]);
    if (v.is_missing()) x[i] = std::numeric_limits<double>::quiet_NaN();
    else if (v.kind == eval::Kind::String) x[i] = v.sym >= 0 ? double(v.sym) : -1.0;  // a text the model never names
    else x[i] = v.num;
    plain = plain && (v.is_missing() || x[i] == x[i]);
  }
  return plain;
}

std::int32_t EnsembleKernel::step_other(std::size_t i, double v) const {
  const Other& o = others[std::size_t(aux[i])];
  if (v != v) {
    if (o.op == Op::IsMissing) return yes[i];
    if (o.op == Op::IsNotMissing) return no[i];
    return o.on_missing;
  }
  bool r;
  switch (o.op) {
    case Op::Equal: r = v == o.threshold; break;
    case Op::NotEqual: r = v != o.threshold; break;
    case Op::In: r = std::binary_search(sets.begin() + o.set_begin, sets.begin() + o.set_end, v); break;
    case Op::NotIn: r = !std::binary_search(sets.begin() + o.set_begin, sets.begin() + o.set_end, v); break;
    case Op::IsMissing: r = false; break;
    case Op::IsNotMissing: r = true; break;
    case Op::LessEq: r = v <= o.threshold; break;
    default: r = v < o.threshold; break;
  }
  return r ? yes[i] : no[i];
}

namespace {

/// Gives back a vector's spare capacity when it is a sizeable part of it (reserve()'s bounds are not exact
/// for every forest); a copy, so not for a few spare entries.
template <class V>
void shrink_if_slack(V& v) {
  if (v.capacity() - v.size() > v.size() / 8 + 64) v.shrink_to_fit();
}

/// Where a binned test sends a missing value: its no exit, its yes exit (missing_yes), or no prediction
/// (missing_null, node 0).
enum class MissingExit { No, Yes, Null, Unsupported };

/// Tests that the binned walks take as set tests: membership of values (their members are edges of an exact
/// feature); isMissing / isNotMissing (no value / every value is a member, over any feature's bins); and
/// `x < t` for the t that no value is below (-inf, NaN: the builder's only Less nodes), a set of no value.
bool is_set_op(EnsembleKernel::Op op) {
  using Op = EnsembleKernel::Op;
  return op == Op::In || op == Op::NotIn || op == Op::Equal || op == Op::NotEqual || op == Op::IsMissing ||
         op == Op::IsNotMissing || op == Op::Less;
}

bool has_members(EnsembleKernel::Op op) {
  using Op = EnsembleKernel::Op;
  return op == Op::In || op == Op::NotIn || op == Op::Equal || op == Op::NotEqual;
}

/// The membership bits of the set test `o` over the bins of its feature, whose sorted edges are
/// [first, first + count) and, for an exact feature, include every member (see ensemble_kernel.hpp).
std::vector<std::uint64_t> membership_words(const EnsembleKernel& k, const EnsembleKernel::Other& o, const double* first,
                                            std::size_t count, bool exact) {
  using Op = EnsembleKernel::Op;
  const std::size_t bins = exact ? 2 * count + 1 : count + 1;
  std::vector<std::uint64_t> words((bins + 63) / 64, 0);
  if (has_members(o.op)) {
    const bool is_set = o.op == Op::In || o.op == Op::NotIn;
    const double* begin = is_set ? k.sets.data() + o.set_begin : &o.threshold;
    const double* end = is_set ? k.sets.data() + o.set_end : &o.threshold + 1;
    for (const double* m = begin; m != end; ++m) {
      const auto bin = 2 * std::size_t(std::lower_bound(first, first + count, *m) - first) + 1;
      words[bin / 64] |= std::uint64_t(1) << (bin % 64);
    }
  }
  if (o.op == Op::NotIn || o.op == Op::NotEqual || o.op == Op::IsNotMissing)  // the complement over the bins
    for (std::size_t bin = 0; bin < bins; ++bin) words[bin / 64] ^= std::uint64_t(1) << (bin % 64);
  return words;
}

/// How many of the sorted `count` values at `first` are below `v`: std::lower_bound's answer, without its
/// branches (a forest's thresholds are looked up once per node, in no order a predictor could follow).
std::size_t count_below(const double* first, std::size_t count, double v) {
  if (count == 0) return 0;
  const double* base = first;
  std::size_t len = count;
  while (len > 1) {
    const std::size_t half = len / 2;
    base = base[half - 1] < v ? base + half : base;
    len -= half;
  }
  return std::size_t(base - first) + (*base < v ? 1 : 0);
}

/// Numbers by feature, keyed by their bits: an open-addressing table of (feature, bits) -> a 32-bit value.
/// Every node's threshold goes through it twice (when the edges are gathered and when the node is laid out),
/// in no order that a search over sorted edges could keep in cache or a branch predictor could follow.
class FeatureValueTable {
 public:
  explicit FeatureValueTable(std::size_t expected) { rehash(expected); }
  /// Adds (f, bits) with `value` unless present; true when added.
  bool insert(std::size_t f, std::uint64_t bits, std::uint32_t value) {
    if (2 * (count_ + 1) > entries_.size()) rehash(2 * count_ + 2);
    std::size_t at = slot(f, bits);
    for (; entries_[at].feature >= 0; at = (at + 1) & mask_)
      if (entries_[at].bits == bits && std::size_t(entries_[at].feature) == f) return false;
    entries_[at] = {bits, std::int32_t(f), value};
    ++count_;
    return true;
  }
  /// The value of (f, bits), or -1 when absent.
  std::int64_t find(std::size_t f, std::uint64_t bits) const {
    for (std::size_t at = slot(f, bits);; at = (at + 1) & mask_) {
      const Entry& e = entries_[at];
      if (e.feature < 0) return -1;
      if (e.bits == bits && std::size_t(e.feature) == f) return std::int64_t(e.value);
    }
  }
  static std::uint64_t bits_of(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
  }

 private:
  struct Entry {
    std::uint64_t bits;
    std::int32_t feature;  // -1: empty
    std::uint32_t value;
  };
  void rehash(std::size_t expected) {
    std::size_t size = 16;
    while (size < 2 * expected) size *= 2;
    std::vector<Entry> old(size, Entry{0, -1, 0});
    old.swap(entries_);
    mask_ = size - 1;
    count_ = 0;
    for (const Entry& e : old)
      if (e.feature >= 0) insert(std::size_t(e.feature), e.bits, e.value);
  }
  std::size_t slot(std::size_t f, std::uint64_t bits) const {
    std::uint64_t h = (bits ^ (std::uint64_t(f) * 0x9E3779B97F4A7C15ull)) * 0xFF51AFD7ED558CCDull;
    return std::size_t(h ^ (h >> 29)) & mask_;
  }
  std::vector<Entry> entries_;
  std::size_t mask_ = 0, count_ = 0;
};

/// The binned layout of `k` (see ensemble_kernel.hpp), or false when some tree has a test it cannot bin.
bool build_binned(const EnsembleKernel& k, EnsembleKernel::Binned& b) {
  using Kind = EnsembleKernel::Kind;
  using Op = EnsembleKernel::Op;
  const std::size_t nf = k.features();
  // Every node reachable from a root must be an `x <= t` test with a number for t, a set test without NaN
  // members, or a leaf. A missing x goes to one of the two children, or (nullPrediction) to no prediction.
  auto missing_exit = [&](std::size_t i) {
    if (k.kind[i] == Kind::LessEq) return MissingExit::No;
    if (k.kind[i] == Kind::LessEqMissingYes) return MissingExit::Yes;
    const auto& o = k.others[std::size_t(k.aux[i])];
    if (o.op == Op::IsMissing) return MissingExit::Yes;  // as step_other: these two ignore on_missing
    if (o.op == Op::IsNotMissing) return MissingExit::No;
    const auto m = o.on_missing;
    if (m == k.no[i]) return MissingExit::No;
    if (m == k.yes[i]) return MissingExit::Yes;
    if (k.kind[std::size_t(m)] == Kind::Leaf && k.aux[std::size_t(m)] == k.null_result) return MissingExit::Null;
    return MissingExit::Unsupported;
  };
  auto set_test = [&](std::size_t i) {
    return k.kind[i] == Kind::Other && is_set_op(k.others[std::size_t(k.aux[i])].op);
  };
  // Each feature's thresholds and set members, each distinct one (by its bits) once: a forest repeats a few
  // thousand values over its million nodes, and sorting those alone gives the same edges. Except where a
  // feature has both zeros, which compare equal: which one the edges keep is then the one a sort of every
  // value puts first, so such a feature gathers every value (full_edges), as many times as the nodes hold it.
  std::vector<std::vector<double>> edges_of(nf);
  std::vector<std::uint8_t> zeros(nf, 0);  // per feature: 1 if +0.0 is among its values, 2 if -0.0
  std::vector<std::uint8_t> full_edges(nf, 0);
  FeatureValueTable gathered(1024);
  auto add_edge = [&](std::size_t f, double v) {
    if (full_edges[f]) {
      edges_of[f].push_back(v);
    } else if (gathered.insert(f, FeatureValueTable::bits_of(v), 0)) {
      edges_of[f].push_back(v);
      if (v == 0.0) zeros[f] |= std::signbit(v) ? 2 : 1;
    }
  };
  b.exact.assign(nf, 0);
  std::vector<std::uint8_t> seen(k.kind.size(), 0);
  std::vector<std::int32_t> todo;
  // Visits every node reachable from the roots (once each, in the same order every time), adding the
  // values of the features `wanted` says to; false at a test that cannot be binned.
  auto gather = [&](auto wanted) {
    std::fill(seen.begin(), seen.end(), 0);
    for (auto root : k.roots) {
      todo.assign(1, root);
      while (!todo.empty()) {
        auto i = std::size_t(todo.back());
        todo.pop_back();
        if (seen[i]) continue;
        seen[i] = 1;
        if (k.kind[i] == Kind::Leaf) continue;
        if (missing_exit(i) == MissingExit::Unsupported) return false;
        const auto f = std::size_t(k.feature[i]);
        if (set_test(i)) {
          const auto& o = k.others[std::size_t(k.aux[i])];
          if (o.op == Op::Less && !(o.threshold != o.threshold || o.threshold == -std::numeric_limits<double>::infinity()))
            return false;
          if (wanted(f)) {
            if (o.op == Op::In || o.op == Op::NotIn)
              for (auto m = o.set_begin; m < o.set_end; ++m) add_edge(f, k.sets[std::size_t(m)]);
            else if (has_members(o.op))
              add_edge(f, o.threshold);
          }
          if (has_members(o.op)) b.exact[f] = 1;
          b.any_exact = b.any_exact || b.exact[f];
        } else {
          if (k.kind[i] == Kind::Other && k.others[std::size_t(k.aux[i])].op != Op::LessEq) return false;
          if (wanted(f)) add_edge(f, k.threshold[i]);
        }
        todo.push_back(k.yes[i]);
        todo.push_back(k.no[i]);
      }
    }
    return true;
  };
  if (!gather([](std::size_t) { return true; })) return false;
  bool regather = false;
  for (std::size_t f = 0; f < nf; ++f)
    if (zeros[f] == 3) {
      full_edges[f] = 1;
      edges_of[f].clear();
      regather = true;
    }
  if (regather && !gather([&](std::size_t f) { return full_edges[f] != 0; })) return false;
  for (const auto& t : edges_of)
    for (double v : t)
      if (v != v) return false;
  // At least five bits: the AVX-512 perfect walk's permutes take a test word's low five bits as the feature.
  b.feature_bits = 5;
  while ((std::size_t(1) << b.feature_bits) < nf) ++b.feature_bits;
  if (b.feature_bits > 20) return false;
  b.leaf_k = (std::int32_t(1) << (29 - b.feature_bits)) - 1;
  b.missing_bin = b.leaf_k - 1;
  b.edge_begin.assign(1, 0);
  for (std::size_t f = 0; f < nf; ++f) {
    auto& t = edges_of[f];
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());  // -0.0 and 0.0 are one edge, as they compare
    const auto highest_bin = std::int64_t(t.size()) * (b.exact[f] ? 2 : 1);
    if (highest_bin >= b.missing_bin) return false;
    b.edges.insert(b.edges.end(), t.begin(), t.end());
    b.edge_begin.push_back(std::int32_t(b.edges.size()));
  }
  // The index of each edge among its feature's, by value (zero as +0.0: -0.0 and 0.0 are one edge).
  auto zero_as_plus = [](double v) { return v == 0.0 ? 0.0 : v; };
  FeatureValueTable edge_index(b.edges.size());
  for (std::size_t f = 0; f < nf; ++f)
    for (auto j = b.edge_begin[f]; j < b.edge_begin[f + 1]; ++j)
      edge_index.insert(f, FeatureValueTable::bits_of(zero_as_plus(b.edges[std::size_t(j)])), std::uint32_t(j - b.edge_begin[f]));
  // Set tests with the same membership bits share them; a set test's k is where they start.
  std::map<std::vector<std::uint64_t>, std::uint32_t> set_offset;
  const std::uint32_t k_limit = std::uint32_t(1) << (29 - b.feature_bits);
  bool sets_fit = true;
  auto word = [&](std::size_t i) -> std::uint32_t {
    if (k.kind[i] == Kind::Leaf) return std::uint32_t(b.leaf_k) << (b.feature_bits + 2);
    auto f = std::size_t(k.feature[i]);
    const double* first = b.edges.data() + b.edge_begin[f];
    const double* last = b.edges.data() + b.edge_begin[f + 1];
    std::uint32_t kk, set_flag = 0;
    if (set_test(i)) {
      auto words = membership_words(k, k.others[std::size_t(k.aux[i])], first, std::size_t(last - first), b.exact[f]);
      auto [at, fresh] = set_offset.emplace(std::move(words), std::uint32_t(b.set_words.size()));
      if (fresh) b.set_words.insert(b.set_words.end(), at->first.begin(), at->first.end());
      kk = at->second;
      sets_fit = sets_fit && kk < k_limit;
      set_flag = EnsembleKernel::Binned::kSetTest;
    } else {
      const std::int64_t at = edge_index.find(f, FeatureValueTable::bits_of(zero_as_plus(k.threshold[i])));
      kk = std::uint32_t(at >= 0 ? std::size_t(at) : count_below(first, std::size_t(last - first), k.threshold[i]));
      if (b.exact[f]) kk = 2 * kk + 1;  // x <= edge_kk: below it or equal to it
    }
    const MissingExit missing = missing_exit(i);
    std::uint32_t missing_yes = missing == MissingExit::Yes ? 1u : 0u;
    std::uint32_t missing_null = missing == MissingExit::Null ? 1u : 0u;
    return std::uint32_t(f) | missing_yes << b.feature_bits | missing_null << (b.feature_bits + 1) |
           kk << (b.feature_bits + 2) | set_flag;
  };
  // Breadth first, tree by tree; the two children of a node side by side (yes, then no). Shared subtrees
  // (leaves mostly) are copied, within a bound.
  const std::size_t limit = 8 * k.kind.size() + 1024;
  struct Item { std::int32_t old, at, depth; };
  std::vector<Item> queue;
  // A leaf's term of sum c, computed as the generic aggregation computes it.
  const std::size_t width = k.sum_width;
  auto leaf_term = [&](std::size_t t, std::int32_t r, std::size_t c) {
    if (r == k.null_result) return std::numeric_limits<double>::quiet_NaN();
    double w = k.weights[t];
    if (k.class_average) return (k.weighted_sum ? w : 1.0) * k.probabilities[std::size_t(r) * k.classes + c];
    double v = k.values[std::size_t(r)];
    switch (k.summing) {
      case EnsembleKernel::Summing::Float: return double(k.weighted_sum ? float(w) * float(v) : float(v));
      case EnsembleKernel::Summing::Double: return k.weighted_sum ? w * v : v;
      default: return 0.0;
    }
  };
  // As many nodes as the kernel has, unless trees share subtrees (copied here): reserved, shrunk at the end.
  b.nodes.reserve(k.kind.size() + 1);
  b.result.reserve(k.kind.size() + 1);
  b.leaf_value.reserve((k.kind.size() + 1) * width);
  // Node 0: the leaf of no prediction that nullPrediction tests send a missing value to.
  b.nodes.push_back(std::uint64_t(std::uint32_t(b.leaf_k) << (b.feature_bits + 2)));
  b.result.push_back(k.null_result);
  b.leaf_value.insert(b.leaf_value.end(), width, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t t_index = 0; t_index < k.roots.size(); ++t_index) {
    const std::int32_t root = k.roots[t_index];
    b.roots.push_back(std::int32_t(b.nodes.size()));
    b.nodes.push_back(0);
    b.result.push_back(-1);
    b.leaf_value.insert(b.leaf_value.end(), width, 0.0);
    queue.assign(1, {root, b.roots.back(), 0});
    std::int32_t depth = 0;
    for (std::size_t q = 0; q < queue.size(); ++q) {
      Item it = queue[q];
      auto i = std::size_t(it.old);
      std::uint64_t first_child;
      if (k.kind[i] == Kind::Leaf) {
        first_child = std::uint64_t(it.at);
        b.result[std::size_t(it.at)] = k.aux[i];
        for (std::size_t c = 0; c < width; ++c) b.leaf_value[std::size_t(it.at) * width + c] = leaf_term(t_index, k.aux[i], c);
      } else {
        first_child = b.nodes.size();
        if (first_child + 2 > limit) return false;
        b.nodes.resize(first_child + 2, 0);
        b.result.resize(first_child + 2, -1);
        b.leaf_value.resize(b.leaf_value.size() + 2 * width, 0.0);
        queue.push_back({k.yes[i], std::int32_t(first_child), it.depth + 1});
        queue.push_back({k.no[i], std::int32_t(first_child + 1), it.depth + 1});
        depth = std::max(depth, it.depth + 1);
      }
      b.nodes[std::size_t(it.at)] = word(i) | first_child << 32;
    }
    b.depth.push_back(depth);
  }
  if (!sets_fit) return false;
  shrink_if_slack(b.nodes);
  shrink_if_slack(b.result);
  shrink_if_slack(b.leaf_value);
  // Built node-major; the walks read one sum's terms at a time.
  if (width > 1) {
    std::vector<double> by_sum(b.leaf_value.size());
    const std::size_t nodes = b.nodes.size();
    for (std::size_t e = 0; e < nodes; ++e)
      for (std::size_t c = 0; c < width; ++c) by_sum[c * nodes + e] = b.leaf_value[e * width + c];
    b.leaf_value.swap(by_sum);
  }
  for (std::size_t t = 0; t < b.depth.size(); t += 8)
    b.group_depth.push_back(*std::max_element(b.depth.begin() + std::ptrdiff_t(t),
                                              b.depth.begin() + std::ptrdiff_t(std::min(t + 8, b.depth.size()))));
  return true;
}

/// The perfect layout of Binned (see the header) for vectors of `lanes` trees (16 or 8), when the forest
/// suits it: a vector of trees or more, at most kMaxDepth levels, and padding that at most doubles the memory
/// of the node layout. PMMLRT_TREE_LAYOUT=nodes keeps the node layout (the tests check both against the
/// generic walk).
/// Puts the membership of every set test of the perfect layout into its test word, when each fits: a set
/// test's feature is exact (its set members are edges, edge i being bin 2i + 1) and every bin between edges
/// (even) is in the set or every one is out, as a set of edges or its complement makes them. The k field
/// (29 - feature_bits bits) then holds bit 0: the even bins' membership, bit i + 1: edge i's, so a feature
/// of up to 28 - feature_bits edges fits. (The step reads bit (bin + 1) / 2 of an odd bin, else bit 0.) A
/// test on a feature that is not exact (isMissing, isNotMissing) has one membership for every bin: all its
/// readable bits take it. Leaves the layout as it is and returns false otherwise.
bool inline_perfect_sets(EnsembleKernel::Binned& b) {
  using Binned = EnsembleKernel::Binned;
  const int fb = b.feature_bits;
  const std::uint32_t feature_mask = (std::uint32_t(1) << fb) - 1, low_mask = (std::uint32_t(1) << (fb + 2)) - 1;
  const auto max_edges = std::size_t(28 - fb);
  std::vector<std::uint32_t> inlined = b.perfect_tests;
  for (std::uint32_t& w : inlined) {
    if (!(w & Binned::kSetTest)) continue;
    const std::size_t f = w & feature_mask, first_word = (w & ~Binned::kSetTest) >> (fb + 2);
    const auto count = std::size_t(b.edge_begin[f + 1] - b.edge_begin[f]);
    auto member = [&](std::size_t bin) { return (b.set_words[first_word + bin / 64] >> (bin % 64)) & 1; };
    const std::uint64_t between = member(0);
    std::uint32_t field = std::uint32_t(between);
    if (!b.exact[f]) {  // bins 0 ... count, the highest bit read (count + 1) / 2
      if ((count + 1) / 2 > max_edges) return false;
      for (std::size_t bin = 1; bin <= count; ++bin)
        if (member(bin) != between) return false;
      if (between) field = (std::uint32_t(1) << (max_edges + 1)) - 1;
    } else {
      if (count > max_edges) return false;
      for (std::size_t i = 0; i < count; ++i) {
        if (member(2 * i + 2) != between) return false;
        field |= std::uint32_t(member(2 * i + 1)) << (i + 1);
      }
    }
    w = (w & low_mask) | field << (fb + 2) | Binned::kSetTest;
  }
  b.perfect_tests = std::move(inlined);
  return true;
}

bool build_perfect(const EnsembleKernel& k, EnsembleKernel::Binned& b, std::size_t lanes) {
  constexpr std::int32_t kMaxDepth = 12;
  const std::size_t kLanes = lanes;
  b.perfect_lanes = std::int32_t(lanes);
  if (const char* want = std::getenv("PMMLRT_TREE_LAYOUT"); want && std::string_view(want) == "nodes") return false;
  const std::size_t nt = k.trees();
  if (nt < kLanes || b.depth.empty()) return false;
  const std::int32_t depth = *std::max_element(b.depth.begin(), b.depth.end());
  if (depth < 1 || depth > kMaxDepth) return false;
  const std::size_t groups = (nt + kLanes - 1) / kLanes, slots = std::size_t(1) << depth;
  const std::size_t bytes = groups * kLanes * (2 * slots - 1) * 4;
  if (bytes > 2 * b.nodes.size() * 8 + (std::size_t(64) << 10)) return false;
  const std::uint32_t pass = std::uint32_t(b.leaf_k) << (b.feature_bits + 2);  // every bin is <= leaf_k
  b.perfect_tests.assign(groups * kLanes * (slots - 1), pass);
  b.perfect_leaves.assign(groups * kLanes * slots, 0);  // padding lanes end at the null leaf, never read
  auto is_leaf = [&](std::uint64_t e) { return (b.nodes[e] >> 32) == e; };
  // Node i (level order) of tree t takes node e of `nodes`; a leaf above the last level passes every row
  // to its left child, which carries it on (its right child too, though no row goes there). Level by level:
  // `level` holds the nodes of one level of the perfect tree, `below` those of the next.
  std::vector<std::uint64_t> level(slots), below(slots);
  for (std::size_t t = 0; t < nt; ++t) {
    const std::size_t group = t / kLanes, lane = t % kLanes;
    std::uint32_t* tests = b.perfect_tests.data() + group * kLanes * (slots - 1);
    std::int32_t* leaves = b.perfect_leaves.data() + group * kLanes * slots;
    level[0] = std::uint64_t(b.roots[t]);
    for (std::size_t width = 1; width < slots; width *= 2) {
      // Node width - 1 + j is the j-th of this level: with 16 lanes, the levels of 8 and 16 nodes tree by
      // tree, the others node by node (see perfect_tests).
      const bool by_tree = kLanes == 16 && (width == 8 || width == 16);
      std::uint32_t* row = tests + (width - 1) * kLanes + (by_tree ? lane * width : lane);
      const std::size_t next = by_tree ? 1 : kLanes;
      for (std::size_t j = 0; j < width; ++j) {
        const std::uint64_t e = level[j], node = b.nodes[e], child = node >> 32;
        const bool leaf = child == e;
        row[j * next] = leaf ? pass : std::uint32_t(node);
        below[2 * j] = child;
        below[2 * j + 1] = leaf ? e : child + 1;
      }
      level.swap(below);
    }
    for (std::size_t j = 0; j < slots; ++j) {
      if (!is_leaf(level[j])) return false;  // deeper than `depth`: cannot happen
      leaves[j * kLanes + lane] = std::int32_t(level[j]);
    }
  }
  b.perfect_depth = depth;
  b.gathered_levels = kLanes == 16 && perfect_levels_gathered();
  b.perfect_inline_sets = kLanes == 16 && !b.set_words.empty() && inline_perfect_sets(b);
  const std::size_t width = k.sum_width, slot_count = b.perfect_leaves.size(), nodes = b.nodes.size();
  const bool in_float = k.summing == EnsembleKernel::Summing::Float;
  const std::size_t term_bytes = width * slot_count * (in_float ? sizeof(float) : sizeof(double));
  if (k.summing != EnsembleKernel::Summing::None && b.leaf_value.size() == width * nodes &&
      term_bytes <= 2 * bytes + (std::size_t(64) << 10)) {
    auto term = [&](std::size_t c, std::size_t s) { return b.leaf_value[c * nodes + std::size_t(b.perfect_leaves[s])]; };
    if (in_float) b.perfect_terms_float.resize(width * slot_count);
    else b.perfect_terms.resize(width * slot_count);
    for (std::size_t c = 0; c < width; ++c)
      for (std::size_t s = 0; s < slot_count; ++s) {
        if (in_float) b.perfect_terms_float[c * slot_count + s] = static_cast<float>(term(c, s));
        else b.perfect_terms[c * slot_count + s] = term(c, s);
      }
  }
  return true;
}

}  // namespace

void build_bin_search(EnsembleKernel::Binned& b) {
  constexpr std::size_t kWidth = EnsembleKernel::Binned::kSearchWidth;
  constexpr double kPad = std::numeric_limits<double>::quiet_NaN();
  const std::size_t nf = b.edge_begin.size() - 1, groups = (nf + 7) / 8;
  b.search_top.assign(groups * 8 * kWidth, kPad);
  b.search_top_entries.assign(groups, 0);
  b.search_deep.assign(groups, 0);
  b.search_exact.assign(groups, 0);
  b.search.clear();
  b.search_levels.clear();
  b.level_begin.assign(1, 0);
  std::vector<std::vector<double>> levels;  // the last level first
  for (std::size_t f = 0; f < nf; ++f) {
    const std::size_t g = f / 8, lane = f % 8;
    levels.assign(1, std::vector<double>(b.edges.begin() + b.edge_begin[f], b.edges.begin() + b.edge_begin[f + 1]));
    // A level of more than one block gets the level above: the last entry of each of its blocks but the last.
    // Blocks before `pos` then lie wholly below the value, the rest wholly above it.
    while (levels.back().size() > kWidth) {
      std::vector<double> keys;
      for (std::size_t end = kWidth; end < levels.back().size(); end += kWidth) keys.push_back(levels.back()[end - 1]);
      levels.push_back(std::move(keys));
    }
    const auto& top = levels.back();
    for (std::size_t j = 0; j < top.size(); ++j) b.search_top[(g * kWidth + j) * 8 + lane] = top[j];
    b.search_top_entries[g] = std::max(b.search_top_entries[g], std::int32_t(top.size()));
    if (levels.size() > 1) b.search_deep[g] |= std::uint8_t(1u << lane);
    if (b.exact[f]) b.search_exact[g] |= std::uint8_t(1u << lane);
    for (auto level = levels.rbegin() + 1; level != levels.rend(); ++level) {
      b.search_levels.push_back(b.search.size());
      const std::size_t padded = (level->size() + kWidth - 1) / kWidth * kWidth;
      b.search.insert(b.search.end(), level->begin(), level->end());
      b.search.resize(b.search.size() + padded - level->size(), kPad);
    }
    b.level_begin.push_back(std::int32_t(b.search_levels.size()));
  }
  b.edges_float.assign(b.edges.size(), 0.0f);
  b.float_features.clear();
  b.float_above_features.clear();
  b.double_features.clear();
  b.all_features.clear();
  auto is_float = [](double v) { return double(static_cast<float>(v)) == v; };
  for (std::size_t f = 0; f < nf; ++f) {
    const auto first = std::size_t(b.edge_begin[f]), last = std::size_t(b.edge_begin[f + 1]);
    bool floats = !b.exact[f], above = !b.exact[f];
    for (std::size_t i = first; i < last && (floats || above); ++i) {
      floats = floats && is_float(b.edges[i]);
      // (+inf is its own next double: an edge of +inf is a float edge only.)
      above = above && b.edges[i] < std::numeric_limits<double>::infinity() &&
              is_float(std::nextafter(b.edges[i], std::numeric_limits<double>::infinity()));
    }
    if (floats || above)
      for (std::size_t i = first; i < last; ++i)
        b.edges_float[i] = static_cast<float>(floats ? b.edges[i] : std::nextafter(b.edges[i], std::numeric_limits<double>::infinity()));
    (floats ? b.float_features : above ? b.float_above_features : b.double_features).push_back(std::int32_t(f));
    b.all_features.push_back(std::int32_t(f));
  }
  if (b.float_features.empty() && b.float_above_features.empty()) b.edges_float.clear();
}

void EnsembleKernel::bin_rows(const double* x, std::size_t rows, std::int32_t* out) const {
  const std::size_t nf = features();
  const double* edges = bins.edges.data();
  // AVX-512: blocks of eight rows, a lane per row, the searches of eight features interleaved; the rows left
  // over one by one (bin_row_avx512). AVX2: row by row. All must match the scalar lower bound below.
  std::size_t r = !binned                     ? 0
                  : simd == SimdLevel::Avx512 ? (rows >= 8 ? bin_rows_avx512(*this, x, rows, out) : 0)
                  : simd == SimdLevel::Avx2   ? bin_rows_avx2(*this, x, rows, out)
                                              : 0;
  if (binned && simd == SimdLevel::Avx512)
    for (; r < rows; ++r) bin_row_avx512(*this, x + r * nf, out + r * nf);
  for (; r < rows; ++r) {
    const double* row = x + r * nf;
    std::int32_t* o = out + r * nf;
    for (std::size_t f = 0; f < nf; ++f) {
      double v = row[f];
      if (v != v) {
        o[f] = bins.missing_bin;
        continue;
      }
      // Branch-free lower bound: the number of edges below v.
      const double* first = edges + bins.edge_begin[f];
      const auto count = std::size_t(bins.edge_begin[f + 1] - bins.edge_begin[f]);
      std::size_t len = count;
      const double* base = first;
      while (len > 1) {
        std::size_t half = len / 2;
        base = base[half - 1] < v ? base + half : base;
        len -= half;
      }
      const auto below = std::size_t(base - first) + (len == 1 && *base < v ? 1 : 0);
      // An exact feature (set tests): 2 * below + 1 when v is the next edge, 2 * below between edges.
      if (bins.exact[f]) o[f] = std::int32_t(2 * below + (below < count && first[below] == v ? 1 : 0));
      else o[f] = std::int32_t(below);
    }
  }
}

namespace {

/// The direct layout (EnsembleKernel::direct) of tree 0: false when it does not qualify.
bool build_direct(EnsembleKernel& k) {
  using Kind = EnsembleKernel::Kind;
  using Op = EnsembleKernel::Op;
  if (k.trees() != 1 || k.summing != EnsembleKernel::Summing::None || k.features() > EnsembleKernel::kDirectFeature)
    return false;
  // A yes exit must be the node right after its test, so a node reached as a yes exit a second time is
  // copied; no and missing exits point at a node already laid out. In a tree only leaves are shared, but the
  // copies are bounded all the same.
  const std::size_t limit = 2 * k.kind.size() + 16;
  std::vector<EnsembleKernel::DirectNode> out;
  std::vector<std::int32_t> missing_exit;
  std::vector<std::int32_t> placed(k.kind.size(), -1);
  enum class Via : std::uint8_t { Yes, No, Missing };
  struct Todo {
    std::int32_t node;
    Via via;
    std::int32_t from;  // the test whose exit this is (unused for Yes: the node before it)
  };
  std::vector<Todo> todo{{k.roots[0], Via::Yes, -1}};
  while (!todo.empty()) {
    const Todo t = todo.back();
    todo.pop_back();
    const auto i = std::size_t(t.node);
    if (t.via != Via::Yes && placed[i] >= 0) {
      (t.via == Via::No ? out[std::size_t(t.from)].no : missing_exit[std::size_t(t.from)]) = placed[i];
      continue;
    }
    if (out.size() >= limit || out.size() >= std::size_t(std::numeric_limits<std::int32_t>::max())) return false;
    const auto at = std::int32_t(out.size());
    if (t.via == Via::No) out[std::size_t(t.from)].no = at;
    if (t.via == Via::Missing) missing_exit[std::size_t(t.from)] = at;
    if (placed[i] < 0) placed[i] = at;
    double threshold = k.threshold[i];
    std::uint32_t flags = 0;
    std::int32_t on_missing = -1;
    switch (k.kind[i]) {
      case Kind::Leaf:
        out.push_back({k.values[std::size_t(k.aux[i])], k.aux[i], EnsembleKernel::kDirectLeaf});
        missing_exit.push_back(-1);
        continue;
      case Kind::LessEq: break;
      case Kind::LessEqMissingYes: flags = EnsembleKernel::kDirectMissingYes; break;
      case Kind::Other: {
        const EnsembleKernel::Other& o = k.others[std::size_t(k.aux[i])];
        // x <= t, or the builder's x < t that no number passes (t is -inf or NaN), with a missing exit
        // of its own.
        if (o.op == Op::LessEq) threshold = o.threshold;
        else if (o.op == Op::Less && !(o.threshold > -std::numeric_limits<double>::infinity()))
          threshold = std::numeric_limits<double>::quiet_NaN();
        else return false;
        if (o.on_missing == k.yes[i]) flags = EnsembleKernel::kDirectMissingYes;
        else if (o.on_missing != k.no[i]) {
          flags = EnsembleKernel::kDirectMissingExit;
          on_missing = o.on_missing;
        }
        break;
      }
    }
    out.push_back({threshold, -1, std::uint32_t(k.feature[i]) | flags});
    missing_exit.push_back(-1);
    if (on_missing >= 0) todo.push_back({on_missing, Via::Missing, at});
    todo.push_back({k.no[i], Via::No, at});
    todo.push_back({k.yes[i], Via::Yes, -1});  // popped next, so laid out right after its test
  }
  out.shrink_to_fit();
  k.direct = std::move(out);
  if (std::any_of(missing_exit.begin(), missing_exit.end(), [](std::int32_t e) { return e >= 0; }))
    k.direct_missing = std::move(missing_exit);
  return true;
}

}  // namespace

void EnsembleKernel::walk_direct_block(const double* x, std::size_t rows, std::int32_t* out, double* values) const {
  // Eight walks in flight: each lane steps its own row and takes the next row when it reaches a leaf, so
  // the eight chains of dependent loads overlap and no lane waits for the deepest of its block. A lane
  // without a row left parks on a leaf and writes its result and value to the sinks.
  constexpr std::size_t kLanes = 8;
  const std::size_t nf = features();
  const DirectNode* nodes = direct.data();
  std::uint32_t parked = 0;
  while (!(nodes[parked].word & kDirectLeaf)) ++parked;
  std::int32_t sink = 0;
  double value_sink = 0.0;  // also every row's value without `values`
  std::uint32_t at[kLanes];
  std::size_t row[kLanes];  // the lane's row; `rows`: parked
  std::size_t next = 0, active = 0;
  auto result_of = [&](std::size_t r) { return r < rows ? out + r : &sink; };
  auto value_of = [&](std::size_t r) { return values && r < rows ? values + r : &value_sink; };
  for (std::size_t j = 0; j < kLanes; ++j) {
    if (next < rows) {
      at[j] = 0;
      row[j] = next++;
      ++active;
    } else {
      at[j] = parked;
      row[j] = rows;
    }
  }
  while (active > 0) {
#pragma GCC unroll 8
    for (std::size_t j = 0; j < kLanes; ++j) {
      const DirectNode& n = nodes[at[j]];
      if (n.word & kDirectLeaf) {
        *result_of(row[j]) = n.no;
        *value_of(row[j]) = n.threshold;
        if (next < rows) {
          at[j] = 0;
          row[j] = next++;
        } else if (row[j] != rows) {
          at[j] = parked;
          row[j] = rows;
          --active;
        }
        continue;
      }
      const double v = x[row[j] * nf + (n.word & kDirectFeature)];
      if ((v != v) & ((n.word & kDirectMissingExit) != 0)) {
        at[j] = std::uint32_t(direct_missing[at[j]]);
        continue;
      }
      // By arithmetic, not a branch: the branch would be mispredicted on every other step.
      const std::uint32_t yes = std::uint32_t(v <= n.threshold) | (std::uint32_t(v != v) & (n.word >> 30));
      const std::uint32_t no = std::uint32_t(n.no);
      at[j] = no ^ (((at[j] + 1) ^ no) & (0u - (yes & 1u)));
    }
  }
}

void EnsembleKernel::finish() {
  // Features in slot order (the inputs in the DataDictionary's order) rather than in order of first use: a
  // batch whose columns are the inputs in that order then hands the kernel its rows as they are (see
  // MatrixFill::direct_rows in model.cpp).
  std::vector<std::int32_t> by_slot(feature_slots.size()), renamed(feature_slots.size());
  std::iota(by_slot.begin(), by_slot.end(), 0);
  std::sort(by_slot.begin(), by_slot.end(), [&](std::int32_t a, std::int32_t b) {
    return feature_slots[std::size_t(a)] < feature_slots[std::size_t(b)];
  });
  std::vector<std::int32_t> slots(feature_slots.size());
  for (std::size_t i = 0; i < by_slot.size(); ++i) {
    renamed[std::size_t(by_slot[i])] = std::int32_t(i);
    slots[i] = feature_slots[std::size_t(by_slot[i])];
  }
  feature_slots = std::move(slots);
  for (std::size_t i = 0; i < kind.size(); ++i)
    if (kind[i] != Kind::Leaf) feature[i] = renamed[std::size_t(feature[i])];
  for (auto* v : {&feature, &yes, &no, &aux, &labels}) shrink_if_slack(*v);
  shrink_if_slack(kind);
  shrink_if_slack(threshold);
  shrink_if_slack(values);
  shrink_if_slack(probabilities);
  shrink_if_slack(others);
  shrink_if_slack(sets);
  const std::size_t n = kind.size();
  packed.resize(n);
  exits.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    packed[i] = feature[i] | (std::int32_t(kind[i]) << kKindShift);
    exits[i] = std::uint64_t(std::uint32_t(yes[i])) | (std::uint64_t(std::uint32_t(no[i])) << 32);
  }
  // A tree is simple when no node reachable from its root is an Other node.
  simple_tree.assign(trees(), true);
  // seen[i] == t + 1: node i already visited from tree t (a stamp per tree, not a refill per tree, which was
  // quadratic in the forest's size).
  std::vector<std::uint32_t> seen(n, 0);
  std::vector<std::int32_t> todo;
  for (std::size_t t = 0; t < trees(); ++t) {
    const auto stamp = std::uint32_t(t + 1);
    todo.assign(1, roots[t]);
    while (!todo.empty()) {
      auto i = std::size_t(todo.back());
      todo.pop_back();
      if (seen[i] == stamp) continue;
      seen[i] = stamp;
      if (kind[i] == Kind::Other) {
        simple_tree[t] = false;
        break;
      }
      if (kind[i] != Kind::Leaf) {
        todo.push_back(yes[i]);
        todo.push_back(no[i]);
      }
    }
  }
  const bool fits = n < (std::size_t(1) << 31) / 8 && features() < (std::size_t(1) << kKindShift);
  simd = fits ? simd_level() : SimdLevel::Scalar;
  direct.clear();
  direct_missing.clear();
  // A single tree walks its raw features directly at every SIMD level; the binned layout is for forests.
  const bool is_direct = build_direct(*this);
  binned = !is_direct && simd != SimdLevel::Scalar && build_binned(*this, bins) &&
           bins.nodes.size() < (std::size_t(1) << 31) / 8;
  if (!binned) {
    bins = Binned();
    summing = Summing::None;
  }
  if (binned) build_bin_search(bins);
  if (binned && !build_perfect(*this, bins, simd == SimdLevel::Avx512 ? 16 : 8)) {
    bins.perfect_tests.clear();
    bins.perfect_leaves.clear();
    bins.perfect_terms.clear();
    bins.perfect_terms_float.clear();
  }
  if (binned && simd == SimdLevel::Avx2 && !bins.perfect_depth) {  // the node walk's arrays
    bins.test_words.reserve(bins.nodes.size());
    bins.first_children.reserve(bins.nodes.size());
    for (std::uint64_t node : bins.nodes) {
      bins.test_words.push_back(std::uint32_t(node));
      bins.first_children.push_back(std::uint32_t(node >> 32));
    }
  }
}

namespace {

/// One record's bins: on the caller's stack (kRowBinsOnStack of them), or for wider rows in this thread's
/// buffer, kept between records so that a record allocates nothing.
constexpr std::size_t kRowBinsOnStack = 256;
std::int32_t* row_bins_buffer(std::size_t features, std::int32_t* on_stack) {
  if (features <= kRowBinsOnStack) return on_stack;
  thread_local std::vector<std::int32_t> wide;
  if (wide.size() < features) wide.resize(features);
  return wide.data();
}

}  // namespace

void EnsembleKernel::walk_row(const double* x, std::int32_t* out) const {
  if (!direct.empty()) {
    out[0] = walk_direct(x);
    return;
  }
  if (binned) {
    std::int32_t on_stack[kRowBinsOnStack];
    std::int32_t* b = row_bins_buffer(features(), on_stack);
    if (simd == SimdLevel::Avx512) {
      bin_row_avx512(*this, x, b);
      return walk_binned_row_avx512(*this, b, out);
    }
    bin_row_avx2(*this, x, b);
    return walk_binned_row_avx2(*this, b, out);
  }
  if (simd == SimdLevel::Avx512) return walk_row_avx512(*this, x, out);
  for (std::size_t t = 0; t < trees(); ++t) out[t] = walk(t, x);
}

bool EnsembleKernel::sum_row(const double* x, double* sums) const {
  if (!sums_rows()) return false;
  std::int32_t on_stack[kRowBinsOnStack];
  std::int32_t* b = row_bins_buffer(features(), on_stack);
  bin_row_avx2(*this, x, b);
  return sum_binned_row_avx2(*this, b, sums);
}

bool EnsembleKernel::sum_results(const std::int32_t* results, double* sums) const {
  const std::size_t nt = trees();
  if (class_average) {
    for (std::size_t c = 0; c < sum_width; ++c) sums[c] = 0.0;
    for (std::size_t t = 0; t < nt; ++t) {
      const std::int32_t r = results[t];
      if (r == null_result) return false;
      const double w = weighted_sum ? weights[t] : 1.0;
      const double* d = probabilities.data() + std::size_t(r) * classes;
      for (std::size_t c = 0; c < sum_width; ++c) sums[c] += w * d[c];
    }
    for (std::size_t c = 0; c < sum_width; ++c)
      if (sums[c] != sums[c]) return false;
    return true;
  }
  sums[0] = sum_one(results);
  return sums[0] == sums[0];
}

double EnsembleKernel::sum_one(const std::int32_t* results) const {
  const std::size_t nt = trees();
  if (summing == Summing::Float) {
    float acc = float(sum_start);
    for (std::size_t t = 0; t < nt; ++t) {
      const std::int32_t r = results[t];
      if (r == null_result) return std::numeric_limits<double>::quiet_NaN();
      const float v = float(values[std::size_t(r)]);
      acc += weighted_sum ? float(weights[t]) * v : v;
    }
    return double(acc);
  }
  double acc = sum_start;
  for (std::size_t t = 0; t < nt; ++t) {
    const std::int32_t r = results[t];
    if (r == null_result) return std::numeric_limits<double>::quiet_NaN();
    acc += weighted_sum ? weights[t] * values[std::size_t(r)] : values[std::size_t(r)];
  }
  return acc;
}

const std::int32_t* EnsembleKernel::bin_block(const double* x, std::size_t rows, std::size_t padded) const {
  // Padded to whole vectors with missing rows, whose results are never stored. Kept per thread.
  thread_local std::vector<std::int32_t> scratch;
  if (scratch.size() < padded * features()) scratch.resize(padded * features());
  bin_rows(x, rows, scratch.data());
  std::fill(scratch.begin() + std::ptrdiff_t(rows * features()), scratch.begin() + std::ptrdiff_t(padded * features()),
            bins.missing_bin);
  return scratch.data();
}

void EnsembleKernel::walk_binned_block(const std::int32_t* binned_rows, std::size_t rows, std::int32_t* out,
                                       std::size_t out_rows, double* sums) const {
  if (simd == SimdLevel::Avx512) walk_binned_block_avx512(*this, binned_rows, rows, out, out_rows, sums);
  else walk_binned_block_avx2(*this, binned_rows, rows, out, out_rows, sums);
}

void EnsembleKernel::sum_block(const double* x, std::size_t rows, double* sums) const {
  const std::size_t padded = (rows + 7) / 8 * 8;
  const std::int32_t* binned_rows = bin_block(x, rows, padded);
  // Accumulated sum-major (padded rows per sum), handed out row-major.
  thread_local std::vector<double> acc;
  acc.assign(padded * sum_width, sum_start);
  walk_binned_block(binned_rows, padded, nullptr, rows, acc.data());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < sum_width; ++c) sums[r * sum_width + c] = acc[c * padded + r];
}

void EnsembleKernel::walk_block(const double* x, std::size_t rows, std::int32_t* out) const {
  if (!direct.empty()) return walk_direct_block(x, rows, out);
  if (binned && rows * features() < (std::size_t(1) << 30)) {
    const std::size_t padded = (rows + 7) / 8 * 8;
    return walk_binned_block(bin_block(x, rows, padded), padded, out, rows, nullptr);
  }
  if (simd == SimdLevel::Avx512 && rows * features() < (std::size_t(1) << 30)) return walk_block_avx512(*this, x, rows, out);
  const std::size_t nf = features(), nt = trees();
  constexpr std::size_t kLanes = 8;
  for (std::size_t t = 0; t < nt; ++t) {
    const std::int32_t root = roots[t];
    std::size_t r0 = 0;
    for (; r0 + kLanes <= rows; r0 += kLanes) {
      // Eight independent walks in lock step: their loads overlap, and a leaf simply stays where it is.
      std::int32_t e[kLanes];
      for (auto& v : e) v = root;
      for (;;) {
        bool moving = false;
        for (std::size_t j = 0; j < kLanes; ++j) {
          auto i = std::size_t(e[j]);
          const double* row = x + (r0 + j) * nf;
          Kind k = kind[i];
          moving |= k != Kind::Leaf;
          if (k == Kind::LessEq) {
            e[j] = row[feature[i]] <= threshold[i] ? yes[i] : no[i];
          } else if (k == Kind::LessEqMissingYes) {
            e[j] = !(row[feature[i]] > threshold[i]) ? yes[i] : no[i];
          } else if (k == Kind::Other) {
            e[j] = step_other(i, row[feature[i]]);
          }
        }
        if (!moving) break;
      }
      for (std::size_t j = 0; j < kLanes; ++j) out[(r0 + j) * nt + t] = aux[std::size_t(e[j])];
    }
    for (; r0 < rows; ++r0) out[r0 * nt + t] = walk(t, x + r0 * nf);
  }
}

namespace {

class Builder {
 public:
  Builder(const Program& p, const MiningEval* m, EnsembleKernel& k) : prog_(p), mining_(m), k_(k) {}

  /// One TreeModel whose result r > 0 is its node r - 1, the node the generic walk selects (result 0: none).
  bool build_tree(const TreeEval& tree) {
    k_.null_result = add_null();
    for (const TreeNode& n : tree.nodes) {
      // A regression node's score as TreeEval::fill gives it (before Targets), which the direct layout's
      // leaves carry; 0 where fill would not take it from the score.
      const bool scored = tree.function == MiningFunction::Regression && n.has_score && n.embedded < 0 &&
                          n.score.kind == Kind::Number;
      k_.values.push_back(scored ? n.score.num : 0.0);
      k_.labels.push_back(-1);
    }
    MiningEval::Segment whole{};
    std::int32_t root;
    if (!add_tree(tree, whole, root)) return false;
    k_.roots.push_back(root);
    k_.weights.push_back(1.0);
    return true;
  }

  bool build() {
    const MiningEval& mining = *mining_;
    start(sizes_of(mining));
    for (const auto& seg : mining.segments)
      if (!add_segment(seg)) return false;
    return true;
  }

  /// build() in steps (ForestKernelBuild): start, then add_segment for each segment in order.
  void start(const ForestKernelBuild::Sizes& sizes) {
    k_.classes = mining_->function == MiningFunction::Classification ? mining_->classes.size() : 0;
    reserve(sizes);
    k_.null_result = add_null();
  }
  bool add_segment(const MiningEval::Segment& seg) {
    const MiningEval& mining = *mining_;
    if (prog_.predicates[std::size_t(seg.predicate)].op != Pred::Op::True) return false;
    const auto* tree = dynamic_cast<const TreeEval*>(prog_.models[std::size_t(seg.model)].get());
    if (!tree || !tree->outputs.empty() || tree->function != mining.function) return false;
    if (tree->missing == TreeEval::Missing::WeightedConfidence || tree->missing == TreeEval::Missing::AggregateNodes)
      return false;
    if (tree->target.default_value || !tree->target.priors.empty()) return false;
    if (prog_.predicates[std::size_t(tree->nodes[0].predicate)].op != Pred::Op::True) return false;
    std::int32_t root;
    if (!add_tree(*tree, seg, root)) return false;
    k_.roots.push_back(root);
    k_.weights.push_back(seg.weight);
    return true;
  }

  /// The sizes reserve() reserves for, from the compiled trees; zero trees when some segment is no tree.
  ForestKernelBuild::Sizes sizes_of(const MiningEval& mining) const {
    ForestKernelBuild::Sizes s;
    s.results = 1;
    for (const auto& seg : mining.segments) {
      const auto* tree = dynamic_cast<const TreeEval*>(prog_.models[std::size_t(seg.model)].get());
      if (!tree) return {};
      ++s.trees;
      s.nodes += tree->nodes.size();
      for (const TreeNode& n : tree->nodes) s.results += n.has_score || n.dist_end > n.dist_begin ? 1 : 0;
    }
    return s;
  }

 private:
  const Program& prog_;
  const MiningEval* mining_;  // null for a single tree, whose results are its nodes (see build_tree)
  EnsembleKernel& k_;
  std::unordered_map<std::int32_t, std::int32_t> feature_of_slot_;
  std::vector<std::int32_t> leaf_of_result_;  // per result index: its leaf node, or -1 (results are dense)


  /// Room for every node and result up front: a large forest's arrays would otherwise grow by copies and
  /// keep up to half their size spare. The bounds (exact for binary trees that give a result at every node):
  /// a leaf per result, at most one per tree node and the null result; a test per tree node but the root.
  void reserve(const ForestKernelBuild::Sizes& sizes) {
    if (sizes.trees == 0) return;  // no kernel (a segment is no tree): add_segment says so
    const std::size_t nodes = sizes.nodes, results = sizes.results, trees = sizes.trees;
    const std::size_t entries = results + (nodes >= trees ? nodes - trees : 0);
    for (auto* v : {&k_.feature, &k_.yes, &k_.no, &k_.aux}) v->reserve(entries);
    k_.kind.reserve(entries);
    k_.threshold.reserve(entries);
    k_.values.reserve(results);
    k_.labels.reserve(results);
    k_.probabilities.reserve(results * k_.classes);
    k_.roots.reserve(trees);
    k_.weights.reserve(trees);
  }

  std::int32_t add_null() {
    k_.values.push_back(0.0);
    k_.labels.push_back(-1);
    k_.probabilities.insert(k_.probabilities.end(), k_.classes, 0.0);
    return std::int32_t(k_.values.size() - 1);
  }

  /// The result a tree gives when it selects node `n`, as TreeEval::fill and ModelEval::evaluate compute it.
  bool result_of(const TreeEval& t, const MiningEval::Segment& seg, const TreeNode& n, std::int32_t& out) {
    if (!mining_) {
      out = std::int32_t(&n - t.nodes.data()) + 1;
      return true;
    }
    if (t.function == MiningFunction::Regression) {
      if (!n.has_score || n.score.kind != Kind::Number || n.embedded >= 0) {
        if (n.embedded >= 0) return false;
        out = k_.null_result;
        return true;
      }
      double y = n.value;
      if (!t.target.identity()) y = apply_targets(t.target, y, t.float_math);
      k_.values.push_back(y);
      k_.labels.push_back(-1);
      out = std::int32_t(k_.values.size() - 1);
      return true;
    }
    std::vector<double> probs(k_.classes, 0.0);
    std::int32_t label = -1;
    if (n.dist_end > n.dist_begin) {
      double sum = 0;
      for (auto i = n.dist_begin; i < n.dist_end; ++i) sum += t.dists[std::size_t(i)].weight;
      if (sum == 0.0) return false;  // the generic walk reports this as an error
      std::vector<double> local(t.classes.size(), 0.0);
      for (auto i = n.dist_begin; i < n.dist_end; ++i) {
        const TreeDist& d = t.dists[std::size_t(i)];
        local[std::size_t(d.label)] = sum != 1.0 ? d.weight / sum : d.weight;
      }
      if (n.has_score) {
        label = n.label;
      } else {
        for (auto i = n.dist_begin; i < n.dist_end; ++i) {
          auto l = t.dists[std::size_t(i)].label;
          if (label < 0 || local[std::size_t(l)] > local[std::size_t(label)]) label = l;
        }
      }
      for (std::size_t c = 0; c < local.size(); ++c) probs[std::size_t(seg.class_map[c])] = local[c];
    } else if (n.has_score) {
      label = n.label;
      probs[std::size_t(seg.class_map[std::size_t(label)])] = 1.0;
    }
    if (label < 0) {
      out = k_.null_result;
      return true;
    }
    k_.values.push_back(0.0);
    k_.labels.push_back(seg.class_map[std::size_t(label)]);
    k_.probabilities.insert(k_.probabilities.end(), probs.begin(), probs.end());
    out = std::int32_t(k_.values.size() - 1);
    return true;
  }

  std::int32_t feature(std::int32_t slot, bool& ok) {
    const Slot& s = prog_.slots[std::size_t(slot)];
    if (s.kind != Slot::Kind::Input && s.kind != Slot::Kind::Derived) ok = false;
    auto [it, fresh] = feature_of_slot_.emplace(slot, std::int32_t(k_.feature_slots.size()));
    if (fresh) k_.feature_slots.push_back(slot);
    return it->second;
  }

  std::int32_t add_node(EnsembleKernel::Kind kind, std::int32_t feature, double threshold, std::int32_t yes,
                        std::int32_t no, std::int32_t aux) {
    k_.kind.push_back(kind);
    k_.feature.push_back(feature);
    k_.threshold.push_back(threshold);
    k_.yes.push_back(yes);
    k_.no.push_back(no);
    k_.aux.push_back(aux);
    return std::int32_t(k_.kind.size() - 1);
  }

  std::int32_t leaf(std::int32_t result) {
    const auto r = std::size_t(result);
    if (r >= leaf_of_result_.size()) leaf_of_result_.resize(std::max(r + 1, 2 * leaf_of_result_.size()), -1);
    if (leaf_of_result_[r] < 0) {
      auto self = std::int32_t(k_.kind.size());
      leaf_of_result_[r] = add_node(EnsembleKernel::Kind::Leaf, 0, 0.0, self, self, result);
    }
    return leaf_of_result_[r];
  }

  /// A test node for predicate `pred` with the given exits; 1 = always true, 2 = always false, -1 = not
  /// expressible, 0 = made (`node`).
  int test(std::int32_t pred, std::int32_t yes, std::int32_t no, std::int32_t missing, std::int32_t& node) {
    using K = EnsembleKernel::Kind;
    using O = EnsembleKernel::Op;
    const Pred& p = prog_.predicates[std::size_t(pred)];
    bool ok = true;
    auto other = [&](O op, double threshold, std::int32_t f, std::int32_t y, std::int32_t n, std::int32_t begin = 0,
                     std::int32_t end = 0) {
      k_.others.push_back({op, threshold, begin, end, missing});
      node = add_node(K::Other, f, threshold, y, n, std::int32_t(k_.others.size() - 1));
    };
    // x <= t with exits (y, n), as one of the two fast kinds when the missing exit allows it.
    auto less_eq = [&](std::int32_t f, double t, std::int32_t y, std::int32_t n) {
      if (missing == n) node = add_node(K::LessEq, f, t, y, n, -1);
      else if (missing == y) node = add_node(K::LessEqMissingYes, f, t, y, n, -1);
      else other(O::LessEq, t, f, y, n);
    };
    switch (p.op) {
      case Pred::Op::True: return 1;
      case Pred::Op::False: return 2;
      case Pred::Op::IsMissing:
      case Pred::Op::IsNotMissing: {
        std::int32_t f = feature(p.slot, ok);
        other(p.op == Pred::Op::IsMissing ? O::IsMissing : O::IsNotMissing, 0.0, f, yes, no);
        return ok ? 0 : -1;
      }
      case Pred::Op::LessEq:
      case Pred::Op::Less:
      case Pred::Op::Greater:
      case Pred::Op::GreaterEq: {
        if (p.string_compare) return -1;
        std::int32_t f = feature(p.slot, ok);
        double t = p.num;
        bool strict = p.op == Pred::Op::Less || p.op == Pred::Op::GreaterEq;
        // x < t is x <= the double just below t; x > t and x >= t are the negations, with exits swapped.
        if (strict) {
          if (t == -std::numeric_limits<double>::infinity() || t != t) {
            bool swap = p.op == Pred::Op::GreaterEq;
            other(O::Less, t, f, swap ? no : yes, swap ? yes : no);
            return ok ? 0 : -1;
          }
          t = std::nextafter(t, -std::numeric_limits<double>::infinity());
        }
        if (p.op == Pred::Op::LessEq || p.op == Pred::Op::Less) less_eq(f, t, yes, no);
        else less_eq(f, t, no, yes);
        return ok ? 0 : -1;
      }
      case Pred::Op::Equal:
      case Pred::Op::NotEqual: {
        std::int32_t f = feature(p.slot, ok);
        double t = p.string_compare ? double(p.sym) : p.num;
        other(p.op == Pred::Op::Equal ? O::Equal : O::NotEqual, t, f, yes, no);
        return ok ? 0 : -1;
      }
      case Pred::Op::In:
      case Pred::Op::NotIn: {
        std::int32_t f = feature(p.slot, ok);
        auto begin = std::int32_t(k_.sets.size());
        if (p.string_compare)
          for (auto i = p.begin; i < p.end; ++i) k_.sets.push_back(double(prog_.set_syms[std::size_t(i)]));
        else
          for (auto i = p.begin; i < p.end; ++i) k_.sets.push_back(prog_.set_nums[std::size_t(i)]);
        std::sort(k_.sets.begin() + begin, k_.sets.end());
        other(p.op == Pred::Op::In ? O::In : O::NotIn, 0.0, f, yes, no, begin, std::int32_t(k_.sets.size()));
        return ok ? 0 : -1;
      }
      default:
        return -1;  // compound predicates stay on the generic walk
    }
  }

  bool add_tree(const TreeEval& t, const MiningEval::Segment& seg, std::int32_t& root) {
    // Children have larger indices than their parent (breadth-first layout), so a backward pass sees every
    // child's entry before its parent's.
    std::vector<std::int32_t> entry(t.nodes.size());
    const std::int32_t null_leaf = leaf(k_.null_result);
    for (std::size_t i = t.nodes.size(); i-- > 0;) {
      const TreeNode& n = t.nodes[i];
      std::int32_t own_result;
      if (!result_of(t, seg, n, own_result)) return false;
      const std::int32_t own = leaf(own_result);
      if (n.child_count == 0) {
        entry[i] = own;
        continue;
      }
      std::int32_t next = t.return_last_prediction && n.has_score ? own : null_leaf;
      std::int32_t fixed_missing = 0;
      bool missing_is_next = false;
      switch (t.missing) {
        case TreeEval::Missing::None: missing_is_next = true; break;
        case TreeEval::Missing::NullPrediction: fixed_missing = null_leaf; break;
        case TreeEval::Missing::LastPrediction: fixed_missing = own; break;
        default: fixed_missing = n.default_child >= 0 ? entry[std::size_t(n.default_child)] : own; break;
      }
      for (std::int32_t c = n.first_child + n.child_count - 1; c >= n.first_child; --c) {
        std::int32_t node = 0;
        int made = test(t.nodes[std::size_t(c)].predicate, entry[std::size_t(c)], next,
                        missing_is_next ? next : fixed_missing, node);
        if (made < 0) return false;
        if (made == 2) continue;
        next = made == 1 ? entry[std::size_t(c)] : node;
      }
      entry[i] = next;
    }
    root = entry[0];
    return true;
  }
};

/// What build_ensemble_kernel does once the trees are in.
std::unique_ptr<EnsembleKernel> finish_ensemble_kernel(std::unique_ptr<EnsembleKernel> kernel, const MiningEval& mining) {
  using M = MiningEval::Method;
  if (mining.function == MiningFunction::Regression &&
      (mining.method == M::Sum || mining.method == M::WeightedSum || mining.method == M::Average)) {
    kernel->summing = mining.float_math ? EnsembleKernel::Summing::Float : EnsembleKernel::Summing::Double;
    kernel->weighted_sum = mining.method == M::WeightedSum;
    if (mining.float_math && mining.float_start_at_constant && mining.method != M::Average)
      kernel->sum_start = double(float(mining.float_start));
  }
  // Classification averages: the generic aggregation ranks classes by first sight, which is the first tree's
  // class order when that tree names every class (it always contributes when no tree lacks a prediction).
  if (mining.function == MiningFunction::Classification &&
      (mining.method == M::Average || mining.method == M::WeightedAverage) && !mining.segments.empty() &&
      mining.segments[0].class_map.size() == mining.classes.size() && !mining.classes.empty()) {
    const auto& first = mining.segments[0].class_map;
    std::vector<std::int32_t> rank(mining.classes.size(), 0);
    bool all = true;
    for (std::size_t c = 0; c < first.size(); ++c) {
      auto cls = std::size_t(first[c]);
      if (rank[cls] != 0) all = false;
      rank[cls] = std::int32_t(c + 1);
    }
    if (all) {
      kernel->summing = EnsembleKernel::Summing::Double;
      kernel->class_average = true;
      kernel->weighted_sum = mining.method == M::WeightedAverage;
      kernel->sum_width = mining.classes.size();
      kernel->class_rank = rank;
      double total = 0;
      for (double w : kernel->weights) total += kernel->weighted_sum ? w : 1.0;
      kernel->weight_total = total;
    }
  }
  kernel->finish();
  return kernel;
}

}  // namespace

bool ForestKernelBuild::method_has_kernel(const MiningEval& mining) {
  using M = MiningEval::Method;
  switch (mining.method) {
    case M::Sum: case M::WeightedSum: case M::Average: case M::WeightedAverage:
    case M::MajorityVote: case M::WeightedMajorityVote:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<EnsembleKernel> build_ensemble_kernel(const Program& program, const MiningEval& mining) {
  if (!ForestKernelBuild::method_has_kernel(mining)) return nullptr;
  auto kernel = std::make_unique<EnsembleKernel>();
  Builder b(program, &mining, *kernel);
  if (!b.build()) return nullptr;
  return finish_ensemble_kernel(std::move(kernel), mining);
}

struct ForestKernelBuild::State {
  State(const Program& program, const MiningEval& m) : mining(m), kernel(std::make_unique<EnsembleKernel>()), builder(program, &m, *kernel) {}
  const MiningEval& mining;
  std::unique_ptr<EnsembleKernel> kernel;
  Builder builder;
  std::size_t added = 0;
  bool failed = false;
};

ForestKernelBuild::ForestKernelBuild(const Program& program, const MiningEval& mining, const Sizes& sizes)
    : state_(std::make_unique<State>(program, mining)) {
  state_->failed = !method_has_kernel(mining);
  if (!state_->failed) state_->builder.start(sizes);
}

ForestKernelBuild::~ForestKernelBuild() = default;

bool ForestKernelBuild::add(std::size_t index) {
  State& s = *state_;
  if (s.failed || index != s.added) return !(s.failed = true);
  ++s.added;
  s.failed = !s.builder.add_segment(s.mining.segments[index]);
  return !s.failed;
}

std::unique_ptr<EnsembleKernel> ForestKernelBuild::finish() {
  State& s = *state_;
  if (s.failed || s.added != s.mining.segments.size()) return nullptr;
  return finish_ensemble_kernel(std::move(s.kernel), s.mining);
}

std::unique_ptr<EnsembleKernel> build_tree_kernel(const Program& program, const TreeEval& tree) {
  // The weighted strategies follow several children at once; a missing-value penalty counts the missing
  // levels on the way, which the kernel does not.
  if (tree.missing == TreeEval::Missing::WeightedConfidence || tree.missing == TreeEval::Missing::AggregateNodes ||
      tree.missing_penalty != 1.0 || tree.nodes.empty() ||
      program.predicates[std::size_t(tree.nodes[0].predicate)].op != Pred::Op::True)
    return nullptr;
  auto kernel = std::make_unique<EnsembleKernel>();
  Builder b(program, nullptr, *kernel);
  if (!b.build_tree(tree)) return nullptr;
  // Inputs only: preparing them cannot fail during the walk (a derived field could, off the generic path).
  for (auto slot : kernel->feature_slots)
    if (program.slots[std::size_t(slot)].kind != Slot::Kind::Input) return nullptr;
  kernel->finish();
  return kernel;
}

void link_direct_inputs(const Program& program, EnsembleKernel& k) {
  k.direct_specs.clear();
  k.direct_float.clear();
  for (auto slot : k.feature_slots) {
    const auto i = std::size_t(slot);
    const std::int32_t spec = i < program.spec_of_slot.size() ? program.spec_of_slot[i] : -1;
    if (spec < 0) break;
    const InputSpec& s = program.inputs[std::size_t(spec)];
    if (!s.plain_number || s.missing_replacement || s.missing_is_error) break;
    k.direct_specs.push_back(spec);
    k.direct_float.push_back(s.type == DataType::Float);
  }
  if (k.direct_specs.size() != k.feature_slots.size()) {
    k.direct_specs.clear();
    k.direct_float.clear();
  }
}

}  // namespace pmmlrt::eval
