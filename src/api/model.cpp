// The C++ API over the compiled Program: loading, introspection, and scoring records and batches.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <fmt/format.h>

#include "api/sha256.hpp"
#include "compile/compiler.hpp"
#include "eval/chain_tail.hpp"
#include "eval/input.hpp"
#include "eval/linear_kernel.hpp"
#include "eval/models.hpp"
#include "eval/program.hpp"
#include "pmml/loader.hpp"
#include "pmml/numbers.hpp"
#include "pmmlrt/batch.hpp"

namespace pmmlrt {
inline namespace v0 {

struct Model::Impl {
  std::unique_ptr<compile::Compiled> compiled;
  std::shared_ptr<const std::vector<std::string>> classes;
  std::vector<std::ptrdiff_t> field_of_spec;  // per program input spec: the input field that feeds it, or -1
  std::vector<std::size_t> specs_by_name;     // program input specs in name order (a Record's order)
  std::vector<std::string> sorted_names;      // per entry of specs_by_name: its name, side by side for the merge
  /// Per spec: a plain number whose preparation cannot fail, so that a Record's number (or its absence)
  /// may be prepared on first use.
  std::vector<std::uint8_t> lazy_when_number;

  /// The linear fast path of numeric batches: a top-level RegressionModel whose tables are sums of plain
  /// numeric inputs times coefficients. Its table sums are computed for eight rows at a time, in each
  /// table's own order (products, then the intercept), exactly as RegressionTableEval adds them; the
  /// inputs are then prepared only if something else reads them.
  struct LinearPlan {
    struct Table {
      double intercept = 0.0;
      std::vector<std::int32_t> specs;
      std::vector<double> coefficients;
      std::vector<std::ptrdiff_t> fields;  // per term: its input field (its place in a score_into span)
      std::vector<std::ptrdiff_t> record_positions;  // per term: its spec (its place in a Record's values)
      /// Per term: the number a missing cell stands for (its field's numeric missingValueReplacement), or
      /// NaN when a missing cell leaves the record to the generic path (no replacement, or returnInvalid).
      std::vector<double> missing_values;
      bool has_missing_values = false;  // some term has a replacement (the vector kernel then blends it in)
      bool has_float_terms = false;     // some term's input is a float field (its cell is rounded first)
      /// Where `fields` and `record_positions` run on one by one from their first (term i at first + i), so
      /// that a record's terms are one contiguous run of cells; -1 when they do not.
      std::ptrdiff_t fields_run = -1, record_run = -1;
      /// acc += c * x over the terms from 0, then the intercept, as RegressionTableEval adds them; `x` holds
      /// a term's cell at position[i] (a field index for score_into, a spec index for a Record), and `run`
      /// is fields_run or record_run for that `position`.
      double sum_row(const double* x, const std::vector<std::uint8_t>& to_float,
                     const std::vector<std::ptrdiff_t>& position, std::ptrdiff_t run) const;
    };
    std::vector<Table> tables;
    std::vector<bool> float_spec;  // per spec: a float field (the cell is rounded to float first)
    std::vector<std::vector<std::uint8_t>> float_term;  // per table, per term: float_spec of its input
    bool has_fields = false;       // every term's input is a top-level input field (score_into can use it)

    /// The table sums of one record whose cells are in `x` (see Table::sum_row), into `sums`; false when one
    /// is NaN (a missing cell without a replacement, or NaN from the arithmetic): the generic path decides.
    bool sum_row(const double* x, bool by_field, double* sums) const;
  };
  std::unique_ptr<LinearPlan> linear;
  /// A boosted classifier's chain after the kernel sums, scored without a Frame in batches; per compiled
  /// output, the f.tail_values entry (in ChainTail::set_slots() order) it reads (-1: missing).
  std::unique_ptr<eval::ChainTail> tail;
  std::vector<std::int32_t> tail_output;
  /// The linear fast path's top RegressionModel scored from its table sums without a Frame (batches whose
  /// inputs cannot fail their preparation); per compiled output, the tail_values entry it reads.
  std::unique_ptr<eval::LinearTail> linear_tail;
  std::vector<std::int32_t> linear_tail_output;
  /// A top TreeModel scored from its kernel's result in numeric batches whose inputs the kernel reads as
  /// they are (direct_specs), without a Frame; per compiled output, the tail_values entry it reads.
  std::unique_ptr<eval::TreeTail> tree_tail;
  std::vector<std::int32_t> tree_tail_output;
  /// Numeric batches may skip the Frame: every input is a plain number whose NaN is just missing, and the
  /// tail's kernels read them as they are (EnsembleKernel::direct_specs).
  bool direct_tail = false;
  /// A direct tail whose chain is plain (ChainTail::plain): its rows go from the sums straight into the
  /// batch columns. Per class of the top model, the tag and number put() stores for it as the predicted value.
  bool plain_tail = false;
  std::vector<std::uint8_t> plain_label_tag;
  std::vector<double> plain_label_number;
  std::vector<std::uint8_t> plain_output_tag;  // per compiled output: its tag from the chain's numbers, 0: missing
  /// Sets plain_label_* and plain_output_tag; false when a class is a string put() would spill.
  static bool plan_plain(Impl& impl);
  /// Program input specs, in program order, whose preparation may throw (eval::preparation_may_fail): a
  /// numeric row prepares these before evaluating and leaves every other input to its first use. Decided
  /// per field once, so a row pays nothing for the inputs whose MiningSchema treatment cannot fail.
  std::vector<std::size_t> eager_specs;
  std::vector<std::ptrdiff_t> spec_identity;  // 0, 1, ...: the lazy columns of a Record's values laid out by spec

  // Frames are reused across calls; a model is shared between threads, so the pool is locked briefly.
  mutable std::mutex pool_mutex;
  mutable std::vector<std::unique_ptr<eval::Frame>> pool;

  std::unique_ptr<eval::Frame> acquire() const {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!pool.empty()) {
        auto f = std::move(pool.back());
        pool.pop_back();
        return f;
      }
    }
    return std::make_unique<eval::Frame>(compiled->program);
  }
  void release(std::unique_ptr<eval::Frame> f) const {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.size() < 64) pool.push_back(std::move(f));
  }

  template <class Fill>
  static BatchResult score_rows(const Impl& impl, std::size_t rows, const BatchOptions& options, Fill& fill);
  /// Per column (the predicted value, then each output): the rows of a range whose value is a string that
  /// is no class label, ascending. Kept per range, since ranges run on threads; merged in row order after.
  using StringSpill = std::vector<std::vector<std::pair<std::size_t, Value>>>;
  /// Scores rows [first, last) into `out` (allocated for all rows) on the calling thread.
  template <class Fill>
  static void score_range(const Impl& impl, std::size_t first, std::size_t last, const BatchOptions& options,
                          BatchResult& out, StringSpill& spill, Fill& fill);
  /// Stores one value of a batch column: numbers, booleans and class labels in place, other strings spilled.
  static void put(BatchResult::Column& column, std::size_t row, const eval::Frame& f, const eval::Val& v,
                  std::int32_t label_hint, const std::vector<std::string>& classes,
                  std::vector<std::pair<std::size_t, Value>>& spill);
};

double Model::Impl::LinearPlan::Table::sum_row(const double* x, const std::vector<std::uint8_t>& to_float,
                                               const std::vector<std::ptrdiff_t>& position, std::ptrdiff_t run) const {
  double acc = 0.0;
  const std::size_t n = coefficients.size();
  if (run >= 0 && !has_float_terms) {
    // A single record is bound by the sum's chain of dependent additions, which must stay in term order
    // to give the reference's rounding; the loop below adds a test, a branch and an indirect load per term.
    // A NaN cell makes the sum NaN, and then the term-by-term loop decides (replacements), as does a NaN
    // product (infinity times zero), which that loop gives too.
    const double* cells = x + run;
    for (std::size_t i = 0; i < n; ++i) acc += coefficients[i] * cells[i];
    if (acc == acc) {
      if (intercept != 0.0) acc += intercept;
      return acc;
    }
    acc = 0.0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    double v = x[position[i]];
    if (v != v) v = missing_values[i];  // the prepared replacement, taken as it is
    else if (to_float[i]) v = double(float(v));
    acc += coefficients[i] * v;
  }
  if (intercept != 0.0) acc += intercept;
  return acc;
}

bool Model::Impl::LinearPlan::sum_row(const double* x, bool by_field, double* sums) const {
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const Table& table = tables[t];
    sums[t] = by_field ? table.sum_row(x, float_term[t], table.fields, table.fields_run)
                       : table.sum_row(x, float_term[t], table.record_positions, table.record_run);
    if (sums[t] != sums[t]) return false;
  }
  return true;
}

bool Model::Impl::plan_plain(Model::Impl& impl) {
  using Column = BatchResult::Column;
  const auto& prog = impl.compiled->program;
  const auto& labels = *impl.classes;
  for (std::size_t c = 0; c < prog.top().classes.size(); ++c) {
    const eval::Val& v = prog.top().classes[c];
    std::uint8_t tag = Column::kMissing;
    double number = 0.0;
    switch (v.kind) {
      case eval::Kind::Missing: break;
      case eval::Kind::Number:
        tag = std::uint8_t(Column::kNumber + std::uint8_t(v.type));
        number = v.num;
        break;
      case eval::Kind::Boolean:
        tag = Column::kBoolean;
        number = v.num != 0 ? 1.0 : 0.0;
        break;
      case eval::Kind::String: {
        // As put() finds it: the class's own index when its text is there, else the first label of that text.
        const std::string& text = prog.strings.text(v.sym);
        std::size_t match = labels.size();
        if (c < labels.size() && labels[c] == text) match = c;
        else if (labels.size() <= 16) match = std::size_t(std::find(labels.begin(), labels.end(), text) - labels.begin());
        if (match >= labels.size()) return false;
        tag = Column::kLabel;
        number = double(match);
        break;
      }
    }
    impl.plain_label_tag.push_back(tag);
    impl.plain_label_number.push_back(number);
  }
  for (auto entry : impl.tail_output)
    impl.plain_output_tag.push_back(
        entry < 0 ? std::uint8_t(Column::kMissing)
                  : std::uint8_t(Column::kNumber + std::uint8_t(impl.tail->plain_types()[std::size_t(entry)])));
  return true;
}

namespace {

Value to_value(const eval::Frame& f, const eval::Val& v) {
  switch (v.kind) {
    case eval::Kind::Missing: return Value();
    case eval::Kind::Number: return Value(v.num, v.type);
    case eval::Kind::Boolean: return Value::boolean(v.num != 0);
    case eval::Kind::String: return Value(std::string(f.text(v)));
  }
  return Value();
}

/// Borrows a frame for one call and returns it to the pool, also when scoring throws.
class FrameLease {
 public:
  explicit FrameLease(const Model::Impl& impl) : impl_(impl), frame_(impl.acquire()) {}
  ~FrameLease() { impl_.release(std::move(frame_)); }
  eval::Frame& operator*() { return *frame_; }

 private:
  const Model::Impl& impl_;
  std::unique_ptr<eval::Frame> frame_;
};

/// A file's bytes and a NUL after them, read with one read into a buffer that is not zeroed first. The
/// file is read, not mapped: a file truncated by another process during a load would make a mapping raise
/// SIGBUS in the host, where a read only fails with an error.
struct FileBytes {
  std::unique_ptr<char[]> bytes;
  std::size_t length = 0;
  char* data() const { return bytes.get(); }
  std::size_t size() const { return length; }
};

FileBytes read_file(const std::filesystem::path& path, std::size_t limit) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("cannot read \"{}\": {}", path.string(), ec.message()));
  if (size > limit)
    throw LimitError(fmt::format("\"{}\" is {} bytes, over the limit of {} bytes (max_document_bytes)", path.string(), size,
                                 limit));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, fmt::format("cannot open \"{}\"", path.string()));
  std::unique_ptr<char[]> data(new char[std::size_t(size) + 1]);
  in.read(data.get(), std::streamsize(size));
  if (!in) throw Error(ErrorKind::Io, fmt::format("cannot read \"{}\"", path.string()));
  data[std::size_t(size)] = '\0';
  return FileBytes{std::move(data), std::size_t(size)};
}

void check_sha256(std::string_view bytes, const LoadOptions& options) {
  if (options.expected_sha256.empty()) return;
  std::string want = options.expected_sha256;
  for (auto& c : want) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (want.size() != 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error(ErrorKind::Usage, "LoadOptions::expected_sha256 must be 64 hexadecimal digits");
  std::string got = detail::sha256_hex(bytes);
  if (got != want)
    throw Error(ErrorKind::Io, fmt::format("the document's SHA-256 is {}, not the expected {}: refusing a changed or "
                                           "truncated model", got, want));
}

/// The number a missing value of a plain input becomes once prepared (its numeric missingValueReplacement),
/// or NaN when the generic path must decide (no replacement: the table has no sum; returnInvalid: an error).
double missing_value_of(const eval::InputSpec& s) {
  if (s.missing_is_error || !s.missing_replacement || s.missing_replacement->kind != eval::Kind::Number)
    return std::nan("");
  return s.missing_replacement->num;
}

std::unique_ptr<Model::Impl::LinearPlan> linear_plan(const eval::Program& prog,
                                                     const std::vector<std::ptrdiff_t>& field_of_spec) {
  const auto* top = dynamic_cast<const eval::RegressionEval*>(&prog.top());
  if (!top || top->float_math || top->tables.empty()) return nullptr;
  auto plan = std::make_unique<Model::Impl::LinearPlan>();
  plan->float_spec.resize(prog.inputs.size());
  for (std::size_t s = 0; s < prog.inputs.size(); ++s) plan->float_spec[s] = prog.inputs[s].type == DataType::Float;
  std::size_t products = 0;
  for (const auto& t : top->tables) {
    if (!t.categorical.empty() || !t.terms.empty()) return nullptr;
    Model::Impl::LinearPlan::Table table;
    table.intercept = t.intercept;
    for (const auto& p : t.numeric) {
      const auto slot = std::size_t(p.slot);
      const std::int32_t spec = slot < prog.spec_of_slot.size() ? prog.spec_of_slot[slot] : -1;
      if (p.exponent != 1 || spec < 0 || !prog.inputs[std::size_t(spec)].plain_number) return nullptr;
      table.specs.push_back(spec);
      table.coefficients.push_back(p.coefficient);
      table.fields.push_back(field_of_spec[std::size_t(spec)]);
      table.record_positions.push_back(spec);
      table.missing_values.push_back(missing_value_of(prog.inputs[std::size_t(spec)]));
      table.has_missing_values = table.has_missing_values || !std::isnan(table.missing_values.back());
    }
    products += table.specs.size();
    std::vector<std::uint8_t> float_term;
    for (auto spec : table.specs) float_term.push_back(plan->float_spec[std::size_t(spec)]);
    for (auto f : float_term) table.has_float_terms = table.has_float_terms || f;
    auto run_of = [](const std::vector<std::ptrdiff_t>& position) -> std::ptrdiff_t {
      for (std::size_t i = 0; i < position.size(); ++i)
        if (position[0] < 0 || position[i] != position[0] + std::ptrdiff_t(i)) return -1;
      return position.empty() ? -1 : position[0];
    };
    table.fields_run = run_of(table.fields);
    table.record_run = run_of(table.record_positions);
    plan->tables.push_back(std::move(table));
    plan->float_term.push_back(std::move(float_term));
  }
  if (products < 8) return nullptr;  // too small to be worth the block pass
  plan->has_fields = true;
  for (const auto& t : plan->tables)
    for (auto field : t.fields) plan->has_fields = plan->has_fields && field >= 0;
  return plan;
}

std::shared_ptr<const Model::Impl> compile_model(ir::Document doc, const LoadOptions& options) {
  auto impl = std::make_shared<Model::Impl>();
  impl->compiled = compile::compile_document(std::move(doc), options);
  impl->classes = std::make_shared<const std::vector<std::string>>(impl->compiled->class_labels);
  impl->field_of_spec.assign(impl->compiled->program.inputs.size(), -1);
  for (std::size_t i = 0; i < impl->compiled->inputs.size(); ++i)
    impl->field_of_spec[std::size_t(impl->compiled->input_spec_of_field[i])] = std::ptrdiff_t(i);
  impl->linear = linear_plan(impl->compiled->program, impl->field_of_spec);
  const char* tail_switch = std::getenv("PMMLRT_CHAIN_TAIL");  // "generic": every record the generic way
  if (!tail_switch || std::string_view(tail_switch) != "generic") impl->tail = eval::ChainTail::plan(impl->compiled->program);
  // Per compiled output: the entry of a tail's values (in the order of its set slots) that holds it, or -1.
  auto outputs_in = [&](const std::vector<std::int32_t>& set) {
    std::vector<std::int32_t> where;
    for (const auto& o : impl->compiled->outputs) {
      std::int32_t at = -1;
      for (auto slot : o.slots) {
        auto it = std::find(set.begin(), set.end(), slot);
        if (it != set.end()) {
          at = std::int32_t(it - set.begin());
          break;
        }
      }
      where.push_back(at);
    }
    return where;
  };
  const auto& prog = impl->compiled->program;
  // Every input a plain number whose NaN is just missing: nothing in its preparation can fail or differ.
  const bool plain_inputs = std::all_of(prog.inputs.begin(), prog.inputs.end(), [](const eval::InputSpec& s) {
    return s.plain_number && !s.missing_replacement && !s.missing_is_error;
  });
  // A kernel that reads every feature straight from a batch row (EnsembleKernel::direct_specs).
  auto reads_directly = [](const eval::EnsembleKernel& k) {
    return !k.direct_specs.empty() && k.direct_specs.size() == k.feature_slots.size();
  };
  if (plain_inputs && (!tail_switch || std::string_view(tail_switch) != "generic"))
    impl->tree_tail = eval::TreeTail::plan(prog);
  if (impl->tree_tail && !reads_directly(impl->tree_tail->kernel())) impl->tree_tail.reset();
  if (impl->tree_tail) impl->tree_tail_output = outputs_in(impl->tree_tail->set_slots());
  if (impl->tail) {
    impl->tail_output = outputs_in(impl->tail->set_slots());
    impl->direct_tail = plain_inputs;
    for (auto k : impl->tail->kernels()) {
      const auto& kernel = *prog.models[std::size_t(prog.kernel_models[std::size_t(k)])]->kernel;
      impl->direct_tail = impl->direct_tail && reads_directly(kernel);
    }
    impl->plain_tail = impl->direct_tail && impl->tail->plain() && Model::Impl::plan_plain(*impl);
  }
  const auto& specs = impl->compiled->program.inputs;
  for (std::size_t s = 0; s < specs.size(); ++s) {
    if (eval::preparation_may_fail(specs[s])) impl->eager_specs.push_back(s);
    impl->spec_identity.push_back(std::ptrdiff_t(s));
  }
  // A row whose table sums are known reads no input then: with none that may fail, nothing else can throw.
  if (impl->linear && impl->eager_specs.empty() && (!tail_switch || std::string_view(tail_switch) != "generic"))
    impl->linear_tail = eval::LinearTail::plan(impl->compiled->program);
  if (impl->linear_tail) impl->linear_tail_output = outputs_in(impl->linear_tail->set_slots());
  impl->specs_by_name.resize(specs.size());
  for (std::size_t s = 0; s < specs.size(); ++s) impl->specs_by_name[s] = s;
  std::sort(impl->specs_by_name.begin(), impl->specs_by_name.end(),
            [&](std::size_t a, std::size_t b) { return specs[a].name < specs[b].name; });
  for (auto spec : impl->specs_by_name) impl->sorted_names.push_back(specs[spec].name);
  for (const auto& spec : specs) impl->lazy_when_number.push_back(spec.plain_number && !eval::preparation_may_fail(spec));
  return impl;
}

/// Prepares, in program order, the inputs of a numeric row whose preparation may throw; the others are
/// prepared on first use from the frame's lazy row (they cannot fail, so the first error is unchanged).
/// cell(spec) is the spec's number (NaN when missing).
template <class Cell>
void prepare_eager_inputs(const Model::Impl& impl, eval::Frame& f, const Cell& cell) {
  const auto& prog = impl.compiled->program;
  for (auto s : impl.eager_specs) {
    const double x = cell(s);
    if (prog.inputs[s].plain_number && !std::isnan(x)) continue;
    eval::prepare_number(f, prog.inputs[s], x);
  }
}

/// Orders names as std::string::compare does (bytes as unsigned char, then length), without a call for the
/// short names records mostly have.
int compare_names(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  constexpr std::size_t kShort = 16;
  if (n > kShort) {
    if (int c = a.compare(0, n, b.substr(0, n)); c != 0) return c;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
      if (x != y) return x < y ? -1 : 1;
    }
  }
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

void evaluate_row(const Model::Impl& impl, eval::Frame& f) {
  impl.compiled->program.top().evaluate(f);
}

/// One record: its trees walked and summed here, then the chain tail, else (or when the tail falls back)
/// the generic evaluation, which reuses the walks. True when the tail scored it (its outputs are then in
/// f.tail_values, not in the slots).
bool evaluate_record(const Model::Impl& impl, eval::Frame& f) {
  if (impl.tail && impl.tail->kernels().size() <= 16) {
    const auto& prog = impl.compiled->program;
    double sums[16];
    bool summed = true;
    for (std::size_t j = 0; j < impl.tail->kernels().size() && summed; ++j) {
      const auto k = std::size_t(impl.tail->kernels()[j]);
      const eval::ModelEval& m = *prog.models[std::size_t(prog.kernel_models[k])];
      double* s = f.precomputed_sums[k].data();
      summed = m.kernel_sums(f, f.predictions[std::size_t(m.id)], s);
      sums[j] = s[0];
    }
    if (summed && impl.tail->evaluate(sums, f, f.row)) return true;
  }
  evaluate_row(impl, f);
  return false;
}

/// The value of compiled output `o` for the record in `f`, or null when missing.
const eval::Val* output_value(const Model::Impl& impl, const eval::Frame& f, std::size_t o, bool by_tail) {
  if (by_tail) {
    const std::int32_t at = impl.tail_output[o];
    return at >= 0 ? &f.tail_values[std::size_t(at)] : nullptr;
  }
  for (auto slot : impl.compiled->outputs[o].slots)
    if (f.state[std::size_t(slot)] == 2) return &f.slots[std::size_t(slot)];
  return nullptr;
}

/// A regression tree of the direct layout scored from its inputs' numbers alone: the walk over
/// cell_of_spec(s) (NaN: missing) and the tree tail are the whole record, as in a numeric batch, into
/// f.predictions[0] and f.tail_values. False when the model is not one, or an output needs the generic path.
template <class CellOfSpec>
bool walk_tree_tail(const Model::Impl& impl, CellOfSpec&& cell_of_spec, eval::Frame& f) {
  const eval::TreeTail* tail = impl.tree_tail.get();
  if (!tail || !tail->by_leaf_value()) return false;
  const eval::EnsembleKernel& k = tail->kernel();
  constexpr std::size_t kOnStack = 64;
  if (k.features() > kOnStack) return false;
  double x[kOnStack];
  for (std::size_t i = 0; i < k.features(); ++i) {
    const double v = cell_of_spec(std::size_t(k.direct_specs[i]));
    x[i] = k.direct_float[i] ? double(static_cast<float>(v)) : v;
  }
  const auto& leaf = k.walk_direct_leaf(x);
  return tail->evaluate(leaf.no, leaf.threshold, f, 0);
}

/// Output `o` as walk_tree_tail left it, or null when missing.
const eval::Val* tree_tail_value(const Model::Impl& impl, const eval::Frame& f, std::size_t o) {
  const std::int32_t at = impl.tree_tail_output[o];
  return at >= 0 ? &f.tail_values[std::size_t(at)] : nullptr;
}

/// score_into by walk_tree_tail over the span's cells.
bool score_tree_into(const Model::Impl& impl, const double* inputs, eval::Frame& f, const RecordOutput& out) {
  const auto cell = [&](std::size_t s) {
    const std::ptrdiff_t field = impl.field_of_spec[s];
    return field >= 0 ? inputs[field] : std::nan("");
  };
  if (!walk_tree_tail(impl, cell, f)) return false;
  const eval::Prediction& p = f.predictions[0];
  const double nan = std::nan("");
  if (out.predicted) *out.predicted = p.valid && p.value.kind == eval::Kind::Number ? p.value.num : nan;
  if (out.outputs)
    for (std::size_t o = 0; o < impl.compiled->outputs.size(); ++o) {
      const eval::Val* v = tree_tail_value(impl, f, o);
      out.outputs[o] = v && (v->kind == eval::Kind::Number || v->kind == eval::Kind::Boolean) ? v->num : nan;
    }
  return true;
}

}  // namespace

Model Model::load_file(const std::filesystem::path& path, const LoadOptions& options) {
  FileBytes bytes = read_file(path, options.max_document_bytes);
  check_sha256(std::string_view(bytes.data(), bytes.size()), options);
  // The buffer is ours: parse it in place, and free it before compiling (the IR holds copies).
  ir::Document doc = pmml::load_document_in_place(bytes.data(), bytes.size(), options);
  bytes = FileBytes();
  return Model(compile_model(std::move(doc), options));
}

Model Model::load_string(std::string_view document, const LoadOptions& options) {
  return load_memory(document.data(), document.size(), options);
}

Model Model::load_memory(const void* data, std::size_t size, const LoadOptions& options) {
  if (!data && size) throw Error(ErrorKind::Usage, "Model::load_memory: null data");
  std::string_view bytes(static_cast<const char*>(data), size);
  check_sha256(bytes, options);
  return Model(compile_model(pmml::load_document(bytes, options), options));
}

MiningFunction Model::function() const noexcept { return impl_->compiled->function; }
const std::string& Model::model_type() const noexcept { return impl_->compiled->model_type; }
const std::string& Model::pmml_version() const noexcept { return impl_->compiled->version; }
const std::vector<FieldInfo>& Model::input_fields() const noexcept { return impl_->compiled->inputs; }
const std::vector<FieldInfo>& Model::target_fields() const noexcept { return impl_->compiled->targets; }
const std::vector<std::string>& Model::class_labels() const noexcept { return *impl_->classes; }

const std::vector<OutputInfo>& Model::output_fields() const noexcept { return impl_->compiled->output_infos; }

VerificationReport Model::verify() const {
  VerificationReport report;
  const auto* v = impl_->compiled->verification.get();
  if (!v) return report;
  report.records = v->rows.size();
  auto local = [](const std::string& n) {
    auto c = n.find(':');
    return c == std::string::npos ? n : n.substr(c + 1);
  };
  auto cell = [&](const std::vector<std::pair<std::string, std::string>>& row, const std::string& column)
      -> const std::string* {
    for (const auto& [name, text] : row)
      if (name == column || local(name) == local(column)) return &text;
    return nullptr;
  };
  const auto& inputs = impl_->compiled->inputs;
  for (std::size_t r = 0; r < v->rows.size(); ++r) {
    const auto& row = v->rows[r];
    Record record;
    for (const auto& f : v->fields) {
      bool is_input = std::any_of(inputs.begin(), inputs.end(), [&](const FieldInfo& i) { return i.name == f.name; });
      if (!is_input) continue;
      const std::string* text = cell(row, f.column);
      if (text) record[f.name] = Value(*text);
    }
    Result result;
    try {
      result = score(record);
    } catch (const Error& e) {
      report.failures.push_back(fmt::format("record {}: {}", r + 1, e.what()));
      continue;
    }
    for (const auto& f : v->fields) {
      if (std::any_of(inputs.begin(), inputs.end(), [&](const FieldInfo& i) { return i.name == f.name; })) continue;
      const Value* actual = result.output(f.name);
      for (const auto& t : result.targets())
        if (!actual && t.name == f.name) actual = &t.value;
      const std::string* expected = cell(row, f.column);
      if (!actual || !expected) continue;
      ++report.values_checked;
      auto e = numbers::parse_double(*expected);
      bool match;
      if (e && (actual->is_number() || actual->is_boolean())) {
        double a = actual->number(), x = *e;
        // The reference's rule (VerificationUtil.acceptable): both within zeroThreshold, or relative precision.
        match = (std::fabs(x) <= f.zero_threshold && std::fabs(a) <= f.zero_threshold) ||
                (x >= 0 ? (a >= x * (1 - f.precision) && a <= x * (1 + f.precision))
                        : (a >= x * (1 + f.precision) && a <= x * (1 - f.precision)));
      } else {
        match = actual->to_string() == *expected;
      }
      if (!match)
        report.failures.push_back(fmt::format("record {}: {} expected {}, got {}", r + 1, f.name, *expected,
                                              actual->is_missing() ? "(missing)" : actual->to_string()));
    }
  }
  return report;
}

Result Model::score(const Record& record) const {
  FrameLease lease(*impl_);
  eval::Frame& f = *lease;
  f.reset();
  f.row = 0;
  const auto& prog = impl_->compiled->program;
  // One merge of the record (sorted by name) with the specs in name order finds every value. When every
  // input is a plain number given as a number (or not given), the record is laid out by spec as a numeric
  // row and prepared on first use, as a batch row is (none of these inputs can fail): a linear model then
  // sums it straight from there, and an ensemble kernel gathers it directly. Otherwise the specs are
  // prepared in program order (the reference's order, which decides the first error).
  thread_local std::vector<const Value*> found;
  thread_local std::vector<double> numbers;
  found.assign(prog.inputs.size(), nullptr);
  numbers.resize(prog.inputs.size());
  bool numeric_row = true;
  // Spec names are unique (the compiler keeps one spec per field), so each entry matches one spec at most.
  auto it = record.begin();
  for (std::size_t i = 0; i < impl_->specs_by_name.size(); ++i) {
    const std::size_t s = impl_->specs_by_name[i];
    const std::string& name = impl_->sorted_names[i];
    int c = -1;
    while (it != record.end() && (c = compare_names(it->first, name)) < 0) ++it;
    const Value* v = it != record.end() && c == 0 ? &it->second : nullptr;
    if (v) ++it;
    const double x = v && v->is_number() ? v->number() : std::nan("");
    found[s] = v;
    numbers[s] = x;
    // Missing, or a number that is not NaN (a NaN number is an invalid value, not a missing one).
    numeric_row = numeric_row && impl_->lazy_when_number[s] && (!v || v->is_missing() || !std::isnan(x));
  }
  static const Value missing;
  thread_local std::vector<double> sums;
  if (numeric_row) {
    f.lazy.data = numbers.data();
    f.lazy.is_float = false;
    f.lazy.base = 0;
    f.lazy.stride = 1;
    f.lazy.column_of_spec = impl_->spec_identity.data();
    if (const auto* plan = impl_->linear.get()) {
      sums.resize(plan->tables.size());
      if (plan->sum_row(numbers.data(), false, sums.data())) f.precomputed_linear = sums.data();
    }
  } else {
    for (std::size_t s = 0; s < prog.inputs.size(); ++s) eval::prepare_input(f, prog.inputs[s], found[s] ? *found[s] : missing);
  }
  // A direct-layout regression tree over plain numbers is its walk and its tail, as in score_into.
  const bool by_tree_tail = numeric_row && walk_tree_tail(*impl_, [&](std::size_t s) { return numbers[s]; }, f);
  const bool by_tail = !by_tree_tail && evaluate_record(*impl_, f);

  Result r;
  const eval::Prediction& p = f.predictions[0];
  r.classes_ = impl_->classes;
  r.targets_.reserve(impl_->compiled->targets.size());
  r.outputs_.reserve(impl_->compiled->outputs.size());
  for (const auto& t : impl_->compiled->targets) r.targets_.push_back({t.name, p.valid ? to_value(f, p.value) : Value()});
  if (p.valid && p.has_probabilities) r.probabilities_ = p.probabilities;
  if (p.valid && p.has_confidences) r.confidences_ = p.confidences;
  for (std::size_t o = 0; o < impl_->compiled->outputs.size(); ++o) {
    const eval::Val* v = by_tree_tail ? tree_tail_value(*impl_, f, o) : output_value(*impl_, f, o, by_tail);
    r.outputs_.push_back({impl_->compiled->outputs[o].name, v ? to_value(f, *v) : Value()});
  }
  return r;
}

void Model::score_into(const double* inputs, std::size_t n_inputs, const RecordOutput& out) const {
  const auto& compiled = *impl_->compiled;
  if (n_inputs != compiled.inputs.size())
    throw Error(ErrorKind::Usage, fmt::format("{} inputs for a model of {} input fields", n_inputs, compiled.inputs.size()));
  if (!inputs && n_inputs) throw Error(ErrorKind::Usage, "Model::score_into: null inputs");
  FrameLease lease(*impl_);
  eval::Frame& f = *lease;
  if (score_tree_into(*impl_, inputs, f, out)) return;
  f.reset();
  f.row = 0;
  // The span is the frame's lazy row, as a batch row is: inputs that may fail are prepared now in program
  // order (the reference's, which decides the first error), the rest on first use.
  f.lazy.data = inputs;
  f.lazy.is_float = false;
  f.lazy.base = 0;
  f.lazy.stride = 1;
  f.lazy.column_of_spec = impl_->field_of_spec.data();
  // A linear model's table sums straight from the span, when none of them needs the generic path.
  thread_local std::vector<double> sums;
  const auto* plan = impl_->linear.get();
  if (plan && plan->has_fields) {
    sums.resize(plan->tables.size());
    if (plan->sum_row(inputs, true, sums.data())) f.precomputed_linear = sums.data();
  }
  prepare_eager_inputs(*impl_, f, [&](std::size_t s) {
    const auto field = impl_->field_of_spec[s];
    return field >= 0 ? inputs[field] : std::nan("");
  });
  const bool by_tail = evaluate_record(*impl_, f);
  const eval::Prediction& p = f.predictions[0];
  const double nan = std::nan("");
  if (out.predicted) {
    double y = nan;
    if (p.valid && compiled.function == MiningFunction::Classification) y = p.label >= 0 ? double(p.label) : nan;
    else if (p.valid && p.value.kind == eval::Kind::Number) y = p.value.num;
    *out.predicted = y;
  }
  if (out.probabilities)
    for (std::size_t c = 0; c < compiled.class_labels.size(); ++c)
      out.probabilities[c] = p.valid && p.has_probabilities ? p.probabilities[c] : nan;
  if (out.outputs)
    for (std::size_t o = 0; o < compiled.outputs.size(); ++o) {
      const eval::Val* x = output_value(*impl_, f, o, by_tail);
      out.outputs[o] = x && (x->kind == eval::Kind::Number || x->kind == eval::Kind::Boolean) ? x->num : nan;
    }
}

template <class Fill>
BatchResult Model::Impl::score_rows(const Model::Impl& impl, std::size_t rows, const BatchOptions& options, Fill& fill) {
  const auto& compiled = *impl.compiled;
  const std::size_t k = compiled.class_labels.size();
  BatchResult out;
  out.predicted_ = xt::xtensor<double, 1>::from_shape({rows});
  out.predicted_values_.resize(rows);
  out.classes_ = compiled.class_labels;
  out.probabilities_ = xt::xtensor<double, 2>::from_shape({rows, k});
  for (const auto& o : compiled.outputs) out.output_names_.push_back(o.name);
  out.outputs_.resize(compiled.outputs.size());
  for (auto& column : out.outputs_) column.resize(rows);
  auto merge = [&](StringSpill& spill) {
    for (std::size_t c = 0; c < spill.size(); ++c) {
      auto& strings = c == 0 ? out.predicted_values_.strings : out.outputs_[c - 1].strings;
      for (auto& s : spill[c]) strings.push_back(std::move(s));
    }
  };
  if (options.on_error == RowErrorPolicy::Record) out.errors_.assign(rows, std::string());

  // Rows are split into contiguous ranges, one per thread (the calling thread takes the first). Every row is
  // scored on its own, so the results do not depend on the split; under RowErrorPolicy::Throw the error of
  // the first failing row is the one thrown, as in a single thread.
  std::size_t threads = options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options.threads;
  constexpr std::size_t kMinRowsPerThread = 256;
  threads = std::max<std::size_t>(1, std::min(threads, rows / kMinRowsPerThread));
  if (threads == 1) {
    StringSpill spill(1 + compiled.outputs.size());
    score_range(impl, 0, rows, options, out, spill, fill);
    merge(spill);
    return out;
  }
  std::vector<std::exception_ptr> failed(threads);
  std::vector<StringSpill> spills(threads, StringSpill(1 + compiled.outputs.size()));
  std::vector<std::thread> pool;
  auto range = [&](std::size_t i) {
    std::size_t per = (rows + threads - 1) / threads;
    return std::pair<std::size_t, std::size_t>(std::min(rows, i * per), std::min(rows, (i + 1) * per));
  };
  auto work = [&](std::size_t i) {
    try {
      auto [b, e] = range(i);
      score_range(impl, b, e, options, out, spills[i], fill);
    } catch (...) {
      failed[i] = std::current_exception();
    }
  };
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(work, i);
  work(0);
  for (auto& t : pool) t.join();
  for (auto& e : failed)
    if (e) std::rethrow_exception(e);
  for (auto& spill : spills) merge(spill);
  return out;
}

void Model::Impl::put(BatchResult::Column& column, std::size_t row, const eval::Frame& f, const eval::Val& v,
                      std::int32_t label_hint, const std::vector<std::string>& classes,
                      std::vector<std::pair<std::size_t, Value>>& spill) {
  using Column = BatchResult::Column;
  switch (v.kind) {
    case eval::Kind::Missing: return;
    case eval::Kind::Number:
      column.tags[row] = std::uint8_t(Column::kNumber + std::uint8_t(v.type));
      column.numbers[row] = v.num;
      return;
    case eval::Kind::Boolean:
      column.tags[row] = Column::kBoolean;
      column.numbers[row] = v.num != 0 ? 1.0 : 0.0;
      return;
    case eval::Kind::String: break;
  }
  const std::string_view text = f.text(v);
  // A predicted label is usually classes[label_hint]; other string columns are looked up in short lists.
  std::size_t match = classes.size();
  if (label_hint >= 0 && std::size_t(label_hint) < classes.size() && classes[std::size_t(label_hint)] == text)
    match = std::size_t(label_hint);
  else if (classes.size() <= 16)
    match = std::size_t(std::find(classes.begin(), classes.end(), text) - classes.begin());
  if (match < classes.size()) {
    column.tags[row] = Column::kLabel;
    column.numbers[row] = double(match);
    return;
  }
  column.tags[row] = Column::kString;
  spill.emplace_back(row, Value(std::string(text)));
}

template <class Fill>
void Model::Impl::score_range(const Model::Impl& impl, std::size_t first, std::size_t last, const BatchOptions& options,
                              BatchResult& out, StringSpill& spill, Fill& fill) {
  const auto& compiled = *impl.compiled;
  const auto& prog = compiled.program;
  const std::size_t k = compiled.class_labels.size();
  const std::size_t rows = last - first;
  const double nan = std::nan("");

  auto fail_row = [&](std::size_t row, const Error& e) {
    if (options.on_error == RowErrorPolicy::Throw) throw;
    out.errors_[row] = e.what();
    out.predicted_(row) = nan;
    for (std::size_t c = 0; c < k; ++c) out.probabilities_(row, c) = nan;
  };
  // The top prediction `p` of a row and its outputs (`output_value(o)`: the value or null for missing).
  auto collect_prediction = [&](std::size_t row, const eval::Frame& f, const eval::Prediction& p, auto&& output_value) {
    if (!p.valid) {
      out.predicted_(row) = nan;
    } else if (compiled.function == MiningFunction::Classification) {
      out.predicted_(row) = p.label >= 0 ? double(p.label) : nan;
      put(out.predicted_values_, row, f, p.value, p.label, out.classes_, spill[0]);
    } else {
      out.predicted_(row) = p.value.kind == eval::Kind::Number ? p.value.num : nan;
      put(out.predicted_values_, row, f, p.value, -1, out.classes_, spill[0]);
    }
    for (std::size_t c = 0; c < k; ++c) out.probabilities_(row, c) = p.valid && p.has_probabilities ? p.probabilities[c] : nan;
    for (std::size_t o = 0; o < compiled.outputs.size(); ++o)
      if (const eval::Val* v = output_value(o)) put(out.outputs_[o], row, f, *v, -1, out.classes_, spill[1 + o]);
  };
  auto collect = [&](std::size_t row, const eval::Frame& f) {
    collect_prediction(row, f, f.predictions[0], [&](std::size_t o) { return output_value(impl, f, o, false); });
  };
  // A row the chain tail scores from its kernel sums: true when it did (and the row is collected).
  std::vector<double> tail_sums(impl.tail ? impl.tail->kernels().size() : 0);
  auto collect_tail = [&](std::size_t row, const eval::Frame& f) {
    collect_prediction(row, f, f.predictions[0], [&](std::size_t o) { return output_value(impl, f, o, true); });
  };
  // A plain chain's row from tail_sums straight into the columns, as collect_tail would store it.
  std::vector<double> plain_values(impl.plain_tail ? impl.tail->plain_types().size() : 0);
  auto put_plain = [&](std::size_t row, eval::Frame& f) {
    using Column = BatchResult::Column;
    std::int32_t label = -1;
    if (!impl.tail->evaluate_plain(tail_sums.data(), f, row, plain_values.data(), &out.probabilities_(row, 0), label))
      return false;
    const auto c = std::size_t(label);
    out.predicted_(row) = double(label);
    if (impl.plain_label_tag[c] != Column::kMissing) {
      out.predicted_values_.tags[row] = impl.plain_label_tag[c];
      out.predicted_values_.numbers[row] = impl.plain_label_number[c];
    }
    for (std::size_t o = 0; o < compiled.outputs.size(); ++o) {
      if (impl.plain_output_tag[o] == Column::kMissing) continue;
      out.outputs_[o].tags[row] = impl.plain_output_tag[o];
      out.outputs_[o].numbers[row] = plain_values[std::size_t(impl.tail_output[o])];
    }
    return true;
  };
  auto score_tail = [&](std::size_t row, eval::Frame& f) {
    if (!impl.tail) return false;
    for (std::size_t j = 0; j < tail_sums.size(); ++j)
      tail_sums[j] = f.precomputed_sums[std::size_t(impl.tail->kernels()[j])][0];
    if (!impl.tail->evaluate(tail_sums.data(), f, row)) return false;
    collect_tail(row, f);
    return true;
  };

  // Ensembles whose trees can be walked ahead: a block of rows passes through each tree in turn.
  std::vector<const eval::ModelEval*> ahead;
  for (auto id : prog.kernel_models) {
    const auto* me = prog.models[std::size_t(id)].get();
    if (me->kernel_ahead) ahead.push_back(me);
  }
  if (ahead.empty() || rows < 2) {
    FrameLease lease(impl);
    eval::Frame& f = *lease;
    // The linear fast path: the table sums of a block of rows at a time (when the fill can compute them).
    constexpr std::size_t kLinearBlock = 64;
    const std::size_t width = impl.linear ? impl.linear->tables.size() : 0;
    std::vector<double> sums(width * kLinearBlock);
    bool have_sums = false;
    for (std::size_t row = first; row < last; ++row) {
      const std::size_t at = (row - first) % kLinearBlock;
      if (width && at == 0) have_sums = fill.linear(row, std::min(kLinearBlock, last - row), sums.data());
      const double* known = have_sums ? sums.data() + at * width : nullptr;
      if (known && std::any_of(known, known + width, [](double v) { return v != v; })) known = nullptr;
      if (known && impl.linear_tail) {
        try {
          if (impl.linear_tail->evaluate(known, f, row)) {
            collect_prediction(row, f, f.predictions[0], [&](std::size_t o) {
              const std::int32_t entry = impl.linear_tail_output[o];
              return entry >= 0 ? &f.tail_values[std::size_t(entry)] : nullptr;
            });
            continue;
          }
        } catch (const Error& e) {
          fail_row(row, e);
          continue;
        }
      }
      f.reset();
      f.row = row;
      f.precomputed_linear = known;
      bool by_tail = false;
      try {
        fill(f, row);
        by_tail = evaluate_record(impl, f);
      } catch (const Error& e) {
        fail_row(row, e);
        continue;
      }
      if (by_tail) collect_tail(row, f);
      else collect(row, f);
    }
    return;
  }

  constexpr std::size_t kBlock = 64;
  // A row of a Frame-free batch path: `by_tail(row)` scores and collects it from its kernels' results (true),
  // or leaves it to the generic evaluation; an error either way goes to the row.
  auto score_frame_free = [&](std::size_t row, eval::Frame& f, auto&& by_tail) {
    try {
      if (by_tail(row)) return;
      f.reset();
      f.row = row;
      fill(f, row);
      evaluate_row(impl, f);
    } catch (const Error& e) {
      fail_row(row, e);
      return;
    }
    collect(row, f);
  };
  if constexpr (Fill::kNumeric) {
    // A single tree: its walk's result is all the rest of the row needs, unless an output falls back.
    if (impl.tree_tail) {
      FrameLease lease(impl);
      eval::Frame& f = *lease;
      const eval::EnsembleKernel& kernel = impl.tree_tail->kernel();
      std::vector<double> x(kBlock * kernel.features());
      std::vector<std::int32_t> results(kBlock);
      std::vector<double> leaf_values(kBlock);
      const bool by_value = impl.tree_tail->by_leaf_value();
      for (std::size_t start = first; start < last; start += kBlock) {
        const std::size_t n = std::min(kBlock, last - start);
        fill.prefetch_next(start, n);
        fill.direct_rows(start, n, kernel.direct_specs, kernel.direct_float, x.data());
        if (by_value) kernel.walk_direct_block(x.data(), n, results.data(), leaf_values.data());
        else kernel.walk_block(x.data(), n, results.data());
        for (std::size_t i = 0; i < n; ++i)
          score_frame_free(start + i, f, [&](std::size_t row) {
            if (!impl.tree_tail->evaluate(results[i], leaf_values[i], f, row)) return false;
            collect_prediction(row, f, f.predictions[0], [&](std::size_t o) {
              const std::int32_t entry = impl.tree_tail_output[o];
              return entry >= 0 ? &f.tail_values[std::size_t(entry)] : nullptr;
            });
            return true;
          });
      }
      return;
    }
    // Every input a plain number whose NaN is simply missing, and the chain tail over kernels that read
    // those inputs as they are: no Frame is needed for a row unless its tail falls back (a NaN sum).
    if (impl.direct_tail) {
      FrameLease lease(impl);
      eval::Frame& f = *lease;
      const auto& kernels = impl.tail->kernels();
      std::vector<std::vector<double>> features(kernels.size()), sums(kernels.size());
      for (std::size_t a = 0; a < kernels.size(); ++a) {
        const auto& kernel = *prog.models[std::size_t(prog.kernel_models[std::size_t(kernels[a])])]->kernel;
        features[a].resize(kBlock * kernel.features());
        sums[a].resize(kBlock);
      }
      for (std::size_t start = first; start < last; start += kBlock) {
        const std::size_t n = std::min(kBlock, last - start);
        fill.prefetch_next(start, n);  // once per block, however many kernels read it
        for (std::size_t a = 0; a < kernels.size(); ++a) {
          const auto& kernel = *prog.models[std::size_t(prog.kernel_models[std::size_t(kernels[a])])]->kernel;
          double* x = features[a].data();
          fill.direct_rows(start, n, kernel.direct_specs, kernel.direct_float, x);
          kernel.sum_block(x, n, sums[a].data());
        }
        for (std::size_t i = 0; i < n; ++i)
          score_frame_free(start + i, f, [&](std::size_t row) {
            for (std::size_t a = 0; a < kernels.size(); ++a) tail_sums[a] = sums[a][i];
            if (impl.plain_tail) return put_plain(row, f);
            if (!impl.tail->evaluate(tail_sums.data(), f, row)) return false;
            collect_tail(row, f);
            return true;
          });
      }
      return;
    }
  }
  const std::size_t block = std::min(kBlock, rows);
  std::vector<std::unique_ptr<FrameLease>> leases;
  for (std::size_t i = 0; i < block; ++i) leases.push_back(std::make_unique<FrameLease>(impl));
  std::vector<std::vector<double>> features(ahead.size());
  std::vector<std::vector<std::int32_t>> results(ahead.size());
  std::vector<double> sums;
  for (std::size_t a = 0; a < ahead.size(); ++a) {
    features[a].resize(block * ahead[a]->kernel->features());
    if (ahead[a]->kernel->summing == eval::EnsembleKernel::Summing::None)
      results[a].resize(block * ahead[a]->kernel->trees());
    else
      sums.resize(std::max(sums.size(), block * ahead[a]->kernel->sum_width));
  }
  std::vector<std::exception_ptr> fill_error(block);
  for (std::size_t start = first; start < last; start += block) {
    const std::size_t n = std::min(block, last - start);
    for (std::size_t i = 0; i < n; ++i) {
      eval::Frame& f = **leases[i];
      f.reset();
      f.row = start + i;
      fill_error[i] = nullptr;
      try {
        fill(f, start + i);
      } catch (const Error&) {
        fill_error[i] = std::current_exception();
      }
    }
    for (std::size_t a = 0; a < ahead.size(); ++a) {
      const eval::EnsembleKernel& kernel = *ahead[a]->kernel;
      const std::size_t nf = kernel.features(), nt = kernel.trees();
      std::vector<bool> ok(n, false);
      for (std::size_t i = 0; i < n; ++i) {
        double* x = features[a].data() + i * nf;
        if (fill_error[i]) {
          std::fill(x, x + nf, nan);
          continue;
        }
        eval::Frame& f = **leases[i];
        try {
          ok[i] = kernel.gather(f, x);  // else the row's own walk takes the generic path
        } catch (const Error&) {
          // The row will meet this error (or not) where the generic order reaches it: start it afresh.
          std::fill(x, x + nf, nan);
          f.reset();
          f.row = start + i;
          fill(f, start + i);
        }
      }
      const auto slot = std::size_t(ahead[a]->kernel_index);
      if (kernel.summing != eval::EnsembleKernel::Summing::None) {
        kernel.sum_block(features[a].data(), n, sums.data());
        const std::size_t width = kernel.sum_width;
        for (std::size_t i = 0; i < n; ++i)
          if (ok[i]) std::copy(sums.begin() + std::ptrdiff_t(i * width), sums.begin() + std::ptrdiff_t((i + 1) * width),
                               (**leases[i]).precomputed_sums[slot].begin());
        continue;
      }
      kernel.walk_block(features[a].data(), n, results[a].data());
      for (std::size_t i = 0; i < n; ++i)
        if (ok[i]) (**leases[i]).precomputed[slot] = results[a].data() + i * nt;
    }
    for (std::size_t i = 0; i < n; ++i) {
      eval::Frame& f = **leases[i];
      try {
        if (fill_error[i]) std::rethrow_exception(fill_error[i]);
        if (score_tail(start + i, f)) continue;
        evaluate_row(impl, f);
      } catch (const Error& e) {
        fail_row(start + i, e);
        continue;
      }
      collect(start + i, f);
    }
  }
}

namespace {

/// For each input spec: the matrix column that feeds it, or -1.
std::vector<std::ptrdiff_t> column_map(const compile::Compiled& c, std::size_t cols, const std::vector<std::string>& names) {
  const auto& prog = c.program;
  std::vector<std::ptrdiff_t> map(prog.inputs.size(), -1);
  // Columns named exactly as the input fields, in their order (the usual call, a batch of one included):
  // the unnamed layout, found without hashing every name.
  const bool in_field_order =
      !names.empty() && names.size() == cols && names.size() == c.inputs.size() &&
      std::equal(names.begin(), names.end(), c.inputs.begin(), [](const std::string& n, const auto& f) { return n == f.name; });
  if (names.empty() || in_field_order) {
    if (cols != c.inputs.size())
      throw Error(ErrorKind::Usage, fmt::format("the matrix has {} columns but the model has {} input fields; name the "
                                                "columns to score a different layout",
                                                cols, c.inputs.size()));
    for (std::size_t i = 0; i < c.inputs.size(); ++i) map[std::size_t(c.input_spec_of_field[i])] = std::ptrdiff_t(i);
    return map;
  }
  if (names.size() != cols)
    throw Error(ErrorKind::Usage, fmt::format("{} column names for a matrix of {} columns", names.size(), cols));
  // The last column of a name wins, as before; a hash map keeps wide models (thousands of columns) linear.
  std::unordered_map<std::string_view, std::ptrdiff_t> column_of;
  column_of.reserve(names.size());
  for (std::size_t j = 0; j < names.size(); ++j) column_of[names[j]] = std::ptrdiff_t(j);
  for (std::size_t s = 0; s < prog.inputs.size(); ++s) {
    auto it = column_of.find(prog.inputs[s].name);
    if (it != column_of.end()) map[s] = it->second;
  }
  return map;
}

/// Fills a frame from a numeric matrix. Plain inputs that are not NaN are left to be prepared on first use
/// (they cannot fail, so the order of the errors is unchanged; ensemble kernels may read them from the
/// matrix as they are), and with the linear fast path the table sums come from linear() for a block of rows.
template <class T>
struct MatrixFill {
  const Model::Impl& impl;
  const T* data;
  std::size_t rows, cols;
  Layout layout;
  std::vector<std::ptrdiff_t> map;  // per spec: its column, or -1
  /// Per table of the linear plan: the column of each term, or empty when some term has no column (that
  /// table's sums are then NaN, from the scalar loop).
  std::vector<std::vector<std::ptrdiff_t>> term_columns = {};

  void find_term_columns() {
    if (!impl.linear) return;
    for (const auto& table : impl.linear->tables) {
      std::vector<std::ptrdiff_t> columns;
      for (auto spec : table.specs) columns.push_back(map[std::size_t(spec)]);
      if (std::any_of(columns.begin(), columns.end(), [](std::ptrdiff_t c) { return c < 0; })) columns.clear();
      term_columns.push_back(std::move(columns));
    }
  }

  double cell(std::size_t row, std::size_t col) const {
    return double(layout == Layout::RowMajor ? data[row * cols + col] : data[col * rows + row]);
  }
  /// The raw number of input spec `spec` in `row` (NaN without a column), as Frame::LazyRow::cell reads it.
  double spec_cell(std::size_t row, std::int32_t spec) const {
    const std::ptrdiff_t col = map[std::size_t(spec)];
    return col >= 0 ? cell(row, std::size_t(col)) : std::nan("");
  }
  static constexpr bool kNumeric = true;

  /// Asks for the cache lines of the n rows after [start, start + n) of a row-major matrix (into L2, at most
  /// 64 KiB of them): the kernels spend far longer on a block than memory takes to deliver the next one,
  /// which the hardware's prefetcher does not fetch that far ahead.
  void prefetch_next(std::size_t start, std::size_t n) const {
    constexpr std::size_t kMaxBytes = std::size_t(64) << 10;
    if (layout != Layout::RowMajor || start + n >= rows) return;
    const auto* first = reinterpret_cast<const char*>(data + (start + n) * cols);
    const auto* end = reinterpret_cast<const char*>(data + std::min(rows, start + 2 * n) * cols);
    if (std::size_t(end - first) > kMaxBytes) end = first + kMaxBytes;
    for (const char* p = first; p < end; p += 64) __builtin_prefetch(p, 0, 2);
  }

  /// What EnsembleKernel::gather reads from a lazy row, for rows [start, start + n) into x (a row of
  /// specs.size() each): every spec's cell, rounded to float where to_float says. In a row-major matrix
  /// with a column for every spec, all rounded or none, the columns are looked up once, not per cell.
  void direct_rows(std::size_t start, std::size_t n, const std::vector<std::int32_t>& specs,
                   const std::vector<std::uint8_t>& to_float, double* x) const {
    constexpr std::size_t kMaxPlain = 256;
    const std::size_t nf = specs.size();
    const bool all_float = std::all_of(to_float.begin(), to_float.end(), [](std::uint8_t b) { return b != 0; });
    const bool no_float = std::none_of(to_float.begin(), to_float.end(), [](std::uint8_t b) { return b != 0; });
    std::size_t column[kMaxPlain];
    bool plain = layout == Layout::RowMajor && nf <= kMaxPlain && (all_float || no_float);
    for (std::size_t j = 0; j < nf && plain; ++j) {
      const std::ptrdiff_t c = map[std::size_t(specs[j])];
      plain = c >= 0;
      column[j] = std::size_t(c);
    }
    // Every column in spec order: the rows are one run of cells, converted in one vectorised pass.
    bool consecutive = plain && nf == cols;
    for (std::size_t j = 0; j < nf && consecutive; ++j) consecutive = column[j] == j;
    if (consecutive) {
      const T* in = data + start * cols;
      const std::size_t cells = n * nf;
      if (all_float)
        for (std::size_t k = 0; k < cells; ++k) x[k] = double(static_cast<float>(in[k]));
      else
        for (std::size_t k = 0; k < cells; ++k) x[k] = double(in[k]);
      return;
    }
    if (plain) {
      for (std::size_t i = 0; i < n; ++i) {
        const T* in = data + (start + i) * cols;
        double* o = x + i * nf;
        if (all_float)
          for (std::size_t j = 0; j < nf; ++j) o[j] = double(static_cast<float>(in[column[j]]));
        else
          for (std::size_t j = 0; j < nf; ++j) o[j] = double(in[column[j]]);
      }
      return;
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < nf; ++j) {
        const double v = spec_cell(start + i, specs[j]);
        x[i * nf + j] = to_float[j] ? double(static_cast<float>(v)) : v;
      }
  }

  void operator()(eval::Frame& f, std::size_t row) const {
    f.lazy.data = data;
    f.lazy.is_float = std::is_same_v<T, float>;
    f.lazy.base = layout == Layout::RowMajor ? row * cols : row;
    f.lazy.stride = layout == Layout::RowMajor ? 1 : rows;
    f.lazy.column_of_spec = map.data();
    prepare_eager_inputs(impl, f, [&](std::size_t s) { return spec_cell(row, std::int32_t(s)); });
  }

  /// One table's sums of `m` rows from `row` with the vector kernel.
  bool vector_sums(std::size_t row, std::size_t m, const std::vector<std::ptrdiff_t>& columns,
                   const std::vector<std::uint8_t>& to_float, const std::vector<double>& coefficients,
                   const double* missing_values, double* acc) const {
    eval::LinearRowsOf<T> rows;
    rows.lanes = m;
    rows.column_stride = layout == Layout::RowMajor ? 1 : this->rows;
    for (std::size_t j = 0; j < eval::LinearRows::kMaxLanes; ++j) {
      rows.base[j] = layout == Layout::RowMajor ? data + (row + std::min(j, m - 1)) * cols : data + row;
      const std::size_t next = row + eval::LinearRows::kMaxLanes + j;
      if (layout == Layout::RowMajor && next < this->rows) rows.next[j] = data + next * cols;
    }
    return eval::linear_sums(rows, columns.data(), coefficients.data(), to_float.data(), missing_values,
                             columns.size(), acc);
  }

  /// The top model's table sums for rows [first, first + n) into sums (n x tables), NaN where a row must take
  /// the generic path (a missing cell without a numeric replacement); false without a linear plan.
  bool linear(std::size_t first, std::size_t n, double* sums) const {
    const auto* plan = impl.linear.get();
    if (!plan) return false;
    const std::size_t k = plan->tables.size();
    constexpr std::size_t kLanes = eval::LinearRows::kMaxLanes;
    for (std::size_t r0 = 0; r0 < n; r0 += kLanes) {
      const std::size_t m = std::min(kLanes, n - r0);
      for (std::size_t t = 0; t < k; ++t) {
        const auto& table = plan->tables[t];
        // Sixteen rows side by side, each added in the table's order: products first, then the intercept.
        double acc[kLanes] = {};
        if (!term_columns[t].empty() &&
            vector_sums(first + r0, m, term_columns[t], plan->float_term[t], table.coefficients,
                        table.has_missing_values ? table.missing_values.data() : nullptr, acc)) {
          for (std::size_t j = 0; j < m; ++j) {
            double y = acc[j];
            if (table.intercept != 0.0) y += table.intercept;
            sums[(r0 + j) * k + t] = y;
          }
          continue;
        }
        for (std::size_t i = 0; i < table.specs.size(); ++i) {
          const auto spec = std::size_t(table.specs[i]);
          const double c = table.coefficients[i], missing = table.missing_values[i];
          const std::ptrdiff_t col = map[spec];
          if (col < 0) {  // every cell missing (NaN sums without a replacement)
            for (std::size_t j = 0; j < m; ++j) acc[j] += c * missing;
            continue;
          }
          const bool round = plan->float_spec[spec];
          for (std::size_t j = 0; j < m; ++j) {
            double x = cell(first + r0 + j, std::size_t(col));
            if (x != x) x = missing;  // the prepared replacement, taken as it is
            else if (round) x = double(float(x));
            acc[j] += c * x;
          }
        }
        for (std::size_t j = 0; j < m; ++j) {
          double y = acc[j];
          if (table.intercept != 0.0) y += table.intercept;
          sums[(r0 + j) * k + t] = y;
        }
      }
    }
    return true;
  }
};

/// Fills a frame from columns of Values.
struct ValueFill {
  static constexpr bool kNumeric = false;
  const Model::Impl& impl;
  const std::vector<std::vector<Value>>& cells;
  std::vector<std::ptrdiff_t> map;
  void operator()(eval::Frame& f, std::size_t row) const {
    static const Value missing;
    const auto& prog = impl.compiled->program;
    for (std::size_t s = 0; s < prog.inputs.size(); ++s)
      eval::prepare_input(f, prog.inputs[s], map[s] >= 0 ? cells[std::size_t(map[s])][row] : missing);
  }
  bool linear(std::size_t, std::size_t, double*) const { return false; }
};

template <class T>
BatchResult score_matrix(const Model::Impl& impl, const T* data, std::size_t rows, std::size_t cols, Layout layout,
                         const std::vector<std::string>& columns, const BatchOptions& options) {
  if (!data && rows * cols != 0) throw Error(ErrorKind::Usage, "Model::score: null data");
  MatrixFill<T> fill{impl, data, rows, cols, layout, column_map(*impl.compiled, cols, columns)};
  fill.find_term_columns();
  return Model::Impl::score_rows(impl, rows, options, fill);
}

}  // namespace

BatchResult Model::score(const double* data, std::size_t rows, std::size_t cols, Layout layout,
                         const std::vector<std::string>& columns, const BatchOptions& options) const {
  return score_matrix(*impl_, data, rows, cols, layout, columns, options);
}

BatchResult Model::score(const float* data, std::size_t rows, std::size_t cols, Layout layout,
                         const std::vector<std::string>& columns, const BatchOptions& options) const {
  return score_matrix(*impl_, data, rows, cols, layout, columns, options);
}

BatchResult Model::score(const std::vector<std::string>& columns, const std::vector<std::vector<Value>>& cells,
                         const BatchOptions& options) const {
  if (columns.size() != cells.size())
    throw Error(ErrorKind::Usage, fmt::format("{} column names for {} columns", columns.size(), cells.size()));
  std::size_t rows = cells.empty() ? 0 : cells.front().size();
  for (std::size_t j = 0; j < cells.size(); ++j)
    if (cells[j].size() != rows)
      throw Error(ErrorKind::Usage, fmt::format("column \"{}\" has {} rows, column \"{}\" has {}", columns[j],
                                                cells[j].size(), columns.front(), rows));
  ValueFill fill{*impl_, cells, column_map(*impl_->compiled, columns.size(), columns)};
  return Impl::score_rows(*impl_, rows, options, fill);
}

}  // namespace v0
}  // namespace pmmlrt
