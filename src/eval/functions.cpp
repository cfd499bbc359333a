// The PMML built-in functions of Apply, and calls of DefineFunctions.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <string>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/printf.h>

#include "eval/functions.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

namespace {

struct Undefined {};  // an undefined result (log of a negative number, division by zero)

DataType common_type(const Val* args, std::size_t n) {
  DataType t = DataType::Integer;
  for (std::size_t i = 0; i < n; ++i) {
    DataType a = args[i].kind == Kind::Boolean ? DataType::Integer : args[i].type;
    if (a == DataType::Double || (a == DataType::Float && t == DataType::Double)) t = DataType::Double;
    else if (a == DataType::Float && t == DataType::Integer) t = DataType::Float;
    else if (!is_numeric_type(a)) t = DataType::Double;
  }
  return t;
}

Val typed(double v, DataType t) {
  if (t == DataType::Float) return Val::number(double(static_cast<float>(v)), DataType::Float);
  if (t == DataType::Integer) return Val::number(v, DataType::Integer);
  return Val::number(v, DataType::Double);
}

double num(Frame& f, const Val& v) {
  if (v.kind == Kind::String) {
    auto p = numbers::parse_double(f.text(v));
    if (!p) throw EvaluationError(fmt::format("\"{}\" is not a number", f.text(v)), f.row);
    return *p;
  }
  return v.num;
}

int compare(Frame& f, const Val& a, const Val& b) {
  if (a.kind == Kind::String && b.kind == Kind::String) {
    auto x = f.text(a), y = f.text(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  double x = num(f, a), y = num(f, b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::string text_of(Frame& f, const Val& v) {
  if (v.kind == Kind::String) return std::string(f.text(v));
  if (v.kind == Kind::Boolean) return v.num != 0 ? "true" : "false";
  return format_number(v.num, v.type);
}

bool truth(Frame& f, const Val& v) {
  if (v.kind == Kind::String) {
    auto b = numbers::parse_boolean(f.text(v));
    if (!b) throw EvaluationError(fmt::format("\"{}\" is not a boolean", f.text(v)), f.row);
    return *b;
  }
  return v.num != 0.0;
}

// Java's String.format for "%.3f"-like patterns, as formatNumber uses.
std::string java_format(const std::string& pattern, double v) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    std::size_t j = i + 1;
    while (j < pattern.size() && std::string("0123456789.-+ #,").find(pattern[j]) != std::string::npos) ++j;
    if (j >= pattern.size()) throw Undefined{};
    std::string spec = pattern.substr(i + 1, j - i - 1);
    // A width or precision in the thousands is no number format: refuse it rather than build huge strings.
    for (std::size_t d = 0, run = 0; d < spec.size(); ++d) {
      run = std::isdigit(static_cast<unsigned char>(spec[d])) ? run + 1 : 0;
      if (run > 3) throw Undefined{};
    }
    char conv = pattern[j];
    if (conv == 'f' || conv == 'e' || conv == 'g') out += fmt::sprintf("%" + spec + conv, v);
    else if (conv == 'd') {
      if (!std::isfinite(v) || std::fabs(v) >= 9.2e18) throw Undefined{};
      out += fmt::sprintf("%" + spec + "lld", static_cast<long long>(v));
    }
    else if (conv == 's') out += format_number(v, DataType::Double);
    else if (conv == '%') out += '%';
    else throw Undefined{};
    i = j;
  }
  return out;
}

/// A function's evaluated arguments, wherever they are stored.
struct Args {
  Val* items;
  std::size_t count;
  std::size_t size() const { return count; }
  Val* data() const { return items; }
  Val* begin() const { return items; }
  Val* end() const { return items + count; }
  Val& operator[](std::size_t i) const { return items[i]; }
};

Val call(Frame& f, const Expr& e, Args& args) {
  const Function& fn = f.program.functions[std::size_t(e.function)];
  if (args.size() != fn.params.size())
    throw EvaluationError(fmt::format("function {} takes {} arguments, got {}", fn.name, fn.params.size(), args.size()),
                          f.row);
  std::size_t saved_base = f.call_base;
  std::size_t base = f.call_stack.size();
  for (std::size_t i = 0; i < args.size(); ++i) {
    Val a = args[i];
    if (fn.params[i] && !a.is_missing() && a.type != *fn.params[i]) {
      bool ok;
      Val c = cast(f, a, *fn.params[i], ok);
      if (ok) a = c;
    }
    f.call_stack.push_back(a);
  }
  f.call_base = base;
  Val r = evaluate_expression(f, fn.body);
  f.call_stack.resize(base);
  f.call_base = saved_base;
  if (!r.is_missing() && r.type != fn.type) {
    bool ok;
    Val c = cast(f, r, fn.type, ok);
    if (ok) r = c;
  }
  return r;
}

Val compute(Frame& f, const Expr& e, Args& a) {
  const std::size_t n = a.size();
  auto need = [&](std::size_t k) {
    if (n != k) throw EvaluationError(fmt::format("function at {} takes {} arguments, got {}", e.path, k, n), f.row);
  };
  auto any_missing = [&] {
    return std::any_of(a.begin(), a.end(), [](const Val& v) { return v.is_missing(); });
  };
  auto unary = [&](double (*op)(double)) -> Val {
    need(1);
    if (a[0].is_missing()) return Val::missing();
    double r = op(num(f, a[0]));
    if (std::isnan(r) || std::isinf(r)) throw Undefined{};
    DataType t = a[0].type == DataType::Float ? DataType::Float : DataType::Double;
    return typed(r, t);
  };
  switch (e.fn) {
    case Fn::Add: case Fn::Sub: case Fn::Mul: case Fn::Div: case Fn::Mod: {
      need(2);
      if (any_missing()) return Val::missing();
      DataType t = common_type(a.data(), 2);
      double x = num(f, a[0]), y = num(f, a[1]), r = 0;
      if (t == DataType::Float) {
        float fx = float(x), fy = float(y), fr = 0;
        switch (e.fn) {
          case Fn::Add: fr = fx + fy; break;
          case Fn::Sub: fr = fx - fy; break;
          case Fn::Mul: fr = fx * fy; break;
          case Fn::Div: if (fy == 0) throw Undefined{}; fr = fx / fy; break;
          default: if (fy == 0) throw Undefined{}; fr = std::fmod(fx, fy); break;
        }
        return Val::number(double(fr), DataType::Float);
      }
      switch (e.fn) {
        case Fn::Add: r = x + y; break;
        case Fn::Sub: r = x - y; break;
        case Fn::Mul: r = x * y; break;
        case Fn::Div:
          if (y == 0) throw Undefined{};
          r = x / y;
          if (t == DataType::Integer) t = DataType::Double;
          break;
        default:
          if (y == 0) throw Undefined{};
          r = std::fmod(x, y);
          break;
      }
      return typed(r, t);
    }
    case Fn::Equal: case Fn::NotEqual: {
      need(2);
      if (any_missing()) return Val::missing();
      bool eq = a[0].kind == Kind::String || a[1].kind == Kind::String ? same_value(f, a[0], a[1]) : num(f, a[0]) == num(f, a[1]);
      return Val::boolean(e.fn == Fn::Equal ? eq : !eq);
    }
    case Fn::Less: case Fn::LessEq: case Fn::Greater: case Fn::GreaterEq: {
      need(2);
      if (any_missing()) return Val::missing();
      int c = compare(f, a[0], a[1]);
      bool r = e.fn == Fn::Less ? c < 0 : e.fn == Fn::LessEq ? c <= 0 : e.fn == Fn::Greater ? c > 0 : c >= 0;
      return Val::boolean(r);
    }
    case Fn::And: case Fn::Or: {
      if (n < 2) need(2);
      if (any_missing()) return Val::missing();
      bool r = e.fn == Fn::And;
      for (auto& v : a) r = e.fn == Fn::And ? (r && truth(f, v)) : (r || truth(f, v));
      return Val::boolean(r);
    }
    case Fn::Not:
      need(1);
      if (a[0].is_missing()) return Val::missing();
      return Val::boolean(!truth(f, a[0]));
    case Fn::IsMissing: need(1); return Val::boolean(a[0].is_missing());
    case Fn::IsNotMissing: need(1); return Val::boolean(!a[0].is_missing());
    case Fn::IsValid: need(1); return Val::boolean(!a[0].is_missing());
    case Fn::IsNotValid: need(1); return Val::boolean(false);
    case Fn::IsIn: case Fn::IsNotIn: {
      if (n < 2) need(2);
      if (a[0].is_missing()) return Val::missing();
      bool found = false;
      for (std::size_t i = 1; i < n && !found; ++i) found = same_value(f, a[0], a[i]);
      return Val::boolean(e.fn == Fn::IsIn ? found : !found);
    }
    case Fn::Log10: return unary([](double x) { return std::log10(x); });
    case Fn::Ln: return unary([](double x) { return std::log(x); });
    case Fn::Exp: return unary([](double x) { return std::exp(x); });
    case Fn::Sqrt: return unary([](double x) { return std::sqrt(x); });
    case Fn::Expm1: return unary([](double x) { return std::expm1(x); });
    case Fn::Log1p: return unary([](double x) { return std::log1p(x); });
    case Fn::Sin: return unary([](double x) { return std::sin(x); });
    case Fn::Cos: return unary([](double x) { return std::cos(x); });
    case Fn::Tan: return unary([](double x) { return std::tan(x); });
    case Fn::Asin: return unary([](double x) { return std::asin(x); });
    case Fn::Acos: return unary([](double x) { return std::acos(x); });
    case Fn::Atan: return unary([](double x) { return std::atan(x); });
    case Fn::Sinh: return unary([](double x) { return std::sinh(x); });
    case Fn::Cosh: return unary([](double x) { return std::cosh(x); });
    case Fn::Tanh: return unary([](double x) { return std::tanh(x); });
    case Fn::ErfFn: return unary([](double x) { return std::erf(x); });
    case Fn::NormalCdf: return unary([](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); });
    case Fn::Sigmoid: return unary([](double x) { return 1.0 / (1.0 + std::exp(-x)); });
    case Fn::Abs: case Fn::Floor: case Fn::Ceil: case Fn::Round: case Fn::Rint: {
      need(1);
      if (a[0].is_missing()) return Val::missing();
      double x = num(f, a[0]);
      DataType t = a[0].type == DataType::Integer ? DataType::Integer : a[0].type == DataType::Float ? DataType::Float : DataType::Double;
      switch (e.fn) {
        case Fn::Abs: return typed(std::fabs(x), t);
        case Fn::Floor: return typed(std::floor(x), DataType::Integer);
        case Fn::Ceil: return typed(std::ceil(x), DataType::Integer);
        case Fn::Round: return typed(std::floor(x + 0.5), DataType::Integer);  // Java Math.round: half up
        default: return typed(std::nearbyint(x), t);
      }
    }
    case Fn::Pow: case Fn::Atan2: case Fn::Hypot: {
      need(2);
      if (any_missing()) return Val::missing();
      double x = num(f, a[0]), y = num(f, a[1]);
      double r = e.fn == Fn::Pow ? std::pow(x, y) : e.fn == Fn::Atan2 ? std::atan2(x, y) : std::hypot(x, y);
      if (std::isnan(r) || std::isinf(r)) throw Undefined{};
      DataType t = common_type(a.data(), 2);
      if (e.fn == Fn::Pow && t == DataType::Integer && y < 0) t = DataType::Double;
      if (e.fn != Fn::Pow && t == DataType::Integer) t = DataType::Double;
      return typed(r, t);
    }
    case Fn::Threshold: {
      need(2);
      if (any_missing()) return Val::missing();
      return Val::number(num(f, a[0]) > num(f, a[1]) ? 1.0 : 0.0, DataType::Integer);
    }
    case Fn::Min: case Fn::Max: case Fn::Sum: case Fn::Avg: case Fn::Median: case Fn::Product: {
      // Missing arguments are skipped; no value at all gives a missing result.
      // The present arguments are compacted to the front of `a`, then replaced by their numbers (in `xs`,
      // a view over the same storage): nothing is allocated.
      std::size_t m = 0;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!a[i].is_missing()) a[m++] = a[i];
      if (m == 0) return Val::missing();
      DataType t = common_type(a.data(), m);
      for (std::size_t i = 0; i < m; ++i) a[i] = Val::number(num(f, a[i]));
      struct Numbers {
        Val* v;
        std::size_t n;
        struct It {
          Val* p;
          double& operator*() const { return p->num; }
          It& operator++() { ++p; return *this; }
          bool operator!=(const It& o) const { return p != o.p; }
        };
        It begin() const { return {v}; }
        It end() const { return {v + n}; }
        std::size_t size() const { return n; }
        double& operator[](std::size_t i) const { return v[i].num; }
      } xs{a.data(), m};
      switch (e.fn) {
        case Fn::Min: case Fn::Max: {
          double r = xs[0];
          for (std::size_t i = 1; i < m; ++i) r = e.fn == Fn::Min ? (xs[i] < r ? xs[i] : r) : (r < xs[i] ? xs[i] : r);
          return typed(r, t);
        }
        case Fn::Sum: {
          double s = 0;
          for (double x : xs) s += x;
          return typed(s, t);
        }
        case Fn::Product: {
          double s = 1;
          for (double x : xs) s *= x;
          return typed(s, t);
        }
        case Fn::Avg: {
          double s = 0;
          for (double x : xs) s += x;
          return typed(s / double(xs.size()), t == DataType::Float ? DataType::Float : DataType::Double);
        }
        default: {
          std::sort(a.data(), a.data() + m, [](const Val& x, const Val& y) { return x.num < y.num; });
          std::size_t h = m / 2;
          double r = m % 2 ? xs[h] : (xs[h - 1] + xs[h]) / 2.0;
          return typed(r, t == DataType::Float ? DataType::Float : DataType::Double);
        }
      }
    }
    case Fn::Uppercase: case Fn::Lowercase: case Fn::TrimBlanks: case Fn::StringLength: {
      need(1);
      if (a[0].is_missing()) return Val::missing();
      std::string s = text_of(f, a[0]);
      if (e.fn == Fn::StringLength) return Val::number(double(s.size()), DataType::Integer);
      if (e.fn == Fn::Uppercase) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::toupper(c)); });
      else if (e.fn == Fn::Lowercase) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      else {
        std::size_t b = 0, en = s.size();
        while (b < en && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
        while (en > b && std::isspace(static_cast<unsigned char>(s[en - 1]))) --en;
        s = s.substr(b, en - b);
      }
      return f.make_string(s);
    }
    case Fn::Substring: {
      need(3);
      if (any_missing()) return Val::missing();
      std::string s = text_of(f, a[0]);
      double p = num(f, a[1]), l = num(f, a[2]);
      if (!std::isfinite(p) || !std::isfinite(l) || std::fabs(p) > 2e9 || std::fabs(l) > 2e9) throw Undefined{};
      long long pos = static_cast<long long>(p), len = static_cast<long long>(l);
      if (pos < 1 || len < 0) throw Undefined{};
      std::size_t start = std::size_t(pos - 1);
      if (start >= s.size()) return f.make_string("");
      return f.make_string(s.substr(start, std::size_t(len)));
    }
    case Fn::Concat: {
      std::string s;
      for (auto& v : a)
        if (!v.is_missing()) s += text_of(f, v);
      return f.make_string(s);
    }
    case Fn::Replace: {
      need(3);
      if (any_missing()) return Val::missing();
      try {
        std::regex re(text_of(f, a[1]));
        return f.make_string(std::regex_replace(text_of(f, a[0]), re, text_of(f, a[2])));
      } catch (const std::regex_error&) {
        throw Undefined{};
      }
    }
    case Fn::Matches: {
      need(2);
      if (any_missing()) return Val::missing();
      try {
        std::regex re(text_of(f, a[1]));
        return Val::boolean(std::regex_search(text_of(f, a[0]), re));
      } catch (const std::regex_error&) {
        throw Undefined{};
      }
    }
    case Fn::FormatNumber: {
      need(2);
      if (any_missing()) return Val::missing();
      return f.make_string(java_format(text_of(f, a[1]), num(f, a[0])));
    }
    case Fn::Call:
      return call(f, e, a);
    case Fn::If:
      break;
  }
  return Val::missing();
}

}  // namespace

bool lookup_function(std::string_view name, Fn& fn) {
  static const std::unordered_map<std::string_view, Fn> table = {
      {"+", Fn::Add}, {"-", Fn::Sub}, {"*", Fn::Mul}, {"/", Fn::Div}, {"modulo", Fn::Mod},
      {"equal", Fn::Equal}, {"notEqual", Fn::NotEqual}, {"lessThan", Fn::Less}, {"lessOrEqual", Fn::LessEq},
      {"greaterThan", Fn::Greater}, {"greaterOrEqual", Fn::GreaterEq}, {"and", Fn::And}, {"or", Fn::Or},
      {"not", Fn::Not}, {"if", Fn::If}, {"isMissing", Fn::IsMissing}, {"isNotMissing", Fn::IsNotMissing},
      {"isValid", Fn::IsValid}, {"isNotValid", Fn::IsNotValid}, {"isIn", Fn::IsIn}, {"isNotIn", Fn::IsNotIn},
      {"log10", Fn::Log10}, {"ln", Fn::Ln}, {"exp", Fn::Exp}, {"pow", Fn::Pow}, {"sqrt", Fn::Sqrt},
      {"abs", Fn::Abs}, {"floor", Fn::Floor}, {"ceil", Fn::Ceil}, {"round", Fn::Round}, {"rint", Fn::Rint},
      {"min", Fn::Min}, {"max", Fn::Max}, {"sum", Fn::Sum}, {"avg", Fn::Avg}, {"median", Fn::Median},
      {"product", Fn::Product}, {"threshold", Fn::Threshold}, {"uppercase", Fn::Uppercase},
      {"lowercase", Fn::Lowercase}, {"substring", Fn::Substring}, {"trimBlanks", Fn::TrimBlanks},
      {"concat", Fn::Concat}, {"replace", Fn::Replace}, {"matches", Fn::Matches}, {"formatNumber", Fn::FormatNumber},
      {"stringLength", Fn::StringLength}, {"x-stringLength", Fn::StringLength},
      {"x-expm1", Fn::Expm1}, {"expm1", Fn::Expm1}, {"x-log1p", Fn::Log1p}, {"log1p", Fn::Log1p},
      {"x-sin", Fn::Sin}, {"x-cos", Fn::Cos}, {"x-tan", Fn::Tan}, {"x-asin", Fn::Asin}, {"x-acos", Fn::Acos},
      {"x-atan", Fn::Atan}, {"x-atan2", Fn::Atan2}, {"x-sinh", Fn::Sinh}, {"x-cosh", Fn::Cosh},
      {"x-tanh", Fn::Tanh}, {"x-hypot", Fn::Hypot}, {"erf", Fn::ErfFn}, {"x-erf", Fn::ErfFn},
      {"normalCDF", Fn::NormalCdf}, {"x-normalCDF", Fn::NormalCdf}, {"x-sigmoid", Fn::Sigmoid},
      {"sin", Fn::Sin}, {"cos", Fn::Cos}, {"tan", Fn::Tan}, {"asin", Fn::Asin}, {"acos", Fn::Acos},
      {"atan", Fn::Atan}, {"sinh", Fn::Sinh}, {"cosh", Fn::Cosh}, {"tanh", Fn::Tanh}, {"hypot", Fn::Hypot},
  };
  auto it = table.find(name);
  if (it == table.end()) return false;
  fn = it->second;
  return true;
}

Val apply(Frame& f, const Expr& e) {
  Val result;
  try {
    if (e.fn == Fn::If) {
      // Only the chosen branch is evaluated.
      if (e.args.size() < 2 || e.args.size() > 3)
        throw EvaluationError(fmt::format("if at {} takes 2 or 3 arguments", e.path), f.row);
      Val c = evaluate_expression(f, e.args[0]);
      if (c.is_missing()) {
        result = e.has_map_missing ? e.map_missing_to : Val::missing();
      } else if (truth(f, c)) {
        result = evaluate_expression(f, e.args[1]);
      } else {
        result = e.args.size() == 3 ? evaluate_expression(f, e.args[2]) : Val::missing();
      }
    } else {
      // The arguments live on this C++ stack frame, or past kInline of them in the frame's buffers (one per
      // nesting depth, kept between records): no allocation per call.
      constexpr std::size_t kInline = 8;
      Val inline_args[kInline];
      Val* slots = inline_args;
      struct Depth {
        std::size_t& d;
        ~Depth() { --d; }
      } depth{++f.wide_depth};
      if (e.args.size() > kInline) {
        if (f.wide_args.size() < f.wide_depth) f.wide_args.resize(f.wide_depth);
        auto& buffer = f.wide_args[f.wide_depth - 1];
        if (buffer.size() < e.args.size()) buffer.resize(e.args.size());
        slots = buffer.data();
      }
      for (std::size_t i = 0; i < e.args.size(); ++i) slots[i] = evaluate_expression(f, e.args[i]);
      Args args{slots, e.args.size()};
      bool skip_map = e.fn == Fn::IsMissing || e.fn == Fn::IsNotMissing;
      if (e.has_map_missing && !skip_map)
        for (auto& v : args)
          if (v.is_missing()) return e.map_missing_to;
      result = compute(f, e, args);
    }
  } catch (const Undefined&) {
    if (e.invalid_as_missing) result = Val::missing();
    else throw EvaluationError(fmt::format("undefined result of function at {}", e.path), f.row);
  }
  if (result.is_missing() && e.has_default) return e.default_value;
  if (e.cast_result && !result.is_missing() && result.type != e.result_type) {
    bool ok;
    Val c = cast(f, result, e.result_type, ok);
    if (ok) result = c;
  }
  return result;
}

}  // namespace pmmlrt::eval
