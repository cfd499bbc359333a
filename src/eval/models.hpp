#pragma once
// The model evaluators. Each is filled by the compiler and scores through Frame; one virtual call per model
// per record, none per node or predictor.

#include <cmath>
#include <vector>

#include "eval/ensemble_kernel.hpp"
#include "eval/program.hpp"

namespace pmmlrt::eval {

// ----- RegressionModel ----------------------------------------------------------------------------------

enum class Normalization : std::uint8_t { None, Softmax, Logit, Probit, Cloglog, Loglog, Cauchit, Exp, Simplemax };

struct RegressionTableEval {
  struct Numeric {
    std::int32_t slot;
    int exponent;
    double coefficient;
  };
  struct Categorical {
    std::int32_t slot;
    Val value;
    double coefficient;
  };
  struct Term {
    std::vector<std::int32_t> slots;
    double coefficient;
  };
  double intercept = 0.0;
  std::int32_t class_index = -1;
  std::vector<Numeric> numeric;
  std::vector<Categorical> categorical;
  std::vector<Term> terms;
  bool trivial() const { return numeric.empty() && categorical.empty() && terms.empty() && intercept == 0.0; }
  /// Sum of the table; false when an input it needs is missing.
  bool evaluate(Frame& f, bool float_math, double& out) const;
  /// The same sum over inputs read by `number(slot, ok)` (ok = false: missing) and categorical predictors
  /// tested by `matches(predictor)`: the one summation of the Frame path and of ChainTail.
  template <class Number, class Matches>
  bool sum(Number number, Matches matches, bool float_math, double& out) const;
};

class RegressionEval final : public ModelEval {
 public:
  void predict(Frame& f, Prediction& out) const override;
  /// What predict() makes of the table sums `sums` (one per table, computed elsewhere): the regression
  /// value, or the classification (classify). `row` names the record in errors.
  void predict_from_sums(const double* sums, Prediction& out, std::size_t row) const;
  /// The prediction from the table sums `v` (one per table; overwritten): normalization, probabilities and
  /// label of a classification model. `row` names the record in errors.
  void classify(std::vector<double>& v, Prediction& out, std::size_t row) const;
  Normalization normalization = Normalization::None;
  bool ordinal = false;
  std::vector<RegressionTableEval> tables;
};

template <class Number, class Matches>
bool RegressionTableEval::sum(Number number, Matches matches, bool float_math, double& out) const {
  if (float_math) {
    float total = 0.0f;
    for (const auto& p : numeric) {
      bool ok = true;
      float x = float(number(p.slot, ok));
      if (!ok) return false;
      float c = float(p.coefficient);
      total += p.exponent == 1 ? c * x : c * float(std::pow(double(x), double(p.exponent)));
    }
    for (const auto& p : categorical)
      if (matches(p)) total += float(p.coefficient);
    for (const auto& t : terms) {
      float prod = float(t.coefficient);
      for (auto s : t.slots) {
        bool ok = true;
        float x = float(number(s, ok));
        if (!ok) return false;
        prod *= x;
      }
      total += prod;
    }
    if (intercept != 0.0) total += float(intercept);
    out = double(total);
    return true;
  }
  double total = 0.0;
  for (const auto& p : numeric) {
    bool ok = true;
    double x = number(p.slot, ok);
    if (!ok) return false;
    total += p.exponent == 1 ? p.coefficient * x : p.coefficient * std::pow(x, double(p.exponent));
  }
  for (const auto& p : categorical)
    if (matches(p)) total += p.coefficient;
  for (const auto& t : terms) {
    double prod = t.coefficient;
    for (auto s : t.slots) {
      bool ok = true;
      double x = number(s, ok);
      if (!ok) return false;
      prod *= x;
    }
    total += prod;
  }
  if (intercept != 0.0) total += intercept;
  out = total;
  return true;
}

/// Inverse link of a regression normalization (regression results and binary classification).
double inverse_link(Normalization n, double y, bool float_math);

// ----- TreeModel ----------------------------------------------------------------------------------------

/// Ordered so that no padding lies between the fields (a big forest holds millions).
struct TreeNode {
  std::int32_t predicate = 0;
  std::int32_t first_child = 0;   // children are contiguous: [first_child, first_child + child_count)
  std::int32_t child_count = 0;
  std::int32_t default_child = -1;
  std::int32_t label = -1;        // classification: class index of the score
  std::int32_t dist_begin = 0, dist_end = 0;  // ScoreDistribution range
  std::int32_t embedded = -1;     // index into TreeEval::embedded (node Regression)
  std::int32_t id = -1;           // symbol of the node id, -1 when absent
  bool has_score = false;
  bool dist_probability = false;  // the distribution gives probabilities (else record counts)
  double value = 0.0;             // regression: numeric score
  Val score;                      // the score as a typed value
  double record_count = 0.0;
};

struct TreeDist {
  std::int32_t label;
  double weight;  // probability or record count
  double confidence;
  bool has_confidence;
};

class TreeEval final : public ModelEval {
 public:
  enum class Missing : std::uint8_t { None, LastPrediction, NullPrediction, DefaultChild, WeightedConfidence, AggregateNodes };
  void predict(Frame& f, Prediction& out) const override;
  /// The prediction of the kernel's result `r` (build_tree_kernel: node r - 1, or no prediction), as
  /// predict() gives it once the kernel has walked the record; r must be a result of the kernel.
  void predict_from_result(std::int32_t r, Frame& f, Prediction& out) const;
  /// Whether a node's prediction can need the record (an embedded regression reads its inputs).
  bool has_embedded() const { return !embedded.empty(); }
  Missing missing = Missing::None;
  double missing_penalty = 1.0;
  bool return_last_prediction = false;  // noTrueChildStrategy
  std::vector<TreeNode> nodes;          // nodes[0] is the root
  std::vector<TreeDist> dists;
  std::vector<RegressionTableEval> embedded;

 private:
  void predict_weighted(Frame& f, Prediction& out) const;
  void fill(Frame& f, const TreeNode& node, int missing_levels, Prediction& out) const;
};

// ----- MiningModel --------------------------------------------------------------------------------------

class MiningEval final : public ModelEval {
 public:
  enum class Method : std::uint8_t {
    MajorityVote, WeightedMajorityVote, Average, WeightedAverage, Median, WeightedMedian, Max, Sum, WeightedSum,
    SelectFirst, SelectAll, ModelChain
  };
  enum class MissingTreatment : std::uint8_t { Continue, SkipSegment, ReturnMissing };
  struct Segment {
    std::int32_t predicate;
    std::int32_t model;
    double weight;
    std::int32_t id;  // symbol
    std::vector<std::int32_t> class_map;  // segment class index -> this model's class index
  };
  void predict(Frame& f, Prediction& out) const override;
  /// The prediction of a summing ensemble whose trees all predicted, from the kernel's sum.
  void predict_from_sum(double sum, Prediction& out) const;
  /// Whether predict_from_sum predicts at all (a SkipSegment threshold below zero never does).
  bool predicts_from_sum() const;
  /// The value predict_from_sum predicts from the kernel's sum (before Targets), of type sum_value_type().
  double sum_value(double sum) const;
  DataType sum_value_type() const { return float_math ? DataType::Float : DataType::Double; }
  /// A chosen segment's prediction as this model's (its classes mapped to this model's).
  static void copy_segment_prediction(const Segment& s, const Prediction& in, Prediction& out);
  Method method = Method::Sum;
  MissingTreatment missing_treatment = MissingTreatment::Continue;
  double missing_threshold = 1.0;
  bool float_start_at_constant = false;  // XGBoost: the float sum starts at the Target's rescaleConstant
  double float_start = 0.0;
  std::vector<Segment> segments;

 private:
  void predict_selected(Frame& f, Prediction& out) const;
  void aggregate_regression(Frame& f, Prediction& out, std::size_t considered, std::size_t missing) const;
  void aggregate_classification(Frame& f, Prediction& out, std::size_t considered, std::size_t missing,
                                double missing_votes) const;
};

// ----- GeneralRegressionModel ---------------------------------------------------------------------------

class GeneralRegressionEval final : public ModelEval {
 public:
  enum class Type : std::uint8_t { Regression, GeneralLinear, GeneralizedLinear, MultinomialLogistic, OrdinalMultinomial, Cox };
  enum class Link : std::uint8_t { Identity, Log, Logc, Logit, Probit, Cloglog, Loglog, Cauchit, Power, OddsPower, NegBin };
  /// One PPMatrix row: the product of its factor indicators (or contrast entries) and covariate powers.
  struct Row {
    struct Factor {
      std::int32_t slot;
      Val level;
      std::int32_t contrast = -1;  // index into contrasts, or -1 for a 0/1 indicator
      std::int32_t column = -1;    // the level's column in the contrast matrix
    };
    struct Covariate {
      std::int32_t slot;
      double exponent;  // 1 = plain product
    };
    std::vector<Factor> factors;
    std::vector<Covariate> covariates;
  };
  struct Contrast {
    std::vector<Val> levels;                  // matrix rows, in Categories order
    std::vector<std::vector<double>> matrix;  // level x column
  };
  struct Cell {
    std::int32_t row = -1;  // index into rows, -1: the parameter has no predictor (an intercept)
    double beta = 0.0;
    double reference = 0.0;  // Cox: the parameter's referencePoint
    bool has_reference = false;
  };
  /// The cells of one linear predictor, and the PPMatrix rows they use.
  struct Equation {
    std::vector<Cell> cells;
  };
  void predict(Frame& f, Prediction& out) const override;
  Type type = Type::Regression;
  Link link = Link::Identity;
  double link_parameter = 1.0;
  double dist_parameter = 1.0;
  Link cumulative = Link::Logit;
  std::optional<double> offset;
  std::int32_t offset_slot = -1;
  std::optional<double> trials;
  std::int32_t trials_slot = -1;
  std::vector<Row> rows;
  std::vector<Contrast> contrasts;
  Equation regression_equation;            // regression, general(ized) linear, Cox
  std::vector<Equation> class_equations;   // classification: one per class except the last, in `order`
  std::vector<std::int32_t> order;         // classification: class indices, reference category last
  // Cox
  std::int32_t end_time_slot = -1, strata_slot = -1;
  struct Stratum {
    Val value;
    double max_time = 0.0;
    std::vector<std::pair<double, double>> cells;  // (time, cumHazard) sorted by time
  };
  std::vector<Stratum> strata;  // without baselineStrataVariable: exactly one, value missing

 private:
  bool dot(Frame& f, const Equation& e, double& out) const;
  double apply_link(Frame& f, double eta) const;
  double with_offset(Frame& f, double eta) const;
  void predict_cox(Frame& f, Prediction& out) const;
};


}  // namespace pmmlrt::eval
