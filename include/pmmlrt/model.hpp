#pragma once
/// \file model.hpp
/// pmmlrt::Model: a loaded, compiled, immutable PMML model, and what scoring returns.
///
/// A Model is cheap to copy (it shares one compiled form) and safe to score from many threads at once.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmlrt/error.hpp"
#include "pmmlrt/value.hpp"

namespace pmmlrt {
inline namespace v0 {

/// How the leaf values of tree models are stored once compiled (LoadOptions::leaf_precision).
enum class LeafPrecision {
  Exact,  ///< As the document writes them (double, or float for x-mathContext="float"). The default.
  Half,   ///< Rounded to IEEE 754 binary16 (opt-in; results then differ from the reference's).
};

/// Resource limits and switches applied while loading. The defaults admit every real model we know of and
/// refuse documents built to exhaust memory or stack.
struct LoadOptions {
  std::size_t max_document_bytes = std::size_t(1) << 30;  ///< Largest document accepted (1 GiB).
  std::size_t max_element_depth = 512;                    ///< Deepest XML element nesting.
  std::size_t max_tree_depth = 100000;                    ///< Deepest TreeModel node path.
  std::size_t max_nodes = 50'000'000;                     ///< Tree nodes in the whole document.
  std::size_t max_segments = 1'000'000;                   ///< Segments in the whole document.
  std::size_t max_fields = 1'000'000;                     ///< Data, derived and output fields together.
  std::size_t max_categories = 10'000'000;                ///< Value elements in the whole document.
  std::size_t max_derivation_depth = 500;  ///< Longest chain of derived fields (or of nested function calls).
  /// Score tree ensembles through the flattened kernel when they qualify (default). Off forces the generic
  /// walk; both give identical results, and the test suite checks that they do.
  bool ensemble_kernel = true;
  /// Opt-in reduced precision, never on by default. With Half, every numeric value a TreeModel node carries
  /// into a result is rounded to the nearest IEEE binary16 value (ties to even) once, at load: the numeric
  /// Node score of a regression tree and the ScoreDistribution probability and confidence attributes of a
  /// classification tree (rounded probabilities that no longer sum to 1 are normalised, as any such
  /// distribution is). Record counts (Node and ScoreDistribution recordCount, and the probabilities computed
  /// from them), split thresholds, node-level Regression models, segment weights, Targets and every other
  /// model type stay exact, and so does the arithmetic that combines the rounded values. Every scoring
  /// path (generic walk, ensemble kernel, records, batches, score_into, every SIMD level) sees the same
  /// rounded values and so gives identical results in Half mode; each leaf value moves by at most 2^-11 of
  /// itself (2^-25 absolute below 2^-14), so results differ from the reference's (benchmarks/README.md,
  /// "Reduced precision", has the measured differences on the conformance models). A finite leaf value whose magnitude rounds beyond the
  /// binary16 range (65504) makes the load throw Error(Usage): Half cannot represent that model, and clamping
  /// or infinity would change its results by far more than a rounding.
  LeafPrecision leaf_precision = LeafPrecision::Exact;
  /// Expected SHA-256 of the document as 64 hex digits (any case); empty means "do not check". A mismatch
  /// throws Error(Io) before parsing; a malformed digest throws Error(Usage).
  std::string expected_sha256;
  /// Threads that read a forest's Segments while loading, and parse its trees' numbers while compiling:
  /// 1 = the calling thread only, 0 = the hardware's concurrency. They are started for the load and joined
  /// before it returns. The model, and any error (the first one in document order, as a one-thread load
  /// reports it), are the same whatever the count.
  std::size_t threads = 1;
};

/// PMML functionName.
enum class MiningFunction { Regression, Classification };
/// "regression" or "classification".
std::string_view to_string(MiningFunction function) noexcept;

/// PMML MiningField@usageType.
enum class FieldUsage { Active, Target, Supplementary, Group, Order, FrequencyWeight, AnalysisWeight };
/// The PMML usageType name ("active", "target", ...).
std::string_view to_string(FieldUsage usage) noexcept;

/// One field of the model's schema.
struct FieldInfo {
  std::string name;                 ///< Field name as declared in the DataDictionary.
  DataType data_type = DataType::Double;
  OpType op_type = OpType::Continuous;
  FieldUsage usage = FieldUsage::Active;
  std::vector<std::string> values;  ///< Valid categories in declaration order (empty for continuous fields).
                                    ///< For string fields in numeric batches, a category's code is its index here.
};

/// One OutputField of the top-level model (including those that surface from nested segments).
struct OutputInfo {
  std::string name;
  std::string feature;              ///< PMML feature: "predictedValue", "probability", ...
  std::string value;                ///< The `value` attribute (e.g. the class of a probability), or empty.
  DataType data_type = DataType::Double;
  bool is_final_result = true;      ///< False for intermediate fields (isFinalResult="false").
};

/// A record to score: field name -> value. Absent names are missing values.
using Record = std::map<std::string, Value, std::less<>>;

/// Where Model::score_into writes one record's results. Any pointer may be null: that part is not written.
struct RecordOutput {
  double* predicted = nullptr;      ///< The predicted value; the class index for classification; NaN when none.
  double* probabilities = nullptr;  ///< class_labels().size() values in class order; NaN when no distribution.
  double* outputs = nullptr;        ///< output_fields().size() values in order; NaN for missing or non-numeric
                                    ///< values (booleans are 1 and 0).
};

/// A value with its name, as results list them.
struct NamedValue {
  std::string name;
  Value value;
};

/// The outcome of scoring one record.
class Result {
 public:
  /// The predicted value of the model's target (after Targets post-processing): a category for
  /// classification, a number for regression; missing when the model gives no prediction.
  const Value& predicted() const noexcept;
  /// Every target with its predicted value (one for nearly all models).
  const std::vector<NamedValue>& targets() const noexcept { return targets_; }
  /// Class labels of a classification model, in the model's order (empty for regression).
  const std::vector<std::string>& classes() const noexcept;
  /// Probability per class, aligned with classes(); empty when the model gave no distribution.
  const std::vector<double>& probabilities() const noexcept { return probabilities_; }
  /// Confidence per class where the model defines confidences (TreeModel ScoreDistribution), else empty.
  const std::vector<double>& confidences() const noexcept { return confidences_; }
  /// The probability of one class; nullopt for an unknown label or when there is no distribution.
  std::optional<double> probability(std::string_view label) const;
  /// The confidence of one class; nullopt when unknown.
  std::optional<double> confidence(std::string_view label) const;
  /// The value of an OutputField by name, or nullptr if the model has no such output.
  const Value* output(std::string_view name) const;
  /// Every OutputField in the model's order (nested segment outputs first, as JPMML-Evaluator lists them).
  const std::vector<NamedValue>& outputs() const noexcept { return outputs_; }

 private:
  friend class Model;
  std::vector<NamedValue> targets_;
  std::shared_ptr<const std::vector<std::string>> classes_;
  std::vector<double> probabilities_;
  std::vector<double> confidences_;
  std::vector<NamedValue> outputs_;
};

/// Storage order of a numeric batch matrix.
enum class Layout { RowMajor, ColumnMajor };

/// What a batch does with a row that cannot be scored (invalid input, undefined result).
enum class RowErrorPolicy {
  Throw,   ///< Throw the row's error (InputError / EvaluationError naming the row). The default.
  Record,  ///< Give that row missing results and keep its message in BatchResult::errors().
};

/// Switches for batch scoring.
struct BatchOptions {
  RowErrorPolicy on_error = RowErrorPolicy::Throw;
  /// Threads that score the batch: 1 (the default) scores on the calling thread only; n > 1 splits the rows
  /// into up to n contiguous ranges (at least 256 rows each), the calling thread taking the first; 0 means
  /// one per hardware thread. Results are identical for every thread count. A single record never spawns.
  std::size_t threads = 1;
};

class BatchResult;

/// The outcome of Model::verify(): the document's own ModelVerification records scored and compared.
struct VerificationReport {
  std::size_t records = 0;            ///< Records in the ModelVerification (0: the document has none).
  std::size_t values_checked = 0;     ///< Expected results compared.
  std::vector<std::string> failures;  ///< One message per mismatch or per record that failed to score.
  /// True when every expected value matched (also when there was nothing to check).
  bool ok() const noexcept { return failures.empty(); }
};

/// A loaded PMML model.
class Model {
 public:
  /// Loads and compiles the PMML document at `path`. Throws ParseError, UnsupportedError, ModelError,
  /// LimitError, or Error(Io).
  static Model load_file(const std::filesystem::path& path, const LoadOptions& options = {});
  /// Loads and compiles a PMML document held in a string.
  static Model load_string(std::string_view document, const LoadOptions& options = {});
  /// Loads and compiles a PMML document held in memory (`size` bytes at `data`).
  static Model load_memory(const void* data, std::size_t size, const LoadOptions& options = {});

  /// Classification or regression.
  MiningFunction function() const noexcept;
  /// The element name of the top-level model ("TreeModel", "MiningModel", ...).
  const std::string& model_type() const noexcept;
  /// The PMML version of the document ("4.4").
  const std::string& pmml_version() const noexcept;
  /// The active input fields in MiningSchema order: what a record or a batch must provide.
  const std::vector<FieldInfo>& input_fields() const noexcept;
  /// The target fields (usually one).
  const std::vector<FieldInfo>& target_fields() const noexcept;
  /// The OutputFields of the top-level model, nested ones that surface included.
  const std::vector<OutputInfo>& output_fields() const noexcept;
  /// Class labels of a classification model in the model's order; empty for regression.
  const std::vector<std::string>& class_labels() const noexcept;

  /// Scores the sample records of the document's ModelVerification and compares them with the expected
  /// results within each field's precision (relative) and zeroThreshold, as the reference does. A cheap
  /// self-check after loading: a model whose exporter and evaluator disagree shows up here.
  VerificationReport verify() const;

  /// Scores one record. Throws InputError or EvaluationError.
  Result score(const Record& record) const;

  /// The latency path: scores one record of `n_inputs` numbers in input_fields() order (NaN = missing; a
  /// string-typed field takes its category code, as in numeric batches) straight into caller memory. Once
  /// the model has scored a record this way on a thread, further calls allocate nothing on the heap.
  /// Throws Error(Usage) when n_inputs != input_fields().size(), else InputError or EvaluationError.
  void score_into(const double* inputs, std::size_t n_inputs, const RecordOutput& out) const;

  /// Scores a batch held in a numeric matrix of `rows` x `cols` doubles in caller memory (not copied).
  /// `columns` names the matrix columns; empty means input_fields() order; extra named columns are ignored
  /// and inputs without a column are missing. NaN is a missing value. A string-typed field's cell holds its
  /// category code (the index into FieldInfo::values); numeric fields, categorical or not, take the number
  /// itself. Throws Error(Usage) for mismatched shapes, and per-row errors as BatchOptions says.
  BatchResult score(const double* data, std::size_t rows, std::size_t cols, Layout layout,
                    const std::vector<std::string>& columns = {}, const BatchOptions& options = {}) const;
  /// The same for float32 matrices (each cell is widened to double exactly).
  BatchResult score(const float* data, std::size_t rows, std::size_t cols, Layout layout,
                    const std::vector<std::string>& columns = {}, const BatchOptions& options = {}) const;
  /// Scores a batch given as columns of Values (strings, numbers or missing), each `rows` long,
  /// named by `columns`. Use it for string categoricals.
  BatchResult score(const std::vector<std::string>& columns, const std::vector<std::vector<Value>>& cells,
                    const BatchOptions& options = {}) const;

  struct Impl;  ///< Opaque compiled model.

 private:
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace v0
}  // namespace pmmlrt
