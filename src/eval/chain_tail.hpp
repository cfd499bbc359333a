#pragma once
// A modelChain of summing tree ensembles into a RegressionModel: how sklearn2pmml exports XGBoost, LightGBM
// and scikit-learn gradient boosting classifiers. Once the ensemble kernels have summed a record's trees,
// the rest of the record depends on those sums only. ChainTail computes it without a Frame (no slots, no
// predicates, no virtual calls) through the very functions the generic evaluators call, so the results are
// the same to the bit; a record it cannot take (a sum is NaN) goes the generic way.

#include <cstdint>
#include <memory>
#include <vector>

#include "eval/models.hpp"

namespace pmmlrt::eval {

class ChainTail {
 public:
  /// The tail of `program`'s top model, or null when the top model has another shape.
  static std::unique_ptr<ChainTail> plan(const Program& program);

  /// The kernel (Program::kernel_models index) of each summing segment, in segment order.
  const std::vector<std::int32_t>& kernels() const { return kernels_; }
  /// The OutputField slots the chain sets, in the order evaluate() fills f.tail_values.
  const std::vector<std::int32_t>& set_slots() const { return set_slots_; }

  /// Scores the record whose kernel sums are `sums` (one per kernels() entry) into the predictions of `f`
  /// (f.predictions[0] is then the top model's) and into f.tail_values (per set_slots() entry), leaving its
  /// slots alone. False when the record needs the generic path. Throws what the generic path throws
  /// (EvaluationError naming `row`).
  bool evaluate(const double* sums, Frame& f, std::size_t row) const;

  /// Whether evaluate_plain() can take this chain: the summing models' values are numbers after their
  /// Targets, the regression's tables cover each of its classes once, its outputs are class probabilities,
  /// and its classes map one to one onto the top model's, which has no Targets of its own to apply.
  bool plain() const { return plain_; }
  /// The type of each set_slots() entry's number that evaluate_plain() gives.
  const std::vector<DataType>& plain_types() const { return plain_types_; }
  /// What evaluate() computes, through the same functions, without a Prediction per model or a Val per
  /// output: the numbers of the set_slots() entries into `values`, the top model's probabilities (one per
  /// its class) into `probabilities`, and its predicted class into `label`. Only for plain() chains. False
  /// when the record needs the generic path (a sum is NaN). Throws what the generic path throws.
  bool evaluate_plain(const double* sums, Frame& f, std::size_t row, double* values, double* probabilities,
                      std::int32_t& label) const;

 private:
  bool plan_plain();

  const MiningEval* top_ = nullptr;
  std::vector<const MiningEval*> sum_models_;
  std::vector<std::int32_t> kernels_;
  const RegressionEval* regression_ = nullptr;
  const MiningEval::Segment* regression_segment_ = nullptr;
  std::vector<std::int32_t> set_slots_;
  std::vector<std::int32_t> value_of_slot_;  // per slot of the program: its f.tail_values index (summed values), or -1
  bool plain_ = false;
  std::vector<DataType> plain_types_;
};

/// A top-level RegressionModel whose table sums a batch computes ahead (the linear fast path of
/// Model::score): the rest of the record depends on those sums only. LinearTail computes it without a Frame
/// through the functions the generic path calls (RegressionEval::predict_from_sums, finish, the outputs).
class LinearTail {
 public:
  /// The tail of `program`'s top model, or null unless it is a RegressionModel whose OutputFields are its
  /// own predicted value, probabilities and confidences.
  static std::unique_ptr<LinearTail> plan(const Program& program);

  /// The OutputField slots the model sets, in the order evaluate() fills Frame::tail_values.
  const std::vector<std::int32_t>& set_slots() const { return set_slots_; }

  /// Scores the record whose table sums are `sums` (one per table) into f.predictions[0] and
  /// f.tail_values. False when an output needs the generic path (a cast). Throws what the generic path
  /// throws (EvaluationError naming `row`).
  bool evaluate(const double* sums, Frame& f, std::size_t row) const;

 private:
  const RegressionEval* top_ = nullptr;
  std::vector<std::int32_t> set_slots_;
};

/// A top-level TreeModel whose kernel a batch walks ahead: the rest of the record depends on the node the
/// walk selects only. TreeTail computes it without the record's inputs, through the functions the generic
/// path calls (TreeEval::predict_from_result, finish, the outputs).
class TreeTail {
 public:
  /// The tail of `program`'s top model, or null unless it is a TreeModel with a kernel, no embedded
  /// regression, and OutputFields that are its own predicted value, probabilities and confidences.
  static std::unique_ptr<TreeTail> plan(const Program& program);

  /// The top model's kernel.
  const EnsembleKernel& kernel() const { return *top_->kernel; }
  /// The OutputField slots the model sets, in the order evaluate() fills Frame::tail_values.
  const std::vector<std::int32_t>& set_slots() const { return set_slots_; }

  /// Whether evaluate() can take a regression tree's leaf value from the walk (walk_direct_block's
  /// `values`) instead of reading the node: every node has a numeric score of one type.
  bool by_leaf_value() const { return by_leaf_value_; }

  /// Scores the record whose kernel result is `result` (and, with by_leaf_value(), whose leaf value is
  /// `leaf_value`) into f.predictions[0] and f.tail_values. False when an output needs the generic path (a
  /// cast). Throws what the generic path throws (EvaluationError naming `row`).
  bool evaluate(std::int32_t result, double leaf_value, Frame& f, std::size_t row) const;

 private:
  const TreeEval* top_ = nullptr;
  bool by_leaf_value_ = false;
  DataType leaf_type_ = DataType::Double;
  std::vector<std::int32_t> set_slots_;
};

}  // namespace pmmlrt::eval
