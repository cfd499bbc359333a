// Helpers shared by the sub-commands: option matching, model loading with readable errors, enum names.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
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

namespace {

void check_sha256(const std::string& hex) {
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  if (!ok) throw UsageError("--sha256 needs 64 hexadecimal digits, got '" + hex + "'");
}

pmmlrt::LeafPrecision parse_leaf_precision(const std::string& name) {
  if (name == "exact") return pmmlrt::LeafPrecision::Exact;
  if (name == "half") return pmmlrt::LeafPrecision::Half;
  throw UsageError("--leaf-precision needs 'exact' or 'half', got '" + name + "'");
}

std::size_t parse_load_threads(const std::string& text) {
  // Digits only: strtoull alone would take "-1" as the largest count and "2x" as 2.
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const unsigned long long n = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || n > std::numeric_limits<std::size_t>::max())
    throw UsageError("--load-threads needs a thread count (0 for one per hardware thread), got '" + text + "'");
  return static_cast<std::size_t>(n);
}

}  // namespace

const char* const kLoadOptionsHelp =
    "  --sha256 HEX        refuse the model unless its SHA-256 is HEX (64 hex digits)\n"
    "  --leaf-precision exact|half\n"
    "                      'half' rounds every tree leaf score, probability and confidence to IEEE\n"
    "                      binary16 at load (opt-in reduced precision: results differ slightly from the\n"
    "                      exact ones; a leaf beyond 65504 cannot be loaded); default 'exact'\n"
    "  --load-threads N    threads that read a forest's Segments while loading (default 1; 0 = one per\n"
    "                      hardware thread); the model is the same whatever N\n";

bool take_load_option(const std::vector<std::string>& args, std::size_t& i, LoadFlags& flags) {
  std::string value;
  if (take_option(args, i, {"--sha256"}, value)) {
    check_sha256(value);
    flags.sha256 = value;
  } else if (take_option(args, i, {"--leaf-precision"}, value)) {
    flags.leaf_precision = parse_leaf_precision(value);
  } else if (take_option(args, i, {"--load-threads"}, value)) {
    flags.threads = parse_load_threads(value);
  } else {
    return false;
  }
  return true;
}

std::optional<pmmlrt::Model> load_model(const std::string& path, const LoadFlags& flags) {
  pmmlrt::LoadOptions options;
  options.expected_sha256 = flags.sha256;
  options.leaf_precision = flags.leaf_precision;
  options.threads = flags.threads;
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
