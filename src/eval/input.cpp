// Input preparation at the boundary (the reference's InputFieldUtil / FieldValueUtil): parse, validate,
// then invalidValueTreatment, missingValueTreatment and outliers, in that order.

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "eval/input.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

namespace {

enum class State { Valid, Invalid, Missing };

bool in_interval(const InputSpec& s, double x) {
  for (const auto& r : s.intervals) {
    bool left = r.left_closed ? x >= r.left : x > r.left;
    bool right = r.right_closed ? x <= r.right : x < r.right;
    if (left && right) return true;
  }
  return false;
}

State validate(const Frame& f, const InputSpec& s, const Val& v) {
  if (v.kind == Kind::Number && std::isnan(v.num)) return State::Invalid;
  for (const auto& bad : s.invalid)
    if (same_value(f, v, bad)) return State::Invalid;
  if (s.op != OpType::Continuous && !s.valid.empty()) {
    if (v.kind == Kind::String) {
      if (v.sym < 0 || !std::binary_search(s.valid_syms_sorted.begin(), s.valid_syms_sorted.end(), v.sym))
        return State::Invalid;
    } else if (!std::binary_search(s.valid_nums_sorted.begin(), s.valid_nums_sorted.end(), v.num)) {
      return State::Invalid;
    }
    return State::Valid;
  }
  if (!s.intervals.empty() && v.kind != Kind::String && !in_interval(s, v.num)) {
    bool listed = std::any_of(s.valid.begin(), s.valid.end(), [&](const Val& ok) { return same_value(f, v, ok); });
    if (!listed) return State::Invalid;
  }
  return State::Valid;
}

std::string describe(const Frame& f, const Val& v) {
  if (v.kind == Kind::String) return fmt::format("\"{}\"", f.text(v));
  return format_number(v.num, v.type);
}

// `shown` describes the offending value for messages; it is only called on an error path.
template <class Shown>
void finish(Frame& f, const InputSpec& s, Val v, State state, Shown&& shown) {
  if (state == State::Invalid) {
    switch (s.invalid_treatment) {
      case InputSpec::Treatment::ReturnInvalid:
        throw InputError(fmt::format("row {}: field \"{}\": invalid value {}", f.row, s.name, shown()), s.name, f.row);
      case InputSpec::Treatment::AsIs:
        if (s.invalid_replacement) v = *s.invalid_replacement;
        state = State::Valid;
        break;
      case InputSpec::Treatment::AsMissing:
        state = State::Missing;
        break;
      case InputSpec::Treatment::AsValue:
        if (!s.invalid_replacement)
          throw InputError(fmt::format("row {}: field \"{}\": invalid value {} and no invalidValueReplacement", f.row,
                                       s.name, shown()),
                           s.name, f.row);
        v = *s.invalid_replacement;
        state = State::Valid;
        break;
    }
  }
  if (state == State::Missing) {
    if (s.missing_is_error)
      throw InputError(fmt::format("row {}: field \"{}\": missing value not allowed (missingValueTreatment=returnInvalid)",
                                   f.row, s.name),
                       s.name, f.row);
    f.set(s.slot, s.missing_replacement ? *s.missing_replacement : Val::missing());
    return;
  }
  if (s.outliers != InputSpec::Outliers::AsIs && v.kind == Kind::Number && s.op == OpType::Continuous) {
    if (v.num < s.low || v.num > s.high) {
      if (s.outliers == InputSpec::Outliers::AsMissing) {
        f.set(s.slot, s.missing_replacement ? *s.missing_replacement : Val::missing());
        return;
      }
      v.num = v.num < s.low ? s.low : s.high;
    }
  }
  f.set(s.slot, v);
}

}  // namespace

void prepare_input(Frame& f, const InputSpec& s, const Value& raw) {
  // A number for a plain numeric field needs no cast, check or treatment: prepare_number's shortcut.
  if (s.plain_number && raw.is_number() && !std::isnan(raw.number())) return prepare_number(f, s, raw.number());
  if (raw.is_missing()) return finish(f, s, Val::missing(), State::Missing, [] { return std::string(); });
  Val v;
  if (raw.is_string()) {
    const std::string& text = raw.text();
    std::int32_t sym = f.program.strings.find(text);
    if (sym >= 0 && std::find(s.missing_syms.begin(), s.missing_syms.end(), sym) != s.missing_syms.end())
      return finish(f, s, Val::missing(), State::Missing, [] { return std::string(); });
    bool ok = true;
    if (s.type == DataType::String) {
      v = sym >= 0 ? Val::string(sym) : f.make_string(text);
    } else {
      Val str = sym >= 0 ? Val::string(sym) : f.make_string(text);
      v = cast(f, str, s.type, ok);
    }
    if (!ok) return finish(f, s, Val::missing(), State::Invalid, [&] { return fmt::format("\"{}\"", text); });
  } else {
    double x = raw.number();
    if (s.type == DataType::String) {
      v = f.make_string(format_number(x, raw.type() == DataType::Integer || std::floor(x) == x ? DataType::Integer : DataType::Double));
    } else {
      bool ok = true;
      Val n = raw.is_boolean() ? Val::boolean(x != 0) : Val::number(x, raw.type());
      v = cast(f, n, s.type, ok);
      if (!ok) return finish(f, s, Val::missing(), State::Invalid, [&] { return format_number(x, DataType::Double); });
    }
  }
  State st = validate(f, s, v);
  finish(f, s, v, st, [&] { return describe(f, v); });
}

void prepare_number(Frame& f, const InputSpec& s, double x) {
  if (s.plain_number && !std::isnan(x)) {
    f.set(s.slot, s.type == DataType::Float ? Val::number(double(static_cast<float>(x)), DataType::Float)
                                            : Val::number(x, DataType::Double));
    return;
  }
  if (std::isnan(x)) return finish(f, s, Val::missing(), State::Missing, [] { return std::string(); });
  Val v;
  if (s.type == DataType::String) {
    double code = x;
    if (code < 0 || std::floor(code) != code || code >= double(s.valid.size()))
      return finish(f, s, Val::missing(), State::Invalid, [&] { return fmt::format("category code {}", format_number(x, DataType::Double)); });
    v = s.valid[std::size_t(code)];
  } else {
    bool ok = true;
    v = cast(f, s.type == DataType::Boolean ? Val::number(x) : Val::number(x, DataType::Double), s.type, ok);
    if (!ok) return finish(f, s, Val::missing(), State::Invalid, [&] { return format_number(x, DataType::Double); });
  }
  State st = validate(f, s, v);
  finish(f, s, v, st, [&] { return describe(f, v); });
}

bool preparation_may_fail(const InputSpec& s) {
  if (s.missing_is_error) return true;
  // A plain number is valid unless NaN, and NaN is missing; any other field may meet an invalid value.
  if (s.plain_number) return false;
  switch (s.invalid_treatment) {
    case InputSpec::Treatment::ReturnInvalid: return true;
    case InputSpec::Treatment::AsValue: return !s.invalid_replacement;
    case InputSpec::Treatment::AsIs:
    case InputSpec::Treatment::AsMissing: return false;
  }
  return true;
}

}  // namespace pmmlrt::eval
