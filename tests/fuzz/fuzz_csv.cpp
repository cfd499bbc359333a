// Fuzz harness: bytes -> the CLI's CSV reader (src/cli/csv.*). A first byte 0x01-0x04 picks the delimiter
// (, ; TAB |) and is not part of the file; otherwise all the bytes are the file. Only csv::CsvError may
// escape. Checks: reading from memory and from a stream agree; every row has the header's width; a table that
// reads writes out (csv::append_row) and reads again to the same cells; the record Reader always progresses.

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/csv.hpp"
#include "fuzz_common.hpp"

namespace {

namespace csv = pmmlrt::csv;

struct Outcome {
  bool ok = false;
  csv::Table table;
  std::string error;
  std::size_t error_line = 0;
};

Outcome read_memory(std::string_view text, const csv::ReaderOptions& o) {
  Outcome out;
  try {
    out.table = csv::read_table(text, o);
    out.ok = true;
  } catch (const csv::CsvError& e) {
    out.error = e.what();
    out.error_line = e.line();
  }
  return out;
}

Outcome read_stream(const std::string& text, const csv::ReaderOptions& o) {
  Outcome out;
  std::istringstream in(text);
  try {
    out.table = csv::read_table(in, o);
    out.ok = true;
  } catch (const csv::CsvError& e) {
    out.error = e.what();
    out.error_line = e.line();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A first byte 0x01-0x04 picks another delimiter and is not part of the file; real CSV seeds start with text.
  static const char delimiters[] = {',', ';', '\t', '|'};
  csv::ReaderOptions options;
  const bool picks = size > 0 && data[0] >= 1 && data[0] <= 4;
  if (picks) options.delimiter = delimiters[data[0] - 1];
  std::string text(reinterpret_cast<const char*>(data) + picks, size - picks);

  Outcome a = read_memory(text, options);
  Outcome b = read_stream(text, options);
  FUZZ_CHECK(a.ok == b.ok, "memory and stream readers disagree: " + a.error + " | " + b.error);
  if (!a.ok) {
    FUZZ_CHECK(a.error == b.error && a.error_line == b.error_line, "different errors: " + a.error + " | " + b.error);
    FUZZ_CHECK(!a.error.empty(), "empty CsvError message");
  } else {
    FUZZ_CHECK(a.table.header == b.table.header && a.table.rows == b.table.rows && a.table.lines == b.table.lines,
               "memory and stream tables differ");
    FUZZ_CHECK(a.table.lines.size() == a.table.rows.size(), "one line number per row");
    std::size_t previous = 1;
    for (std::size_t i = 0; i < a.table.rows.size(); ++i) {
      FUZZ_CHECK(a.table.rows[i].size() == a.table.header.size(), "a row narrower or wider than the header");
      FUZZ_CHECK(a.table.lines[i] > previous, "row line numbers must increase");
      previous = a.table.lines[i];
    }
    // Round trip, except where the writer cannot express the table: a one-column table with empty cells
    // (an empty line), or a first cell that starts with a byte order mark (dropped on reading).
    bool expressible = !(a.table.header.size() == 1 && a.table.header[0].empty());
    if (a.table.header.size() == 1)
      for (const auto& r : a.table.rows) expressible = expressible && !r[0].empty();
    if (!a.table.header.empty() && a.table.header[0].rfind("\xEF\xBB\xBF", 0) == 0) expressible = false;
    if (expressible) {
      std::string out;
      csv::append_row(out, a.table.header, options.delimiter);
      for (const auto& r : a.table.rows) csv::append_row(out, r, options.delimiter);
      Outcome c = read_memory(out, options);
      FUZZ_CHECK(c.ok, "the written table does not read back: " + c.error);
      FUZZ_CHECK(c.table.header == a.table.header && c.table.rows == a.table.rows, "the round trip changed the table");
    }
  }

  // The record reader on its own: progress on every record, and a bounded number of records.
  try {
    csv::Reader reader(std::string_view(text), options);
    std::vector<std::string> fields;
    std::size_t records = 0, last_line = 0;
    while (reader.read_record(fields)) {
      ++records;
      FUZZ_CHECK(records <= text.size() + 1, "more records than bytes");
      FUZZ_CHECK(reader.record_line() >= last_line, "record lines go backwards");
      last_line = reader.record_line();
      FUZZ_CHECK(!fields.empty(), "a record with no fields");
    }
  } catch (const csv::CsvError&) {
  }
  return 0;
}
