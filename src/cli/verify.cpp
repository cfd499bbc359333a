// pmmlrt verify: score the document's own ModelVerification records and compare.

#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "pmmlrt/model.hpp"

namespace pmmlrt::cli {

int run_verify(const std::vector<std::string>& args) {
  std::string model_path;
  LoadFlags load_flags;
  for (std::size_t i = 0; i < args.size();) {
    if (args[i] == "-h" || args[i] == "--help") {
      print_verify_help();
      return kExitOk;
    }
    if (take_load_option(args, i, load_flags)) continue;
    if (is_option(args[i])) throw UsageError("verify: unknown option '" + args[i] + "'");
    if (!model_path.empty()) throw UsageError("verify: unexpected argument '" + args[i] + "'");
    model_path = args[i++];
  }
  if (model_path.empty()) throw UsageError("verify: needs MODEL.pmml");
  std::optional<pmmlrt::Model> loaded = load_model(model_path, load_flags);
  if (!loaded) return kExitModel;
  const pmmlrt::VerificationReport report = loaded->verify();
  if (report.records == 0) {
    fmt::print("{}: no ModelVerification records to check\n", model_path);
    return kExitOk;
  }
  for (const auto& f : report.failures) fmt::print("mismatch: {}\n", f);
  fmt::print("{}: {} records, {} values checked, {} mismatches\n", model_path, report.records, report.values_checked,
             report.failures.size());
  return report.ok() ? kExitOk : kExitVerify;
}

}  // namespace pmmlrt::cli
