#pragma once
// The model evaluators. Each is filled by the compiler and scores through Frame; one virtual call per model
// per record, none per node or predictor.

#include <vector>

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
};

class RegressionEval final : public ModelEval {
 public:
  void predict(Frame& f, Prediction& out) const override;
  Normalization normalization = Normalization::None;
  bool ordinal = false;
  std::vector<RegressionTableEval> tables;
};

/// Inverse link of a regression normalization (regression results and binary classification).
double inverse_link(Normalization n, double y, bool float_math);

// ----- TreeModel ----------------------------------------------------------------------------------------

struct TreeNode {
  std::int32_t predicate = 0;
  std::int32_t first_child = 0;   // children are contiguous: [first_child, first_child + child_count)
  std::int32_t child_count = 0;
  std::int32_t default_child = -1;
  std::int32_t label = -1;        // classification: class index of the score
  bool has_score = false;
  double value = 0.0;             // regression: numeric score
  Val score;                      // the score as a typed value
  std::int32_t dist_begin = 0, dist_end = 0;  // ScoreDistribution range
  bool dist_probability = false;  // the distribution gives probabilities (else record counts)
  std::int32_t embedded = -1;     // index into TreeEval::embedded (node Regression)
  std::int32_t id = -1;           // symbol of the node id, -1 when absent
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
  Method method = Method::Sum;
  MissingTreatment missing_treatment = MissingTreatment::Continue;
  double missing_threshold = 1.0;
  bool float_start_at_constant = false;  // XGBoost: the float sum starts at the Target's rescaleConstant
  double float_start = 0.0;
  std::vector<Segment> segments;
  /// Nested outputs that surface at this level: (segment index, output slot) in order.
  std::vector<std::pair<std::int32_t, std::int32_t>> surfaced;
};

// ----- GeneralRegressionModel ---------------------------------------------------------------------------

class GeneralRegressionEval final : public ModelEval {
 public:
  enum class Type : std::uint8_t { Regression, GeneralLinear, GeneralizedLinear, MultinomialLogistic, OrdinalMultinomial, Cox };
  enum class Link : std::uint8_t { Identity, Log, Logit, Probit, Cloglog, Loglog, Cauchit, Power, OddsPower, NegBin, Logc };
  struct Cell {  // one PPMatrix entry: parameter p takes the predictor's value (covariate) or 1 on a match (factor)
    std::int32_t slot;
    bool factor;
    Val value;        // factor level
    double exponent;  // covariate power
    std::int32_t contrast = -1;  // contrast matrix: index into contrasts
  };
  struct Contrast {
    std::vector<Val> levels;
    std::vector<std::vector<double>> matrix;  // level x column
    std::int32_t column;
  };
  struct Parameter {
    std::vector<Cell> cells;  // product of cells (interaction)
    double reference = 0.0;   // Cox referencePoint
  };
  void predict(Frame& f, Prediction& out) const override;
  Type type = Type::Regression;
  Link link = Link::Identity;
  double link_power = 1.0;
  Link cumulative = Link::Logit;
  double offset = 0.0;
  std::int32_t offset_slot = -1;
  double trials = 1.0;
  std::int32_t trials_slot = -1;
  std::vector<Parameter> parameters;
  std::vector<Contrast> contrasts;
  /// beta[class][parameter]; for regression one row.
  std::vector<std::vector<double>> beta;
  std::vector<std::int32_t> beta_class;  // class index of each beta row
  std::int32_t reference_class = -1;
  // Cox
  std::int32_t end_time_slot = -1, strata_slot = -1;
  struct Stratum {
    Val value;
    double max_time;
    std::vector<std::pair<double, double>> cells;  // (time, cumHazard), sorted by time
  };
  std::vector<Stratum> strata;

 private:
  double linear_predictor(Frame& f, const std::vector<double>& b, bool& ok) const;
};

double inverse_glm_link(GeneralRegressionEval::Link link, double eta, double power);

}  // namespace pmmlrt::eval
