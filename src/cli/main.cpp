// pmmlrt: score CSV files with a PMML model, and describe models.
//
//   pmmlrt score MODEL.pmml INPUT.csv [-o OUT.csv] [--missing TOKENS] [--all-outputs] [LOAD OPTIONS]
//   pmmlrt inspect MODEL.pmml [LOAD OPTIONS]
//   pmmlrt verify MODEL.pmml [LOAD OPTIONS]
//   LOAD OPTIONS: [--sha256 HEX] [--leaf-precision exact|half] [--load-threads N]
//   pmmlrt --version | --help | help [COMMAND]

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "pmmlrt/version.hpp"

namespace pmmlrt::cli {

void print_main_help() {
  fmt::print(
      "pmmlrt {} - score data with PMML models\n"
      "\n"
      "usage:\n"
      "  pmmlrt score MODEL.pmml INPUT.csv [-o OUT.csv] [--missing TOKENS] [--all-outputs] [load options]\n"
      "  pmmlrt inspect MODEL.pmml [load options]\n"
      "  pmmlrt verify MODEL.pmml [load options]\n"
      "  pmmlrt --version\n"
      "  pmmlrt help [score|inspect|verify]\n"
      "\n"
      "load options (every command that loads a model):\n"
      "{}"
      "\n"
      "exit codes: 0 success, 1 the model cannot be loaded, 2 bad input data, 3 verification mismatch,\n"
      "            64 bad command line,\n"
      "            74 the output cannot be written\n",
      pmmlrt::version(), kLoadOptionsHelp);
}

void print_score_help() {
  fmt::print(
      "usage: pmmlrt score MODEL.pmml INPUT.csv [options]\n"
      "\n"
      "Scores every row of INPUT.csv (use - for standard input) and writes a CSV with one row per input row:\n"
      "the predicted value of each target (column named after the target field), for classifiers\n"
      "probability(<class>) and, when the model defines them, confidence(<class>) per class (unless an\n"
      "OutputField has that name), then every OutputField of the model.\n"
      "\n"
      "INPUT.csv has a header row naming the model's input fields; other columns are ignored. Quoted fields\n"
      "(RFC 4180) and CRLF line endings are accepted. Each cell is converted by the field's dataType.\n"
      "\n"
      "options:\n"
      "  -o, --output FILE   write the results to FILE instead of standard output (written only on success)\n"
      "  --missing TOKENS    comma-separated cell texts that mean a missing value; 'empty' stands for the\n"
      "                      empty cell, 'none' for no token at all (default: empty,NA,N/A)\n"
      "  --all-outputs       also write intermediate OutputFields (isFinalResult=\"false\")\n"
      "{}"
      "  -h, --help          show this help\n",
      kLoadOptionsHelp);
}

void print_inspect_help() {
  fmt::print(
      "usage: pmmlrt inspect MODEL.pmml [options]\n"
      "\n"
      "Prints the model type, mining function, PMML version, the input fields (name, dataType, optype,\n"
      "categories), the targets, the class labels and the output fields.\n"
      "\n"
      "options:\n"
      "{}",
      kLoadOptionsHelp);
}

void print_verify_help() {
  fmt::print(
      "usage: pmmlrt verify MODEL.pmml [options]\n"
      "\n"
      "Scores the sample records of the model's ModelVerification element and compares the results with the\n"
      "expected values (each field's precision and zeroThreshold). Exit code 3 on a mismatch.\n"
      "\n"
      "options:\n"
      "{}",
      kLoadOptionsHelp);
}

namespace {

int run(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("missing command");
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--version" || command == "-V" || command == "version") {
    fmt::print("pmmlrt {}\n", pmmlrt::version());
    if (std::string_view(pmmlrt::version()) != PMMLRT_VERSION_STRING)
      fmt::print("(built against headers {})\n", PMMLRT_VERSION_STRING);
    return kExitOk;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    if (!rest.empty() && rest[0] == "score")
      print_score_help();
    else if (!rest.empty() && rest[0] == "inspect")
      print_inspect_help();
    else if (!rest.empty() && rest[0] == "verify")
      print_verify_help();
    else
      print_main_help();
    return kExitOk;
  }
  if (command == "score") return run_score(rest);
  if (command == "inspect") return run_inspect(rest);
  if (command == "verify") return run_verify(rest);
  throw UsageError("unknown command '" + command + "'");
}

}  // namespace
}  // namespace pmmlrt::cli

int main(int argc, char** argv) {
  using namespace pmmlrt::cli;
  // A real stream buffer for std::cin (the CSV reader peeks and puts back bytes), and faster output.
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const int code = run(args);
    std::cout.flush();
    return code;
  } catch (const UsageError& e) {
    std::cout.flush();
    fmt::print(stderr, "pmmlrt: {}\nrun 'pmmlrt --help' for usage\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cout.flush();
    fmt::print(stderr, "pmmlrt: error: {}\n", e.what());
    return kExitModel;
  }
}
