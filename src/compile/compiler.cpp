#include "compile/compiler.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "eval/functions.hpp"
#include "eval/models.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::compile {

namespace {

using namespace pmmlrt::eval;

[[noreturn]] void model_error(const std::string& path, const std::string& message) {
  throw ModelError(fmt::format("{} (at {})", message, path.empty() ? "/PMML" : path), path);
}
[[noreturn]] void unsupported(const std::string& path, const std::string& message) {
  throw UnsupportedError(fmt::format("{} (at {})", message, path.empty() ? "/PMML" : path), path);
}

/// Names visible at one place in the document, innermost first.
struct Scope {
  const Scope* parent = nullptr;
  std::unordered_map<std::string, std::int32_t> names;
  std::int32_t find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->names.find(name);
      if (it != s->names.end()) return it->second;
    }
    return -1;
  }
};

bool same_class(const Val& a, const Val& b) { return a.kind == b.kind && a.num == b.num && a.sym == b.sym; }

std::int32_t find_class(const std::vector<Val>& classes, const Val& v) {
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (same_class(classes[i], v)) return std::int32_t(i);
  return -1;
}

/// A leaf value as LoadOptions::leaf_precision stores it. Half rounds once, here, so that every evaluator
/// (the generic walk, and the kernels built from the compiled tree) sees the same value.
double leaf_value(double value, LeafPrecision precision, const char* what, std::uint32_t line) {
  if (precision == LeafPrecision::Exact) return value;
  double half = numbers::round_to_binary16(value);
  if (std::isinf(half) && std::isfinite(value))
    throw Error(ErrorKind::Usage,
                fmt::format("half leaf precision: the {} {} of a <Node>{} is beyond the binary16 range "
                            "(largest 65504); load this model with exact leaf precision (the default)",
                            what, value, line ? fmt::format(" at line {}", line) : std::string()));
  return half;
}

/// Runs body(i) for every i in [0, n) on up to `threads` threads, the caller's among them; they are joined
/// before it returns, and the first exception a body throws is thrown here.
template <class Body>
void parallel_for(std::size_t threads, std::size_t n, const Body& body) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t i; !failed && (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // Fewer threads than asked for: the others do the work.
  }
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

/// A forest's kernel built on a thread of its own while the compiler compiles the forest's trees
/// (LoadOptions::threads > 1): the compiler publishes the segments as it compiles them, in order, and the
/// thread adds each one (ForestKernelBuild::add) as soon as it is published. What the thread reads must stay
/// where it is meanwhile: see Compiler::compile_mining, which reserves the program's arrays for that.
class KernelPipeline {
 public:
  /// Starts the thread; throws std::system_error when there is none to be had.
  KernelPipeline(const Program& program, const MiningEval& mining, const ForestKernelBuild::Sizes& sizes)
      : build_(program, mining, sizes) {
    thread_ = std::thread([this] { run(); });
  }
  ~KernelPipeline() { close(); }
  KernelPipeline(const KernelPipeline&) = delete;
  KernelPipeline& operator=(const KernelPipeline&) = delete;

  /// The first `count` segments are compiled: the thread may add them.
  void publish(std::size_t count) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      published_ = count;
    }
    ready_.notify_one();
  }
  /// No more segments: waits until the thread has added those published.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  /// After close(): the build, unless the thread failed (out of memory, say; then build the kernel anew).
  ForestKernelBuild* build() { return error_ ? nullptr : &build_; }

 private:
  void run() {
    try {
      for (std::size_t i = 0;; ++i) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          ready_.wait(lock, [&] { return published_ > i || closed_; });
          if (published_ <= i) return;
        }
        if (!build_.add(i)) return;  // no kernel for this forest: the rest need not be added
      }
    } catch (...) {
      error_ = true;
    }
  }

  ForestKernelBuild build_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::size_t published_ = 0;  // guarded by mutex_, with closed_
  bool closed_ = false;
  bool error_ = false;  // written by the thread, read after the join
  std::thread thread_;
};

/// A tree's numbers, parsed ahead on the load threads (compile_mining): each predicate's value as
/// tree_node_predicate's fast path parses it, for the type of the field that the Segmentation's scope gives,
/// and a regression tree's scores. Used only where that is the type the compiler then finds: the same
/// parse of the same text, so the same numbers. NaN: not parsed ahead (or not a number: parsed again).
struct PreParsed {
  std::vector<double> values;        // per tree predicate
  std::vector<DataType> value_types;  // the type each one was parsed for
  std::vector<double> scores;        // per IR node (regression trees)
};

/// What a model knows about its target while compiling.
struct TargetInfo {
  std::string name;
  DataType type = DataType::Double;
  OpType op = OpType::Continuous;
  const ir::DataField* field = nullptr;
  MiningFunction function = MiningFunction::Regression;
};

class Compiler {
 public:
  Compiler(ir::Document& doc, const LoadOptions& options, Compiled& out)
      : doc_(doc), options_(options), out_(out), prog_(out.program) {}

  void run();
  /// Tree nodes compiled and released from the IR, in all.
  std::size_t released_nodes() const { return total_released_nodes_; }

 private:
  ir::Document& doc_;  // its trees are released as they are compiled
  std::size_t released_nodes_ = 0;  // tree nodes released since the heap was last trimmed
  std::size_t total_released_nodes_ = 0;
  const LoadOptions& options_;
  Compiled& out_;
  Program& prog_;
  std::deque<Scope> scopes_;
  Scope* global_ = nullptr;
  std::unordered_map<std::string, const ir::DataField*> data_fields_;
  std::unordered_map<std::string, std::int32_t> functions_;
  // Per-slot dependencies of derived fields, for the cycle check.
  std::vector<std::vector<std::int32_t>> depends_;
  std::int32_t current_slot_ = -1;  // the derived field whose expression is being compiled
  const std::vector<const ir::ParameterField*>* params_ = nullptr;
  const std::unordered_set<std::string>* schema_ = nullptr;  // MiningField names of the model being compiled
  const PreParsed* pre_parsed_ = nullptr;  // the numbers of the tree compile_model compiles next, if parsed ahead

  /// LoadOptions::threads as a count (0: the hardware's).
  std::size_t threads() const {
    if (options_.threads != 0) return options_.threads;
    return std::max<std::size_t>(1, std::thread::hardware_concurrency());
  }
  /// The numbers of the trees among `segments`, parsed on threads() threads (see PreParsed); empty when
  /// there is only one thread or few trees.
  std::vector<PreParsed> pre_parse(const std::vector<ir::Segment>& segments, const Scope& scope) const {
    std::vector<PreParsed> out;
    if (threads() < 2 || segments.size() < 16) return out;
    out.resize(segments.size());
    parallel_for(threads(), segments.size(), [&](std::size_t i) {
      const ir::Model& m = *segments[i].model;
      // Local transformations may name a field anew: such a tree is parsed as it is compiled.
      if (m.kind != ir::Model::Kind::Tree || !m.local_transformations.empty() || !m.tree) return;
      const ir::TreeData& tr = *m.tree;
      PreParsed& p = out[i];
      const double nan = std::numeric_limits<double>::quiet_NaN();
      p.values.assign(tr.predicates.size(), nan);
      p.value_types.assign(tr.predicates.size(), DataType::String);
      std::vector<std::pair<std::string_view, std::int32_t>> fields;  // a tree tests a few
      for (std::size_t k = 0; k < tr.predicates.size(); ++k) {
        const ir::TreePredicate& f = tr.predicates[k];
        using TOp = ir::TreePredicate::Op;
        if (f.kind != ir::Predicate::Kind::Simple || f.op < TOp::Equal || f.op > TOp::GreaterOrEqual) continue;
        const std::string_view field = tr.view(f.field);
        auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& e) { return e.first == field; });
        if (it == fields.end()) it = fields.insert(fields.end(), {field, scope.find(std::string(field))});
        if (it->second < 0) continue;
        const DataType type = prog_.slots[std::size_t(it->second)].type;
        std::optional<double> v;
        if (type == DataType::Double) v = numbers::parse_double(tr.view(f.value));
        else if (type == DataType::Float)
          if (auto x = numbers::parse_float(tr.view(f.value))) v = double(*x);
        if (!v) continue;
        p.values[k] = *v;
        p.value_types[k] = type;
      }
      if (m.function != MiningFunction::Regression) return;
      p.scores.assign(tr.nodes.size(), nan);
      for (std::size_t k = 0; k < tr.nodes.size(); ++k) {
        const ir::Node& n = tr.nodes[k];
        if (!n.has_score) continue;
        if (m.float_math) {
          if (auto x = numbers::parse_float(tr.view(n.score))) p.scores[k] = double(*x);
        } else if (auto x = numbers::parse_double(tr.view(n.score))) {
          p.scores[k] = *x;
        }
      }
    });
    return out;
  }

  Scope& new_scope(const Scope* parent) {
    scopes_.emplace_back();
    scopes_.back().parent = parent;
    return scopes_.back();
  }

  std::int32_t add_slot(Slot::Kind kind, const std::string& name, DataType type, OpType op) {
    Slot s;
    s.kind = kind;
    s.name = name;
    s.type = type;
    s.op = op;
    prog_.slots.push_back(std::move(s));
    depends_.emplace_back();
    return std::int32_t(prog_.slots.size() - 1);
  }

  std::int32_t resolve(const Scope& scope, const std::string& name, const std::string& path) {
    std::int32_t slot = scope.find(name);
    if (slot < 0) model_error(path, fmt::format("field \"{}\" is not declared", name));
    // A model sees the DataFields its MiningSchema lists, no others (as the reference enforces).
    if (schema_ && prog_.slots[std::size_t(slot)].kind == Slot::Kind::Input && !schema_->count(name))
      model_error(path, fmt::format("field \"{}\" is used but not listed in the model's MiningSchema", name));
    if (current_slot_ >= 0) depends_[std::size_t(current_slot_)].push_back(slot);
    return slot;
  }

  // ----- values -----------------------------------------------------------------------------------------
  Val typed_value(std::string_view text, DataType type, const std::string& path) {
    switch (type) {
      case DataType::String: return Val::string(prog_.strings.intern(text));
      case DataType::Integer: {
        auto v = numbers::parse_integer(text);
        if (!v) {
          auto d = numbers::parse_double(text);  // "1.5" on an integer field still compares numerically
          if (!d) model_error(path, fmt::format("\"{}\" is not an integer", text));
          return Val::number(*d, DataType::Double);
        }
        return Val::number(double(*v), DataType::Integer);
      }
      case DataType::Float: {
        auto v = numbers::parse_float(text);
        if (!v) model_error(path, fmt::format("\"{}\" is not a float", text));
        return Val::number(double(*v), DataType::Float);
      }
      case DataType::Double: {
        auto v = numbers::parse_double(text);
        if (!v) model_error(path, fmt::format("\"{}\" is not a number", text));
        return Val::number(*v, DataType::Double);
      }
      case DataType::Boolean: {
        auto v = numbers::parse_boolean(text);
        if (!v) model_error(path, fmt::format("\"{}\" is not a boolean", text));
        return Val::boolean(*v);
      }
      default:
        unsupported(path, fmt::format("values of type {} are not supported", to_string(type)));
    }
  }
  /// A constant without a declared type: integer, else double, else string (as the reference infers).
  Val inferred_value(const std::string& text) {
    if (auto i = numbers::parse_integer(text); i && text.find_first_of(".eE") == std::string::npos)
      return Val::number(double(*i), DataType::Integer);
    std::string_view t = numbers::trim(text);
    bool numeric_looking = !t.empty() && (std::isdigit(static_cast<unsigned char>(t.back())) || t.back() == '.');
    if (numeric_looking)
      if (auto d = numbers::parse_double(text)) return Val::number(*d, DataType::Double);
    return Val::string(prog_.strings.intern(text));
  }

  // ----- expressions ------------------------------------------------------------------------------------
  std::int32_t expression(const ir::Expression& e, const Scope& scope, DataType hint) {
    Expr x;
    x.path = e.path;
    if (e.map_missing_to) {
      x.has_map_missing = true;
      x.map_missing_to = e.data_type ? typed_value(*e.map_missing_to, *e.data_type, e.path) : inferred_value(*e.map_missing_to);
    }
    if (e.default_value) {
      x.has_default = true;
      x.default_value = e.data_type ? typed_value(*e.default_value, *e.data_type, e.path) : inferred_value(*e.default_value);
    }
    switch (e.kind) {
      case ir::Expression::Kind::Constant:
        x.op = Expr::Op::Constant;
        if (e.constant_missing) x.constant = Val::missing();
        else x.constant = e.data_type ? typed_value(e.value, *e.data_type, e.path) : inferred_value(e.value);
        break;
      case ir::Expression::Kind::FieldRef:
        if (params_) {
          auto it = std::find_if(params_->begin(), params_->end(), [&](auto* p) { return p->name == e.field; });
          if (it != params_->end()) {
            x.op = Expr::Op::Param;
            x.slot = std::int32_t(it - params_->begin());
            break;
          }
        }
        x.op = Expr::Op::FieldRef;
        x.slot = resolve(scope, e.field, e.path);
        break;
      case ir::Expression::Kind::NormContinuous:
        x.op = Expr::Op::NormContinuous;
        x.slot = resolve_or_param(scope, e, x);
        x.norms = e.linear_norms;
        if (e.outliers == "asMissingValues") x.outliers = 1;
        else if (e.outliers == "asExtremeValues") x.outliers = 2;
        else if (e.outliers != "asIs") model_error(e.path, fmt::format("unknown outliers \"{}\"", e.outliers));
        break;
      case ir::Expression::Kind::NormDiscrete: {
        x.op = Expr::Op::NormDiscrete;
        x.slot = resolve_or_param(scope, e, x);
        DataType t = x.slot >= 0 ? prog_.slots[std::size_t(x.slot)].type : DataType::String;
        x.match = t == DataType::String ? Val::string(prog_.strings.intern(e.value)) : typed_value(e.value, t, e.path);
        break;
      }
      case ir::Expression::Kind::Discretize: {
        x.op = Expr::Op::Discretize;
        x.slot = resolve_or_param(scope, e, x);
        for (const auto& b : e.bins) {
          Expr::Bin bin;
          bin.range = range(b.interval);
          bin.value = e.data_type ? typed_value(b.value, *e.data_type, e.path) : inferred_value(b.value);
          x.bins.push_back(bin);
        }
        break;
      }
      case ir::Expression::Kind::MapValues: {
        x.op = Expr::Op::MapValues;
        std::vector<std::string> columns;
        for (const auto& [field, column] : e.field_columns) {
          x.key_slots.push_back(resolve(scope, field, e.path));
          columns.push_back(column);
        }
        DataType out_type = e.data_type ? *e.data_type : DataType::String;
        auto local = [](const std::string& n) {
          auto c = n.find(':');
          return c == std::string::npos ? n : n.substr(c + 1);
        };
        for (const auto& row : e.rows) {
          std::vector<Val> r(columns.size() + 1);
          std::vector<bool> seen(columns.size() + 1, false);
          for (const auto& [column, text] : row) {
            for (std::size_t k = 0; k <= columns.size(); ++k) {
              const std::string& want = k < columns.size() ? columns[k] : e.output_column;
              if (seen[k] || (column != want && local(column) != local(want))) continue;
              if (k < columns.size()) {
                DataType kt = prog_.slots[std::size_t(x.key_slots[k])].type;
                r[k] = kt == DataType::String ? Val::string(prog_.strings.intern(text)) : typed_value(text, kt, e.path);
              } else {
                r[k] = typed_value(text, out_type, e.path);
              }
              seen[k] = true;
              break;
            }
          }
          if (std::find(seen.begin(), seen.end(), false) != seen.end()) continue;  // an incomplete row matches nothing
          x.table.push_back(std::move(r));
        }
        x.result_type = out_type;
        break;
      }
      case ir::Expression::Kind::Apply: {
        x.op = Expr::Op::Apply;
        auto fit = functions_.find(e.function);
        if (fit != functions_.end()) {
          x.fn = Fn::Call;
          x.function = fit->second;
        } else if (!lookup_function(e.function, x.fn)) {
          unsupported(e.path, fmt::format("function \"{}\" is not supported", e.function));
        }
        if (e.invalid_value_treatment == "asMissing") x.invalid_as_missing = true;
        else if (e.invalid_value_treatment != "returnInvalid" && e.invalid_value_treatment != "asIs")
          model_error(e.path, fmt::format("unknown invalidValueTreatment \"{}\"", e.invalid_value_treatment));
        for (const auto& a : e.arguments) x.args.push_back(expression(*a, scope, hint));
        check_arity(x, e);
        break;
      }
      default:
        unsupported(e.path, "expression not supported");
    }
    prog_.expressions.push_back(std::move(x));
    return std::int32_t(prog_.expressions.size() - 1);
  }

  void check_arity(const Expr& x, const ir::Expression& e) {
    std::size_t n = x.args.size(), low = 0, high = 0;
    switch (x.fn) {
      case Fn::Call: low = high = prog_.functions[std::size_t(x.function)].params.size(); break;
      case Fn::Add: case Fn::Sub: case Fn::Mul: case Fn::Div: case Fn::Mod: case Fn::Equal: case Fn::NotEqual:
      case Fn::Less: case Fn::LessEq: case Fn::Greater: case Fn::GreaterEq: case Fn::Pow: case Fn::Threshold:
      case Fn::Atan2: case Fn::Hypot: case Fn::Matches: case Fn::FormatNumber:
        low = high = 2;
        break;
      case Fn::Substring: case Fn::Replace: low = high = 3; break;
      case Fn::If: low = 2; high = 3; break;
      case Fn::And: case Fn::Or: case Fn::IsIn: case Fn::IsNotIn: low = 2; high = SIZE_MAX; break;
      case Fn::Min: case Fn::Max: case Fn::Sum: case Fn::Avg: case Fn::Median: case Fn::Product: case Fn::Concat:
        low = 1;
        high = SIZE_MAX;
        break;
      default: low = high = 1; break;
    }
    if (n < low || n > high) {
      std::string want = low == high ? std::to_string(low) : high == SIZE_MAX ? fmt::format("at least {}", low)
                                                                               : fmt::format("{} to {}", low, high);
      model_error(e.path, fmt::format("function \"{}\" takes {} arguments, not {}", e.function, want, n));
    }
  }

  std::int32_t resolve_or_param(const Scope& scope, const ir::Expression& e, Expr& x) {
    if (params_) {
      auto it = std::find_if(params_->begin(), params_->end(), [&](auto* p) { return p->name == e.field; });
      if (it != params_->end())
        unsupported(e.path, fmt::format("{} over a function parameter is not supported", x.path));
    }
    return resolve(scope, e.field, e.path);
  }

  static InputSpec::Range range(const ir::Interval& iv) {
    InputSpec::Range r;
    r.left = iv.left;
    r.right = iv.right;
    r.left_closed = iv.closure == ir::Interval::Closure::ClosedClosed || iv.closure == ir::Interval::Closure::ClosedOpen;
    r.right_closed = iv.closure == ir::Interval::Closure::ClosedClosed || iv.closure == ir::Interval::Closure::OpenClosed;
    return r;
  }

  void derived_fields(const std::vector<ir::DerivedField>& fields, Scope& scope) {
    std::vector<std::int32_t> slots;
    for (const auto& d : fields) {
      if (scope.names.count(d.name) || data_fields_.count(d.name))
        model_error(d.path, fmt::format("DerivedField \"{}\" has the name of another field in scope", d.name));
      std::int32_t s = add_slot(Slot::Kind::Derived, d.name, d.data_type, d.op_type);
      scope.names[d.name] = s;
      slots.push_back(s);
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      current_slot_ = slots[i];
      prog_.slots[std::size_t(slots[i])].expression = expression(*fields[i].expression, scope, fields[i].data_type);
      current_slot_ = -1;
    }
  }

  // ----- predicates -------------------------------------------------------------------------------------
  std::string where(const ir::Predicate& p) const {
    if (!p.path.empty() || p.line == 0) return p.path;
    return fmt::format("predicate at line {}", p.line);
  }
  /// Runs `body`; a ModelError it throws for a tree predicate (which carries no path) gets the line.
  template <class Body>
  auto at(const ir::Predicate& p, Body&& body) -> decltype(body()) {
    if (!p.path.empty() || p.line == 0) return body();
    try {
      return body();
    } catch (const ModelError& e) {
      std::string msg = e.what();
      auto cut = msg.rfind(" (at ");
      if (cut != std::string::npos) msg.erase(cut);
      model_error(where(p), msg);
    }
  }

  /// A tree's predicate `index` as the ir::Predicate that predicate() compiles: no path, its line.
  void tree_predicate(const ir::TreeData& tr, std::uint32_t index, ir::Predicate& p) {
    const ir::TreePredicate& f = tr.predicates[index];
    p.kind = f.kind;
    p.line = f.line;
    p.field.assign(tr.view(f.field));
    p.op.assign(ir::op_text(f.op));
    p.value.assign(tr.view(f.value));
    p.values.clear();
    p.children.clear();
    if (f.kind == ir::Predicate::Kind::SimpleSet)
      for (std::uint32_t i = f.begin; i < f.end; ++i) p.values.push_back(tr.str(tr.set_values[i]));
    if (f.kind == ir::Predicate::Kind::Compound)
      for (std::uint32_t i = f.begin; i < f.end; ++i) {
        p.children.push_back(std::make_unique<ir::Predicate>());
        tree_predicate(tr, tr.predicate_children[i], *p.children.back());
      }
  }

  /// The fields a tree's predicates resolved (its text, its slot), the first few: one tree tests a few.
  struct TreeFields {
    static constexpr std::size_t kMax = 64;
    std::vector<std::pair<std::string_view, std::int32_t>> seen;
    std::int32_t find(std::string_view field) const {
      // The last letters first: names such as f0 ... f99 share their first ones.
      for (const auto& [name, slot] : seen)
        if (name.size() == field.size() && (name.empty() || name.back() == field.back()) && name == field) return slot;
      return -1;
    }
  };
  /// predicate(tree_predicate(...)): a tree's predicate `index`, compiled. The usual test, a numeric field
  /// of the tree's compared with a constant, is made directly, without the strings: the same Pred.
  std::int32_t tree_node_predicate(const ir::TreeData& tr, std::uint32_t index, const Scope& scope, TreeFields& fields,
                                   ir::Predicate& scratch, const PreParsed* pre) {
    using TOp = ir::TreePredicate::Op;
    const ir::TreePredicate& f = tr.predicates[index];
    if (f.kind == ir::Predicate::Kind::Simple && f.op >= TOp::Equal && f.op <= TOp::GreaterOrEqual && current_slot_ < 0) {
      const std::int32_t slot = fields.find(tr.view(f.field));
      const DataType type = slot >= 0 ? prog_.slots[std::size_t(slot)].type : DataType::String;
      std::optional<double> value;
      if (pre && (type == DataType::Double || type == DataType::Float) && pre->value_types[index] == type &&
          pre->values[index] == pre->values[index])
        value = pre->values[index];
      else if (type == DataType::Double) value = numbers::parse_double(tr.view(f.value));
      else if (type == DataType::Float)
        if (auto v = numbers::parse_float(tr.view(f.value))) value = double(*v);
      if (value && *value == *value) {  // else the generic path, which says what is wrong
        static const Pred::Op ops[] = {Pred::Op::Equal, Pred::Op::NotEqual, Pred::Op::Less,
                                       Pred::Op::LessEq, Pred::Op::Greater, Pred::Op::GreaterEq};
        Pred x;
        x.op = ops[std::size_t(f.op) - std::size_t(TOp::Equal)];
        x.slot = slot;
        x.num = *value;
        prog_.predicates.push_back(x);
        return std::int32_t(prog_.predicates.size() - 1);
      }
    }
    tree_predicate(tr, index, scratch);
    const std::int32_t compiled = predicate(scratch, scope);
    if (f.kind == ir::Predicate::Kind::Simple && fields.seen.size() < TreeFields::kMax &&
        fields.find(tr.view(f.field)) < 0)
      fields.seen.emplace_back(tr.view(f.field), prog_.predicates[std::size_t(compiled)].slot);
    return compiled;
  }

  std::int32_t predicate(const ir::Predicate& p, const Scope& scope) {
    Pred x;
    switch (p.kind) {
      case ir::Predicate::Kind::True: x.op = Pred::Op::True; break;
      case ir::Predicate::Kind::False: x.op = Pred::Op::False; break;
      case ir::Predicate::Kind::Simple: {
        x.slot = at(p, [&] { return resolve(scope, p.field, p.path); });
        static const std::pair<const char*, Pred::Op> ops[] = {
            {"equal", Pred::Op::Equal},   {"notEqual", Pred::Op::NotEqual},       {"lessThan", Pred::Op::Less},
            {"lessOrEqual", Pred::Op::LessEq}, {"greaterThan", Pred::Op::Greater}, {"greaterOrEqual", Pred::Op::GreaterEq},
            {"isMissing", Pred::Op::IsMissing}, {"isNotMissing", Pred::Op::IsNotMissing}};
        for (auto& [name, op] : ops)
          if (p.op == name) x.op = op;
        if (x.op == Pred::Op::IsMissing || x.op == Pred::Op::IsNotMissing) break;
        DataType t = prog_.slots[std::size_t(x.slot)].type;
        if (t == DataType::String) {
          x.string_compare = true;
          x.sym = prog_.strings.intern(p.value);
        } else {
          // The constant is parsed to the field's type first: a float field compares with (float)value.
          Val v = at(p, [&] { return typed_value(p.value, t, p.path); });
          if (v.num != v.num) model_error(where(p), fmt::format("SimplePredicate value \"{}\" is not a number", p.value));
          x.num = v.num;
        }
        break;
      }
      case ir::Predicate::Kind::SimpleSet: {
        x.slot = at(p, [&] { return resolve(scope, p.field, p.path); });
        x.op = p.op == "isIn" ? Pred::Op::In : Pred::Op::NotIn;
        DataType t = prog_.slots[std::size_t(x.slot)].type;
        if (t == DataType::String) {
          x.string_compare = true;
          x.begin = std::int32_t(prog_.set_syms.size());
          for (const auto& v : p.values) prog_.set_syms.push_back(prog_.strings.intern(v));
          x.end = std::int32_t(prog_.set_syms.size());
          std::sort(prog_.set_syms.begin() + x.begin, prog_.set_syms.end());
        } else {
          x.begin = std::int32_t(prog_.set_nums.size());
          for (const auto& v : p.values) prog_.set_nums.push_back(at(p, [&] { return typed_value(v, t, p.path); }).num);
          x.end = std::int32_t(prog_.set_nums.size());
          std::sort(prog_.set_nums.begin() + x.begin, prog_.set_nums.end());
        }
        break;
      }
      case ir::Predicate::Kind::Compound: {
        if (p.op == "and") x.op = Pred::Op::And;
        else if (p.op == "or") x.op = Pred::Op::Or;
        else if (p.op == "xor") x.op = Pred::Op::Xor;
        else x.op = Pred::Op::Surrogate;
        std::vector<std::int32_t> kids;
        for (const auto& c : p.children) kids.push_back(predicate(*c, scope));
        x.begin = std::int32_t(prog_.pred_children.size());
        prog_.pred_children.insert(prog_.pred_children.end(), kids.begin(), kids.end());
        x.end = std::int32_t(prog_.pred_children.size());
        break;
      }
    }
    prog_.predicates.push_back(x);
    return std::int32_t(prog_.predicates.size() - 1);
  }

  // ----- models -----------------------------------------------------------------------------------------
  TargetInfo target_of(const ir::Model& m, const TargetInfo* inherited) {
    // A segment without a target of its own predicts its parent's, unless it is a different kind of model
    // (a classification tree feeding a regression in a chain).
    if (inherited && inherited->function != m.function) inherited = nullptr;
    TargetInfo t;
    t.function = m.function;
    for (const auto& f : m.mining_schema)
      if (f.usage == FieldUsage::Target) {
        t.name = f.name;
        auto it = data_fields_.find(f.name);
        if (it != data_fields_.end()) {
          t.field = it->second;
          t.type = it->second->data_type;
          t.op = f.op_type ? *f.op_type : it->second->op_type;
        } else if (inherited && inherited->name == f.name) {
          t = *inherited;
        } else {
          // A target that is a derived field or an output of an earlier chain segment.
          t.type = m.function == MiningFunction::Classification ? DataType::String : DataType::Double;
          t.op = m.function == MiningFunction::Classification ? OpType::Categorical : OpType::Continuous;
        }
        return t;
      }
    if (inherited) return *inherited;
    t.type = m.function == MiningFunction::Classification ? DataType::String : DataType::Double;
    t.op = m.function == MiningFunction::Classification ? OpType::Categorical : OpType::Continuous;
    return t;
  }

  /// The class values a classification model predicts, in the order the reference reports them.
  std::vector<std::string> class_texts(const ir::Model& m, const TargetInfo& t) {
    if (t.field && !t.field->valid_values.empty()) return t.field->valid_values;
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    auto add = [&](const std::string& s) {
      if (seen.insert(s).second) out.push_back(s);
    };
    switch (m.kind) {
      case ir::Model::Kind::Regression:
        for (const auto& table : m.regression->tables)
          if (table.target_category) add(*table.target_category);
        break;
      case ir::Model::Kind::Tree: {
        const auto& tr = *m.tree;
        std::vector<std::uint32_t> stack{0};
        while (!stack.empty()) {
          const ir::Node& n = tr.nodes[stack.back()];
          stack.pop_back();
          if (n.has_score) add(tr.str(n.score));
          for (std::uint32_t d = n.dist_begin; d < n.dist_end; ++d) add(tr.str(tr.distributions[d].value));
          for (std::uint32_t c = n.child_count; c-- > 0;) stack.push_back(n.first_child + c);
        }
        break;
      }
      case ir::Model::Kind::Mining:
        for (const auto& s : m.mining->segments) {
          if (s.model->function != MiningFunction::Classification) continue;
          TargetInfo st = target_of(*s.model, &t);
          for (auto& c : class_texts(*s.model, st)) add(c);
        }
        break;
      case ir::Model::Kind::GeneralRegression: {
        const auto& g = *m.general_regression;
        for (const auto& c : g.p_cells)
          if (!c.target_category.empty()) add(c.target_category);
        if (!g.target_reference_category.empty()) add(g.target_reference_category);
        break;
      }
    }
    for (const auto& tg : m.targets)
      for (const auto& v : tg.values)
        if (!v.value.empty()) add(v.value);
    return out;
  }

  std::int32_t compile_model(ir::Model& m, const Scope& parent, const TargetInfo* inherited);

  void fill_common(ModelEval& e, const ir::Model& m, const TargetInfo& t, Scope& scope, const Scope* output_parent);
  void compile_outputs(ModelEval& e, const ir::Model& m, Scope& scope);
  void compile_regression(RegressionEval& e, const ir::Model& m, const Scope& scope);
  void compile_tree(TreeEval& e, const ir::Model& m, const Scope& scope, const TargetInfo& t);
  void compile_mining(MiningEval& e, const ir::Model& m, Scope& scope, const TargetInfo& t);
  void compile_general_regression(GeneralRegressionEval& e, const ir::Model& m, const Scope& scope);
  RegressionTableEval table(const ir::RegressionTable& t, const Scope& scope, const ModelEval& e);

  void check_cycles();
  void check_derivation_depth();
  /// For each DefineFunction, the functions its body calls.
  std::vector<std::vector<std::int32_t>> function_calls() const {
    std::vector<std::vector<std::int32_t>> calls(prog_.functions.size());
    for (std::size_t i = 0; i < prog_.functions.size(); ++i) {
      std::vector<std::int32_t> todo{prog_.functions[i].body};
      while (!todo.empty()) {
        const Expr& x = prog_.expressions[std::size_t(todo.back())];
        todo.pop_back();
        if (x.op == Expr::Op::Apply && x.fn == Fn::Call) calls[i].push_back(x.function);
        for (auto a : x.args) todo.push_back(a);
      }
    }
    return calls;
  }
  void mark_kernels_ahead();
  void build_tree_kernels();
  void build_inputs(const ir::Model& top, const Scope& top_scope);
  void collect_active(const ir::Model& m, std::unordered_set<std::string>& seen);
  /// The active MiningFields of the document that name DataFields, the first of each name in document
  /// order: copied before compiling, which frees the MiningSchemas of trees as it goes.
  std::vector<ir::MiningField> active_fields_;

  friend std::unique_ptr<Compiled> pmmlrt::compile::compile_document(ir::Document, const LoadOptions&);
  std::vector<ResultOutput> surfaced_outputs(const ir::Model& m, std::int32_t id);
  std::unordered_map<std::int32_t, std::vector<std::pair<std::string, std::int32_t>>> model_outputs_;  // model id -> (name, slot)
  std::unordered_map<std::int32_t, std::vector<std::int32_t>> segment_models_;  // mining model id -> segment models
  std::unordered_map<std::int32_t, std::string> method_of_;
  // Mining model id -> the kernel its trees were added to while they were compiled (see KernelPipeline).
  std::unordered_map<std::int32_t, std::unique_ptr<KernelPipeline>> kernel_pipelines_;

  /// How many predicates and set values compiling `p` adds at most: one per predicate, one per value.
  static std::pair<std::size_t, std::size_t> predicate_bounds(const ir::Predicate& p) {
    std::pair<std::size_t, std::size_t> b{1, p.values.size()};
    for (const auto& c : p.children) {
      auto cb = predicate_bounds(*c);
      b.first += cb.first;
      b.second += cb.second;
    }
    return b;
  }
  /// The same for a segment and its tree: its predicate, and each of the tree's predicates and set values.
  static std::pair<std::size_t, std::size_t> segment_bounds(const ir::Segment& s) {
    auto b = predicate_bounds(*s.predicate);
    b.first += s.model->tree->predicates.size();
    b.second += s.model->tree->set_values.size();
    return b;
  }
  /// The pipeline for the forest `e` (its segments `d`) when it can have one: threads to spare, a kernel
  /// method, and segments that are all plain trees (no outputs, no local transformations: such segments add
  /// slots, which the pipeline's thread reads). Reserves what it must; null when there is none.
  std::unique_ptr<KernelPipeline> start_kernel_pipeline(MiningEval& e, const ir::MiningData& d) {
    if (!options_.ensemble_kernel || threads() < 2 || d.segments.size() < 16 || !ForestKernelBuild::method_has_kernel(e))
      return nullptr;
    ForestKernelBuild::Sizes sizes;
    sizes.results = 1;
    std::size_t predicates = 0, set_values = 0;
    for (const auto& s : d.segments) {
      const ir::Model& m = *s.model;
      if (m.kind != ir::Model::Kind::Tree || !m.tree || !m.output.empty() || !m.local_transformations.empty())
        return nullptr;
      const auto b = segment_bounds(s);
      predicates += b.first;
      set_values += b.second;
      ++sizes.trees;
      sizes.nodes += m.tree->nodes.size();
      // As the compiled tree will count them (Builder::sizes_of): a distribution only in classification.
      for (const ir::Node& n : m.tree->nodes)
        sizes.results += n.has_score || (m.function == MiningFunction::Classification && n.dist_end > n.dist_begin) ? 1 : 0;
    }
    // Nothing that the thread reads may move while it runs: room for every segment's predicates, set
    // values, model and Segment up front (compile_mining stops the pipeline before one could need more).
    prog_.predicates.reserve(prog_.predicates.size() + predicates);
    prog_.set_nums.reserve(prog_.set_nums.size() + set_values);
    prog_.set_syms.reserve(prog_.set_syms.size() + set_values);
    prog_.models.reserve(prog_.models.size() + d.segments.size());
    e.segments.reserve(d.segments.size());
    try {
      return std::make_unique<KernelPipeline>(prog_, e, sizes);
    } catch (const std::system_error&) {
      return nullptr;  // no thread: the kernel is built afterwards
    }
  }
  /// Hands the heap's free pages back once enough tree nodes were released since the last time (glibc only).
  void trim_heap() {
#if defined(__GLIBC__)
    if (released_nodes_ >= 10000) {
      malloc_trim(0);
      released_nodes_ = 0;
    }
#endif
  }
  /// Whether compiling segment `s` next cannot move what a pipeline's thread reads.
  bool room_for(const ir::Segment& s) const {
    const auto b = segment_bounds(s);
    auto spare = [](const auto& v) { return v.capacity() - v.size(); };
    return spare(prog_.predicates) >= b.first && spare(prog_.set_nums) >= b.second && spare(prog_.set_syms) >= b.second &&
           spare(prog_.models) >= 1;
  }
  std::unordered_map<std::int32_t, const ir::Model*> ir_of_;
};

void Compiler::fill_common(ModelEval& e, const ir::Model& m, const TargetInfo& t, Scope&, const Scope*) {
  e.function = m.function;
  e.float_math = m.float_math;
  e.element = m.element;
  e.path = m.path;
  e.target_type = t.type;
  if (m.function == MiningFunction::Classification) {
    for (const auto& text : class_texts(m, t)) e.classes.push_back(typed_value(text, t.type, m.path));
    if (e.classes.empty()) model_error(m.path, "a classification model with no classes (no target categories found)");
    prog_.max_classes = std::max(prog_.max_classes, e.classes.size());
  }
  // Targets
  for (const auto& tg : m.targets) {
    if (!tg.field.empty() && !t.name.empty() && tg.field != t.name) continue;
    TargetSpec& s = e.target;
    s.min = tg.min;
    s.max = tg.max;
    s.factor = tg.rescale_factor;
    s.constant = tg.rescale_constant;
    if (tg.cast_integer == "round") s.cast = TargetSpec::Cast::Round;
    else if (tg.cast_integer == "ceiling") s.cast = TargetSpec::Cast::Ceiling;
    else if (tg.cast_integer == "floor") s.cast = TargetSpec::Cast::Floor;
    else if (!tg.cast_integer.empty()) model_error(tg.path, fmt::format("unknown castInteger \"{}\"", tg.cast_integer));
    if (m.function == MiningFunction::Regression) {
      for (const auto& v : tg.values)
        if (v.default_value) s.default_value = v.default_value;
    } else {
      s.display.assign(e.classes.size(), -1);
      bool any_prior = false;
      std::vector<double> priors(e.classes.size(), 0.0);
      for (const auto& v : tg.values) {
        if (v.value.empty()) continue;
        Val cv = typed_value(v.value, t.type, tg.path);
        std::int32_t c = -1;
        for (std::size_t i = 0; i < e.classes.size(); ++i)
          if (cv.kind == e.classes[i].kind && cv.num == e.classes[i].num && cv.sym == e.classes[i].sym) c = std::int32_t(i);
        if (c < 0) continue;
        if (!v.display_value.empty()) s.display[std::size_t(c)] = prog_.strings.intern(v.display_value);
        if (v.prior_probability) {
          priors[std::size_t(c)] = *v.prior_probability;
          any_prior = true;
        }
      }
      if (any_prior) s.priors = priors;
    }
  }
  // DataField display values for predictedDisplayValue.
  if (m.function == MiningFunction::Classification && t.field) {
    if (e.target.display.empty()) e.target.display.assign(e.classes.size(), -1);
    for (std::size_t i = 0; i < t.field->valid_values.size() && i < e.classes.size(); ++i)
      if (e.target.display[i] < 0 && !t.field->display_values[i].empty())
        e.target.display[i] = prog_.strings.intern(t.field->display_values[i]);
  }
}

void Compiler::compile_outputs(ModelEval& e, const ir::Model& m, Scope& scope) {
  // Outputs are visible to later outputs of the same model and, in a chain, to later segments.
  std::vector<std::int32_t> slots;
  for (const auto& o : m.output) {
    DataType type = o.data_type ? *o.data_type : DataType::Double;
    if (!o.data_type) {
      if (o.feature == "predictedValue") type = e.function == MiningFunction::Classification ? e.target_type : DataType::Double;
      else if (o.feature == "predictedDisplayValue" || o.feature == "entityId") type = DataType::String;
    }
    std::int32_t s = add_slot(Slot::Kind::Output, o.name, type, o.op_type ? *o.op_type : OpType::Continuous);
    slots.push_back(s);
  }
  for (std::size_t i = 0; i < m.output.size(); ++i) {
    const auto& o = m.output[i];
    OutputSpec spec;
    spec.slot = slots[i];
    spec.name = o.name;
    spec.is_final = o.is_final_result;
    spec.type = prog_.slots[std::size_t(slots[i])].type;
    spec.cast = o.data_type.has_value();
    const std::string& f = o.feature;
    if (f == "predictedValue") spec.feature = OutputSpec::Feature::PredictedValue;
    else if (f == "predictedDisplayValue") spec.feature = OutputSpec::Feature::PredictedDisplayValue;
    else if (f == "probability") spec.feature = OutputSpec::Feature::Probability;
    else if (f == "confidence") spec.feature = OutputSpec::Feature::Confidence;
    else if (f == "affinity") spec.feature = OutputSpec::Feature::Affinity;
    else if (f == "entityId") spec.feature = OutputSpec::Feature::EntityId;
    else if (f == "transformedValue" || f == "decision") {
      spec.feature = OutputSpec::Feature::TransformedValue;
      if (!o.expression) model_error(o.path, fmt::format("OutputField \"{}\" ({}) lacks an expression", o.name, f));
    } else {
      unsupported(o.path, fmt::format("OutputField feature \"{}\" is not supported", f));
    }
    if (o.rank != 1) unsupported(o.path, "OutputField rank other than 1 is not supported");
    if (!o.segment_id.empty()) unsupported(o.path, "OutputField segmentId is not supported");
    if ((spec.feature == OutputSpec::Feature::Probability || spec.feature == OutputSpec::Feature::Confidence) &&
        !o.value.empty()) {
      if (e.function != MiningFunction::Classification)
        model_error(o.path, fmt::format("OutputField \"{}\" asks for a class probability of a regression model", o.name));
      Val cv = typed_value(o.value, e.target_type, o.path);
      spec.class_index = -1;
      for (std::size_t c = 0; c < e.classes.size(); ++c)
        if (cv.kind == e.classes[c].kind && cv.num == e.classes[c].num && cv.sym == e.classes[c].sym)
          spec.class_index = std::int32_t(c);
      if (spec.class_index < 0)
        model_error(o.path, fmt::format("OutputField \"{}\": \"{}\" is not a class of the model", o.name, o.value));
    }
    if (spec.feature == OutputSpec::Feature::TransformedValue) spec.expression = expression(*o.expression, scope, spec.type);
    scope.names[o.name] = slots[i];
    model_outputs_[e.id].emplace_back(o.name, slots[i]);
    e.outputs.push_back(std::move(spec));
  }
}

RegressionTableEval Compiler::table(const ir::RegressionTable& t, const Scope& scope, const ModelEval& e) {
  RegressionTableEval r;
  r.intercept = t.intercept;
  for (const auto& p : t.numeric) r.numeric.push_back({resolve(scope, p.field, t.path), p.exponent, p.coefficient});
  for (const auto& p : t.categorical) {
    std::int32_t s = resolve(scope, p.field, t.path);
    DataType ft = prog_.slots[std::size_t(s)].type;
    Val v = ft == DataType::String ? Val::string(prog_.strings.intern(p.value)) : typed_value(p.value, ft, t.path);
    r.categorical.push_back({s, v, p.coefficient});
  }
  for (const auto& term : t.terms) {
    RegressionTableEval::Term x;
    x.coefficient = term.coefficient;
    for (const auto& f : term.fields) x.slots.push_back(resolve(scope, f, t.path));
    r.terms.push_back(std::move(x));
  }
  if (e.function == MiningFunction::Classification) {
    if (!t.target_category) model_error(t.path, "a classification RegressionTable lacks targetCategory");
    Val cv = typed_value(*t.target_category, e.target_type, t.path);
    for (std::size_t c = 0; c < e.classes.size(); ++c)
      if (cv.kind == e.classes[c].kind && cv.num == e.classes[c].num && cv.sym == e.classes[c].sym)
        r.class_index = std::int32_t(c);
    if (r.class_index < 0)
      model_error(t.path, fmt::format("targetCategory \"{}\" is not a class of the target", *t.target_category));
  }
  return r;
}

void Compiler::compile_regression(RegressionEval& e, const ir::Model& m, const Scope& scope) {
  const auto& r = *m.regression;
  static const std::pair<const char*, Normalization> norms[] = {
      {"none", Normalization::None},       {"softmax", Normalization::Softmax}, {"logit", Normalization::Logit},
      {"probit", Normalization::Probit},   {"cloglog", Normalization::Cloglog}, {"loglog", Normalization::Loglog},
      {"cauchit", Normalization::Cauchit}, {"exp", Normalization::Exp},         {"simplemax", Normalization::Simplemax}};
  bool known = false;
  for (auto& [name, n] : norms)
    if (r.normalization == name) {
      e.normalization = n;
      known = true;
    }
  if (!known) unsupported(m.path, fmt::format("normalizationMethod \"{}\" is not supported", r.normalization));
  for (const auto& t : r.tables) e.tables.push_back(table(t, scope, e));
  if (m.function == MiningFunction::Classification) {
    if (e.tables.size() < 2) model_error(m.path, "a classification RegressionModel needs a RegressionTable per class");
    auto n = e.normalization;
    if (n == Normalization::Exp) model_error(m.path, "normalizationMethod exp is only for regression");
    if (e.tables.size() > 2 && n != Normalization::None && n != Normalization::Softmax && n != Normalization::Simplemax &&
        n != Normalization::Logit && e.classes.size() > 0) {
      bool ordinal = false;
      auto it = data_fields_.end();
      for (const auto& f : m.mining_schema)
        if (f.usage == FieldUsage::Target) it = data_fields_.find(f.name);
      if (it != data_fields_.end() && it->second->op_type == OpType::Ordinal) ordinal = true;
      if (!ordinal)
        model_error(m.path, fmt::format("normalizationMethod \"{}\" is not defined for {} classes", r.normalization,
                                        e.tables.size()));
    }
    for (const auto& f : m.mining_schema)
      if (f.usage == FieldUsage::Target) {
        auto it = data_fields_.find(f.name);
        OpType op = f.op_type ? *f.op_type : (it != data_fields_.end() ? it->second->op_type : OpType::Categorical);
        e.ordinal = op == OpType::Ordinal;
      }
  } else if (e.tables.size() != 1) {
    model_error(m.path, "a regression RegressionModel needs exactly one RegressionTable");
  }
}

/// Prefetches each cache line of [p, p + bytes), in order.
void prefetch_lines(const void* p, std::size_t bytes) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(b + at);
}

void Compiler::compile_tree(TreeEval& e, const ir::Model& m, const Scope& scope, const TargetInfo& t) {
  const auto& tr = *m.tree;
  const PreParsed* pre = pre_parsed_ && pre_parsed_->values.size() == tr.predicates.size() ? pre_parsed_ : nullptr;
  pre_parsed_ = nullptr;
  static const std::pair<const char*, TreeEval::Missing> strategies[] = {
      {"none", TreeEval::Missing::None},
      {"lastPrediction", TreeEval::Missing::LastPrediction},
      {"nullPrediction", TreeEval::Missing::NullPrediction},
      {"defaultChild", TreeEval::Missing::DefaultChild},
      {"weightedConfidence", TreeEval::Missing::WeightedConfidence},
      {"aggregateNodes", TreeEval::Missing::AggregateNodes}};
  for (auto& [name, s] : strategies)
    if (tr.missing_value_strategy == name) e.missing = s;
  e.missing_penalty = tr.missing_value_penalty;
  e.return_last_prediction = tr.no_true_child_strategy == "returnLastPrediction";
  if ((e.missing == TreeEval::Missing::WeightedConfidence || e.missing == TreeEval::Missing::AggregateNodes) &&
      m.function != MiningFunction::Classification)
    unsupported(m.path, fmt::format("missingValueStrategy {} is defined for classification only", tr.missing_value_strategy));

  // The walk below visits the nodes breadth-first, but the loader stored them depth-first, and long before
  // (the whole document is read first): fetching the arrays in order first saves a cache miss per node.
  prefetch_lines(tr.nodes.data(), tr.nodes.size() * sizeof(ir::Node));
  prefetch_lines(tr.predicates.data(), tr.predicates.size() * sizeof(ir::TreePredicate));
  // Breadth-first layout: the children of a node are contiguous.
  std::vector<std::uint32_t> order{0};
  order.reserve(tr.nodes.size());
  e.nodes.reserve(tr.nodes.size());
  e.nodes.emplace_back();
  ir::Predicate scratch;  // each node's predicate, as predicate() takes it
  TreeFields fields;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ir::Node& n = tr.nodes[order[i]];
    std::int32_t pred = tree_node_predicate(tr, n.predicate, scope, fields, scratch, pre);
    auto first_child = std::int32_t(order.size());
    std::int32_t default_child = -1;
    std::string_view default_id = tr.view(n.default_child);
    for (std::uint32_t c = 0; c < n.child_count; ++c) {
      if (!default_id.empty() && tr.view(tr.nodes[n.first_child + c].id) == default_id)
        default_child = first_child + std::int32_t(c);
      order.push_back(n.first_child + c);
      e.nodes.emplace_back();
    }
    TreeNode& node = e.nodes[i];  // only now: emplace_back moves the nodes
    node.predicate = pred;
    node.first_child = first_child;
    node.child_count = std::int32_t(n.child_count);
    node.default_child = default_child;
    if (!default_id.empty() && node.default_child < 0 && n.child_count != 0)
      model_error(fmt::format("<Node> at line {}", n.line), fmt::format("defaultChild \"{}\" names no child Node", default_id));
    if (n.id.size) node.id = prog_.strings.intern(tr.view(n.id));
    node.record_count = std::isnan(n.record_count) ? 0.0 : n.record_count;
    if (n.has_score) {
      node.has_score = true;
      std::string_view score = tr.view(n.score);  // no copy: a forest has millions of scores
      if (m.function == MiningFunction::Classification) {
        Val v = typed_value(score, t.type, m.path);
        node.label = find_class(e.classes, v);
        if (node.label < 0) model_error(m.path, fmt::format("Node score \"{}\" is not a class of the target", score));
        node.score = e.classes[std::size_t(node.label)];
      } else {
        DataType st = m.float_math ? DataType::Float : DataType::Double;
        const std::size_t at = order[i];
        Val v = pre && at < pre->scores.size() && pre->scores[at] == pre->scores[at]
                    ? Val::number(pre->scores[at], st)
                    : typed_value(score, st, m.path);
        v.num = leaf_value(v.num, options_.leaf_precision, "score", n.line);
        node.value = v.num;
        node.score = v;
      }
    }
    if (n.dist_end > n.dist_begin && m.function == MiningFunction::Classification) {
      node.dist_begin = std::int32_t(e.dists.size());
      node.dist_probability = tr.distributions[n.dist_begin].probability.has_value();
      for (std::uint32_t k = n.dist_begin; k < n.dist_end; ++k) {
        const auto& d = tr.distributions[k];
        TreeDist td;
        std::string_view value = tr.view(d.value);
        Val v = typed_value(value, t.type, m.path);
        td.label = find_class(e.classes, v);
        if (td.label < 0) model_error(m.path, fmt::format("ScoreDistribution value \"{}\" is not a class of the target", value));
        if (node.dist_probability && !d.probability)
          model_error(m.path, "a ScoreDistribution lacks the probability its siblings give");
        // Record counts are counts, not leaf scores: they stay exact in every precision.
        td.weight = node.dist_probability ? leaf_value(*d.probability, options_.leaf_precision, "probability", n.line)
                                          : d.record_count;
        td.has_confidence = d.confidence.has_value();
        td.confidence = leaf_value(d.confidence.value_or(0.0), options_.leaf_precision, "confidence", n.line);
        e.dists.push_back(td);
      }
      node.dist_end = std::int32_t(e.dists.size());
    }
    if (n.embedded != ir::Node::none) {
      node.embedded = std::int32_t(e.embedded.size());
      RegressionEval dummy;
      dummy.function = MiningFunction::Regression;
      e.embedded.push_back(table(tr.embedded[n.embedded]->regression->tables.front(), scope, dummy));
    }
  }
}

void Compiler::compile_mining(MiningEval& e, const ir::Model& m, Scope& scope, const TargetInfo& t) {
  const auto& d = *m.mining;
  static const std::pair<const char*, MiningEval::Method> methods[] = {
      {"majorityVote", MiningEval::Method::MajorityVote}, {"weightedMajorityVote", MiningEval::Method::WeightedMajorityVote},
      {"average", MiningEval::Method::Average},           {"weightedAverage", MiningEval::Method::WeightedAverage},
      {"median", MiningEval::Method::Median},             {"weightedMedian", MiningEval::Method::WeightedMedian},
      {"max", MiningEval::Method::Max},                   {"sum", MiningEval::Method::Sum},
      {"weightedSum", MiningEval::Method::WeightedSum},   {"selectFirst", MiningEval::Method::SelectFirst},
      {"selectAll", MiningEval::Method::SelectAll},       {"modelChain", MiningEval::Method::ModelChain}};
  for (auto& [name, meth] : methods)
    if (d.method == name) e.method = meth;
  if (e.method == MiningEval::Method::SelectAll)
    unsupported(m.path, "multipleModelMethod selectAll (a result per segment) is not supported");
  bool regression = m.function == MiningFunction::Regression;
  using M = MiningEval::Method;
  if (regression && (e.method == M::MajorityVote || e.method == M::WeightedMajorityVote))
    model_error(m.path, fmt::format("multipleModelMethod {} is not defined for regression", d.method));
  if (!regression && (e.method == M::Sum || e.method == M::WeightedSum || e.method == M::WeightedMedian))
    model_error(m.path, fmt::format("multipleModelMethod {} is not defined for classification", d.method));
  if (d.missing_prediction_treatment == "continue") e.missing_treatment = MiningEval::MissingTreatment::Continue;
  else if (d.missing_prediction_treatment == "skipSegment") e.missing_treatment = MiningEval::MissingTreatment::SkipSegment;
  else if (d.missing_prediction_treatment == "returnMissing") e.missing_treatment = MiningEval::MissingTreatment::ReturnMissing;
  else model_error(m.path, fmt::format("unknown missingPredictionTreatment \"{}\"", d.missing_prediction_treatment));
  e.missing_threshold = d.missing_threshold;
  method_of_[e.id] = d.method;

  const bool chain = e.method == M::ModelChain;
  const Scope* seg_parent = &scope;
  // In a chain, a segment sees the outputs of those before it: no scope to parse ahead for.
  const std::vector<PreParsed> pre = chain ? std::vector<PreParsed>() : pre_parse(d.segments, scope);
  std::unique_ptr<KernelPipeline> pipeline = chain ? nullptr : start_kernel_pipeline(e, d);
  for (std::size_t i = 0; i < d.segments.size(); ++i) {
    const auto& s = d.segments[i];
    if (pipeline && !room_for(s)) pipeline.reset();  // the kernel is built afterwards, from the start
    MiningEval::Segment seg;
    seg.predicate = predicate(*s.predicate, *seg_parent);
    seg.weight = s.weight;
    seg.id = prog_.strings.intern(s.id);
    TargetInfo inherited = t;
    pre_parsed_ = i < pre.size() && s.model->kind == ir::Model::Kind::Tree ? &pre[i] : nullptr;
    seg.model = compile_model(*s.model, *seg_parent, &inherited);
    pre_parsed_ = nullptr;
    segment_models_[e.id].push_back(seg.model);
    const ModelEval& child = *prog_.models[std::size_t(seg.model)];
    if (!chain && child.function != m.function)
      model_error(s.path, "a segment's functionName differs from its MiningModel's");
    if (m.function == MiningFunction::Classification && child.function == MiningFunction::Classification) {
      for (const Val& c : child.classes) {
        std::int32_t idx = -1;
        for (std::size_t i = 0; i < e.classes.size(); ++i)
          if (c.kind == e.classes[i].kind && c.num == e.classes[i].num && c.sym == e.classes[i].sym) idx = std::int32_t(i);
        if (idx < 0) model_error(s.path, fmt::format("a class of the segment model is not a class of the MiningModel"));
        seg.class_map.push_back(idx);
      }
    }
    if (chain) {
      // Later segments see this segment's outputs.
      Scope& next = new_scope(seg_parent);
      for (auto& [name, slot] : model_outputs_[seg.model]) next.names[name] = slot;
      seg_parent = &next;
    }
    e.segments.push_back(std::move(seg));
    if (pipeline) pipeline->publish(e.segments.size());
  }
  if (pipeline) {
    // Closed here: what follows may add slots, which the thread reads.
    pipeline->close();
    kernel_pipelines_[e.id] = std::move(pipeline);
  }
  if (chain && m.function == MiningFunction::Classification) {
    const ModelEval& last = *prog_.models[std::size_t(e.segments.back().model)];
    if (last.function != MiningFunction::Classification)
      model_error(m.path, "the last segment of a classification modelChain is not a classification model");
  }
  // The parent's own outputs see what the chain exposes.
  if (chain) {
    for (const Scope* s = seg_parent; s && s != &scope; s = s->parent)
      for (auto& [name, slot] : s->names)
        if (!scope.names.count(name)) scope.names[name] = slot;
  }
  // XGBoost: in float math the sum starts at the base score (the Target's rescaleConstant), then adds the
  // trees in order; that is the order the training library's float32 arithmetic used.
  if (e.float_math && e.method == M::Sum && e.target.factor == 1.0 && !e.target.min && !e.target.max &&
      e.target.constant != 0.0) {
    e.float_start_at_constant = true;
    e.float_start = e.target.constant;
  }
}

std::int32_t Compiler::compile_model(ir::Model& m, const Scope& parent, const TargetInfo* inherited) {
  std::unique_ptr<ModelEval> owned;
  switch (m.kind) {
    case ir::Model::Kind::Regression: owned = std::make_unique<RegressionEval>(); break;
    case ir::Model::Kind::Tree: owned = std::make_unique<TreeEval>(); break;
    case ir::Model::Kind::Mining: owned = std::make_unique<MiningEval>(); break;
    case ir::Model::Kind::GeneralRegression: owned = std::make_unique<GeneralRegressionEval>(); break;
  }
  ModelEval& e = *owned;
  e.id = std::int32_t(prog_.models.size());
  prog_.models.push_back(std::move(owned));
  ir_of_[e.id] = &m;
  TargetInfo t = target_of(m, inherited);
  for (const auto& f : m.mining_schema) {
    if (parent.find(f.name) < 0)
      model_error(f.path(), fmt::format("MiningField \"{}\" names no DataField or visible field", f.name));
  }
  std::unordered_set<std::string> schema;
  for (const auto& f : m.mining_schema) schema.insert(f.name);
  const auto* outer_schema = schema_;
  schema_ = &schema;
  Scope& scope = new_scope(&parent);
  derived_fields(m.local_transformations, scope);
  fill_common(e, m, t, scope, &parent);
  switch (m.kind) {
    case ir::Model::Kind::Regression: compile_regression(static_cast<RegressionEval&>(e), m, scope); break;
    case ir::Model::Kind::Tree:
      compile_tree(static_cast<TreeEval&>(e), m, scope, t);
      // Flattened: nothing reads the nodes again (a parent reads its trees' classes before compiling them).
      released_nodes_ += static_cast<TreeEval&>(e).nodes.size();
      total_released_nodes_ += static_cast<TreeEval&>(e).nodes.size();
      m.tree->release_nodes();
      break;
    case ir::Model::Kind::Mining: compile_mining(static_cast<MiningEval&>(e), m, scope, t); break;
    case ir::Model::Kind::GeneralRegression:
      compile_general_regression(static_cast<GeneralRegressionEval&>(e), m, scope);
      break;
  }
  compile_outputs(e, m, scope);
  schema_ = outer_schema;
  // A forest repeats its MiningSchema in every tree: nothing reads a segment's again (build_inputs reads the
  // copies in active_fields_), so free it with the nodes.
  if (m.kind == ir::Model::Kind::Tree && &m != doc_.model.get()) std::vector<ir::MiningField>().swap(m.mining_schema);
  if (m.kind == ir::Model::Kind::Mining) {
    auto& me = static_cast<MiningEval&>(e);
    if (me.float_start_at_constant) me.target.constant = 0.0;
    if (options_.ensemble_kernel) {
      // The kernel's arrays are new, large allocations, while the trees just released left the heap full of
      // free holes: hand those pages back first, so that the two do not count together (glibc only).
      trim_heap();
      auto pipelined = kernel_pipelines_.find(me.id);
      ForestKernelBuild* build = pipelined != kernel_pipelines_.end() ? pipelined->second->build() : nullptr;
      me.kernel = build ? build->finish() : build_ensemble_kernel(prog_, me);
      if (pipelined != kernel_pipelines_.end()) kernel_pipelines_.erase(pipelined);
    }
    if (me.kernel) {
      me.kernel_index = std::int32_t(prog_.kernel_models.size());
      prog_.kernel_models.push_back(me.id);
    }
  }
  return e.id;
}

void Compiler::collect_active(const ir::Model& m, std::unordered_set<std::string>& seen) {
  for (const auto& f : m.mining_schema)
    if (f.usage == FieldUsage::Active && data_fields_.count(f.name) && seen.insert(f.name).second)
      active_fields_.push_back(f);
  if (m.mining)
    for (const auto& s : m.mining->segments) collect_active(*s.model, seen);
}

void Compiler::build_inputs(const ir::Model& top, const Scope& top_scope) {
  std::vector<const ir::MiningField*> active;
  for (const auto& f : active_fields_) active.push_back(&f);
  std::size_t top_count = 0;
  for (const auto& f : top.mining_schema)
    if (f.usage == FieldUsage::Active && data_fields_.count(f.name)) ++top_count;
  for (std::size_t i = 0; i < active.size(); ++i) {
    const ir::MiningField& mf = *active[i];
    const ir::DataField& df = *data_fields_.at(mf.name);
    InputSpec s;
    s.slot = top_scope.find(mf.name);
    s.name = mf.name;
    s.type = df.data_type;
    s.op = mf.op_type ? *mf.op_type : df.op_type;
    for (const auto& v : df.valid_values) s.valid.push_back(typed_value(v, df.data_type, df.path));
    for (const auto& v : s.valid) {
      if (v.kind == Kind::String) s.valid_syms_sorted.push_back(v.sym);
      else s.valid_nums_sorted.push_back(v.num);
    }
    std::sort(s.valid_syms_sorted.begin(), s.valid_syms_sorted.end());
    std::sort(s.valid_nums_sorted.begin(), s.valid_nums_sorted.end());
    for (const auto& v : df.invalid_values) {
      if (df.data_type == DataType::String) s.invalid.push_back(Val::string(prog_.strings.intern(v)));
      else if (auto d = numbers::parse_double(v)) s.invalid.push_back(Val::number(*d));
    }
    for (const auto& v : df.missing_values) s.missing_syms.push_back(prog_.strings.intern(v));
    for (const auto& iv : df.intervals) s.intervals.push_back(range(iv));
    const std::string& it = mf.invalid_value_treatment;
    if (it == "asIs") s.invalid_treatment = InputSpec::Treatment::AsIs;
    else if (it == "asMissing") s.invalid_treatment = InputSpec::Treatment::AsMissing;
    else if (it == "asValue") s.invalid_treatment = InputSpec::Treatment::AsValue;
    if (mf.invalid_value_replacement) {
      s.invalid_replacement = typed_value(*mf.invalid_value_replacement, df.data_type, mf.path());
      if (s.invalid_treatment == InputSpec::Treatment::ReturnInvalid) s.invalid_treatment = InputSpec::Treatment::AsValue;
    }
    if (mf.missing_value_treatment == "returnInvalid") s.missing_is_error = true;
    if (mf.missing_value_replacement) s.missing_replacement = typed_value(*mf.missing_value_replacement, df.data_type, mf.path());
    if (mf.outliers == "asMissingValues") s.outliers = InputSpec::Outliers::AsMissing;
    else if (mf.outliers == "asExtremeValues") s.outliers = InputSpec::Outliers::AsExtreme;
    if (s.outliers != InputSpec::Outliers::AsIs) {
      if (!mf.low_value || !mf.high_value)
        model_error(mf.path(), "outlier treatment needs both lowValue and highValue");
      s.low = *mf.low_value;
      s.high = *mf.high_value;
    }
    s.plain_number = (s.type == DataType::Double || s.type == DataType::Float) && s.op == OpType::Continuous &&
                     s.intervals.empty() && s.invalid.empty() && s.outliers == InputSpec::Outliers::AsIs;
    if (prog_.spec_of_slot.size() <= std::size_t(s.slot)) prog_.spec_of_slot.resize(std::size_t(s.slot) + 1, -1);
    prog_.spec_of_slot[std::size_t(s.slot)] = std::int32_t(prog_.inputs.size());
    prog_.inputs.push_back(std::move(s));
    if (i < top_count) {
      FieldInfo info;
      info.name = mf.name;
      info.data_type = df.data_type;
      info.op_type = prog_.inputs.back().op;
      info.usage = FieldUsage::Active;
      info.values = df.valid_values;
      out_.inputs.push_back(std::move(info));
      out_.input_spec_of_field.push_back(std::int32_t(prog_.inputs.size() - 1));
    }
  }
}

void Compiler::check_cycles() {
  // Iterative DFS over derived-field dependencies.
  std::vector<std::uint8_t> color(prog_.slots.size(), 0);
  for (std::size_t start = 0; start < prog_.slots.size(); ++start) {
    if (color[start] != 0 || prog_.slots[start].kind != Slot::Kind::Derived) continue;
    std::vector<std::pair<std::int32_t, std::size_t>> stack{{std::int32_t(start), 0}};
    color[start] = 1;
    while (!stack.empty()) {
      auto& [slot, next] = stack.back();
      const auto& deps = depends_[std::size_t(slot)];
      if (next < deps.size()) {
        std::int32_t d = deps[next++];
        if (prog_.slots[std::size_t(d)].kind != Slot::Kind::Derived) continue;
        if (color[std::size_t(d)] == 1)
          throw ModelError(fmt::format("derived field \"{}\" depends on itself (a cycle through \"{}\")",
                                       prog_.slots[std::size_t(d)].name, prog_.slots[std::size_t(slot)].name),
                           "/PMML");
        if (color[std::size_t(d)] == 0) {
          color[std::size_t(d)] = 1;
          stack.emplace_back(d, 0);
        }
      } else {
        color[std::size_t(slot)] = 2;
        stack.pop_back();
      }
    }
  }
}

/// The longest chain (in nodes) from every counted node along `edges`, an acyclic graph; nodes that are not
/// counted end a chain. Iterative, so a long chain cannot overflow the stack while it is being measured.
/// Calls too_deep(node, length) for the first node whose chain is longer than `limit` (it must throw).
template <class Counted, class TooDeep>
void check_chains(const std::vector<std::vector<std::int32_t>>& edges, Counted counted, std::size_t limit,
                  TooDeep too_deep) {
  std::vector<std::size_t> length(edges.size(), 0);
  for (std::size_t start = 0; start < edges.size(); ++start) {
    if (length[start] || !counted(std::int32_t(start))) continue;
    std::vector<std::pair<std::int32_t, std::size_t>> stack{{std::int32_t(start), 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto& out = edges[std::size_t(node)];
      if (next < out.size()) {
        std::int32_t d = out[next++];
        if (counted(d) && length[std::size_t(d)] == 0) stack.emplace_back(d, 0);
        continue;
      }
      std::size_t deepest = 0;
      for (auto d : out) deepest = std::max(deepest, length[std::size_t(d)]);
      length[std::size_t(node)] = deepest + 1;
      if (deepest + 1 > limit) too_deep(node, deepest + 1);
      stack.pop_back();
    }
  }
}

void Compiler::check_derivation_depth() {
  // Derived fields and function calls are evaluated by recursion: bound how deep it can go.
  const std::size_t limit = options_.max_derivation_depth;
  check_chains(
      depends_, [&](std::int32_t s) { return prog_.slots[std::size_t(s)].kind == Slot::Kind::Derived; }, limit,
      [&](std::int32_t s, std::size_t n) {
        throw LimitError(fmt::format("derived field \"{}\" is computed through a chain of {} derived fields, more than "
                                     "the limit of {} (max_derivation_depth)",
                                     prog_.slots[std::size_t(s)].name, n, limit));
      });
  check_chains(
      function_calls(), [](std::int32_t) { return true; }, limit, [&](std::int32_t fn, std::size_t n) {
        throw LimitError(fmt::format("function \"{}\" nests {} function calls, more than the limit of {} "
                                     "(max_derivation_depth)",
                                     prog_.functions[std::size_t(fn)].name, n, limit));
      });
}

void Compiler::build_tree_kernels() {
  if (!options_.ensemble_kernel) return;
  // Trees already flattened into their ensemble's kernel are left alone. A small tree keeps its kernel only
  // in the direct layout: the generic walk serves it as fast as binning every feature would.
  constexpr std::size_t kMinNodes = 16;
  std::unordered_set<std::int32_t> in_ensemble;
  for (auto id : prog_.kernel_models)
    for (const auto& s : static_cast<const MiningEval&>(*prog_.models[std::size_t(id)]).segments) in_ensemble.insert(s.model);
  for (auto& m : prog_.models) {
    auto* tree = dynamic_cast<TreeEval*>(m.get());
    if (!tree || in_ensemble.count(tree->id) || tree->nodes.size() < 2) continue;
    tree->kernel = build_tree_kernel(prog_, *tree);
    if (tree->kernel && tree->kernel->direct.empty() && tree->nodes.size() < kMinNodes) tree->kernel.reset();
    if (!tree->kernel) continue;
    tree->kernel_index = std::int32_t(prog_.kernel_models.size());
    prog_.kernel_models.push_back(tree->id);
  }
}

void Compiler::mark_kernels_ahead() {
  for (auto id : prog_.kernel_models) {
    auto& me = *prog_.models[std::size_t(id)];
    bool inputs_only = true;
    std::vector<std::int32_t> todo(me.kernel->feature_slots.begin(), me.kernel->feature_slots.end());
    std::unordered_set<std::int32_t> seen;
    while (!todo.empty() && inputs_only) {
      std::int32_t s = todo.back();
      todo.pop_back();
      if (!seen.insert(s).second) continue;
      const Slot& slot = prog_.slots[std::size_t(s)];
      if (slot.kind == Slot::Kind::Output || slot.kind == Slot::Kind::Unset) inputs_only = false;
      for (auto d : depends_[std::size_t(s)]) todo.push_back(d);
    }
    me.kernel_ahead = inputs_only;
  }
}

std::vector<ResultOutput> Compiler::surfaced_outputs(const ir::Model& m, std::int32_t id) {
  // Nested outputs surface for modelChain and selectFirst (placed first), then the model's own outputs.
  std::vector<ResultOutput> out;
  auto add = [&](const std::string& name, std::int32_t slot, const ir::OutputField* of, bool own) {
    auto it = std::find_if(out.begin(), out.end(), [&](const ResultOutput& r) { return r.name == name; });
    if (it == out.end()) {
      ResultOutput r;
      r.name = name;
      r.slots.push_back(slot);
      if (of) {
        r.info.name = name;
        r.info.feature = of->feature;
        r.info.value = of->value;
        r.info.data_type = prog_.slots[std::size_t(slot)].type;
        r.info.is_final_result = of->is_final_result;
      }
      out.push_back(std::move(r));
    } else if (own) {
      it->slots.insert(it->slots.begin(), slot);
    } else {
      it->slots.push_back(slot);
    }
  };
  if (m.mining && (m.mining->method == "modelChain" || m.mining->method == "selectFirst")) {
    const auto& segs = segment_models_[id];
    for (std::size_t i = 0; i < segs.size(); ++i)
      for (auto& r : surfaced_outputs(*m.mining->segments[i].model, segs[i]))
        for (auto slot : r.slots) {
          add(r.name, slot, nullptr, false);
          auto& entry = *std::find_if(out.begin(), out.end(), [&](const ResultOutput& x) { return x.name == r.name; });
          if (entry.info.name.empty()) entry.info = r.info;
        }
  }
  const auto& own = model_outputs_[id];
  for (std::size_t i = 0; i < own.size(); ++i) add(own[i].first, own[i].second, &m.output[i], true);
  return out;
}

void Compiler::compile_general_regression(GeneralRegressionEval& e, const ir::Model& m, const Scope& scope) {
  using G = GeneralRegressionEval;
  const auto& g = *m.general_regression;
  static const std::pair<const char*, G::Type> types[] = {
      {"regression", G::Type::Regression},           {"generalLinear", G::Type::GeneralLinear},
      {"generalizedLinear", G::Type::GeneralizedLinear}, {"multinomialLogistic", G::Type::MultinomialLogistic},
      {"ordinalMultinomial", G::Type::OrdinalMultinomial}, {"CoxRegression", G::Type::Cox}};
  bool known = false;
  for (auto& [name, t] : types)
    if (g.model_type == name) {
      e.type = t;
      known = true;
    }
  if (!known) unsupported(m.path, fmt::format("GeneralRegressionModel modelType \"{}\" is not supported", g.model_type));
  static const std::pair<const char*, G::Link> links[] = {
      {"identity", G::Link::Identity}, {"log", G::Link::Log},         {"logc", G::Link::Logc},
      {"logit", G::Link::Logit},       {"probit", G::Link::Probit},   {"cloglog", G::Link::Cloglog},
      {"loglog", G::Link::Loglog},     {"cauchit", G::Link::Cauchit}, {"power", G::Link::Power},
      {"oddspower", G::Link::OddsPower}, {"negbin", G::Link::NegBin}};
  auto link_of = [&](const std::string& text, G::Link& out) {
    for (auto& [name, l] : links)
      if (text == name) {
        out = l;
        return;
      }
    unsupported(m.path, fmt::format("link function \"{}\" is not supported", text));
  };
  bool classification = m.function == MiningFunction::Classification;
  if (e.type == G::Type::GeneralizedLinear) {
    if (g.link_function.empty()) model_error(m.path, "a generalizedLinear model lacks linkFunction");
    link_of(g.link_function, e.link);
    if ((e.link == G::Link::Power || e.link == G::Link::OddsPower) && !g.link_parameter)
      model_error(m.path, fmt::format("linkFunction {} needs linkParameter", g.link_function));
    e.link_parameter = g.link_parameter.value_or(1.0);
    if (e.link == G::Link::NegBin && !g.dist_parameter) model_error(m.path, "linkFunction negbin needs distParameter");
    e.dist_parameter = g.dist_parameter.value_or(1.0);
  }
  if (e.type == G::Type::OrdinalMultinomial) link_of(g.cumulative_link.empty() ? "logit" : g.cumulative_link, e.cumulative);
  e.offset = g.offset_value;
  if (!g.offset_variable.empty()) e.offset_slot = resolve(scope, g.offset_variable, m.path);
  e.trials = g.trials_value;
  if (!g.trials_variable.empty()) e.trials_slot = resolve(scope, g.trials_variable, m.path);
  bool regression_type = e.type == G::Type::Regression || e.type == G::Type::GeneralLinear || e.type == G::Type::Cox;
  if (classification && regression_type)
    model_error(m.path, fmt::format("modelType {} is not a classification model", g.model_type));
  if (!classification && (e.type == G::Type::MultinomialLogistic || e.type == G::Type::OrdinalMultinomial))
    model_error(m.path, fmt::format("modelType {} is a classification model", g.model_type));

  // Factors (with optional contrast matrices) and covariates.
  std::unordered_map<std::string, const ir::GeneralRegressionData::Predictor*> factors, covariates;
  for (const auto& p : g.factors) factors[p.name] = &p;
  for (const auto& p : g.covariates) covariates[p.name] = &p;
  std::unordered_map<std::string, std::int32_t> contrast_of;
  auto category_key = [&](const std::string& text) -> std::int32_t {
    if (text.empty()) return -1;
    Val v = typed_value(text, e.target_type, m.path);
    std::int32_t c = find_class(e.classes, v);
    if (c < 0) model_error(m.path, fmt::format("targetCategory \"{}\" is not a class of the target", text));
    return c;
  };
  // PPMatrix rows keyed by (target category, parameter).
  std::map<std::pair<std::int32_t, std::string>, std::int32_t> row_of;
  std::unordered_set<std::int32_t> pp_categories;
  for (const auto& cell : g.pp_cells) {
    std::int32_t key = classification ? category_key(cell.target_category) : -1;
    pp_categories.insert(key);
    auto [it, inserted] = row_of.emplace(std::make_pair(key, cell.parameter), std::int32_t(e.rows.size()));
    if (inserted) e.rows.emplace_back();
    G::Row& row = e.rows[std::size_t(it->second)];
    std::int32_t slot = resolve(scope, cell.predictor, m.path);
    DataType ft = prog_.slots[std::size_t(slot)].type;
    if (auto f = factors.find(cell.predictor); f != factors.end()) {
      G::Row::Factor fa;
      fa.slot = slot;
      fa.level = ft == DataType::String ? Val::string(prog_.strings.intern(cell.value)) : typed_value(cell.value, ft, m.path);
      const auto& pr = *f->second;
      if (!pr.contrast_matrix.empty()) {
        if (pr.matrix_categories.empty()) unsupported(m.path, "a contrast matrix without Categories is not supported");
        auto [cit, fresh] = contrast_of.emplace(pr.name, std::int32_t(e.contrasts.size()));
        if (fresh) {
          G::Contrast cm;
          for (const auto& c : pr.matrix_categories)
            cm.levels.push_back(ft == DataType::String ? Val::string(prog_.strings.intern(c)) : typed_value(c, ft, m.path));
          cm.matrix = pr.contrast_matrix;
          if (cm.matrix.size() != cm.levels.size())
            model_error(m.path, fmt::format("the contrast matrix of \"{}\" has {} rows for {} categories", pr.name,
                                            cm.matrix.size(), cm.levels.size()));
          e.contrasts.push_back(std::move(cm));
        }
        fa.contrast = cit->second;
        auto pos = std::find(pr.matrix_categories.begin(), pr.matrix_categories.end(), cell.value);
        if (pos == pr.matrix_categories.end())
          model_error(m.path, fmt::format("PPCell value \"{}\" is not a category of \"{}\"", cell.value, pr.name));
        fa.column = std::int32_t(pos - pr.matrix_categories.begin());
      }
      row.factors.push_back(fa);
    } else if (covariates.count(cell.predictor)) {
      auto exponent = numbers::parse_double(cell.value);
      if (!exponent) model_error(m.path, fmt::format("covariate PPCell value \"{}\" is not a number", cell.value));
      row.covariates.push_back({slot, *exponent});
    } else {
      model_error(m.path, fmt::format("PPCell predictor \"{}\" is neither a factor nor a covariate", cell.predictor));
    }
  }
  std::unordered_map<std::string, const ir::GeneralRegressionData::Parameter*> parameters;
  for (const auto& p : g.parameters) parameters[p.name] = &p;
  // ParamMatrix cells grouped by target category, in document order.
  std::map<std::int32_t, std::vector<const ir::GeneralRegressionData::PCell*>> cells_of;
  for (const auto& c : g.p_cells) cells_of[classification ? category_key(c.target_category) : -1].push_back(&c);
  auto equation = [&](const std::vector<const ir::GeneralRegressionData::PCell*>& cells, std::int32_t pp_key) {
    G::Equation eq;
    for (const auto* c : cells) {
      G::Cell cell;
      cell.beta = c->beta;
      auto it = row_of.find({pp_key, c->parameter});
      cell.row = it == row_of.end() ? -1 : it->second;
      auto p = parameters.find(c->parameter);
      if (p != parameters.end() && p->second->reference_point) {
        auto r = numbers::parse_double(*p->second->reference_point);
        if (!r) model_error(m.path, fmt::format("referencePoint of \"{}\" is not a number", c->parameter));
        cell.reference = *r;
        cell.has_reference = true;
      } else if (p != parameters.end()) {
        cell.reference = 0.0;
        cell.has_reference = true;
      }
      eq.cells.push_back(cell);
    }
    return eq;
  };

  if (!classification) {
    if (cells_of.size() > 1 || (cells_of.size() == 1 && !cells_of.count(-1)))
      model_error(m.path, "a regression ParamMatrix must not use targetCategory");
    e.regression_equation = equation(cells_of[-1], -1);
    if (e.type == G::Type::Cox) {
      if (g.end_time_variable.empty()) model_error(m.path, "CoxRegression lacks endTimeVariable");
      e.end_time_slot = resolve(scope, g.end_time_variable, m.path);
      auto sorted = [](std::vector<std::pair<double, double>> v) {
        std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
        return v;
      };
      if (!g.baseline_strata_variable.empty()) {
        e.strata_slot = resolve(scope, g.baseline_strata_variable, m.path);
        DataType st = prog_.slots[std::size_t(e.strata_slot)].type;
        for (const auto& s : g.strata) {
          G::Stratum x;
          x.value = st == DataType::String ? Val::string(prog_.strings.intern(s.value)) : typed_value(s.value, st, m.path);
          x.max_time = s.max_time;
          std::vector<std::pair<double, double>> cells;
          for (const auto& c : s.cells) cells.emplace_back(c.time, c.cum_hazard);
          x.cells = sorted(cells);
          e.strata.push_back(std::move(x));
        }
      } else {
        if (!g.max_time) model_error(m.path, "BaseCumHazardTables lacks maxTime");
        G::Stratum x;
        x.max_time = *g.max_time;
        std::vector<std::pair<double, double>> cells;
        for (const auto& c : g.baseline_cells) cells.emplace_back(c.time, c.cum_hazard);
        x.cells = sorted(cells);
        e.strata.push_back(std::move(x));
      }
      if (e.strata.empty()) model_error(m.path, "CoxRegression has no baseline hazard");
    }
    return;
  }

  // Classification: the reference category is computed last.
  const auto k = std::int32_t(e.classes.size());
  if (k < 2) model_error(m.path, "a classification GeneralRegressionModel needs at least two classes");
  std::int32_t reference = -1;
  if (e.type != G::Type::OrdinalMultinomial) {
    if (!g.target_reference_category.empty()) {
      reference = category_key(g.target_reference_category);
    } else {
      std::vector<std::int32_t> absent;
      for (std::int32_t c = 0; c < k; ++c)
        if (!cells_of.count(c)) absent.push_back(c);
      if (absent.size() != 1)
        model_error(m.path, "cannot tell the reference category: exactly one class must be absent from ParamMatrix");
      reference = absent.front();
    }
  }
  for (std::int32_t c = 0; c < k; ++c)
    if (c != reference) e.order.push_back(c);
  if (reference >= 0) e.order.push_back(reference);
  for (std::size_t i = 0; i + 1 < e.order.size(); ++i) {
    std::int32_t c = e.order[i];
    std::int32_t pp_key = pp_categories.count(c) ? c : -1;
    std::vector<const ir::GeneralRegressionData::PCell*> cells;
    if (e.type == G::Type::OrdinalMultinomial) {
      if (!cells_of.count(c) || cells_of[c].size() != 1)
        model_error(m.path, "ordinalMultinomial needs exactly one intercept PCell per category but the last");
      cells = cells_of[-1];
      cells.push_back(cells_of[c].front());
    } else if (cells_of.count(c)) {
      cells = cells_of[c];
    } else if (k == 2 && cells_of.count(-1)) {
      cells = cells_of[-1];
    } else {
      model_error(m.path, "ParamMatrix has no cells for a target category");
    }
    e.class_equations.push_back(equation(cells, pp_key));
  }
}

void Compiler::run() {
  Scope& dd = new_scope(nullptr);
  for (const auto& f : doc_.data_dictionary) {
    if (data_fields_.count(f.name)) model_error(f.path, fmt::format("DataField \"{}\" is declared twice", f.name));
    data_fields_[f.name] = &f;
    dd.names[f.name] = add_slot(Slot::Kind::Input, f.name, f.data_type, f.op_type);
    for (const auto& v : f.valid_values) prog_.strings.intern(v);
  }
  for (std::size_t i = 0; i < doc_.functions.size(); ++i) {
    const auto& fn = doc_.functions[i];
    if (functions_.count(fn.name)) model_error(fn.path, fmt::format("function \"{}\" is defined twice", fn.name));
    functions_[fn.name] = std::int32_t(i);
    prog_.functions.push_back({fn.name, fn.data_type, {}, -1});
    for (const auto& p : fn.parameters) prog_.functions.back().params.push_back(p.data_type);
  }
  Scope& global = new_scope(&dd);
  global_ = &global;
  for (std::size_t i = 0; i < doc_.functions.size(); ++i) {
    std::vector<const ir::ParameterField*> params;
    for (const auto& p : doc_.functions[i].parameters) params.push_back(&p);
    params_ = &params;
    prog_.functions[i].body = expression(*doc_.functions[i].body, global, doc_.functions[i].data_type);
    params_ = nullptr;
  }
  // DefineFunction recursion would not terminate: reject it.
  {
    const auto calls = function_calls();
    for (std::size_t i = 0; i < calls.size(); ++i) {
      std::vector<std::int32_t> todo = calls[i];
      std::vector<bool> seen(calls.size(), false);
      while (!todo.empty()) {
        auto c = std::size_t(todo.back());
        todo.pop_back();
        if (c == i)
          throw ModelError(fmt::format("function \"{}\" calls itself", prog_.functions[i].name), doc_.functions[i].path);
        if (seen[c]) continue;
        seen[c] = true;
        todo.insert(todo.end(), calls[c].begin(), calls[c].end());
      }
    }
  }
  derived_fields(doc_.transformations, global);
  ir::Model& top = *doc_.model;
  {
    std::unordered_set<std::string> seen;
    collect_active(top, seen);
  }
  compile_model(top, global, nullptr);
  build_tree_kernels();
  check_cycles();
  check_derivation_depth();
  mark_kernels_ahead();
  if (prog_.slots.size() > options_.max_fields)
    throw LimitError(fmt::format("{} fields exceed the limit of {} (max_fields)", prog_.slots.size(), options_.max_fields));
  build_inputs(top, global);
  for (auto id : prog_.kernel_models) link_direct_inputs(prog_, *prog_.models[std::size_t(id)]->kernel);

  const ModelEval& te = *prog_.models.front();
  out_.function = te.function;
  out_.model_type = top.element;
  out_.version = doc_.version;
  for (const Val& c : te.classes) {
    if (c.kind == Kind::String) out_.class_labels.push_back(prog_.strings.text(c.sym));
    else if (c.kind == Kind::Boolean) out_.class_labels.push_back(c.num != 0 ? "true" : "false");
    else out_.class_labels.push_back(format_number(c.num, c.type == DataType::Integer ? DataType::Integer : c.type));
  }
  for (const auto& f : top.mining_schema)
    if (f.usage == FieldUsage::Target) {
      FieldInfo info;
      info.name = f.name;
      info.usage = FieldUsage::Target;
      auto it = data_fields_.find(f.name);
      if (it != data_fields_.end()) {
        info.data_type = it->second->data_type;
        info.op_type = it->second->op_type;
        info.values = it->second->valid_values;
      }
      out_.targets.push_back(std::move(info));
    }
  if (out_.targets.empty()) {
    FieldInfo info;
    info.name = "";
    info.usage = FieldUsage::Target;
    info.data_type = te.target_type;
    out_.targets.push_back(std::move(info));
  }
  out_.outputs = surfaced_outputs(top, 0);
  for (const auto& o : out_.outputs) out_.output_infos.push_back(o.info);
}

}  // namespace

std::unique_ptr<Compiled> compile_document(ir::Document doc, const LoadOptions& options) {
  auto out = std::make_unique<Compiled>();
  std::size_t released = 0;
  {
    Compiler compiler(doc, options, *out);
    compiler.run();
    released = compiler.released_nodes();
  }
  out->verification = std::move(doc.model->verification);
  // Nothing reads the IR again: free it now, and hand back the heap pages that it and the released trees
  // leave free, so that a big model does not keep them after loading (glibc only).
  { ir::Document done = std::move(doc); }
#if defined(__GLIBC__)
  if (released >= 10000) malloc_trim(0);
#else
  (void)released;
#endif
  return out;
}

}  // namespace pmmlrt::compile
