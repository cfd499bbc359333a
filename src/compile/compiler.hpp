#pragma once
// compile/: IR -> Program. Resolves every name to a slot, interns every string, flattens trees into node
// arrays, maps classes between nested models, and rejects inconsistent models (dangling references,
// cycles, unsupported features) with the element path.

#include <memory>
#include <string>
#include <vector>

#include "eval/program.hpp"
#include "pmml/ir.hpp"

namespace pmmlrt::compile {

/// An output as the API reports it: a name and the slots that may hold its value this record (the first
/// one set wins; several when selectFirst segments declare the same name).
struct ResultOutput {
  std::string name;
  std::vector<std::int32_t> slots;
  OutputInfo info;
};

struct Compiled {
  eval::Program program;
  std::vector<FieldInfo> inputs;   // active fields of the top-level model
  std::vector<FieldInfo> targets;
  std::vector<ResultOutput> outputs;
  std::vector<OutputInfo> output_infos;  // parallel to outputs
  std::vector<std::string> class_labels;
  MiningFunction function = MiningFunction::Regression;
  std::string model_type;
  std::string version;
  std::vector<std::int32_t> input_spec_of_field;  // per `inputs` entry: index into program.inputs
  std::unique_ptr<ir::Verification> verification;  // the top-level model's ModelVerification, if any
};

/// Consumes the document: the nodes of each TreeModel are freed as soon as the tree is flattened, so that
/// the IR and the Program do not both hold every tree at once.
std::unique_ptr<Compiled> compile_document(ir::Document doc, const LoadOptions& options);

}  // namespace pmmlrt::compile
