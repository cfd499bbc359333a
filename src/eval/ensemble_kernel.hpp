#pragma once
// The fast path for tree ensembles: every tree of a MiningModel flattened into one array of tests over a
// dense feature vector, with the PMML child order, missing-value strategy and noTrueChildStrategy already
// resolved into the three exits of each test. No Frame, Prediction or virtual call per tree; results are
// bit-identical to the generic walk (the builder only accepts trees it can express exactly).

#include <cstdint>
#include <vector>

#include <memory>

#include "eval/value.hpp"

namespace pmmlrt::eval {

struct Frame;
struct Program;
class MiningEval;

struct EnsembleKernel {
  enum class Op : std::uint8_t { Less, LessEq, Greater, GreaterEq, Equal, NotEqual, In, NotIn, IsMissing, IsNotMissing };
  /// How a missing feature leaves a test: to the false exit, the true exit, or a third exit kept aside.
  enum class Unknown : std::uint8_t { False, True, Aside };
  /// 24 bytes: a cache line holds more than two tests.
  struct Test {
    double threshold;
    // Exits: >= 0 another test, < 0 the result ~exit (-exit - 1).
    std::int32_t on_true, on_false;
    std::uint16_t feature;
    Op op;
    Unknown unknown;
    std::int32_t aux;  // In/NotIn: index into set_ranges; Unknown::Aside: the exit
  };
  std::vector<std::int32_t> feature_slots;  // slot of each dense feature
  std::vector<Test> tests;
  std::vector<double> sets;                 // sorted symbol codes or numbers, per In/NotIn test
  std::vector<std::pair<std::int32_t, std::int32_t>> set_ranges;
  std::vector<std::int32_t> roots;          // per tree: its first exit
  std::vector<double> weights;              // per tree: the segment weight
  // Results: regression value (after the tree's Targets), classification label (parent class index) and
  // probabilities (parent class order, `classes` per result). The null result means "no prediction".
  std::vector<double> values;
  std::vector<std::int32_t> labels;
  std::vector<double> probabilities;
  std::size_t classes = 0;
  std::int32_t null_result = -1;

  std::size_t features() const { return feature_slots.size(); }
  std::size_t trees() const { return roots.size(); }

  /// Fills the dense features of the current record. `x` must hold features() values.
  void gather(Frame& f, double* x) const;
  /// The result index of tree `t` for features `x`.
  std::int32_t walk(std::size_t t, const double* x) const {
    std::int32_t e = roots[t];
    while (e >= 0) e = step(tests[std::size_t(e)], x);
    return -e - 1;
  }
  /// Results of every tree for `rows` feature rows (`x` is rows x features()), into `out` (rows x trees()).
  /// Trees are the outer loop so that each tree stays in cache while the block of rows passes through it.
  void walk_block(const double* x, std::size_t rows, std::int32_t* out) const;

 private:
  std::int32_t step(const Test& T, const double* x) const {
    double v = x[T.feature];
    if (v != v) {  // NaN: missing
      if (T.op == Op::IsMissing) return T.on_true;
      if (T.op == Op::IsNotMissing) return T.on_false;
      return T.unknown == Unknown::False ? T.on_false : T.unknown == Unknown::True ? T.on_true : T.aux;
    }
    bool r;
    switch (T.op) {
      case Op::Less: r = v < T.threshold; break;
      case Op::LessEq: r = v <= T.threshold; break;
      case Op::Greater: r = v > T.threshold; break;
      case Op::GreaterEq: r = v >= T.threshold; break;
      case Op::Equal: r = v == T.threshold; break;
      case Op::NotEqual: r = v != T.threshold; break;
      case Op::In: r = in_set(T, v); break;
      case Op::NotIn: r = !in_set(T, v); break;
      case Op::IsMissing: r = false; break;
      default: r = true; break;
    }
    return r ? T.on_true : T.on_false;
  }
  bool in_set(const Test& T, double v) const;
};

/// Builds the kernel for a MiningModel whose segments are all plain trees the kernel can express; nullptr otherwise.
std::unique_ptr<EnsembleKernel> build_ensemble_kernel(const Program& program, const MiningEval& mining);

}  // namespace pmmlrt::eval
