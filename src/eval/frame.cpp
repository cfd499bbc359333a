#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "eval/input.hpp"
#include "eval/models.hpp"
#include "eval/program.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

bool is_integral_type(DataType t) { return t == DataType::Integer; }
bool is_numeric_type(DataType t) { return t == DataType::Integer || t == DataType::Float || t == DataType::Double; }

Frame::Frame(const Program& p) : program(p) {
  slots.resize(p.slots.size());
  state.resize(p.slots.size());
  predictions.resize(p.models.size());
  precomputed.assign(p.kernel_models.size(), nullptr);
  precomputed_sums.resize(p.kernel_models.size());
  for (std::size_t i = 0; i < p.kernel_models.size(); ++i) {
    const auto* kernel = static_cast<const MiningEval*>(p.models[std::size_t(p.kernel_models[i])].get())->kernel.get();
    precomputed_sums[i].assign(kernel ? kernel->sum_width : 1, std::nan(""));
  }
  for (auto& m : p.models) predictions[std::size_t(m->id)].reset(m->classes.size());
}

void Frame::reset() {
  std::memset(state.data(), 0, state.size());
  scratch.clear();
  call_stack.clear();
  std::fill(precomputed.begin(), precomputed.end(), nullptr);
  for (auto& s : precomputed_sums) s[0] = std::nan("");
  precomputed_linear = nullptr;
  lazy.data = nullptr;
}

std::string_view Frame::text(const Val& v) const {
  if (v.kind != Kind::String) return {};
  if (v.sym >= 0) return program.strings.text(v.sym);
  return scratch[std::size_t(-v.sym - 1)];
}

Val Frame::make_string(std::string_view t) {
  std::int32_t sym = program.strings.find(t);
  if (sym >= 0) return Val::string(sym);
  scratch.emplace_back(t);
  return Val::string(-std::int32_t(scratch.size()));
}

const Val& Frame::get(std::int32_t slot) {
  auto i = std::size_t(slot);
  if (state[i] == 2) return slots[i];
  const Slot& s = program.slots[i];
  if (s.kind == Slot::Kind::Input && lazy.data) {
    const std::int32_t spec = i < program.spec_of_slot.size() ? program.spec_of_slot[i] : -1;
    if (spec >= 0) {
      prepare_number(*this, program.inputs[std::size_t(spec)], lazy.cell(spec));
      return slots[i];
    }
  }
  if (s.kind != Slot::Kind::Derived) {
    // An input not provided, or an output of a segment that did not run: missing.
    slots[i] = Val::missing();
    state[i] = 2;
    return slots[i];
  }
  if (state[i] == 1) throw EvaluationError(fmt::format("field \"{}\" depends on itself", s.name), row);
  state[i] = 1;
  Val v = evaluate_expression(*this, s.expression);
  if (!v.is_missing() && v.type != s.type) {
    bool ok = true;
    Val c = cast(*this, v, s.type, ok);
    if (!ok)
      throw EvaluationError(fmt::format("derived field \"{}\": value \"{}\" is not a valid {}", s.name,
                                        v.kind == Kind::String ? std::string(text(v)) : format_number(v.num, v.type),
                                        to_string(s.type)),
                            row);
    v = c;
  }
  slots[i] = v;
  state[i] = 2;
  return slots[i];
}

std::string format_number(double v, DataType type) {
  // Java's Double.toString / Float.toString layout over the shortest round-trip digits, because string
  // conversions inside a model (concat, MapValues keys) were written against the JVM's text.
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (type == DataType::Integer && std::fabs(v) < 9.2e18) return fmt::format("{}", static_cast<long long>(v));
  // Shortest round-trip digits, as a digit string and a decimal exponent (value = 0.d1d2... x 10^(exponent+1)).
  std::string text = type == DataType::Float ? fmt::format("{}", static_cast<float>(v)) : fmt::format("{}", v);
  bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  int exponent = 0;
  if (auto e = text.find_first_of("eE"); e != std::string::npos) {
    exponent = std::stoi(text.substr(e + 1));
    text.erase(e);
  }
  auto dot = text.find('.');
  std::string mant = text;
  int int_digits = int(dot == std::string::npos ? text.size() : dot);
  if (dot != std::string::npos) mant.erase(dot, 1);
  std::size_t lead = 0;
  while (lead + 1 < mant.size() && mant[lead] == '0') {
    ++lead;
    --int_digits;
  }
  mant.erase(0, lead);
  exponent += int_digits - 1;
  while (mant.size() > 1 && mant.back() == '0') mant.pop_back();
  std::string out;
  double a = std::fabs(v);
  if (a != 0.0 && (a < 1e-3 || a >= 1e7)) {
    out = mant.substr(0, 1) + "." + (mant.size() > 1 ? mant.substr(1) : "0") + "E" + std::to_string(exponent);
  } else if (exponent >= 0) {
    std::string intpart = mant.size() > std::size_t(exponent) + 1 ? mant.substr(0, std::size_t(exponent) + 1)
                                                                   : mant + std::string(std::size_t(exponent) + 1 - mant.size(), '0');
    std::string frac = mant.size() > std::size_t(exponent) + 1 ? mant.substr(std::size_t(exponent) + 1) : "0";
    out = intpart + "." + frac;
  } else {
    out = "0." + std::string(std::size_t(-exponent - 1), '0') + mant;
  }
  return negative ? "-" + out : out;
}

bool same_value(const Frame& f, const Val& a, const Val& b) {
  if (a.kind == Kind::Missing || b.kind == Kind::Missing) return false;
  if (a.kind == Kind::String && b.kind == Kind::String) {
    if (a.sym == b.sym) return true;
    if (a.sym >= 0 && b.sym >= 0) return false;
    return f.text(a) == f.text(b);
  }
  if (a.kind != Kind::String && b.kind != Kind::String) return a.num == b.num;
  // One string, one number: compare as numbers when the string parses.
  const Val& s = a.kind == Kind::String ? a : b;
  const Val& n = a.kind == Kind::String ? b : a;
  auto parsed = numbers::parse_double(f.text(s));
  return parsed && *parsed == n.num;
}

Val cast(Frame& f, const Val& v, DataType type, bool& ok) {
  ok = true;
  if (v.kind == Kind::Missing) return v;
  switch (type) {
    case DataType::String:
      if (v.kind == Kind::String) return v;
      if (v.kind == Kind::Boolean) return f.make_string(v.num != 0 ? "true" : "false");
      return f.make_string(format_number(v.num, v.type));
    case DataType::Integer: {
      if (v.kind == Kind::String) {
        auto p = numbers::parse_integer(f.text(v));
        if (!p) break;
        return Val::number(double(*p), DataType::Integer);
      }
      // Java int: integral and within 32 bits.
      if (!std::isfinite(v.num) || std::floor(v.num) != v.num || v.num < -2147483648.0 || v.num > 2147483647.0) break;
      return Val::number(v.num, DataType::Integer);
    }
    case DataType::Float: {
      if (v.kind == Kind::String) {
        auto p = numbers::parse_float(f.text(v));
        if (!p) break;
        return Val::number(double(*p), DataType::Float);
      }
      return Val::number(double(static_cast<float>(v.num)), DataType::Float);
    }
    case DataType::Double: {
      if (v.kind == Kind::String) {
        auto p = numbers::parse_double(f.text(v));
        if (!p) break;
        return Val::number(*p, DataType::Double);
      }
      return Val::number(v.num, DataType::Double);
    }
    case DataType::Boolean: {
      if (v.kind == Kind::String) {
        auto p = numbers::parse_boolean(f.text(v));
        if (!p) break;
        return Val::boolean(*p);
      }
      if (v.num == 1.0) return Val::boolean(true);
      if (v.num == 0.0) return Val::boolean(false);
      break;
    }
    default:
      break;
  }
  ok = false;
  return Val::missing();
}

}  // namespace pmmlrt::eval
