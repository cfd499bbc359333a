// The C ABI of pmmlrt (capi/pmmlrt.h), a thin layer over the C++ API. No exception leaves this file: every
// exported function either cannot throw or runs its body inside guard().

#include "pmmlrt.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pmmlrt/pmmlrt.hpp>

namespace {

// ---- handles ---------------------------------------------------------------------------------------------

enum Magic : std::uint32_t {
  kModelMagic = 0x504d4d4cu,    // "PMML"
  kOptionsMagic = 0x4f505453u,  // "OPTS"
  kResultMagic = 0x52534c54u,   // "RSLT"
  kDeadMagic = 0xdeadbeefu,
};

}  // namespace

struct pmmlrt_model {
  std::uint32_t magic = kModelMagic;
  pmmlrt::Model model;
  explicit pmmlrt_model(pmmlrt::Model m) : model(std::move(m)) {}
};

struct pmmlrt_options {
  std::uint32_t magic = kOptionsMagic;
  pmmlrt::LoadOptions load;
  pmmlrt::BatchOptions batch;
};

namespace {

/// Text of one column of a batch result, made on first request (once, also when several threads ask).
struct LazyStrings {
  std::once_flag once;
  std::vector<std::string> text;
  std::vector<const char*> pointers;  // into text, nullptr for missing values
};

void fill_strings(LazyStrings& lazy, const std::vector<pmmlrt::Value>& values) {
  std::call_once(lazy.once, [&] {
    std::vector<std::string> text(values.size());
    std::vector<const char*> pointers(values.size(), nullptr);
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!values[i].is_missing()) text[i] = values[i].is_string() ? values[i].text() : values[i].to_string();
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!values[i].is_missing()) pointers[i] = text[i].c_str();
    lazy.text = std::move(text);
    lazy.pointers = std::move(pointers);
  });
}

}  // namespace

struct pmmlrt_batch_result {
  std::uint32_t magic = kResultMagic;
  pmmlrt::BatchResult result;
  std::size_t error_count = 0;
  LazyStrings labels;
  std::unique_ptr<LazyStrings[]> outputs;
  std::vector<const char*> errors;  // per row, nullptr for rows that scored

  explicit pmmlrt_batch_result(pmmlrt::BatchResult r) : result(std::move(r)) {
    outputs.reset(new LazyStrings[result.output_names().size()]);
    const auto& e = result.errors();
    errors.assign(result.rows(), nullptr);
    for (std::size_t i = 0; i < e.size() && i < errors.size(); ++i)
      if (!e[i].empty()) {
        errors[i] = e[i].c_str();
        ++error_count;
      }
  }
};

namespace {

/// Every live handle with its kind. Checked before a handle is dereferenced, so that a released or foreign
/// pointer is reported instead of read. Leaked on purpose: handles may be released during static destruction.
struct Registry {
  std::shared_mutex mutex;
  std::unordered_map<const void*, std::uint32_t> live;
};

Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

void register_handle(const void* p, std::uint32_t magic) {
  Registry& r = registry();
  std::unique_lock<std::shared_mutex> lock(r.mutex);
  r.live[p] = magic;
}

/// Removes a handle; false if it was not live with that kind.
bool unregister_handle(const void* p, std::uint32_t magic) {
  Registry& r = registry();
  std::unique_lock<std::shared_mutex> lock(r.mutex);
  auto it = r.live.find(p);
  if (it == r.live.end() || it->second != magic) return false;
  r.live.erase(it);
  return true;
}

bool is_live(const void* p, std::uint32_t magic) {
  if (!p) return false;
  Registry& r = registry();
  std::shared_lock<std::shared_mutex> lock(r.mutex);
  auto it = r.live.find(p);
  return it != r.live.end() && it->second == magic && *static_cast<const std::uint32_t*>(p) == magic;
}

// ---- errors ----------------------------------------------------------------------------------------------

thread_local std::string t_last_error;
thread_local pmmlrt_status t_last_status = PMMLRT_OK;

pmmlrt_status succeed() noexcept {
  t_last_error.clear();
  t_last_status = PMMLRT_OK;
  return PMMLRT_OK;
}

pmmlrt_status fail(pmmlrt_status status, const char* message) noexcept {
  t_last_status = status;
  try {
    t_last_error.assign(message);
  } catch (...) {
    t_last_error.clear();  // out of memory while keeping the message: the status still tells
  }
  return status;
}

pmmlrt_status fail(pmmlrt_status status, const std::string& message) noexcept { return fail(status, message.c_str()); }

/// Thrown inside guard() for the C layer's own errors.
struct CError {
  pmmlrt_status status;
  std::string message;
};

[[noreturn]] void raise(pmmlrt_status status, std::string message) { throw CError{status, std::move(message)}; }

pmmlrt_status status_of(pmmlrt::ErrorKind kind) noexcept {
  switch (kind) {
    case pmmlrt::ErrorKind::Parse: return PMMLRT_ERROR_PARSE;
    case pmmlrt::ErrorKind::Unsupported: return PMMLRT_ERROR_UNSUPPORTED;
    case pmmlrt::ErrorKind::Model: return PMMLRT_ERROR_MODEL;
    case pmmlrt::ErrorKind::Input: return PMMLRT_ERROR_INPUT;
    case pmmlrt::ErrorKind::Evaluation: return PMMLRT_ERROR_EVALUATION;
    case pmmlrt::ErrorKind::Limit: return PMMLRT_ERROR_LIMIT;
    case pmmlrt::ErrorKind::Io: return PMMLRT_ERROR_IO;
    case pmmlrt::ErrorKind::Usage: return PMMLRT_ERROR_USAGE;
  }
  return PMMLRT_ERROR_INTERNAL;
}

/// Runs `body` (which returns nothing and throws on failure), turning every exception into a status.
template <class Body>
pmmlrt_status guard(const char* function, Body&& body) noexcept {
  try {
    body();
    return succeed();
  } catch (const CError& e) {
    return fail(e.status, std::string(function) + ": " + e.message);
  } catch (const pmmlrt::Error& e) {
    return fail(status_of(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(PMMLRT_ERROR_OUT_OF_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(PMMLRT_ERROR_INTERNAL, std::string(function) + ": internal error: " + e.what());
  } catch (...) {
    return fail(PMMLRT_ERROR_INTERNAL, std::string(function) + ": internal error (unknown exception)");
  }
}

// ---- argument checks -------------------------------------------------------------------------------------

const pmmlrt::Model& model_of(const pmmlrt_model* m) {
  if (!m) raise(PMMLRT_ERROR_INVALID_HANDLE, "the model handle is NULL");
  if (!is_live(m, kModelMagic)) raise(PMMLRT_ERROR_INVALID_HANDLE, "not a live model handle (released, or not a model)");
  return m->model;
}

pmmlrt_options& options_of(pmmlrt_options* o) {
  if (!o) raise(PMMLRT_ERROR_INVALID_HANDLE, "the options handle is NULL");
  if (!is_live(o, kOptionsMagic))
    raise(PMMLRT_ERROR_INVALID_HANDLE, "not a live options handle (released, or not options)");
  return *o;
}

/// Options that may be NULL (meaning the defaults).
const pmmlrt_options* optional_options(const pmmlrt_options* o) {
  if (o && !is_live(o, kOptionsMagic))
    raise(PMMLRT_ERROR_INVALID_HANDLE, "not a live options handle (released, or not options)");
  return o;
}

const pmmlrt_batch_result& result_of(const pmmlrt_batch_result* r) {
  if (!r) raise(PMMLRT_ERROR_INVALID_HANDLE, "the batch result handle is NULL");
  if (!is_live(r, kResultMagic))
    raise(PMMLRT_ERROR_INVALID_HANDLE, "not a live batch result handle (released, or not a batch result)");
  return *r;
}

template <class T>
void need(T* p, const char* what) {
  if (!p) raise(PMMLRT_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

void need_capacity(std::size_t capacity, std::size_t needed, const char* what) {
  if (capacity < needed)
    raise(PMMLRT_ERROR_BUFFER_TOO_SMALL, std::string(what) + " holds " + std::to_string(capacity) +
                                             " elements, " + std::to_string(needed) + " are needed");
}

void check_index(std::size_t index, std::size_t count, const char* what) {
  if (index >= count)
    raise(PMMLRT_ERROR_OUT_OF_RANGE,
          std::string(what) + " index " + std::to_string(index) + " is out of range (count " + std::to_string(count) + ")");
}

const std::vector<pmmlrt::FieldInfo>& fields_of(const pmmlrt::Model& m, pmmlrt_field_set set) {
  switch (set) {
    case PMMLRT_FIELDS_INPUT: return m.input_fields();
    case PMMLRT_FIELDS_TARGET: return m.target_fields();
    default: break;
  }
  raise(PMMLRT_ERROR_INVALID_ARGUMENT, "unknown field set " + std::to_string(int(set)));
}

const pmmlrt::FieldInfo& field_of(const pmmlrt::Model& m, pmmlrt_field_set set, std::size_t index) {
  const auto& fields = fields_of(m, set);
  check_index(index, fields.size(), "field");
  return fields[index];
}

pmmlrt_data_type c_type(pmmlrt::DataType t) {
  switch (t) {
    case pmmlrt::DataType::String: return PMMLRT_TYPE_STRING;
    case pmmlrt::DataType::Integer: return PMMLRT_TYPE_INTEGER;
    case pmmlrt::DataType::Float: return PMMLRT_TYPE_FLOAT;
    case pmmlrt::DataType::Double: return PMMLRT_TYPE_DOUBLE;
    case pmmlrt::DataType::Boolean: return PMMLRT_TYPE_BOOLEAN;
    case pmmlrt::DataType::Date: return PMMLRT_TYPE_DATE;
    case pmmlrt::DataType::Time: return PMMLRT_TYPE_TIME;
    case pmmlrt::DataType::DateTime: return PMMLRT_TYPE_DATETIME;
  }
  raise(PMMLRT_ERROR_INTERNAL, "unknown data type");
}

pmmlrt_op_type c_optype(pmmlrt::OpType t) {
  switch (t) {
    case pmmlrt::OpType::Categorical: return PMMLRT_OPTYPE_CATEGORICAL;
    case pmmlrt::OpType::Ordinal: return PMMLRT_OPTYPE_ORDINAL;
    case pmmlrt::OpType::Continuous: return PMMLRT_OPTYPE_CONTINUOUS;
  }
  raise(PMMLRT_ERROR_INTERNAL, "unknown optype");
}

pmmlrt::Layout layout_of(pmmlrt_layout layout) {
  switch (layout) {
    case PMMLRT_ROW_MAJOR: return pmmlrt::Layout::RowMajor;
    case PMMLRT_COLUMN_MAJOR: return pmmlrt::Layout::ColumnMajor;
    default: break;
  }
  raise(PMMLRT_ERROR_INVALID_ARGUMENT, "unknown layout " + std::to_string(int(layout)));
}

std::size_t cells_of(std::size_t rows, std::size_t cols) {
  if (cols && rows > std::numeric_limits<std::size_t>::max() / cols)
    raise(PMMLRT_ERROR_INVALID_ARGUMENT, "rows x cols overflows size_t");
  return rows * cols;
}

/// The column names of a batch: checked against the input fields (each known, none twice). Empty for NULL.
std::vector<std::string> checked_names(const pmmlrt::Model& m, const char* const* names, std::size_t cols) {
  std::vector<std::string> out;
  if (!names) return out;
  const auto& inputs = m.input_fields();
  std::unordered_set<std::string> seen;
  out.reserve(cols);
  for (std::size_t j = 0; j < cols; ++j) {
    if (!names[j]) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "column_names[" + std::to_string(j) + "] is NULL");
    std::string name(names[j]);
    bool known = false;
    for (const auto& f : inputs)
      if (f.name == name) known = true;
    if (!known) raise(PMMLRT_ERROR_UNKNOWN_NAME, "column " + std::to_string(j) + " \"" + name + "\" is not an input field of the model");
    if (!seen.insert(name).second) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "column \"" + name + "\" is named twice");
    out.push_back(std::move(name));
  }
  return out;
}

pmmlrt::BatchOptions batch_options(const pmmlrt_options* o) {
  o = optional_options(o);
  return o ? o->batch : pmmlrt::BatchOptions{};
}

void hand_out(pmmlrt::BatchResult r, pmmlrt_batch_result** out) {
  auto handle = std::make_unique<pmmlrt_batch_result>(std::move(r));
  register_handle(handle.get(), kResultMagic);
  *out = handle.release();
}

template <class T>
void score_matrix(const char* fn, const pmmlrt_model* model, const T* data, std::size_t rows, std::size_t cols,
                  pmmlrt_layout layout, const char* const* names, const pmmlrt_options* options,
                  pmmlrt_batch_result** out) {
  (void)fn;
  const pmmlrt::Model& m = model_of(model);
  need(out, "out");
  const std::size_t cells = cells_of(rows, cols);
  if (!data && cells) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "data is NULL");
  const pmmlrt::Layout l = layout_of(layout);
  auto columns = checked_names(m, names, cols);
  auto opts = batch_options(options);
  hand_out(m.score(data, rows, cols, l, columns, opts), out);
}

const std::size_t* output_position(const pmmlrt::BatchResult& r, const char* name, std::size_t& index) {
  need(name, "name");
  const auto& names = r.output_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) {
      index = i;
      return &index;
    }
  raise(PMMLRT_ERROR_UNKNOWN_NAME, std::string("no OutputField named \"") + name + "\"");
}

}  // namespace

// ---- exported functions ----------------------------------------------------------------------------------

extern "C" {

const char* pmmlrt_version(void) { return pmmlrt::version(); }

namespace {
int version_part(int which) {
  const char* v = pmmlrt::version();
  for (int i = 0; i < which && v; ++i) {
    v = std::strchr(v, '.');
    if (v) ++v;
  }
  return v ? std::atoi(v) : 0;
}
}  // namespace

int pmmlrt_version_major(void) { return version_part(0); }
int pmmlrt_version_minor(void) { return version_part(1); }
int pmmlrt_version_patch(void) { return version_part(2); }
int pmmlrt_abi_version(void) { return PMMLRT_ABI_VERSION; }

const char* pmmlrt_last_error(void) { return t_last_error.c_str(); }
pmmlrt_status pmmlrt_last_status(void) { return t_last_status; }

const char* pmmlrt_status_name(pmmlrt_status status) {
  switch (status) {
    case PMMLRT_OK: return "PMMLRT_OK";
    case PMMLRT_ERROR_PARSE: return "PMMLRT_ERROR_PARSE";
    case PMMLRT_ERROR_UNSUPPORTED: return "PMMLRT_ERROR_UNSUPPORTED";
    case PMMLRT_ERROR_MODEL: return "PMMLRT_ERROR_MODEL";
    case PMMLRT_ERROR_INPUT: return "PMMLRT_ERROR_INPUT";
    case PMMLRT_ERROR_EVALUATION: return "PMMLRT_ERROR_EVALUATION";
    case PMMLRT_ERROR_LIMIT: return "PMMLRT_ERROR_LIMIT";
    case PMMLRT_ERROR_IO: return "PMMLRT_ERROR_IO";
    case PMMLRT_ERROR_USAGE: return "PMMLRT_ERROR_USAGE";
    case PMMLRT_ERROR_INVALID_ARGUMENT: return "PMMLRT_ERROR_INVALID_ARGUMENT";
    case PMMLRT_ERROR_INVALID_HANDLE: return "PMMLRT_ERROR_INVALID_HANDLE";
    case PMMLRT_ERROR_BUFFER_TOO_SMALL: return "PMMLRT_ERROR_BUFFER_TOO_SMALL";
    case PMMLRT_ERROR_UNKNOWN_NAME: return "PMMLRT_ERROR_UNKNOWN_NAME";
    case PMMLRT_ERROR_OUT_OF_RANGE: return "PMMLRT_ERROR_OUT_OF_RANGE";
    case PMMLRT_ERROR_OUT_OF_MEMORY: return "PMMLRT_ERROR_OUT_OF_MEMORY";
    case PMMLRT_ERROR_INTERNAL: return "PMMLRT_ERROR_INTERNAL";
    default: break;
  }
  return "PMMLRT_UNKNOWN_STATUS";
}

// ---- options ---------------------------------------------------------------------------------------------

pmmlrt_status pmmlrt_options_create(pmmlrt_options** out) {
  return guard("pmmlrt_options_create", [&] {
    need(out, "out");
    auto o = std::make_unique<pmmlrt_options>();
    register_handle(o.get(), kOptionsMagic);
    *out = o.release();
  });
}

void pmmlrt_options_release(pmmlrt_options* options) {
  if (!options) return;
  try {
    if (!unregister_handle(options, kOptionsMagic)) return;  // not live: nothing to free (double release)
  } catch (...) {
    return;
  }
  options->magic = kDeadMagic;
  delete options;
}

namespace {
std::size_t* limit_field(pmmlrt::LoadOptions& o, pmmlrt_limit which) {
  switch (which) {
    case PMMLRT_LIMIT_DOCUMENT_BYTES: return &o.max_document_bytes;
    case PMMLRT_LIMIT_ELEMENT_DEPTH: return &o.max_element_depth;
    case PMMLRT_LIMIT_TREE_DEPTH: return &o.max_tree_depth;
    case PMMLRT_LIMIT_NODES: return &o.max_nodes;
    case PMMLRT_LIMIT_SEGMENTS: return &o.max_segments;
    case PMMLRT_LIMIT_FIELDS: return &o.max_fields;
    case PMMLRT_LIMIT_CATEGORIES: return &o.max_categories;
    default: break;
  }
  raise(PMMLRT_ERROR_INVALID_ARGUMENT, "unknown limit " + std::to_string(int(which)));
}
}  // namespace

pmmlrt_status pmmlrt_options_set_limit(pmmlrt_options* options, pmmlrt_limit which, uint64_t value) {
  return guard("pmmlrt_options_set_limit", [&] {
    std::size_t* field = limit_field(options_of(options).load, which);
    const auto max = std::numeric_limits<std::size_t>::max();
    *field = value > max ? max : std::size_t(value);
  });
}

pmmlrt_status pmmlrt_options_get_limit(const pmmlrt_options* options, pmmlrt_limit which, uint64_t* value) {
  return guard("pmmlrt_options_get_limit", [&] {
    pmmlrt_options& o = options_of(const_cast<pmmlrt_options*>(options));
    need(value, "value");
    *value = std::uint64_t(*limit_field(o.load, which));
  });
}

pmmlrt_status pmmlrt_options_set_expected_sha256(pmmlrt_options* options, const char* hex) {
  return guard("pmmlrt_options_set_expected_sha256", [&] {
    pmmlrt_options& o = options_of(options);
    std::string digest = hex ? hex : "";
    if (!digest.empty()) {
      bool ok = digest.size() == 64;
      for (char& c : digest) {
        if (c >= 'A' && c <= 'F') c = char(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) ok = false;
      }
      if (!ok) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "\"" + std::string(hex) + "\" is not 64 hex digits");
    }
    o.load.expected_sha256 = std::move(digest);
  });
}

pmmlrt_status pmmlrt_options_set_row_errors(pmmlrt_options* options, pmmlrt_row_errors policy) {
  return guard("pmmlrt_options_set_row_errors", [&] {
    pmmlrt_options& o = options_of(options);
    switch (policy) {
      case PMMLRT_ROW_ERRORS_FAIL: o.batch.on_error = pmmlrt::RowErrorPolicy::Throw; return;
      case PMMLRT_ROW_ERRORS_RECORD: o.batch.on_error = pmmlrt::RowErrorPolicy::Record; return;
      default: break;
    }
    raise(PMMLRT_ERROR_INVALID_ARGUMENT, "unknown row error policy " + std::to_string(int(policy)));
  });
}

pmmlrt_status pmmlrt_options_set_threads(pmmlrt_options* options, size_t threads) {
  return guard("pmmlrt_options_set_threads", [&] { options_of(options).batch.threads = threads; });
}

pmmlrt_status pmmlrt_options_get_threads(const pmmlrt_options* options, size_t* threads) {
  return guard("pmmlrt_options_get_threads", [&] {
    const pmmlrt_options& o = options_of(const_cast<pmmlrt_options*>(options));
    need(threads, "threads");
    *threads = o.batch.threads;
  });
}

pmmlrt_status pmmlrt_options_set_leaf_precision(pmmlrt_options* options, pmmlrt_leaf_precision precision) {
  return guard("pmmlrt_options_set_leaf_precision", [&] {
    pmmlrt_options& o = options_of(options);
    switch (precision) {
      case PMMLRT_LEAF_PRECISION_EXACT: o.load.leaf_precision = pmmlrt::LeafPrecision::Exact; return;
      case PMMLRT_LEAF_PRECISION_HALF: o.load.leaf_precision = pmmlrt::LeafPrecision::Half; return;
      default: break;
    }
    raise(PMMLRT_ERROR_INVALID_ARGUMENT, "unknown leaf precision " + std::to_string(int(precision)));
  });
}

pmmlrt_status pmmlrt_options_get_leaf_precision(const pmmlrt_options* options, pmmlrt_leaf_precision* precision) {
  return guard("pmmlrt_options_get_leaf_precision", [&] {
    pmmlrt_options& o = options_of(const_cast<pmmlrt_options*>(options));
    need(precision, "precision");
    *precision = o.load.leaf_precision == pmmlrt::LeafPrecision::Half ? PMMLRT_LEAF_PRECISION_HALF
                                                                       : PMMLRT_LEAF_PRECISION_EXACT;
  });
}

pmmlrt_status pmmlrt_options_set_load_threads(pmmlrt_options* options, size_t threads) {
  return guard("pmmlrt_options_set_load_threads", [&] { options_of(options).load.threads = threads; });
}

pmmlrt_status pmmlrt_options_get_load_threads(const pmmlrt_options* options, size_t* threads) {
  return guard("pmmlrt_options_get_load_threads", [&] {
    const pmmlrt_options& o = options_of(const_cast<pmmlrt_options*>(options));
    need(threads, "threads");
    *threads = o.load.threads;
  });
}

// ---- loading ---------------------------------------------------------------------------------------------

namespace {
void hand_out(pmmlrt::Model m, pmmlrt_model** out) {
  auto handle = std::make_unique<pmmlrt_model>(std::move(m));
  register_handle(handle.get(), kModelMagic);
  *out = handle.release();
}

const pmmlrt::LoadOptions& load_options(const pmmlrt_options* o) {
  static const pmmlrt::LoadOptions defaults;
  o = optional_options(o);
  return o ? o->load : defaults;
}
}  // namespace

pmmlrt_status pmmlrt_model_load_file(const char* path, const pmmlrt_options* options, pmmlrt_model** out) {
  return guard("pmmlrt_model_load_file", [&] {
    need(path, "path");
    need(out, "out");
    hand_out(pmmlrt::Model::load_file(path, load_options(options)), out);
  });
}

pmmlrt_status pmmlrt_model_load_memory(const void* data, size_t size, const pmmlrt_options* options,
                                       pmmlrt_model** out) {
  return guard("pmmlrt_model_load_memory", [&] {
    if (!data && size) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "data is NULL");
    need(out, "out");
    static const char empty = 0;
    hand_out(pmmlrt::Model::load_memory(data ? data : &empty, size, load_options(options)), out);
  });
}

void pmmlrt_model_release(pmmlrt_model* model) {
  if (!model) return;
  try {
    if (!unregister_handle(model, kModelMagic)) return;
  } catch (...) {
    return;
  }
  model->magic = kDeadMagic;
  delete model;
}

// ---- introspection ---------------------------------------------------------------------------------------

pmmlrt_status pmmlrt_model_function(const pmmlrt_model* model, pmmlrt_function* out) {
  return guard("pmmlrt_model_function", [&] {
    const auto& m = model_of(model);
    need(out, "out");
    *out = m.function() == pmmlrt::MiningFunction::Classification ? PMMLRT_FUNCTION_CLASSIFICATION
                                                                   : PMMLRT_FUNCTION_REGRESSION;
  });
}

pmmlrt_status pmmlrt_model_type(const pmmlrt_model* model, const char** out) {
  return guard("pmmlrt_model_type", [&] {
    const auto& m = model_of(model);
    need(out, "out");
    *out = m.model_type().c_str();
  });
}

pmmlrt_status pmmlrt_model_pmml_version(const pmmlrt_model* model, const char** out) {
  return guard("pmmlrt_model_pmml_version", [&] {
    const auto& m = model_of(model);
    need(out, "out");
    *out = m.pmml_version().c_str();
  });
}

pmmlrt_status pmmlrt_model_field_count(const pmmlrt_model* model, pmmlrt_field_set set, size_t* count) {
  return guard("pmmlrt_model_field_count", [&] {
    const auto& fields = fields_of(model_of(model), set);
    need(count, "count");
    *count = fields.size();
  });
}

pmmlrt_status pmmlrt_model_field_name(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                      const char** name) {
  return guard("pmmlrt_model_field_name", [&] {
    const auto& f = field_of(model_of(model), set, index);
    need(name, "name");
    *name = f.name.c_str();
  });
}

pmmlrt_status pmmlrt_model_field_index(const pmmlrt_model* model, pmmlrt_field_set set, const char* name,
                                       size_t* index) {
  return guard("pmmlrt_model_field_index", [&] {
    const auto& fields = fields_of(model_of(model), set);
    need(name, "name");
    need(index, "index");
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i].name == name) {
        *index = i;
        return;
      }
    raise(PMMLRT_ERROR_UNKNOWN_NAME, std::string("no ") + (set == PMMLRT_FIELDS_INPUT ? "input" : "target") +
                                         " field named \"" + name + "\"");
  });
}

pmmlrt_status pmmlrt_model_field_data_type(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                           pmmlrt_data_type* type) {
  return guard("pmmlrt_model_field_data_type", [&] {
    const auto& f = field_of(model_of(model), set, index);
    need(type, "type");
    *type = c_type(f.data_type);
  });
}

pmmlrt_status pmmlrt_model_field_op_type(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                         pmmlrt_op_type* type) {
  return guard("pmmlrt_model_field_op_type", [&] {
    const auto& f = field_of(model_of(model), set, index);
    need(type, "type");
    *type = c_optype(f.op_type);
  });
}

pmmlrt_status pmmlrt_model_field_category_count(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                                size_t* count) {
  return guard("pmmlrt_model_field_category_count", [&] {
    const auto& f = field_of(model_of(model), set, index);
    need(count, "count");
    *count = f.values.size();
  });
}

pmmlrt_status pmmlrt_model_field_category(const pmmlrt_model* model, pmmlrt_field_set set, size_t index,
                                          size_t category_index, const char** category) {
  return guard("pmmlrt_model_field_category", [&] {
    const auto& f = field_of(model_of(model), set, index);
    check_index(category_index, f.values.size(), "category");
    need(category, "category");
    *category = f.values[category_index].c_str();
  });
}

pmmlrt_status pmmlrt_model_class_count(const pmmlrt_model* model, size_t* count) {
  return guard("pmmlrt_model_class_count", [&] {
    const auto& m = model_of(model);
    need(count, "count");
    *count = m.class_labels().size();
  });
}

pmmlrt_status pmmlrt_model_class_label(const pmmlrt_model* model, size_t index, const char** label) {
  return guard("pmmlrt_model_class_label", [&] {
    const auto& labels = model_of(model).class_labels();
    check_index(index, labels.size(), "class");
    need(label, "label");
    *label = labels[index].c_str();
  });
}

pmmlrt_status pmmlrt_model_output_count(const pmmlrt_model* model, size_t* count) {
  return guard("pmmlrt_model_output_count", [&] {
    const auto& m = model_of(model);
    need(count, "count");
    *count = m.output_fields().size();
  });
}

pmmlrt_status pmmlrt_model_output_name(const pmmlrt_model* model, size_t index, const char** name) {
  return guard("pmmlrt_model_output_name", [&] {
    const auto& outputs = model_of(model).output_fields();
    check_index(index, outputs.size(), "output");
    need(name, "name");
    *name = outputs[index].name.c_str();
  });
}

pmmlrt_status pmmlrt_model_output_index(const pmmlrt_model* model, const char* name, size_t* index) {
  return guard("pmmlrt_model_output_index", [&] {
    const auto& outputs = model_of(model).output_fields();
    need(name, "name");
    need(index, "index");
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (outputs[i].name == name) {
        *index = i;
        return;
      }
    raise(PMMLRT_ERROR_UNKNOWN_NAME, std::string("no OutputField named \"") + name + "\"");
  });
}

pmmlrt_status pmmlrt_model_output_feature(const pmmlrt_model* model, size_t index, const char** feature) {
  return guard("pmmlrt_model_output_feature", [&] {
    const auto& outputs = model_of(model).output_fields();
    check_index(index, outputs.size(), "output");
    need(feature, "feature");
    *feature = outputs[index].feature.c_str();
  });
}

pmmlrt_status pmmlrt_model_output_data_type(const pmmlrt_model* model, size_t index, pmmlrt_data_type* type) {
  return guard("pmmlrt_model_output_data_type", [&] {
    const auto& outputs = model_of(model).output_fields();
    check_index(index, outputs.size(), "output");
    need(type, "type");
    *type = c_type(outputs[index].data_type);
  });
}

pmmlrt_status pmmlrt_model_output_is_final(const pmmlrt_model* model, size_t index, int* is_final) {
  return guard("pmmlrt_model_output_is_final", [&] {
    const auto& outputs = model_of(model).output_fields();
    check_index(index, outputs.size(), "output");
    need(is_final, "is_final");
    *is_final = outputs[index].is_final_result ? 1 : 0;
  });
}

// ---- scoring ---------------------------------------------------------------------------------------------

pmmlrt_status pmmlrt_score_f64(const pmmlrt_model* model, const double* data, size_t rows, size_t cols,
                               pmmlrt_layout layout, const char* const* column_names,
                               const pmmlrt_options* options, pmmlrt_batch_result** out) {
  return guard("pmmlrt_score_f64",
               [&] { score_matrix("pmmlrt_score_f64", model, data, rows, cols, layout, column_names, options, out); });
}

pmmlrt_status pmmlrt_score_f32(const pmmlrt_model* model, const float* data, size_t rows, size_t cols,
                               pmmlrt_layout layout, const char* const* column_names,
                               const pmmlrt_options* options, pmmlrt_batch_result** out) {
  return guard("pmmlrt_score_f32",
               [&] { score_matrix("pmmlrt_score_f32", model, data, rows, cols, layout, column_names, options, out); });
}

pmmlrt_status pmmlrt_score_values(const pmmlrt_model* model, const double* numbers, const char* const* strings,
                                  size_t rows, size_t cols, pmmlrt_layout layout, const char* const* column_names,
                                  const pmmlrt_options* options, pmmlrt_batch_result** out) {
  return guard("pmmlrt_score_values", [&] {
    const pmmlrt::Model& m = model_of(model);
    need(out, "out");
    cells_of(rows, cols);
    const pmmlrt::Layout l = layout_of(layout);
    std::vector<std::string> names = checked_names(m, column_names, cols);
    if (!column_names) {
      const auto& inputs = m.input_fields();
      if (cols != inputs.size())
        raise(PMMLRT_ERROR_USAGE, std::to_string(cols) + " columns but the model has " + std::to_string(inputs.size()) +
                                      " input fields; name the columns to score a different layout");
      for (const auto& f : inputs) names.push_back(f.name);
    }
    auto opts = batch_options(options);
    std::vector<std::vector<pmmlrt::Value>> cells(cols, std::vector<pmmlrt::Value>(rows));
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = l == pmmlrt::Layout::RowMajor ? r * cols + c : c * rows + r;
        if (strings && strings[i]) {
          cells[c][r] = pmmlrt::Value(std::string(strings[i]));
        } else if (numbers && !std::isnan(numbers[i])) {
          cells[c][r] = pmmlrt::Value(numbers[i]);
        }
      }
    if (cols == 0) {
      // No columns: the C++ API cannot tell the row count from zero columns, so score rows of missing values.
      names.push_back(m.input_fields().empty() ? std::string() : m.input_fields().front().name);
      if (m.input_fields().empty()) {
        std::vector<double> none;
        hand_out(m.score(none.data(), rows, 0, pmmlrt::Layout::RowMajor, {}, opts), out);
        return;
      }
      cells.assign(1, std::vector<pmmlrt::Value>(rows));
    }
    hand_out(m.score(names, cells, opts), out);
  });
}

pmmlrt_status pmmlrt_score_one(const pmmlrt_model* model, const double* inputs, size_t n_inputs, double* predicted,
                               double* probabilities, size_t n_probabilities, double* outputs, size_t n_outputs) {
  return guard("pmmlrt_score_one", [&] {
    const pmmlrt::Model& m = model_of(model);
    if (!inputs && n_inputs) raise(PMMLRT_ERROR_INVALID_ARGUMENT, "inputs is NULL");
    if (n_inputs != m.input_fields().size())
      raise(PMMLRT_ERROR_USAGE, std::to_string(n_inputs) + " inputs for a model of " +
                                    std::to_string(m.input_fields().size()) + " input fields");
    const std::size_t k = m.class_labels().size(), n_out = m.output_fields().size();
    if (probabilities) need_capacity(n_probabilities, k, "probabilities");
    if (outputs) need_capacity(n_outputs, n_out, "outputs");
    static const double no_input = 0;
    pmmlrt::RecordOutput out;
    out.predicted = predicted;
    out.probabilities = probabilities;
    out.outputs = outputs;
    m.score_into(inputs ? inputs : &no_input, n_inputs, out);
  });
}

// ---- batch results ---------------------------------------------------------------------------------------

void pmmlrt_batch_result_release(pmmlrt_batch_result* result) {
  if (!result) return;
  try {
    if (!unregister_handle(result, kResultMagic)) return;
  } catch (...) {
    return;
  }
  result->magic = kDeadMagic;
  delete result;
}

pmmlrt_status pmmlrt_batch_result_rows(const pmmlrt_batch_result* result, size_t* rows) {
  return guard("pmmlrt_batch_result_rows", [&] {
    const auto& r = result_of(result);
    need(rows, "rows");
    *rows = r.result.rows();
  });
}

pmmlrt_status pmmlrt_batch_result_class_count(const pmmlrt_batch_result* result, size_t* count) {
  return guard("pmmlrt_batch_result_class_count", [&] {
    const auto& r = result_of(result);
    need(count, "count");
    *count = r.result.classes().size();
  });
}

pmmlrt_status pmmlrt_batch_result_error_count(const pmmlrt_batch_result* result, size_t* count) {
  return guard("pmmlrt_batch_result_error_count", [&] {
    const auto& r = result_of(result);
    need(count, "count");
    *count = r.error_count;
  });
}

pmmlrt_status pmmlrt_batch_result_predicted(const pmmlrt_batch_result* result, double* out, size_t capacity) {
  return guard("pmmlrt_batch_result_predicted", [&] {
    const auto& r = result_of(result);
    const std::size_t rows = r.result.rows();
    if (rows) need(out, "out");
    need_capacity(capacity, rows, "out");
    const auto& p = r.result.predicted();
    for (std::size_t i = 0; i < rows; ++i) out[i] = p(i);
  });
}

pmmlrt_status pmmlrt_batch_result_labels(const pmmlrt_batch_result* result, const char** out, size_t capacity) {
  return guard("pmmlrt_batch_result_labels", [&] {
    const auto& r = result_of(result);
    const std::size_t rows = r.result.rows();
    if (rows) need(out, "out");
    need_capacity(capacity, rows, "out");
    auto& lazy = const_cast<LazyStrings&>(r.labels);
    fill_strings(lazy, r.result.predicted_values());
    for (std::size_t i = 0; i < rows; ++i) out[i] = lazy.pointers[i];
  });
}

pmmlrt_status pmmlrt_batch_result_probabilities(const pmmlrt_batch_result* result, pmmlrt_layout layout, double* out,
                                                size_t capacity) {
  return guard("pmmlrt_batch_result_probabilities", [&] {
    const auto& r = result_of(result);
    const pmmlrt::Layout l = layout_of(layout);
    const std::size_t rows = r.result.rows(), k = r.result.classes().size();
    if (rows && k) need(out, "out");
    need_capacity(capacity, rows * k, "out");
    const auto& p = r.result.probabilities();
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t c = 0; c < k; ++c) out[l == pmmlrt::Layout::RowMajor ? i * k + c : c * rows + i] = p(i, c);
  });
}

pmmlrt_status pmmlrt_batch_result_output(const pmmlrt_batch_result* result, const char* name, double* out,
                                         size_t capacity) {
  return guard("pmmlrt_batch_result_output", [&] {
    const auto& r = result_of(result);
    std::size_t index = 0;
    output_position(r.result, name, index);
    const std::size_t rows = r.result.rows();
    if (rows) need(out, "out");
    need_capacity(capacity, rows, "out");
    const auto numbers = r.result.output_numbers(r.result.output_names()[index]);  // builds no Values
    for (std::size_t i = 0; i < rows; ++i) out[i] = numbers(i);
  });
}

pmmlrt_status pmmlrt_batch_result_output_strings(const pmmlrt_batch_result* result, const char* name, const char** out,
                                                 size_t capacity) {
  return guard("pmmlrt_batch_result_output_strings", [&] {
    const auto& r = result_of(result);
    std::size_t index = 0;
    output_position(r.result, name, index);
    const std::size_t rows = r.result.rows();
    if (rows) need(out, "out");
    need_capacity(capacity, rows, "out");
    auto& lazy = const_cast<LazyStrings&>(r.outputs[index]);
    fill_strings(lazy, r.result.output(r.result.output_names()[index]));
    for (std::size_t i = 0; i < rows; ++i) out[i] = lazy.pointers[i];
  });
}

pmmlrt_status pmmlrt_batch_result_errors(const pmmlrt_batch_result* result, const char** out, size_t capacity) {
  return guard("pmmlrt_batch_result_errors", [&] {
    const auto& r = result_of(result);
    const std::size_t rows = r.result.rows();
    if (rows) need(out, "out");
    need_capacity(capacity, rows, "out");
    for (std::size_t i = 0; i < rows; ++i) out[i] = r.errors[i];
  });
}

}  // extern "C"
