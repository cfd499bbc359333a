#pragma once
// The compiled model: flat arrays of slots, expressions, predicates and model evaluators, with every name
// resolved to an index. The compiler (compile/) builds it from the IR; nothing here knows XML or the IR.
// A Program is immutable after compilation; all per-record state lives in a Frame.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/value.hpp"
#include "pmmlrt/model.hpp"

namespace pmmlrt::eval {

struct Program;
struct Frame;
struct EnsembleKernel;

// ----- fields -------------------------------------------------------------------------------------------

/// Validity and treatments of one input field (DataDictionary + MiningSchema), applied at the boundary.
struct InputSpec {
  std::int32_t slot = -1;
  std::string name;
  DataType type = DataType::Double;
  OpType op = OpType::Continuous;
  std::vector<Val> valid;           // declared valid categories, typed; code i = valid[i]
  std::vector<std::int32_t> valid_syms_sorted;  // string fields: sorted symbols of `valid`
  std::vector<double> valid_nums_sorted;        // numeric categorical fields: sorted numbers of `valid`
  std::vector<Val> invalid;         // Value property="invalid"
  std::vector<std::int32_t> missing_syms;       // texts declared property="missing"
  struct Range {
    double left, right;
    bool left_closed, right_closed;
  };
  std::vector<Range> intervals;
  enum class Treatment : std::uint8_t { ReturnInvalid, AsIs, AsMissing, AsValue };
  Treatment invalid_treatment = Treatment::ReturnInvalid;
  std::optional<Val> invalid_replacement;
  bool missing_is_error = false;   // missingValueTreatment="returnInvalid"
  std::optional<Val> missing_replacement;
  enum class Outliers : std::uint8_t { AsIs, AsMissing, AsExtreme };
  Outliers outliers = Outliers::AsIs;
  double low = -std::numeric_limits<double>::infinity(), high = std::numeric_limits<double>::infinity();
  /// A continuous float or double field with no validity rules: a present number is taken as it is.
  bool plain_number = false;
};

struct Slot {
  enum class Kind : std::uint8_t { Input, Derived, Output, Unset };
  Kind kind = Kind::Unset;
  DataType type = DataType::Double;
  OpType op = OpType::Continuous;
  std::int32_t expression = -1;  // Derived: the expression to compute
  std::string name;
};

// ----- expressions --------------------------------------------------------------------------------------

enum class Fn : std::uint8_t {
  Add, Sub, Mul, Div, Mod,
  Equal, NotEqual, Less, LessEq, Greater, GreaterEq,
  And, Or, Not, If, IsMissing, IsNotMissing, IsIn, IsNotIn, IsValid, IsNotValid,
  Log10, Ln, Exp, Pow, Sqrt, Abs, Floor, Ceil, Round, Rint, Min, Max, Sum, Avg, Median, Product, Threshold,
  Sigmoid, Expm1, Log1p, Sin, Cos, Tan, Asin, Acos, Atan, Atan2, Sinh, Cosh, Tanh, Hypot, ErfFn, NormalCdf,
  Uppercase, Lowercase, Substring, TrimBlanks, Concat, Replace, Matches, StringLength, FormatNumber,
  Call,  // a DefineFunction
};

struct Expr {
  enum class Op : std::uint8_t { Constant, FieldRef, Param, NormContinuous, NormDiscrete, Discretize, MapValues, Apply };
  Op op = Op::Constant;
  Fn fn = Fn::Add;
  bool has_map_missing = false, has_default = false;
  bool invalid_as_missing = false;  // Apply@invalidValueTreatment="asMissing"
  Val constant, map_missing_to, default_value;
  std::int32_t slot = -1;       // FieldRef / Norm* / Discretize: the field; Param: index in the call frame
  std::int32_t function = -1;   // Call: index into Program::functions
  std::vector<std::int32_t> args;
  // NormContinuous
  std::vector<std::pair<double, double>> norms;
  std::uint8_t outliers = 0;  // 0 asIs, 1 asMissingValues, 2 asExtremeValues
  // NormDiscrete
  Val match;
  // Discretize
  struct Bin {
    InputSpec::Range range;
    Val value;
  };
  std::vector<Bin> bins;
  // MapValues: rows of (key values..., output)
  std::vector<std::int32_t> key_slots;
  std::vector<std::vector<Val>> table;  // each row: keys then output
  DataType result_type = DataType::Double;
  bool cast_result = false;
  std::string path;
};

struct Function {
  std::string name;
  DataType type = DataType::Double;
  std::vector<std::optional<DataType>> params;
  std::int32_t body = -1;
};

// ----- predicates ---------------------------------------------------------------------------------------

enum class Truth : std::uint8_t { False = 0, True = 1, Unknown = 2 };

struct Pred {
  enum class Op : std::uint8_t {
    True, False,
    Equal, NotEqual, Less, LessEq, Greater, GreaterEq,  // numeric slot vs `num`, or string slot vs `sym`
    IsMissing, IsNotMissing,
    In, NotIn,
    And, Or, Xor, Surrogate,
  };
  Op op = Op::True;
  bool string_compare = false;  // compare symbols/texts instead of numbers
  std::int32_t slot = -1;
  double num = 0.0;
  std::int32_t sym = -1;
  std::int32_t begin = 0, end = 0;  // In/NotIn: range in set_nums/set_syms; compounds: range in children
};

// ----- predictions --------------------------------------------------------------------------------------

/// What one model produced for the current record. Reused across records: no allocation after warm-up.
struct Prediction {
  bool valid = false;          // false: no prediction (missing)
  Val value;                   // predicted value (after Targets)
  std::int32_t label = -1;     // classification: index of the predicted class in the model's classes
  bool has_probabilities = false;
  bool has_confidences = false;
  std::vector<double> probabilities;  // aligned with the model's classes
  std::vector<double> confidences;
  std::int32_t node = -1;      // TreeModel: the selected node
  std::int32_t entity = -1;    // symbol of the entity id (tree node id, winning segment id), -1 none
  double affinity = std::numeric_limits<double>::quiet_NaN();
  // Working space of the model that owns this prediction (a nested ensemble must not share it).
  std::vector<double> work, work2, features;
  std::vector<std::pair<double, double>> pairs;
  std::vector<std::int32_t> items, results;

  void reset(std::size_t classes) {
    valid = false;
    value = Val::missing();
    label = -1;
    has_probabilities = has_confidences = false;
    if (probabilities.size() != classes) {
      probabilities.assign(classes, 0.0);
      confidences.assign(classes, 0.0);
    } else if (classes) {
      std::fill(probabilities.begin(), probabilities.end(), 0.0);
      std::fill(confidences.begin(), confidences.end(), 0.0);
    }
    node = -1;
    entity = -1;
    affinity = std::numeric_limits<double>::quiet_NaN();
  }
};

/// Targets post-processing of a regression value, and defaults of a model with no prediction.
struct TargetSpec {
  std::optional<double> min, max;
  double factor = 1.0, constant = 0.0;
  enum class Cast : std::uint8_t { None, Round, Ceiling, Floor } cast = Cast::None;
  std::optional<double> default_value;          // regression: TargetValue@defaultValue
  std::vector<double> priors;                   // classification: priorProbability per class (empty: none)
  std::vector<std::int32_t> display;            // per class: display value symbol or -1
  bool identity() const { return !min && !max && factor == 1.0 && constant == 0.0 && cast == Cast::None; }
};

struct OutputSpec {
  std::int32_t slot = -1;
  enum class Feature : std::uint8_t {
    PredictedValue, PredictedDisplayValue, Probability, Confidence, Affinity, EntityId, TransformedValue
  };
  Feature feature = Feature::PredictedValue;
  std::int32_t class_index = -1;  // Probability/Confidence with a value: the class; -1 = of the predicted class
  bool class_unknown = false;      // the value names no class of the model: result 0 / missing
  std::int32_t expression = -1;
  std::int32_t source_model = -1;  // the model whose prediction this reads (segmentId / targetField)
  bool cast = false;
  DataType type = DataType::Double;
  bool is_final = true;
  std::string name;
};

class ModelEval {
 public:
  virtual ~ModelEval() = default;
  /// Computes the prediction of this model for the frame's record into frame.predictions[id].
  virtual void predict(Frame& frame, Prediction& out) const = 0;

  std::int32_t id = -1;
  MiningFunction function = MiningFunction::Regression;
  bool float_math = false;
  std::vector<Val> classes;        // classification: the class values, typed like the target
  DataType target_type = DataType::Double;
  TargetSpec target;
  std::vector<OutputSpec> outputs;
  std::string element, path;

  /// The flattened trees of a MiningModel whose segments are all plain trees, or of a single TreeModel
  /// (see ensemble_kernel.hpp); null otherwise.
  std::shared_ptr<EnsembleKernel> kernel;
  std::int32_t kernel_index = -1;  // index into Program::kernel_models and Frame::precomputed
  /// The kernel's features depend on inputs only (no model output), so a batch may walk its trees ahead of
  /// evaluating the rest of the record.
  bool kernel_ahead = false;

  /// predict(), then finish(), then this model's OutputFields into their slots.
  void evaluate(Frame& frame) const;
  /// After predict(): Targets (rescaling, casting, defaults, priors) and the predicted class's value.
  void finish(Prediction& p) const;
  /// This model's OutputFields from its finished prediction `p`, into their slots.
  void write_outputs(Frame& frame, const Prediction& p) const;
  /// The kernel's tree results for this record: walked ahead by a batch, or here (and kept for the record).
  const std::int32_t* kernel_results(Frame& f, Prediction& out) const;
  /// The kernel's sums for this record (EnsembleKernel::sum_results of kernel_results), straight from the
  /// leaves' terms when no results were walked ahead and the kernel sums_rows(); false as sum_results.
  bool kernel_sums(Frame& f, Prediction& out, double* sums) const;
  std::int32_t class_of(const Val& v, const Frame& frame) const;
};

struct Program {
  StringTable strings;
  std::vector<Slot> slots;
  std::vector<InputSpec> inputs;       // active inputs of the whole document (top-level first)
  std::vector<std::int32_t> spec_of_slot;  // per slot: its index into `inputs`, or -1
  std::vector<Expr> expressions;
  std::vector<Function> functions;
  std::vector<Pred> predicates;
  std::vector<double> set_nums;        // sorted per predicate range
  std::vector<std::int32_t> set_syms;  // sorted per predicate range
  std::vector<std::int32_t> pred_children;
  std::vector<std::unique_ptr<ModelEval>> models;  // models[0] is the top-level model
  std::vector<std::int32_t> kernel_models;          // MiningModels with an ensemble kernel (index = kernel index)
  std::size_t max_classes = 0;

  const ModelEval& top() const { return *models.front(); }
};

// ----- per-record state ---------------------------------------------------------------------------------

struct Frame {
  explicit Frame(const Program& p);
  /// Clears the record state; call before preparing each record.
  void reset();

  const Program& program;
  std::vector<Val> slots;
  std::vector<std::uint8_t> state;  // per slot: 0 not computed, 1 computing, 2 ready
  std::vector<std::string> scratch;
  std::vector<Prediction> predictions;
  std::vector<Val> call_stack;      // DefineFunction arguments
  std::size_t call_base = 0;        // where the innermost call's arguments start
  std::vector<std::vector<Val>> wide_args;  // per Apply nesting depth: arguments past the inline ones
  std::size_t wide_depth = 0;
  /// Per kernel model: tree results computed ahead for this record by a block walk, or null.
  std::vector<const std::int32_t*> precomputed;
  /// Per kernel model with a summing kernel: the sums of its trees computed ahead (sum_width of them), or
  /// NaN first.
  std::vector<std::vector<double>> precomputed_sums;
  /// The top RegressionModel's table sums for this record, computed ahead for a block of rows; or null.
  const double* precomputed_linear = nullptr;
  /// A numeric batch's row whose plain inputs are prepared on first use (get), when the batch path left
  /// them (they cannot fail: a plain number that is not NaN). Null data otherwise.
  struct LazyRow {
    const void* data = nullptr;
    bool is_float = false;
    std::size_t base = 0, stride = 1;           // cell of column c: base + c * stride
    const std::ptrdiff_t* column_of_spec = nullptr;
    /// The raw number of input spec `spec` in this row (NaN without a column).
    double cell(std::int32_t spec) const {
      const std::ptrdiff_t col = column_of_spec[spec];
      if (col < 0) return std::numeric_limits<double>::quiet_NaN();
      const std::size_t at = base + std::size_t(col) * stride;
      return is_float ? double(static_cast<const float*>(data)[at]) : static_cast<const double*>(data)[at];
    }
  };
  LazyRow lazy;
  std::size_t row = 0;
  /// ChainTail's working space: the RegressionModel's table sums, and the values of the OutputFields it sets.
  std::vector<double> tail_tables;
  std::vector<Val> tail_values;

  /// The text of a string value (or of any value, formatted).
  std::string_view text(const Val& v) const;
  /// A string value for `text`: the table symbol when the document knows the text, else a scratch symbol.
  Val make_string(std::string_view text);
  /// The value of a slot, computing a derived field on first use.
  const Val& get(std::int32_t slot);
  /// Sets a slot and marks it ready.
  void set(std::int32_t slot, const Val& v) {
    slots[std::size_t(slot)] = v;
    state[std::size_t(slot)] = 2;
  }
};

// Helpers shared by the evaluator rooms.
bool same_value(const Frame& f, const Val& a, const Val& b);
/// Converts to `type` as the reference does (parse strings, round floats, check integers); missing on failure.
Val cast(Frame& f, const Val& v, DataType type, bool& ok);
std::string format_number(double v, DataType type);
Val evaluate_expression(Frame& f, std::int32_t expr);
/// Targets post-processing of a regression value: clamp, rescale (in float32 under float math), castInteger.
double apply_targets(const TargetSpec& t, double y, bool float_math);
/// A Probability or Confidence OutputField's value: `values` (aligned with the classes) at the field's class,
/// or at the predicted class; missing without a prediction or without `present` values.
Val class_output(const OutputSpec& o, const Prediction& src, const std::vector<double>& values, bool present,
                 bool float_math);
Truth evaluate_predicate(Frame& f, std::int32_t pred, bool* used_surrogate = nullptr);

}  // namespace pmmlrt::eval
