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
  struct Test {
    std::int32_t feature;
    Op op;
    double threshold;
    std::int32_t set_begin, set_end;  // In/NotIn: range in `sets` (sorted symbol codes or numbers)
    // Exits: >= 0 another test, < 0 the result ~exit (-exit - 1).
    std::int32_t on_true, on_false, on_unknown;
  };
  std::vector<std::int32_t> feature_slots;  // slot of each dense feature
  std::vector<bool> feature_is_string;      // string features carry their symbol code
  std::vector<Test> tests;
  std::vector<double> sets;
  std::vector<std::int32_t> roots;          // per tree: its first exit
  std::vector<double> weights;              // per tree: the segment weight
  // Results: regression value (after the tree's Targets), classification label (parent class index) and
  // probabilities (parent class order, `classes` per result). The null result means "no prediction".
  std::vector<double> values;
  std::vector<std::int32_t> labels;
  std::vector<double> probabilities;
  std::size_t classes = 0;
  std::int32_t null_result = -1;

  /// Fills the dense features of the current record. `x` must hold feature_slots.size() values.
  void gather(Frame& f, double* x) const;
  /// The result index of tree `t` for features `x`.
  std::int32_t walk(std::size_t t, const double* x) const {
    std::int32_t e = roots[t];
    while (e >= 0) {
      const Test& T = tests[std::size_t(e)];
      double v = x[T.feature];
      if (v != v) {  // NaN: missing
        e = T.op == Op::IsMissing ? T.on_true : T.op == Op::IsNotMissing ? T.on_false : T.on_unknown;
        continue;
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
      e = r ? T.on_true : T.on_false;
    }
    return -e - 1;
  }

 private:
  bool in_set(const Test& T, double v) const;
};

/// Builds the kernel for a MiningModel whose segments are all plain trees the kernel can express; nullptr otherwise.
std::unique_ptr<EnsembleKernel> build_ensemble_kernel(const Program& program, const MiningEval& mining);

}  // namespace pmmlrt::eval
