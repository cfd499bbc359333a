// The CSV reader/writer shared by the CLI and the conformance runner (src/cli/csv.hpp).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/csv.hpp"

using pmmlrt::csv::CsvError;
using pmmlrt::csv::Reader;
using pmmlrt::csv::Table;
using pmmlrt::csv::TableReader;
using Row = std::vector<std::string>;

TEST_CASE("csv: plain records, with and without a final line break") {
  Table t = pmmlrt::csv::read_table("a,b,c\n1,2,3\n4,5,6\n");
  CHECK(t.header == Row{"a", "b", "c"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Row{"1", "2", "3"});
  CHECK(t.rows[1] == Row{"4", "5", "6"});
  CHECK(t.lines == std::vector<std::size_t>{2, 3});

  Table u = pmmlrt::csv::read_table("a,b\n1,2");
  REQUIRE(u.rows.size() == 1);
  CHECK(u.rows[0] == Row{"1", "2"});
  CHECK(u.column("b") == 1);
  CHECK_FALSE(u.column("z").has_value());
}

TEST_CASE("csv: quoted fields hold delimiters, doubled quotes and line breaks") {
  Table t = pmmlrt::csv::read_table("name,note\n\"Smith, J.\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\nlast,\"\"\n");
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0] == Row{"Smith, J.", "say \"hi\""});
  CHECK(t.rows[1] == Row{"two\nlines", "x"});
  CHECK(t.rows[2] == Row{"last", ""});
  // The record after a quoted line break starts on a later physical line.
  CHECK(t.lines == std::vector<std::size_t>{2, 3, 5});
}

TEST_CASE("csv: CRLF and lone CR line endings are tolerated") {
  Table t = pmmlrt::csv::read_table("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n5,6\r7,8");
  CHECK(t.header == Row{"a", "b"});
  REQUIRE(t.rows.size() == 4);
  CHECK(t.rows[0] == Row{"1", "2"});
  CHECK(t.rows[1] == Row{"3", "x\r\ny"});
  CHECK(t.rows[2] == Row{"5", "6"});
  CHECK(t.rows[3] == Row{"7", "8"});
  CHECK(t.lines == std::vector<std::size_t>{2, 3, 5, 6});
}

TEST_CASE("csv: empty cells and empty lines") {
  Table t = pmmlrt::csv::read_table("a,b,c\n,,\n1,,3\n\n,2,\n");
  REQUIRE(t.rows.size() == 3);  // the empty line is skipped when the header has several columns
  CHECK(t.rows[0] == Row{"", "", ""});
  CHECK(t.rows[1] == Row{"1", "", "3"});
  CHECK(t.rows[2] == Row{"", "2", ""});
  CHECK(t.lines == std::vector<std::size_t>{2, 3, 5});

  // With a single column an empty line is a record with one empty cell.
  Table one = pmmlrt::csv::read_table("x\n1\n\n2\n");
  REQUIRE(one.rows.size() == 3);
  CHECK(one.rows[1] == Row{""});
}

TEST_CASE("csv: a UTF-8 byte order mark is dropped from the header") {
  Table t = pmmlrt::csv::read_table("\xEF\xBB\xBF" "a,b\n1,2\n");
  CHECK(t.header == Row{"a", "b"});
}

TEST_CASE("csv: wrong number of fields is an error naming the line") {
  TableReader reader("a,b,c\n1,2,3\n4,5\n");
  Row row;
  CHECK(reader.next(row));
  CHECK(reader.row_number() == 1);
  try {
    reader.next(row);
    FAIL("expected a CsvError");
  } catch (const CsvError& e) {
    CHECK(e.line() == 3);
    CHECK(std::string(e.what()).find("line 3") != std::string::npos);
    CHECK(std::string(e.what()).find("expected 3") != std::string::npos);
  }
  CHECK_THROWS_AS(pmmlrt::csv::read_table("a,b\n1,2,3\n"), CsvError);
}

TEST_CASE("csv: malformed quoting is refused") {
  CHECK_THROWS_AS(pmmlrt::csv::read_table("a,b\n\"open,2\n"), CsvError);
  CHECK_THROWS_AS(pmmlrt::csv::read_table("a,b\n\"x\"y,2\n"), CsvError);
  CHECK_THROWS_AS(pmmlrt::csv::read_table(""), CsvError);
  // A quote inside an unquoted field is kept as it is.
  Table t = pmmlrt::csv::read_table("a\nab\"c\n");
  CHECK(t.rows.at(0) == Row{"ab\"c"});
}

TEST_CASE("csv: reading from a stream") {
  std::istringstream in("p,q\n1,\"2,5\"\n");
  Table t = pmmlrt::csv::read_table(in);
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0] == Row{"1", "2,5"});
}

TEST_CASE("csv: writing quotes only what needs it and reads back") {
  CHECK(pmmlrt::csv::escape("plain") == "plain");
  CHECK(pmmlrt::csv::escape("") == "");
  CHECK(pmmlrt::csv::escape("a,b") == "\"a,b\"");
  CHECK(pmmlrt::csv::escape("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(pmmlrt::csv::escape("x\ny") == "\"x\ny\"");

  const Row cells{"probability(a,b)", "", "q\"uote", "cr\r\nlf", "1.5"};
  std::ostringstream out;
  pmmlrt::csv::write_row(out, Row{"h1", "h2", "h3", "h4", "h5"});
  pmmlrt::csv::write_row(out, cells);
  Table t = pmmlrt::csv::read_table(out.str());
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0] == cells);
}
