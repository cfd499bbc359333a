#pragma once
// The model IR: plain structs named after the PMML elements, holding what the loader read and nothing it
// computed. Names are still names here; the compiler resolves them to slots. Every node keeps the element
// path it came from, so later errors can point at the document.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"

namespace pmmlrt::ir {

struct Interval {
  enum class Closure { OpenClosed, OpenOpen, ClosedOpen, ClosedClosed };
  Closure closure = Closure::ClosedClosed;
  double left = -std::numeric_limits<double>::infinity();
  double right = std::numeric_limits<double>::infinity();
};

struct DataField {
  std::string name;
  DataType data_type = DataType::Double;
  OpType op_type = OpType::Continuous;
  std::vector<std::string> valid_values;    // Value property="valid" (default), document order
  std::vector<std::string> display_values;  // parallel to valid_values ("" when absent)
  std::vector<std::string> invalid_values;
  std::vector<std::string> missing_values;
  std::vector<Interval> intervals;
  std::string path;
};

struct Expression;
using ExpressionPtr = std::unique_ptr<Expression>;

struct Expression {
  enum class Kind { Constant, FieldRef, NormContinuous, NormDiscrete, Discretize, MapValues, Apply, TextIndex, Aggregate, Lag };
  Kind kind = Kind::Constant;
  std::string path;
  std::string field;                     // FieldRef, NormContinuous, NormDiscrete, Discretize
  std::string value;                     // Constant text; NormDiscrete@value
  bool constant_missing = false;         // Constant@missing="true"
  std::optional<DataType> data_type;     // Constant/Discretize/MapValues@dataType
  std::optional<std::string> map_missing_to;
  std::optional<std::string> default_value;
  // NormContinuous: LinearNorm pairs (orig, norm) and outliers treatment
  std::vector<std::pair<double, double>> linear_norms;
  std::string outliers = "asIs";
  // Discretize
  struct Bin {
    Interval interval;
    std::string value;
  };
  std::vector<Bin> bins;
  // MapValues
  std::vector<std::pair<std::string, std::string>> field_columns;  // (field, column)
  std::string output_column;
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;  // InlineTable rows: (column, text)
  // Apply
  std::string function;
  std::vector<ExpressionPtr> arguments;
  std::string invalid_value_treatment = "returnInvalid";
};

struct DerivedField {
  std::string name;
  DataType data_type = DataType::Double;
  OpType op_type = OpType::Continuous;
  std::vector<std::string> valid_values;
  ExpressionPtr expression;
  std::string path;
};

struct ParameterField {
  std::string name;
  std::optional<DataType> data_type;
};

struct DefineFunction {
  std::string name;
  DataType data_type = DataType::Double;
  std::vector<ParameterField> parameters;
  ExpressionPtr body;
  std::string path;
};

struct MiningField {
  std::string name;
  FieldUsage usage = FieldUsage::Active;
  std::optional<OpType> op_type;
  std::optional<std::string> missing_value_replacement;
  std::string missing_value_treatment;      // asIs, asMean, asMode, asMedian, asValue, returnInvalid
  std::string invalid_value_treatment = "returnInvalid";
  std::optional<std::string> invalid_value_replacement;
  std::string outliers = "asIs";
  std::optional<double> low_value, high_value;
  /// The element's path, built when a message needs it: its MiningSchema's path (shared by the schema's
  /// fields) and its number among the schema's MiningField children (0: the only one).
  std::shared_ptr<const std::string> schema_path;
  std::uint32_t ordinal = 0;
  std::string path() const {
    std::string p = schema_path ? *schema_path : std::string();
    p += "/MiningField";
    if (ordinal) p += "[" + std::to_string(ordinal) + "]";
    return p;
  }
};

struct TargetValue {
  std::string value;
  std::string display_value;
  std::optional<double> prior_probability;
  std::optional<double> default_value;
};

struct Target {
  std::string field;  // empty: the model's only target
  std::optional<OpType> op_type;
  std::string cast_integer;  // "", round, ceiling, floor
  std::optional<double> min, max;
  double rescale_factor = 1.0;
  double rescale_constant = 0.0;
  std::vector<TargetValue> values;
  std::string path;
};

struct OutputField {
  std::string name;
  std::optional<DataType> data_type;
  std::optional<OpType> op_type;
  std::string feature = "predictedValue";
  std::string target_field;
  std::string value;      // probability/confidence/affinity class
  bool is_final_result = true;
  int rank = 1;
  std::string segment_id;
  ExpressionPtr expression;  // transformedValue / decision
  std::string path;
};

struct Predicate;
using PredicatePtr = std::unique_ptr<Predicate>;

struct Predicate {
  enum class Kind { True, False, Simple, SimpleSet, Compound };
  Kind kind = Kind::True;
  std::string field;
  std::string op;              // Simple: equal, notEqual, lessThan, ...; SimpleSet: isIn/isNotIn; Compound: and/or/xor/surrogate
  std::string value;           // Simple
  std::vector<std::string> values;  // SimpleSet array
  std::vector<PredicatePtr> children;
  std::string path;             // empty inside trees (see `line`): a path per node would cost too much
  std::size_t line = 0;         // the element's line, when `path` is empty (0: unknown)
};

struct Model;
using ModelPtr = std::unique_ptr<Model>;

// RegressionModel
struct NumericPredictor {
  std::string field;
  int exponent = 1;
  double coefficient = 0.0;
};
struct CategoricalPredictor {
  std::string field;
  std::string value;
  double coefficient = 0.0;
};
struct PredictorTerm {
  std::vector<std::string> fields;
  double coefficient = 0.0;
};
struct RegressionTable {
  double intercept = 0.0;
  std::optional<std::string> target_category;
  std::vector<NumericPredictor> numeric;
  std::vector<CategoricalPredictor> categorical;
  std::vector<PredictorTerm> terms;
  std::string path;
};
struct RegressionData {
  std::string normalization = "none";
  std::vector<RegressionTable> tables;
};

// TreeModel
struct ScoreDistribution {
  std::string value;
  double record_count = 0.0;
  std::optional<double> probability;
  std::optional<double> confidence;
};
/// A piece of a tree's text (TreeData::text): [offset, offset + size).
struct TextRef {
  std::uint32_t offset = 0, size = 0;
};

/// A predicate of a tree, in TreeData::predicates. Inside trees no element path is kept (a path per node
/// would cost too much): messages name the element's line.
struct TreePredicate {
  /// Simple: equal..isNotMissing (in this order); SimpleSet: IsIn, IsNotIn; Compound: And..Surrogate.
  enum class Op : std::uint8_t {
    None, Equal, NotEqual, LessThan, LessOrEqual, GreaterThan, GreaterOrEqual, IsMissing, IsNotMissing,
    IsIn, IsNotIn, And, Or, Xor, Surrogate
  };
  Predicate::Kind kind = Predicate::Kind::True;
  Op op = Op::None;
  std::uint32_t line = 0;  // the element's line (0: unknown)
  TextRef field, value;
  /// SimpleSet: its values, TreeData::set_values[begin, end); Compound: its children,
  /// TreeData::predicate_children[begin, end).
  std::uint32_t begin = 0, end = 0;
};
/// The attribute text of an Op ("" for None).
inline const char* op_text(TreePredicate::Op op) {
  static const char* const texts[] = {"",          "equal",     "notEqual",  "lessThan", "lessOrEqual",
                                      "greaterThan", "greaterOrEqual", "isMissing", "isNotMissing", "isIn",
                                      "isNotIn",   "and",       "or",        "xor",      "surrogate"};
  return texts[static_cast<std::size_t>(op)];
}

struct TreeDistribution {
  TextRef value;
  double record_count = 0.0;
  std::optional<double> probability;
  std::optional<double> confidence;
};

/// A <Node> of a tree, in TreeData::nodes; its children are contiguous there.
struct Node {
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  TextRef id;
  TextRef score;
  TextRef default_child;
  bool has_score = false;
  std::uint32_t line = 0;  // the element's line, for messages (0: unknown)
  double record_count = std::numeric_limits<double>::quiet_NaN();
  std::uint32_t predicate = none;  // in TreeData::predicates
  std::uint32_t first_child = 0, child_count = 0;
  std::uint32_t dist_begin = 0, dist_end = 0;  // TreeData::distributions[dist_begin, dist_end)
  std::uint32_t embedded = none;  // in TreeData::embedded: a Regression inside the node (LightGBM linear trees)
};

/// A tree, flat: nodes, predicates and their strings in a few arrays. nodes[0] is the root.
struct TreeData {
  std::string missing_value_strategy = "none";
  double missing_value_penalty = 1.0;
  std::string no_true_child_strategy = "returnNullPrediction";
  std::string split_characteristic = "multiSplit";
  std::vector<Node> nodes;
  std::vector<TreePredicate> predicates;
  std::vector<std::uint32_t> predicate_children;
  std::vector<TextRef> set_values;
  std::vector<TreeDistribution> distributions;
  std::vector<ModelPtr> embedded;
  std::string text;  // every string of the nodes and predicates

  std::string_view view(TextRef r) const { return std::string_view(text).substr(r.offset, r.size); }
  std::string str(TextRef r) const { return std::string(view(r)); }
  /// Frees every node; for the compiler, once it has flattened the tree and will not read it again.
  void release_nodes();
};

// MiningModel
struct Segment {
  std::string id;
  double weight = 1.0;
  PredicatePtr predicate;
  ModelPtr model;
  std::string path;
};
struct MiningData {
  std::string method;
  std::string missing_prediction_treatment = "continue";
  double missing_threshold = 1.0;
  std::vector<Segment> segments;
};

// GeneralRegressionModel
struct GeneralRegressionData {
  std::string model_type;
  std::string link_function;
  std::optional<double> link_parameter;
  std::optional<double> dist_parameter;
  std::string cumulative_link;
  std::optional<double> offset_value;
  std::string offset_variable;
  std::optional<double> trials_value;
  std::string trials_variable;
  std::string target_reference_category;
  std::string distribution;
  std::string start_time_variable, end_time_variable, baseline_strata_variable, status_variable;
  struct Parameter {
    std::string name, label;
    std::optional<std::string> reference_point;
  };
  std::vector<Parameter> parameters;
  struct Predictor {
    std::string name;
    std::string contrast_matrix_type;
    std::vector<std::string> matrix_categories;         // categories in the order of the contrast matrix rows
    std::vector<std::vector<double>> contrast_matrix;   // rows x columns (Matrix element)
  };
  std::vector<Predictor> factors, covariates;
  struct PPCell {
    std::string value, predictor, parameter, target_category;
  };
  std::vector<PPCell> pp_cells;
  struct PCell {
    std::string target_category, parameter;
    double beta = 0.0;
    double df = 0.0;
  };
  std::vector<PCell> p_cells;
  struct BaselineCell {
    double time = 0.0, cum_hazard = 0.0;
  };
  struct BaselineStratum {
    std::string value;
    double max_time = 0.0;
    std::vector<BaselineCell> cells;
  };
  std::vector<BaselineStratum> strata;
  std::vector<BaselineCell> baseline_cells;  // BaseCumHazardTables without strata
  std::optional<double> max_time;
};

/// ModelVerification: sample records with the results the exporter expected.
struct Verification {
  struct Field {
    std::string name, column;
    double precision = 1e-6;
    double zero_threshold = 1e-16;
  };
  std::vector<Field> fields;
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;  // (column, text)
};

struct Model {
  enum class Kind { Regression, Tree, Mining, GeneralRegression };
  Kind kind = Kind::Regression;
  std::string element;  // element name
  MiningFunction function = MiningFunction::Regression;
  std::string name;
  bool float_math = false;  // x-mathContext="float"
  std::vector<MiningField> mining_schema;
  std::vector<OutputField> output;
  std::vector<Target> targets;
  std::vector<DerivedField> local_transformations;
  std::unique_ptr<Verification> verification;
  std::unique_ptr<RegressionData> regression;
  std::unique_ptr<TreeData> tree;
  std::unique_ptr<MiningData> mining;
  std::unique_ptr<GeneralRegressionData> general_regression;
  std::string path;
};

inline void TreeData::release_nodes() {
  std::vector<Node>().swap(nodes);
  std::vector<TreePredicate>().swap(predicates);
  std::vector<std::uint32_t>().swap(predicate_children);
  std::vector<TextRef>().swap(set_values);
  std::vector<TreeDistribution>().swap(distributions);
  std::vector<ModelPtr>().swap(embedded);
  std::string().swap(text);
}

struct Document {
  std::string version;
  std::vector<DataField> data_dictionary;
  std::vector<DerivedField> transformations;
  std::vector<DefineFunction> functions;
  ModelPtr model;
};

}  // namespace pmmlrt::ir
