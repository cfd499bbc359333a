// Helpers shared by the sub-commands: option matching, model loading with readable errors, enum names.

#include <cctype>
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>

#include "cli/commands.hpp"

namespace pmmlrt::cli {

bool is_option(std::string_view arg) { return arg.size() > 1 && arg[0] == '-'; }

bool take_option(const std::vector<std::string>& args, std::size_t& i, std::initializer_list<std::string_view> names,
                 std::string& value) {
  const std::string& arg = args[i];
  for (std::string_view name : names) {
    if (arg == name) {
      if (i + 1 >= args.size()) throw UsageError(fmt::format("option {} needs a value", name));
      value = args[i + 1];
      i += 2;
      return true;
    }
    // --name=value (long options only)
    if (name.size() > 2 && name.substr(0, 2) == "--" && arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
        arg[name.size()] == '=') {
      value = arg.substr(name.size() + 1);
      i += 1;
      return true;
    }
  }
  return false;
}

void check_sha256(const std::string& hex) {
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  if (!ok) throw UsageError("--sha256 needs 64 hexadecimal digits, got '" + hex + "'");
}

std::optional<pmmlrt::Model> load_model(const std::string& path, const std::string& sha256) {
  pmmlrt::LoadOptions options;
  options.expected_sha256 = sha256;
  try {
    return pmmlrt::Model::load_file(path, options);
  } catch (const pmmlrt::ParseError& e) {
    std::string where;
    if (e.line() != 0) where += fmt::format(" (line {})", e.line());
    fmt::print(stderr, "pmmlrt: error: cannot load {}: {} error{}: {}\n", path, kind_name(e.kind()), where, e.what());
  } catch (const pmmlrt::Error& e) {
    fmt::print(stderr, "pmmlrt: error: cannot load {}: {} error: {}\n", path, kind_name(e.kind()), e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "pmmlrt: error: cannot load {}: {}\n", path, e.what());
  }
  return std::nullopt;
}

std::string_view kind_name(pmmlrt::ErrorKind kind) noexcept {
  switch (kind) {
    case pmmlrt::ErrorKind::Parse: return "parse";
    case pmmlrt::ErrorKind::Unsupported: return "unsupported";
    case pmmlrt::ErrorKind::Model: return "model";
    case pmmlrt::ErrorKind::Input: return "input";
    case pmmlrt::ErrorKind::Evaluation: return "evaluation";
    case pmmlrt::ErrorKind::Limit: return "limit";
    case pmmlrt::ErrorKind::Io: return "I/O";
    case pmmlrt::ErrorKind::Usage: return "usage";
  }
  return "unknown";
}

std::string_view function_name(pmmlrt::MiningFunction function) noexcept {
  switch (function) {
    case pmmlrt::MiningFunction::Regression: return "regression";
    case pmmlrt::MiningFunction::Classification: return "classification";
  }
  return "unknown";
}

std::string_view usage_name(pmmlrt::FieldUsage usage) noexcept {
  switch (usage) {
    case pmmlrt::FieldUsage::Active: return "active";
    case pmmlrt::FieldUsage::Target: return "target";
    case pmmlrt::FieldUsage::Supplementary: return "supplementary";
    case pmmlrt::FieldUsage::Group: return "group";
    case pmmlrt::FieldUsage::Order: return "order";
    case pmmlrt::FieldUsage::FrequencyWeight: return "frequencyWeight";
    case pmmlrt::FieldUsage::AnalysisWeight: return "analysisWeight";
  }
  return "unknown";
}

}  // namespace pmmlrt::cli
