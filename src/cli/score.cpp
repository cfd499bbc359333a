// pmmlrt score: CSV in, one scored CSV row per input row out.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/csv.hpp"
#include "pmmlrt/error.hpp"
#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"

namespace pmmlrt::cli {
namespace {

struct ScoreArgs {
  std::string model;
  std::string input;
  std::string output;  // empty or "-" = standard output
  std::vector<std::string> missing_tokens{"", "NA", "N/A"};
  LoadFlags load_flags;
  bool all_outputs = false;
};

std::vector<std::string> parse_tokens(const std::string& list) {
  if (list == "none") return {};
  std::vector<std::string> tokens;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    std::string token = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    tokens.push_back(token == "empty" ? std::string() : token);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return tokens;
}

ScoreArgs parse_args(const std::vector<std::string>& args) {
  ScoreArgs a;
  std::vector<std::string> positional;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size();) {
    const std::string& arg = args[i];
    if (options_done || !is_option(arg)) {
      positional.push_back(arg);
      ++i;
      continue;
    }
    std::string value;
    if (arg == "--") {
      options_done = true;
      ++i;
    } else if (arg == "-h" || arg == "--help") {
      print_score_help();
      std::exit(kExitOk);
    } else if (take_option(args, i, {"-o", "--output"}, value)) {
      a.output = value;
    } else if (take_option(args, i, {"--missing"}, value)) {
      a.missing_tokens = parse_tokens(value);
    } else if (take_load_option(args, i, a.load_flags)) {
      // stored in a.load_flags
    } else if (arg == "--all-outputs") {
      a.all_outputs = true;
      ++i;
    } else {
      throw UsageError("score: unknown option '" + arg + "'");
    }
  }
  if (positional.size() < 2) throw UsageError("score: needs MODEL.pmml and INPUT.csv");
  if (positional.size() > 2) throw UsageError("score: unexpected argument '" + positional[2] + "'");
  a.model = positional[0];
  a.input = positional[1];
  return a;
}

// One column of the output CSV.
struct Column {
  enum class Kind { Target, Probability, Confidence, Output };
  Kind kind;
  std::string name;   // header text
  std::string key;    // target field, class label or OutputField name
  std::size_t index;  // position of the target in target_fields()
};

std::string number_cell(double x) { return std::isnan(x) ? std::string() : pmmlrt::Value(x).to_string(); }

const pmmlrt::Value& target_value(const pmmlrt::Result& r, const Column& c) {
  for (const auto& t : r.targets())
    if (t.name == c.key) return t.value;
  static const pmmlrt::Value missing;
  if (c.index == 0) return r.predicted();
  return missing;
}

std::string cell(const pmmlrt::Result& r, const Column& c) {
  switch (c.kind) {
    case Column::Kind::Target:
      return target_value(r, c).to_string();
    case Column::Kind::Probability: {
      auto p = r.probability(c.key);
      return p ? number_cell(*p) : std::string();
    }
    case Column::Kind::Confidence: {
      auto p = r.confidence(c.key);
      return p ? number_cell(*p) : std::string();
    }
    case Column::Kind::Output: {
      const pmmlrt::Value* v = r.output(c.key);
      return v ? v->to_string() : std::string();
    }
  }
  return {};
}

// Failure to write the results (distinct from a row the model rejects).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes a regular file through a temporary file next to it, renamed on success, so that a failed run leaves
// no half-written output behind. Anything else (a device, a FIFO, a symbolic link) is written in place;
// "-" or "" writes to standard output.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path.empty() || path == "-") return;
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(path, ec);
    const bool in_place = !ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status);
    const std::string& target = in_place ? path : (temp_ = path + ".pmmlrt-tmp");
    file_.open(target, std::ios::binary | std::ios::trunc);
    if (!file_) throw OutputError("cannot create " + target + ": " + std::generic_category().message(errno));
    direct_ = in_place;
  }
  ~Output() {
    if (!temp_.empty() && !committed_) {
      file_.close();
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
    }
  }
  void write(const std::string& text) {
    stream().write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!stream()) throw OutputError("cannot write " + display_name());
  }
  void commit() {
    stream().flush();
    if (!stream()) throw OutputError("cannot write " + display_name());
    if (direct_) {
      file_.close();
      if (!file_) throw OutputError("cannot write " + path_);
      return;
    }
    if (temp_.empty()) return;
    file_.close();
    if (!file_) throw OutputError("cannot write " + temp_);
    std::error_code ec;
    std::filesystem::rename(temp_, path_, ec);
    if (ec) throw OutputError("cannot rename " + temp_ + " to " + path_ + ": " + ec.message());
    committed_ = true;
  }
  std::string display_name() const { return to_file() ? path_ : "standard output"; }

 private:
  bool to_file() const { return direct_ || !temp_.empty(); }
  std::ostream& stream() { return to_file() ? static_cast<std::ostream&>(file_) : std::cout; }
  std::string path_, temp_;
  std::ofstream file_;
  bool direct_ = false;  // writing to path_ itself
  bool committed_ = false;
};

class Scorer {
 public:
  Scorer(const ScoreArgs& args, const pmmlrt::Model& model) : args_(args), model_(model) {}

  int run() {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (args_.input != "-") {
      file.open(args_.input, std::ios::binary);
      if (!file) {
        fmt::print(stderr, "pmmlrt: error: cannot open {}\n", args_.input);
        return kExitInput;
      }
      in = &file;
    }
    const std::string input_name = args_.input == "-" ? "standard input" : args_.input;

    std::optional<Output> out;
    try {
      out.emplace(args_.output);
    } catch (const OutputError& e) {
      fmt::print(stderr, "pmmlrt: error: {}\n", e.what());
      return kExitOutput;
    }

    std::optional<csv::TableReader> table;
    try {
      table.emplace(*in);
    } catch (const csv::CsvError& e) {
      fmt::print(stderr, "pmmlrt: error: {}: {}\n", input_name, e.what());
      return kExitInput;
    }
    bind_inputs(*table, input_name);
    plan_columns();

    std::vector<std::string> row;
    try {
      while (true) {
        try {
          if (!table->next(row)) break;
        } catch (const csv::CsvError& e) {
          fmt::print(stderr, "pmmlrt: error: {}: {}\n", input_name, e.what());
          return kExitInput;
        }
        const std::size_t row_number = table->row_number();
        try {
          for (const auto& b : bound_) {
            const std::string& text = row[b.column];
            *b.slot = is_missing_token(text) ? pmmlrt::Value() : pmmlrt::Value(text);
          }
          emit(model_.score(record_), *out);
        } catch (const pmmlrt::InputError& e) {
          std::string field = e.field().empty() ? std::string() : fmt::format(", field '{}'", e.field());
          std::string value;
          if (!e.field().empty())
            if (auto col = table->column(e.field())) {
              const std::string& text = row[*col];
              value = text.size() <= 60 ? fmt::format(" (value \"{}\")", text)
                                        : fmt::format(" (value \"{}...\")", text.substr(0, 57));
            }
          fmt::print(stderr, "pmmlrt: error: {}: data row {} (line {}){}{}: {}\n", input_name, row_number,
                     table->line(), field, value, e.what());
          return kExitInput;
        } catch (const pmmlrt::Error& e) {
          fmt::print(stderr, "pmmlrt: error: {}: data row {} (line {}): {} error: {}\n", input_name, row_number,
                     table->line(), kind_name(e.kind()), e.what());
          return kExitInput;
        } catch (const OutputError&) {
          throw;
        } catch (const std::bad_alloc&) {
          throw;
        } catch (const std::exception& e) {
          fmt::print(stderr, "pmmlrt: error: {}: data row {} (line {}): {}\n", input_name, row_number, table->line(),
                     e.what());
          return kExitInput;
        }
      }
      if (!header_written_) {
        decide_confidences(false);
        flush_pending(*out);
      }
      if (!buffer_.empty()) out->write(buffer_);
      out->commit();
    } catch (const OutputError& e) {
      fmt::print(stderr, "pmmlrt: error: {}\n", e.what());
      return kExitOutput;
    }
    return kExitOk;
  }

 private:
  struct Binding {
    std::size_t column;
    pmmlrt::Value* slot;  // the field's entry in record_ (map nodes are stable)
  };

  bool is_missing_token(const std::string& text) const {
    for (const auto& t : args_.missing_tokens)
      if (text == t) return true;
    return false;
  }

  void bind_inputs(const csv::TableReader& table, const std::string& input_name) {
    for (const auto& f : model_.input_fields()) {
      auto col = table.column(f.name);
      if (!col) {
        fmt::print(stderr, "pmmlrt: warning: {} has no column '{}': that input is missing in every row\n",
                   input_name, f.name);
        continue;
      }
      auto [it, inserted] = record_.emplace(f.name, pmmlrt::Value());
      if (inserted) bound_.push_back({*col, &it->second});
    }
  }

  // Target, then class probabilities, then the OutputFields. Confidence columns are added later, once a
  // scored row shows whether the model defines confidences (see decide_confidences()).
  void plan_columns() {
    const auto& targets = model_.target_fields();
    if (targets.empty()) {
      columns_.push_back({Column::Kind::Target, "predicted", "", 0});
    } else {
      for (std::size_t i = 0; i < targets.size(); ++i)
        columns_.push_back({Column::Kind::Target, targets[i].name, targets[i].name, i});
    }
    for (const auto& o : model_.output_fields()) {
      if (!o.is_final_result && !args_.all_outputs) continue;
      outputs_.push_back({Column::Kind::Output, o.name, o.name, 0});
      output_names_.push_back(o.name);
    }
    classify_ = model_.function() == pmmlrt::MiningFunction::Classification && !model_.class_labels().empty();
    if (classify_) {
      for (const auto& label : model_.class_labels()) {
        std::string name = "probability(" + label + ")";
        if (!is_output_name(name)) columns_.push_back({Column::Kind::Probability, name, label, 0});
      }
    }
  }

  bool is_output_name(const std::string& name) const {
    for (const auto& n : output_names_)
      if (n == name) return true;
    return false;
  }

  void decide_confidences(bool with_confidences) {
    if (with_confidences) {
      for (const auto& label : model_.class_labels()) {
        std::string name = "confidence(" + label + ")";
        if (!is_output_name(name)) columns_.push_back({Column::Kind::Confidence, name, label, 0});
      }
    }
    columns_.insert(columns_.end(), outputs_.begin(), outputs_.end());
    std::vector<std::string> header;
    for (const auto& c : columns_) header.push_back(c.name);
    csv::append_row(buffer_, header);
    header_written_ = true;
  }

  void flush_pending(Output& out) {
    for (const auto& r : pending_) append(r);
    pending_.clear();
    maybe_flush(out);
  }

  void append(const pmmlrt::Result& r) {
    cells_.clear();
    for (const auto& c : columns_) cells_.push_back(cell(r, c));
    csv::append_row(buffer_, cells_);
  }

  void maybe_flush(Output& out) {
    if (buffer_.size() >= (1u << 16)) {
      out.write(buffer_);
      buffer_.clear();
    }
  }

  // Rows are held back until one comes with a class distribution: only then is it known whether this model
  // gives confidences, and so which columns the header has.
  void emit(pmmlrt::Result r, Output& out) {
    if (!header_written_) {
      if (classify_ && r.probabilities().empty() && r.confidences().empty()) {
        pending_.push_back(std::move(r));
        return;
      }
      decide_confidences(classify_ && !r.confidences().empty());
      flush_pending(out);
    }
    append(r);
    maybe_flush(out);
  }

  const ScoreArgs& args_;
  const pmmlrt::Model& model_;
  pmmlrt::Record record_;
  std::vector<Binding> bound_;
  std::vector<Column> columns_, outputs_;
  std::vector<std::string> output_names_;
  bool classify_ = false;
  bool header_written_ = false;
  std::vector<pmmlrt::Result> pending_;
  std::vector<std::string> cells_;
  std::string buffer_;
};

}  // namespace

int run_score(const std::vector<std::string>& args) {
  const ScoreArgs a = parse_args(args);
  std::optional<pmmlrt::Model> model = load_model(a.model, a.load_flags);
  if (!model) return kExitModel;
  Scorer scorer(a, *model);
  return scorer.run();
}

}  // namespace pmmlrt::cli
