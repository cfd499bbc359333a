#include "cli/csv.hpp"

#include <fstream>
#include <istream>
#include <ostream>
#include <string>

namespace pmmlrt::csv {
namespace {

using traits = std::char_traits<char>;
constexpr int kEof = traits::eof();

// A read-only stream buffer over memory, so text and streams share one parser.
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());  // never written: the buffer is only read
    setg(p, p, p + text.size());
  }
};

std::optional<std::size_t> find_column(const std::vector<std::string>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  return std::nullopt;
}

}  // namespace

// ---- Reader ----------------------------------------------------------------------------------------------

Reader::Reader(std::istream& in, ReaderOptions options) : in_(in.rdbuf()), options_(options) { skip_bom(); }

Reader::Reader(std::string_view text, ReaderOptions options)
    : own_(std::make_unique<MemoryBuf>(text)), in_(own_.get()), options_(options) {
  skip_bom();
}

Reader::~Reader() = default;

void Reader::skip_bom() {
  if (in_ == nullptr) return;
  if (in_->sgetc() != 0xEF) return;
  // Peek the next two bytes; put them back if they are not a BOM.
  in_->sbumpc();
  if (in_->sgetc() == 0xBB) {
    in_->sbumpc();
    if (in_->sgetc() == 0xBF) {
      in_->sbumpc();
      return;
    }
    in_->sungetc();
  }
  in_->sungetc();
}

// Consumes the line break that ends a record (LF, CRLF or CR); nothing at the end of the input.
void Reader::end_of_record() {
  int c = in_->sgetc();
  if (c == '\r') {
    in_->sbumpc();
    if (in_->sgetc() == '\n') in_->sbumpc();
    ++line_;
  } else if (c == '\n') {
    in_->sbumpc();
    ++line_;
  }
}

bool Reader::read_record(std::vector<std::string>& fields) {
  fields.clear();
  blank_ = false;
  if (in_ == nullptr) return false;
  int c = in_->sgetc();
  if (c == kEof) return false;
  record_line_ = line_;
  const int delim = traits::to_int_type(options_.delimiter);

  if (c == '\n' || c == '\r') {  // an empty line
    fields.emplace_back();
    blank_ = true;
    end_of_record();
    return true;
  }

  std::string field;
  for (;;) {
    field.clear();
    c = in_->sgetc();
    if (c == '"') {
      const std::size_t start_line = line_;
      in_->sbumpc();
      for (;;) {
        c = in_->sbumpc();
        if (c == kEof)
          throw CsvError("unterminated quoted field (opened on line " + std::to_string(start_line) + ")", start_line);
        if (c == '"') {
          if (in_->sgetc() == '"') {
            in_->sbumpc();
            field.push_back('"');
            continue;
          }
          break;  // the closing quote
        }
        if (c == '\n') {
          ++line_;
        } else if (c == '\r' && in_->sgetc() != '\n') {
          ++line_;
        }
        field.push_back(traits::to_char_type(c));
      }
      c = in_->sgetc();
      if (c != delim && c != '\n' && c != '\r' && c != kEof)
        throw CsvError("unexpected character after a closing quote (a quote inside a quoted field must be doubled)",
                       line_);
    } else {
      while (c != kEof && c != delim && c != '\n' && c != '\r') {
        field.push_back(traits::to_char_type(c));
        in_->sbumpc();
        c = in_->sgetc();
      }
    }
    fields.push_back(field);
    if (c == delim) {
      in_->sbumpc();
      continue;
    }
    end_of_record();
    return true;
  }
}

// ---- TableReader -----------------------------------------------------------------------------------------

TableReader::TableReader(std::istream& in, ReaderOptions options) : reader_(in, options) { read_header(); }

TableReader::TableReader(std::string_view text, ReaderOptions options) : reader_(text, options) { read_header(); }

void TableReader::read_header() {
  if (!reader_.read_record(header_)) throw CsvError("empty input: no header row", 1);
}

std::optional<std::size_t> TableReader::column(std::string_view name) const { return find_column(header_, name); }

bool TableReader::next(std::vector<std::string>& row) {
  for (;;) {
    if (!reader_.read_record(row)) return false;
    if (reader_.last_record_blank() && header_.size() != 1) continue;
    break;
  }
  ++rows_;
  if (row.size() != header_.size())
    throw CsvError("line " + std::to_string(reader_.record_line()) + ": expected " + std::to_string(header_.size()) +
                       " fields (as in the header), found " + std::to_string(row.size()),
                   reader_.record_line());
  return true;
}

// ---- Table -----------------------------------------------------------------------------------------------

std::optional<std::size_t> Table::column(std::string_view name) const { return find_column(header, name); }

namespace {
Table read_all(TableReader& reader) {
  Table table;
  table.header = reader.header();
  std::vector<std::string> row;
  while (reader.next(row)) {
    table.rows.push_back(row);
    table.lines.push_back(reader.line());
  }
  return table;
}
}  // namespace

Table read_table(std::istream& in, ReaderOptions options) {
  TableReader reader(in, options);
  return read_all(reader);
}

Table read_table(std::string_view text, ReaderOptions options) {
  TableReader reader(text, options);
  return read_all(reader);
}

Table read_table_file(const std::filesystem::path& path, ReaderOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError("cannot open " + path.string(), 0);
  return read_table(in, options);
}

// ---- Writing ---------------------------------------------------------------------------------------------

bool needs_quoting(std::string_view cell, char delimiter) {
  for (char ch : cell)
    if (ch == delimiter || ch == '"' || ch == '\n' || ch == '\r') return true;
  return false;
}

std::string escape(std::string_view cell, char delimiter) {
  if (!needs_quoting(cell, delimiter)) return std::string(cell);
  std::string out;
  out.reserve(cell.size() + 2);
  out.push_back('"');
  for (char ch : cell) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

void append_row(std::string& out, const std::vector<std::string>& cells, char delimiter) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) out.push_back(delimiter);
    if (needs_quoting(cells[i], delimiter))
      out += escape(cells[i], delimiter);
    else
      out += cells[i];
  }
  out.push_back('\n');
}

void write_row(std::ostream& out, const std::vector<std::string>& cells, char delimiter) {
  std::string line;
  append_row(line, cells, delimiter);
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

}  // namespace pmmlrt::csv
