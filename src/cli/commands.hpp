#pragma once
/// \file commands.hpp
/// The pmmlrt command-line tool: sub-commands and the helpers they share.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pmmlrt/model.hpp"

namespace pmmlrt::cli {

/// Process exit codes (64 and 74 follow BSD sysexits.h).
enum ExitCode : int {
  kExitOk = 0,
  kExitModel = 1,     ///< the model could not be loaded (or another non-input failure)
  kExitInput = 2,     ///< bad input data: unreadable file, malformed CSV, a row the model rejects
  kExitVerify = 3,    ///< verify: the model does not reproduce its ModelVerification records
  kExitUsage = 64,    ///< bad command line
  kExitOutput = 74,   ///< the output could not be written
};

/// A command-line mistake; main() prints it with a hint and exits with kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int run_score(const std::vector<std::string>& args);
int run_inspect(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);

void print_main_help();
void print_score_help();
void print_inspect_help();
void print_verify_help();

/// If args[i] is one of `names` ("--output", "-o"), given as "NAME VALUE" or "--NAME=VALUE", stores the value,
/// advances `i` past what was consumed and returns true. Throws UsageError when the value is absent.
bool take_option(const std::vector<std::string>& args, std::size_t& i, std::initializer_list<std::string_view> names,
                 std::string& value);
/// True when `arg` looks like an option ("-x", "--xyz"), not a positional argument ("-" means stdin/stdout).
bool is_option(std::string_view arg);

/// The options of every command that loads a model: --sha256, --leaf-precision, --load-threads.
struct LoadFlags {
  std::string sha256;  ///< empty: no check
  pmmlrt::LeafPrecision leaf_precision = pmmlrt::LeafPrecision::Exact;
  std::size_t threads = 1;  ///< LoadOptions::threads (0: one per hardware thread)
};

/// If args[i] is a load option, stores its value in `flags`, advances `i` past it and returns true. Throws
/// UsageError for a malformed value.
bool take_load_option(const std::vector<std::string>& args, std::size_t& i, LoadFlags& flags);

/// The lines of the help texts that describe the load options.
extern const char* const kLoadOptionsHelp;

/// Loads a model, printing the error and returning nullopt on failure.
std::optional<pmmlrt::Model> load_model(const std::string& path, const LoadFlags& flags);

/// "parse", "unsupported", ... for messages.
std::string_view kind_name(pmmlrt::ErrorKind kind) noexcept;
std::string_view function_name(pmmlrt::MiningFunction function) noexcept;
std::string_view usage_name(pmmlrt::FieldUsage usage) noexcept;

}  // namespace pmmlrt::cli
