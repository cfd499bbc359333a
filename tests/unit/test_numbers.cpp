// Number parsing follows the reference's Java rules, not the C library's.
#include <doctest/doctest.h>

#include <cmath>

#include "eval/program.hpp"
#include "pmml/numbers.hpp"

using namespace pmmlrt;

TEST_CASE("parse_double accepts Java forms and rejects what strtod would half-read") {
  CHECK(numbers::parse_double("1.5") == 1.5);
  CHECK(numbers::parse_double(" +2.5e3 ") == 2500.0);
  CHECK(numbers::parse_double(".5") == 0.5);
  CHECK(numbers::parse_double("5.") == 5.0);
  CHECK(numbers::parse_double("1d") == 1.0);
  CHECK(numbers::parse_double("2.0F") == 2.0);
  CHECK(std::isnan(*numbers::parse_double("NaN")));
  CHECK(std::isinf(*numbers::parse_double("-INF")));
  CHECK(*numbers::parse_double("-Infinity") < 0);
  CHECK(numbers::parse_double("true") == 1.0);
  CHECK_FALSE(numbers::parse_double("1,5"));
  CHECK_FALSE(numbers::parse_double("abc"));
  CHECK_FALSE(numbers::parse_double(""));
  CHECK_FALSE(numbers::parse_double("1.5.2"));
  CHECK_FALSE(numbers::parse_double("--1"));
  CHECK(numbers::parse_double("1e400") == HUGE_VAL);
}

TEST_CASE("parse_float rounds once, straight from the text") {
  // 0.1 parsed as float directly, not via double.
  CHECK(*numbers::parse_float("0.1") == 0.1f);
  CHECK(*numbers::parse_float("2.449999988079071") == 2.45f);
}

TEST_CASE("parse_integer takes integral decimals and int32 only") {
  CHECK(numbers::parse_integer("1") == 1);
  CHECK(numbers::parse_integer("1.0") == 1);
  CHECK(numbers::parse_integer("+7") == 7);
  CHECK_FALSE(numbers::parse_integer("1.5"));
  CHECK_FALSE(numbers::parse_integer("3000000000"));
  CHECK_FALSE(numbers::parse_integer("x"));
}

TEST_CASE("format_number writes what the JVM writes") {
  using eval::format_number;
  CHECK(format_number(8.0, DataType::Double) == "8.0");
  CHECK(format_number(8.0, DataType::Integer) == "8");
  CHECK(format_number(0.1, DataType::Double) == "0.1");
  CHECK(format_number(1.7257494904790113E-4, DataType::Double) == "1.7257494904790113E-4");
  CHECK(format_number(12345678.0, DataType::Double) == "1.2345678E7");
  CHECK(format_number(-0.5, DataType::Double) == "-0.5");
  CHECK(format_number(double(0.1f), DataType::Float) == "0.1");
}
