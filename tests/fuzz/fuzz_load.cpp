// Fuzz harness: bytes -> Model::load_memory; when the document loads, introspect it and score a few records
// built from its own schema. Only pmmlrt::Error may escape loading and scoring; anything else (another
// exception, a crash, a sanitizer report, a hang) is a bug.

#include <pmmlrt/pmmlrt.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_common.hpp"

namespace {

// Small limits, so that the fuzzer explores structure instead of running out of memory on a huge tree.
pmmlrt::LoadOptions fuzz_options() {
  pmmlrt::LoadOptions o;
  o.max_document_bytes = 1 << 20;
  o.max_element_depth = 256;
  o.max_tree_depth = 200;
  o.max_nodes = 20000;
  o.max_segments = 2000;
  o.max_fields = 5000;
  o.max_categories = 20000;
  return o;
}

void check_result(const pmmlrt::Model& model, const pmmlrt::Result& r) {
  (void)r.predicted().to_string();
  const auto& p = r.probabilities();
  FUZZ_CHECK(p.empty() || p.size() == model.class_labels().size(), "probabilities/classes size mismatch");
  for (const auto& o : r.outputs()) (void)o.value.to_string();
  for (const auto& label : model.class_labels()) (void)r.probability(label);
}

void score_some(const pmmlrt::Model& model) {
  const auto& inputs = model.input_fields();
  // Three records: all missing; each field's first category or 0; each field's last category or a big number.
  for (int variant = 0; variant < 3; ++variant) {
    pmmlrt::Record record;
    for (const auto& f : inputs) {
      if (variant == 0) continue;
      if (!f.values.empty()) record[f.name] = pmmlrt::Value(variant == 1 ? f.values.front() : f.values.back());
      else record[f.name] = pmmlrt::Value(variant == 1 ? 0.0 : 1e6);
    }
    try {
      check_result(model, model.score(record));
    } catch (const pmmlrt::Error&) {
    }
  }
  // The numeric batch over two rows (zeros and NaN = missing), both error policies.
  std::vector<double> matrix(inputs.size() * 2, 0.0);
  for (std::size_t j = 0; j < inputs.size(); ++j) matrix[inputs.size() + j] = std::nan("");
  for (auto policy : {pmmlrt::RowErrorPolicy::Throw, pmmlrt::RowErrorPolicy::Record}) {
    pmmlrt::BatchOptions options;
    options.on_error = policy;
    try {
      auto b = model.score(matrix.data(), 2, inputs.size(), pmmlrt::Layout::RowMajor, {}, options);
      FUZZ_CHECK(b.rows() == 2, "batch rows");
      for (const auto& name : b.output_names()) (void)b.output_numbers(name);
    } catch (const pmmlrt::Error& e) {
      FUZZ_CHECK(policy == pmmlrt::RowErrorPolicy::Throw || e.kind() == pmmlrt::ErrorKind::Usage,
                 std::string("RowErrorPolicy::Record threw: ") + e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pmmlrt::LoadOptions options = fuzz_options();
  try {
    pmmlrt::Model model = pmmlrt::Model::load_memory(data, size, options);
    (void)model.function();
    (void)model.model_type();
    (void)model.pmml_version();
    for (const auto& f : model.target_fields()) (void)f.name;
    for (const auto& o : model.output_fields()) (void)o.name;
    score_some(model);
  } catch (const pmmlrt::ParseError& e) {
    FUZZ_CHECK(!e.path().empty() || e.line() > 0, std::string("ParseError with neither path nor line: ") + e.what());
  } catch (const pmmlrt::Error& e) {
    FUZZ_CHECK(*e.what() != '\0', "empty error message");
  }
  return 0;
}
