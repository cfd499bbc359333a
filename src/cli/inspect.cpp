// pmmlrt inspect: what a model needs and what it gives back.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"

namespace pmmlrt::cli {
namespace {

constexpr std::size_t kMaxListedCategories = 12;

std::string join(const std::vector<std::string>& items, std::size_t limit) {
  std::string out;
  const std::size_t n = std::min(items.size(), limit);
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ", ";
    out += items[i];
  }
  if (items.size() > n) out += fmt::format(", ... ({} in all)", items.size());
  return out;
}

std::string categories(const pmmlrt::FieldInfo& f) {
  if (f.values.empty()) return {};
  if (f.values.size() > kMaxListedCategories) return fmt::format("({} categories)", f.values.size());
  return "[" + join(f.values, kMaxListedCategories) + "]";
}

void print_fields(const char* title, const std::vector<pmmlrt::FieldInfo>& fields) {
  fmt::print("{} ({}):\n", title, fields.size());
  std::size_t width = 0;
  for (const auto& f : fields) width = std::max(width, f.name.size());
  for (const auto& f : fields) {
    std::string line = fmt::format("  {:<{}}  {:<8}  {:<11}", f.name, width, pmmlrt::to_string(f.data_type),
                                   pmmlrt::to_string(f.op_type));
    const std::string cats = categories(f);
    if (!cats.empty()) line += "  " + cats;
    if (f.usage != pmmlrt::FieldUsage::Active && f.usage != pmmlrt::FieldUsage::Target)
      line += fmt::format("  ({})", usage_name(f.usage));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
}

}  // namespace

int run_inspect(const std::vector<std::string>& args) {
  std::string model_path;
  LoadFlags load_flags;
  for (std::size_t i = 0; i < args.size();) {
    if (args[i] == "-h" || args[i] == "--help") {
      print_inspect_help();
      return kExitOk;
    }
    if (take_load_option(args, i, load_flags)) continue;
    if (is_option(args[i])) throw UsageError("inspect: unknown option '" + args[i] + "'");
    if (!model_path.empty()) throw UsageError("inspect: unexpected argument '" + args[i] + "'");
    model_path = args[i++];
  }
  if (model_path.empty()) throw UsageError("inspect: needs MODEL.pmml");

  std::optional<pmmlrt::Model> loaded = load_model(model_path, load_flags);
  if (!loaded) return kExitModel;
  const pmmlrt::Model& model = *loaded;

  fmt::print("model:        {}\n", model.model_type());
  fmt::print("function:     {}\n", function_name(model.function()));
  fmt::print("PMML version: {}\n", model.pmml_version());
  print_fields("inputs", model.input_fields());
  print_fields("targets", model.target_fields());
  if (model.function() == pmmlrt::MiningFunction::Classification)
    fmt::print("classes ({}): {}\n", model.class_labels().size(), join(model.class_labels(), 50));

  const auto& outputs = model.output_fields();
  fmt::print("outputs ({}):\n", outputs.size());
  std::size_t width = 0;
  for (const auto& o : outputs) width = std::max(width, o.name.size());
  for (const auto& o : outputs) {
    std::string line = fmt::format("  {:<{}}  {:<8}  {}", o.name, width, pmmlrt::to_string(o.data_type), o.feature);
    if (!o.value.empty()) line += fmt::format(" (value={})", o.value);
    if (!o.is_final_result) line += "  [intermediate]";
    fmt::print("{}\n", line);
  }
  return kExitOk;
}

}  // namespace pmmlrt::cli
