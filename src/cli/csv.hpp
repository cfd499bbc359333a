#pragma once
/// \file csv.hpp
/// A small RFC 4180 CSV reader and writer, shared by the pmmlrt CLI, the conformance runner, the unit tests
/// and the CSV fuzzer. It knows nothing about PMML: cells are plain strings.
///
/// Reading accepts what RFC 4180 allows plus what real files contain:
///   - fields in double quotes may hold the delimiter, line breaks and doubled quotes (`""` is one `"`);
///   - records end in LF, CRLF or a lone CR; the last record may lack a line break;
///   - a UTF-8 byte order mark at the very start is dropped;
///   - a quote inside an unquoted field is kept literally (`ab"c` reads as `ab"c`).
/// Refused (CsvError with the line): an unterminated quoted field, text after a closing quote, and, through
/// TableReader, a record whose number of fields differs from the header's.

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace pmmlrt::csv {

/// Malformed CSV. `line()` is the 1-based physical line where the problem was found (0 when unknown).
class CsvError : public std::runtime_error {
 public:
  CsvError(const std::string& message, std::size_t line) : std::runtime_error(message), line_(line) {}
  std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

struct ReaderOptions {
  char delimiter = ',';
};

/// Reads records one at a time from a stream or from text in memory (which must outlive the reader).
class Reader {
 public:
  explicit Reader(std::istream& in, ReaderOptions options = {});
  explicit Reader(std::string_view text, ReaderOptions options = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Reads the next record into `fields` (cleared first). Returns false at the end of the input.
  /// An empty line is a record of one empty field (see last_record_blank()). Throws CsvError.
  bool read_record(std::vector<std::string>& fields);
  /// The 1-based line on which the record last returned by read_record() starts.
  std::size_t record_line() const noexcept { return record_line_; }
  /// True when the record last returned was an empty line (no characters at all, not even `""`).
  bool last_record_blank() const noexcept { return blank_; }

 private:
  void skip_bom();
  void end_of_record();

  std::unique_ptr<std::streambuf> own_;  // set when reading from memory
  std::streambuf* in_;
  ReaderOptions options_;
  std::size_t line_ = 1;  // line of the next character
  std::size_t record_line_ = 0;
  bool blank_ = false;
};

/// Reads a CSV whose first record is a header, checking that every record has as many fields as the header.
/// Empty lines are skipped when the header has more than one column (with a single column an empty line is
/// a record holding one empty cell).
class TableReader {
 public:
  /// Reads the header. Throws CsvError for an empty input or a malformed header.
  explicit TableReader(std::istream& in, ReaderOptions options = {});
  explicit TableReader(std::string_view text, ReaderOptions options = {});

  const std::vector<std::string>& header() const noexcept { return header_; }
  /// Index of the first column called `name`, if any.
  std::optional<std::size_t> column(std::string_view name) const;
  /// Reads the next data record. Returns false at the end. Throws CsvError (wrong number of fields, ...).
  bool next(std::vector<std::string>& row);
  /// 1-based number of the data record last returned by next() (the header is not counted).
  std::size_t row_number() const noexcept { return rows_; }
  /// 1-based physical line where that record starts (the header is line 1).
  std::size_t line() const noexcept { return reader_.record_line(); }

 private:
  void read_header();

  Reader reader_;
  std::vector<std::string> header_;
  std::size_t rows_ = 0;
};

/// A whole CSV in memory.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  ///< each exactly header.size() long
  std::vector<std::size_t> lines;              ///< physical line where each row starts
  std::optional<std::size_t> column(std::string_view name) const;
};

/// Reads a whole table (header + rows). Throws CsvError.
Table read_table(std::istream& in, ReaderOptions options = {});
Table read_table(std::string_view text, ReaderOptions options = {});
/// Reads a table from a file. Throws CsvError (line 0) when the file cannot be opened.
Table read_table_file(const std::filesystem::path& path, ReaderOptions options = {});

/// True when a cell must be quoted: it holds the delimiter, a double quote, CR or LF.
bool needs_quoting(std::string_view cell, char delimiter = ',');
/// The cell as it must appear in a CSV file (quoted, with inner quotes doubled, only when needed).
std::string escape(std::string_view cell, char delimiter = ',');
/// Appends one record (cells escaped, joined by the delimiter, ended by LF) to `out`.
void append_row(std::string& out, const std::vector<std::string>& cells, char delimiter = ',');
/// Writes one record to a stream.
void write_row(std::ostream& out, const std::vector<std::string>& cells, char delimiter = ',');

}  // namespace pmmlrt::csv
