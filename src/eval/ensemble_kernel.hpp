#pragma once
// The fast path for tree ensembles: every tree of a MiningModel flattened into one array of nodes over a
// dense feature vector, with the PMML child order, missing-value strategy and noTrueChildStrategy already
// resolved into two exits per test. No Frame, Prediction or virtual call per tree; results are bit-identical
// to the generic walk (the builder only accepts trees it can express exactly).
//
// Layout: structure of arrays, one entry per node. Most tests are canonicalised to `x <= threshold`
// (lessThan t becomes lessOrEqual nextafter(t, -inf); greater* swap their exits), with a missing x going to
// the false exit (it compares false) or, flagged, to the true exit. Leaves loop to themselves, so a block of
// rows can step through a tree in lock step without a branch per row.
//
// When every test is such an `x <= t`, finish() also builds the binned layout that the vector walks use:
// per feature, the distinct thresholds sorted once; each input value is mapped once per row to its bin (the
// number of thresholds below it), and a node tests `bin <= k` on 32-bit integers, exactly equivalent to
// `x <= threshold_k`. A node is one 64-bit word (test | first child << 32) with its two children side by
// side, so a step costs two loads per row (the node and the row's bin) and no kind dispatch; every tree is
// walked for exactly its depth, leaves looping to themselves.
//
// Set tests (In, NotIn, Equal, NotEqual: categorical splits; also IsMissing, IsNotMissing and the builder's
// `x < -inf`, sets of no value or every value) are binned too. A feature with membership tests is
// `exact`: its edges are its thresholds and every value its sets name, and its bins tell a value equal to
// edge i (bin 2i + 1) from the values between edges (bin 2i), so `x <= edge_i` is `bin <= 2i + 1` and a set
// is the set of its members' odd bins. A set node has kSetTest in its test word and k is the offset of its
// membership bits in `set_words` (bin b is bit b % 64 of word k + b / 64); a missing value is in no set and
// follows the node's missing flags like any other test. Kernels without set tests use walks compiled
// without them; the block walk reads membership bits every step, the single-record walk only when some lane
// meets a set node.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "eval/value.hpp"

namespace pmmlrt::eval {

struct Frame;
struct Program;
class MiningEval;
class TreeEval;

/// The widest vector instructions the kernels use. Chosen once per process by simd_level(): the best this
/// CPU has, capped by the environment variable PMMLRT_SIMD=scalar|avx2|avx512 (other values are ignored);
/// PMMLRT_DISABLE_AVX512=1, the older switch, still means "no AVX-512" (so AVX2 where the CPU has it).
enum class SimdLevel : std::uint8_t { Scalar, Avx2, Avx512 };
SimdLevel simd_level();

/// Whether the AVX-512 perfect walk reads its levels of 8 and 16 nodes by gathers (true) or by two-register
/// permutes (false): gathers on Intel cores, where they cost less than the permutes and blends they replace
/// (on AMD's Zen 5 they cost more), unless the microcode's fix for Gather Data Sampling slows them down.
/// Chosen once per process by gathers_preferred(); PMMLRT_TREE_LEVELS=gather|permute overrides it, so that
/// both are tested on any AVX-512 CPU.
bool perfect_levels_gathered();
/// The rule of perfect_levels_gathered(): an Intel CPU whose Linux report of Gather Data Sampling (the text of
/// /sys/devices/system/cpu/vulnerabilities/gather_data_sampling, empty when there is none) is not a
/// microcode mitigation.
bool gathers_preferred(bool intel, std::string_view gather_data_sampling);
/// The first line of /sys/devices/system/cpu/vulnerabilities/gather_data_sampling ("" when it cannot be read).
std::string gather_data_sampling_report();

struct EnsembleKernel {
  enum class Kind : std::uint8_t {
    LessEq,         // x <= threshold; missing -> no
    LessEqMissingYes,  // x <= threshold; missing -> yes
    Other,          // anything else: see `others[aux]`
    Leaf,           // a result: `aux` is its index; yes == no == itself
  };
  enum class Op : std::uint8_t { Equal, NotEqual, In, NotIn, IsMissing, IsNotMissing, LessEq, Less };
  struct Other {
    Op op;
    double threshold;
    std::int32_t set_begin, set_end;  // In/NotIn: range in `sets`
    std::int32_t on_missing;          // the exit for a missing value
  };
  std::vector<std::int32_t> feature_slots;  // slot of each dense feature
  /// Per feature: the input spec whose prepared value is the raw number itself (a plain number without a
  /// missing-value treatment), rounded to float when `direct_float`; empty unless every feature is one.
  /// gather() then reads a batch row (Frame::lazy) directly instead of preparing those inputs.
  std::vector<std::int32_t> direct_specs;
  std::vector<std::uint8_t> direct_float;

  // Nodes (structure of arrays).
  std::vector<double> threshold;
  std::vector<std::int32_t> feature, yes, no, aux;
  std::vector<Kind> kind;
  std::vector<Other> others;
  std::vector<double> sets;  // sorted symbol codes or numbers
  // The same nodes packed for the vector walk: feature | kind << kKindShift, and yes | no << 32.
  static constexpr int kKindShift = 28;
  std::vector<std::int32_t> packed;
  std::vector<std::uint64_t> exits;
  std::vector<bool> simple_tree;  // per tree: only fast kinds (no Other node)
  SimdLevel simd = SimdLevel::Scalar;  // the vector walks' level: simd_level() when the kernel fits them

  std::vector<std::int32_t> roots;  // per tree: its first node
  std::vector<double> weights;      // per tree: the segment weight
  // Results: regression value (after the tree's Targets), classification label (parent class index) and
  // probabilities (parent class order, `classes` per result). The null result means "no prediction".
  std::vector<double> values;
  std::vector<std::int32_t> labels;
  std::vector<double> probabilities;
  std::size_t classes = 0;
  std::int32_t null_result = -1;

  /// The binned layout (see the top of this file); `binned` is false when some test cannot be binned.
  struct Binned {
    int feature_bits = 0;             // test word: feature | missing_yes << feature_bits
                                      //   | missing_null << (feature_bits + 1) | k << (feature_bits + 2)
                                      //   | kSetTest for a set test
    static constexpr std::uint32_t kSetTest = 1u << 31;
    std::int32_t missing_bin = 0;     // the bin of a missing value: above every threshold's bin
    std::int32_t leaf_k = 0;          // a leaf's k: above the missing bin, so that every row goes to `first child`
    // Node 0 is the leaf of no prediction, where a missing value goes at a missing_null test.
    std::vector<double> edges;        // per feature, its sorted distinct thresholds (and set members if exact)
    std::vector<std::int32_t> edge_begin;  // features() + 1 offsets into `edges`
    std::vector<std::int32_t> exact;  // per feature: 1 if it has set tests (bins 2i + 1 = edge i, 2i = between)
    bool any_exact = false;
    // The binning's search tree (build_bin_search): per feature, its edges cut into blocks of kSearchWidth,
    // above them the last edge of every block but the last, in blocks too, and so on up to a single block,
    // the top; every block padded with NaN (never below a value, never equal to one). A value's bin is then
    // one compare-and-count per level: pos = kSearchWidth * pos + (the entries of block `pos` below the
    // value), from the top (pos = 0) down to the number of edges below it. The tops of eight features side by
    // side (entry j of lane i at 8 j + i) are counted for all eight in one vector; only features with more
    // than kSearchWidth edges have levels below the top, in `search`.
    static constexpr std::size_t kSearchWidth = 16;
    template <class T>
    struct CacheLineAllocator {  // blocks of the search start on cache lines
      using value_type = T;
      CacheLineAllocator() = default;
      template <class U>
      CacheLineAllocator(const CacheLineAllocator<U>&) {}
      T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
      void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
      bool operator==(const CacheLineAllocator&) const { return true; }
      bool operator!=(const CacheLineAllocator&) const { return false; }
    };
    std::vector<double, CacheLineAllocator<double>> search_top;  // per eight features: 8 * kSearchWidth entries
    std::vector<std::int32_t> search_top_entries;  // per eight features: the most entries one of their tops has
    std::vector<std::uint8_t> search_deep;   // per eight features: the lanes with levels below the top
    std::vector<std::uint8_t> search_exact;  // per eight features: the lanes of exact features
    std::vector<double, CacheLineAllocator<double>> search;  // the levels below the tops
    std::vector<std::size_t> search_levels;  // per feature, highest first: where its levels below the top start
    std::vector<std::int32_t> level_begin;   // features() + 1 offsets into `search_levels`
    // The batch binning's float search: a feature without set tests whose edges are all floats, or all the
    // doubles just below floats (XGBoost's `x < t` with float t, canonicalised to x <= the double below t),
    // is searched sixteen rows per vector in float, exactly (see bin_rows_avx512).
    std::vector<float> edges_float;             // per edge: the float e, or the float t just above e
    std::vector<std::int32_t> float_features;   // the features whose edges are floats (e < v), in order
    std::vector<std::int32_t> float_above_features;  // those whose edges are just below floats (t <= v)
    std::vector<std::int32_t> double_features;  // the others, in order
    std::vector<std::int32_t> all_features;     // 0, 1, ...
    std::vector<std::uint64_t> set_words;  // the set tests' membership bits, one run of words per distinct set
    std::vector<std::uint64_t> nodes;
    std::vector<std::int32_t> result;  // per node: the result index of a leaf
    std::vector<double> leaf_value;    // per sum (sum_width) then per node: a leaf's term; NaN for no prediction
    std::vector<std::int32_t> roots, depth;  // per tree
    std::vector<std::int32_t> group_depth;   // per eight consecutive trees: their largest depth
    // AVX2: `nodes` split into its test words and first children (eight lanes per 32-bit gather).
    std::vector<std::uint32_t> test_words, first_children;

    // The perfect layout (forests of at least one vector of trees; see build_perfect): perfect_lanes trees
    // per vector (16 with AVX-512, 8 with AVX2), each padded to a perfect tree of perfect_depth levels, so
    // that a node needs only its 32-bit test word (the children of node i are 2i + 1 and 2i + 2) and the
    // row's bins come from registers. A leaf above the last level becomes a test every bin passes, its left
    // descendants carrying it down.
    std::int32_t perfect_depth = 0;             // 0: no perfect layout
    std::int32_t perfect_lanes = 16;            // trees per group: 16 or 8
    bool gathered_levels = false;               // 16 lanes: levels 3 and 4 by gathers (perfect_levels_gathered)
    // Per group of perfect_lanes (L) trees, level by level (level s: nodes 2^s - 1 ...), the test word of node
    // i of lane j at L i + j, except, with 16 lanes, on levels 3 and 4 (8 and 16 nodes), which go tree by
    // tree: node i of lane j at 16 (2^s - 1) + 2^s j + (i - 2^s + 1).
    std::vector<std::uint32_t> perfect_tests;
    // 16 lanes: the set tests of perfect_tests carry their membership in their k field instead of an offset
    // into set_words (see inline_perfect_sets), so that a step tests them without gathering set words.
    bool perfect_inline_sets = false;
    std::vector<std::int32_t> perfect_leaves;   // per group: the node (of `nodes`) of leaf slot s of lane j at L s + j
    // A summing kernel's leaf terms in the layout of perfect_leaves, one run per sum (sum_width), the null
    // leaf's NaN on padding lanes: the block walk then gathers a row's terms, not its leaves' nodes. Floats
    // (rounded as the float sum rounds every term) for Summing::Float, else doubles; both empty when the
    // kernel does not sum or the terms would take more memory than the tests.
    std::vector<double> perfect_terms;
    std::vector<float> perfect_terms_float;
    std::size_t perfect_groups() const {
      return (perfect_leaves.size() >> perfect_depth) / std::size_t(perfect_lanes);
    }
    std::size_t perfect_slots() const { return perfect_leaves.size(); }  // per sum, in perfect_terms*
  };
  /// The direct layout of a single tree of threshold tests (no Other node, no sums): its nodes in depth-first
  /// order along the yes exits, so that a test's yes exit is the node after it and only its no exit is stored
  /// (and, aside, a missing value's exit when it is neither);
  /// one 16-byte node per step, the raw feature compared as the generic walk compares it. A deep tree
  /// touches a few dozen of its nodes per row, where binning would search every feature's thresholds. Leaves
  /// are copied per reference (a tree's leaves are shared by result). Empty unless the kernel qualifies.
  struct DirectNode {
    double threshold;  // a test: x <= threshold goes to the next node
    std::int32_t no;   // a test: the node of its no exit; a leaf: its result
    std::uint32_t word;  // feature | kDirectMissingYes | kDirectLeaf
  };
  static constexpr std::uint32_t kDirectLeaf = 1u << 31, kDirectMissingYes = 1u << 30, kDirectMissingExit = 1u << 29,
                                 kDirectFeature = kDirectMissingExit - 1;
  std::vector<DirectNode> direct;
  /// Per direct node flagged kDirectMissingExit: the node a missing value goes to (neither of its exits).
  std::vector<std::int32_t> direct_missing;
  /// The result of the direct layout's tree for features `x` (the same as walk(0, x)).
  std::int32_t walk_direct(const double* x) const { return walk_direct_leaf(x).no; }
  /// The leaf walk_direct ends at: its `no` is the result, its `threshold` the leaf value (see
  /// walk_direct_block).
  const DirectNode& walk_direct_leaf(const double* x) const {
    const DirectNode* nodes = direct.data();
    std::uint32_t i = 0;
    for (;;) {
      const DirectNode& n = nodes[i];
      if (n.word & kDirectLeaf) return n;
      const double v = x[n.word & kDirectFeature];
      if ((v != v) & ((n.word & kDirectMissingExit) != 0)) {
        i = std::uint32_t(direct_missing[i]);
        continue;
      }
      // Missing (NaN) compares false, so it takes the no exit unless the node sends it the yes way.
      const bool yes = (v <= n.threshold) | ((v != v) & ((n.word & kDirectMissingYes) != 0));
      i = yes ? i + 1 : std::uint32_t(n.no);
    }
  }
  /// walk_direct for `rows` feature rows, results into out (one per row): several rows in flight at once.
  /// With `values`, also each row's leaf value there: a regression tree's score of the node (before its
  /// Targets), 0 for a node without one (see build_tree_kernel).
  void walk_direct_block(const double* x, std::size_t rows, std::int32_t* out, double* values = nullptr) const;

  bool binned = false;
  Binned bins;

  /// Ensembles whose combination is a plain sum of per-tree terms: regression sum, weighted sum and average
  /// (one sum), classification average and weighted average of the trees' distributions (one sum per
  /// class). The binned block walk adds the terms as it goes, row by row in tree order, as the generic
  /// aggregation does (in float when the model computes in float). A row with a NaN sum (a tree without a
  /// prediction, or a NaN term) is left to the generic aggregation.
  enum class Summing : std::uint8_t { None, Double, Float };
  Summing summing = Summing::None;
  std::size_t sum_width = 1;  // sums per row: 1, or the class count with class_average
  double sum_start = 0.0;     // the first addend of every row's sum
  bool weighted_sum = false;  // terms are weight * value
  bool class_average = false;          // the sums are per class: the trees' (weighted) probabilities
  double weight_total = 0.0;           // class_average: the trees' weights added in tree order
  std::vector<std::int32_t> class_rank;  // class_average: the reference's first-seen order of the classes

  std::size_t features() const { return feature_slots.size(); }
  std::size_t trees() const { return roots.size(); }

  /// Fills the dense features of the current record. `x` must hold features() values. Never throws when the
  /// record is a lazy batch row and the kernel has direct_specs. False when some feature holds a NaN that is
  /// not missing (an invalid value kept asIs): the kernel's NaN means missing, so such a record takes the
  /// generic walk.
  bool gather(Frame& f, double* x) const;
  /// The result index of tree `t` for features `x`.
  std::int32_t walk(std::size_t t, const double* x) const {
    std::int32_t e = roots[t];
    while (kind[std::size_t(e)] != Kind::Leaf) e = step(e, x);
    return aux[std::size_t(e)];
  }
  /// Results of every tree for `rows` feature rows (`x` is rows x features()), into `out` (rows x trees()).
  /// Trees are the outer loop so that each tree stays in cache while the block of rows passes through it.
  void walk_block(const double* x, std::size_t rows, std::int32_t* out) const;
  /// The sums (sum_width of them) of the trees' terms for one row's results (walk_row), as sum_block adds
  /// them; false when a tree has no prediction or a sum is NaN.
  bool sum_results(const std::int32_t* results, double* sums) const;
  /// sum_results(walk_row(x)) for one feature row, straight from the leaves' terms, when the layout holds
  /// them (the AVX2 perfect layout with its terms; see sums_rows()): the same sums, without the results.
  /// False when a tree has no prediction or a sum is NaN; the caller then walks the row for its results.
  bool sum_row(const double* x, double* sums) const;
  /// Whether sum_row can sum a row (otherwise it returns false at once).
  bool sums_rows() const {
    return binned && bins.perfect_depth && simd == SimdLevel::Avx2 &&
           ((summing == Summing::Float && !bins.perfect_terms_float.empty()) ||
            (summing == Summing::Double && !bins.perfect_terms.empty()));
  }
  /// The sums of every tree's terms for `rows` feature rows into `sums` (rows x sum_width; binned kernels
  /// with `summing` only). NaN marks a row left to the generic aggregation.
  void sum_block(const double* x, std::size_t rows, double* sums) const;
  /// Results of every tree for one feature row, into `out` (trees() values).
  void walk_row(const double* x, std::int32_t* out) const;
  /// Fills `packed`, `exits`, `simple_tree` and, at a vector level (AVX2 or AVX-512), the binned layout.
  void finish();
  /// The bin of every feature of `rows` feature rows (`x` is rows x features(), `out` the same shape).
  void bin_rows(const double* x, std::size_t rows, std::int32_t* out) const;
  /// The step of an Other node `e` for features `x` (the vector walks call it for those lanes).
  std::int32_t step_other_at(std::int32_t e, const double* x) const {
    return step_other(std::size_t(e), x[feature[std::size_t(e)]]);
  }

 private:
  /// True when gather() reads `f`'s lazy row as it is (and so cannot fail).
  bool gathers_directly(const Frame& f) const;
  double sum_one(const std::int32_t* results) const;  // sum_results for one sum
  /// bin_rows into this thread's buffer, padded with missing rows to `padded` rows.
  const std::int32_t* bin_block(const double* x, std::size_t rows, std::size_t padded) const;
  /// walk_binned_block_avx512 or _avx2, whichever `simd` says.
  void walk_binned_block(const std::int32_t* bins, std::size_t rows, std::int32_t* out, std::size_t out_rows,
                         double* sums) const;
  std::int32_t step(std::int32_t e, const double* x) const {
    auto i = std::size_t(e);
    double v = x[feature[i]];
    switch (kind[i]) {
      case Kind::LessEq: return v <= threshold[i] ? yes[i] : no[i];
      case Kind::LessEqMissingYes: return !(v > threshold[i]) ? yes[i] : no[i];
      case Kind::Other: return step_other(i, v);
      default: return e;
    }
  }
  std::int32_t step_other(std::size_t i, double v) const;
};

/// The binned walks with AVX-512 over rows of bins (bin_rows); `rows` a multiple of 8 for the block walk.
/// With `sums`, adds each tree's leaf_value into sums (rows values, initialised by the caller) instead of storing
/// result indices into `out`.
void walk_binned_block_avx512(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows, std::int32_t* out,
                              std::size_t out_rows, double* sums);
/// Both walk the perfect layout (Binned::perfect_depth > 0) when the kernel has one.
void walk_binned_row_avx512(const EnsembleKernel& k, const std::int32_t* bins, std::int32_t* out);
/// Binned's search (search_top, search and the rest) for its edges, edge_begin and exact; finish() calls it.
void build_bin_search(EnsembleKernel::Binned& b);
/// bin_rows for one row, by Binned's search.
void bin_row_avx512(const EnsembleKernel& k, const double* x, std::int32_t* out);
/// bin_rows for the leading multiple of 8 rows; returns how many rows it binned.
std::size_t bin_rows_avx512(const EnsembleKernel& k, const double* x, std::size_t rows, std::int32_t* out);
/// The block walk with AVX-512 (ensemble_kernel_simd.cpp); call only when cpu_has_avx512().
void walk_block_avx512(const EnsembleKernel& k, const double* x, std::size_t rows, std::int32_t* out);
void walk_row_avx512(const EnsembleKernel& k, const double* x, std::int32_t* out);
bool cpu_has_avx512();

/// Builds the kernel of a single TreeModel: its result r > 0 is the tree's node r - 1 (0: no prediction);
/// nullptr when the tree cannot be expressed.
std::unique_ptr<EnsembleKernel> build_tree_kernel(const Program& program, const TreeEval& tree);

/// Fills the kernel's direct_specs once the program's input specs exist (after the models are compiled).
void link_direct_inputs(const Program& program, EnsembleKernel& kernel);
/// The same binned walks and binning with AVX2 (ensemble_kernel_avx2.cpp); call only when cpu_has_avx2().
/// bin_rows_avx2 bins every row (and returns rows).
void walk_binned_block_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::size_t rows, std::int32_t* out,
                            std::size_t out_rows, double* sums);
void walk_binned_row_avx2(const EnsembleKernel& k, const std::int32_t* bins, std::int32_t* out);
/// sum_row over one row of bins (bin_row_avx2) of a kernel that sums_rows().
bool sum_binned_row_avx2(const EnsembleKernel& k, const std::int32_t* bins, double* sums);
void bin_row_avx2(const EnsembleKernel& k, const double* x, std::int32_t* out);
std::size_t bin_rows_avx2(const EnsembleKernel& k, const double* x, std::size_t rows, std::int32_t* out);
bool cpu_has_avx2();

/// Builds the kernel for a MiningModel whose segments are all plain trees the kernel can express; nullptr otherwise.
std::unique_ptr<EnsembleKernel> build_ensemble_kernel(const Program& program, const MiningEval& mining);

/// build_ensemble_kernel in steps, so that the trees can be added while the later segments are still being
/// compiled (on another thread: see Compiler::compile_mining): add(i) reads segment i of the MiningModel, its
/// tree, and the predicates, sets and slots these name, none of which may move while it runs. The same
/// steps in the same order as build_ensemble_kernel, so the same kernel.
class ForestKernelBuild {
 public:
  /// What build_ensemble_kernel reserves, from the trees to come: their nodes in all, their nodes that give a
  /// result (a score, or a classification's distribution), and how many trees.
  struct Sizes {
    std::size_t nodes = 0, results = 0, trees = 0;
  };
  ForestKernelBuild(const Program& program, const MiningEval& mining, const Sizes& sizes);
  ~ForestKernelBuild();
  ForestKernelBuild(const ForestKernelBuild&) = delete;
  ForestKernelBuild& operator=(const ForestKernelBuild&) = delete;
  /// Whether the MiningModel's method has a kernel at all (if not, add() need not be called).
  static bool method_has_kernel(const MiningEval& mining);
  /// Adds segment `index` (in order: 0, 1, ...); false once the forest cannot have a kernel.
  bool add(std::size_t index);
  /// The kernel, once every segment is added (nullptr if one could not be).
  std::unique_ptr<EnsembleKernel> finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pmmlrt::eval
