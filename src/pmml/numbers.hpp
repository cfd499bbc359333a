#pragma once
// Locale-free number parsing with the rules of the reference evaluator (Java's parseDouble/parseFloat/
// parseInt as wrapped by JPMML's TypeUtil): whitespace trimmed, a leading '+', 'd'/'f' suffixes, NaN and
// INF in any case, "true"/"false" as 1/0. std::from_chars does the digits, so "1,5" and "abc" fail
// instead of silently becoming 1 and 0.

#include <cstdint>
#include <optional>
#include <string_view>

namespace pmmlrt::numbers {

std::optional<double> parse_double(std::string_view text);
/// Parses straight to float (rounding once), as Java's Float.parseFloat does.
std::optional<float> parse_float(std::string_view text);
/// Accepts integral decimals ("1.0") and rejects values outside int32, as JPMML's integer type does.
std::optional<std::int64_t> parse_integer(std::string_view text);
/// "true"/"false" (any case), "1"/"0".
std::optional<bool> parse_boolean(std::string_view text);

std::string_view trim(std::string_view text);

/// The IEEE 754 binary16 value nearest to `x` (ties to even), as a double; subnormal halves included, NaN
/// and infinities kept. A finite `x` that rounds beyond the largest half (65504) gives +-infinity, as a
/// conversion to binary16 does. Rounds once, straight from double (through float could round twice).
double round_to_binary16(double x);

}  // namespace pmmlrt::numbers
