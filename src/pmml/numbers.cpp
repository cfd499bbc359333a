#include "pmml/numbers.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace pmmlrt::numbers {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Splits off the sign and recognises the special words; returns false when `body` must still be parsed.
template <class T>
bool special(std::string_view& body, bool& negative, T& out) {
  negative = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (iequals(body, "nan")) {
    out = std::numeric_limits<T>::quiet_NaN();
    return true;
  }
  if (iequals(body, "inf") || iequals(body, "infinity")) {
    out = negative ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    return true;
  }
  return false;
}

template <class T>
std::optional<T> parse_real(std::string_view text) {
  std::string_view body = trim(text);
  if (body.empty()) return std::nullopt;
  if (iequals(body, "true")) return T(1);
  if (iequals(body, "false")) return T(0);
  bool negative = false;
  T value{};
  if (special(body, negative, value)) return value;
  if (!body.empty()) {
    char last = body.back();
    if (last == 'd' || last == 'D' || last == 'f' || last == 'F') body.remove_suffix(1);
  }
  if (body.empty() || body.front() == '+' || body.front() == '-') return std::nullopt;
  // from_chars rejects a leading '.', which Java accepts (".5").
  std::string buffer;
  if (body.front() == '.' || (body.size() > 1 && body.back() == '.')) {
    buffer.assign(body);
    if (buffer.front() == '.') buffer.insert(buffer.begin(), '0');
    body = buffer;
  }
  const char* first = body.data();
  const char* last = body.data() + body.size();
  auto [ptr, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    // Java rounds overflow to infinity and underflow to zero rather than failing.
    double probe = std::strtod(std::string(body).c_str(), nullptr);
    value = T(probe);
    ptr = last;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  if (ptr != last) return std::nullopt;
  return negative ? -value : value;
}

}  // namespace

std::string_view trim(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && static_cast<unsigned char>(text[b]) <= ' ') ++b;
  while (e > b && static_cast<unsigned char>(text[e - 1]) <= ' ') --e;
  return text.substr(b, e - b);
}

std::optional<double> parse_double(std::string_view text) { return parse_real<double>(text); }

std::optional<float> parse_float(std::string_view text) { return parse_real<float>(text); }

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::string_view body = trim(text);
  if (body.empty()) return std::nullopt;
  if (iequals(body, "true")) return 1;
  if (iequals(body, "false")) return 0;
  std::string_view digits = body;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc() && ptr == digits.data() + digits.size()) {
    if (value < std::numeric_limits<std::int32_t>::min() || value > std::numeric_limits<std::int32_t>::max())
      return std::nullopt;
    return value;
  }
  auto real = parse_double(body);
  if (!real || !std::isfinite(*real) || std::floor(*real) != *real) return std::nullopt;
  if (*real < std::numeric_limits<std::int32_t>::min() || *real > std::numeric_limits<std::int32_t>::max())
    return std::nullopt;
  return static_cast<std::int64_t>(*real);
}

std::optional<bool> parse_boolean(std::string_view text) {
  std::string_view body = trim(text);
  if (iequals(body, "true") || body == "1") return true;
  if (iequals(body, "false") || body == "0") return false;
  auto real = parse_double(body);
  if (real && *real == 1.0) return true;
  if (real && *real == 0.0) return false;
  return std::nullopt;
}

double round_to_binary16(double x) {
  if (!std::isfinite(x) || x == 0.0) return x;
  // A binary16 has 11 significant bits; below 2^-14 (its smallest normal) its spacing stays 2^-24.
  constexpr int kMantissaBits = 10, kMinNormalExponent = -14;
  int exponent = 0;
  std::frexp(x, &exponent);  // |x| = m * 2^exponent, m in [0.5, 1): x's leading bit is 2^(exponent - 1)
  const int spacing_exponent = std::max(exponent - 1, kMinNormalExponent) - kMantissaBits;
  // Scaling by powers of two is exact here, so is the subtraction: the rounding below is the only one.
  const double scaled = std::ldexp(std::fabs(x), -spacing_exponent);
  double whole = std::floor(scaled);
  const double fraction = scaled - whole;
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(whole, 2.0) != 0.0)) whole += 1.0;
  double rounded = std::ldexp(whole, spacing_exponent);
  constexpr double kLargestHalf = 65504.0;
  if (rounded > kLargestHalf) rounded = std::numeric_limits<double>::infinity();
  return std::copysign(rounded, x);
}

}  // namespace pmmlrt::numbers
