// Expression evaluation: FieldRef, Constant, NormContinuous, NormDiscrete, Discretize, MapValues and Apply,
// with the reference's missing-value rules (mapMissingTo, defaultValue, invalidValueTreatment).

#include <cmath>

#include <fmt/format.h>

#include "eval/functions.hpp"
#include "eval/program.hpp"

namespace pmmlrt::eval {

namespace {

bool in_range(const InputSpec::Range& r, double v) {
  bool left = r.left_closed ? v >= r.left : v > r.left;
  bool right = r.right_closed ? v <= r.right : v < r.right;
  return left && right;
}

Val norm_continuous(const Expr& e, double x) {
  const auto& n = e.norms;
  if (x < n.front().first || x > n.back().first) {
    if (e.outliers == 1) return Val::missing();
    if (e.outliers == 2) return Val::number(x < n.front().first ? n.front().second : n.back().second);
  }
  std::size_t i = 1;
  while (i + 1 < n.size() && x > n[i].first) ++i;
  const auto& a = n[i - 1];
  const auto& b = n[i];
  return Val::number(a.second + (x - a.first) / (b.first - a.first) * (b.second - a.second));
}

}  // namespace

Val evaluate_expression(Frame& f, std::int32_t index) {
  const Expr& e = f.program.expressions[std::size_t(index)];
  switch (e.op) {
    case Expr::Op::Constant:
      return e.constant;
    case Expr::Op::FieldRef: {
      const Val& v = f.get(e.slot);
      if (v.is_missing() && e.has_map_missing) return e.map_missing_to;
      return v;
    }
    case Expr::Op::Param: {
      return f.call_stack[f.call_base + std::size_t(e.slot)];
    }
    case Expr::Op::NormContinuous: {
      Val v = f.get(e.slot);
      if (v.is_missing()) return e.has_map_missing ? e.map_missing_to : Val::missing();
      if (v.kind == Kind::String) {
        bool ok;
        v = cast(f, v, DataType::Double, ok);
        if (!ok) throw EvaluationError(fmt::format("NormContinuous at {}: a non-numeric value", e.path), f.row);
      }
      return norm_continuous(e, v.num);
    }
    case Expr::Op::NormDiscrete: {
      const Val& v = f.get(e.slot);
      if (v.is_missing()) return e.has_map_missing ? e.map_missing_to : Val::missing();
      return Val::number(same_value(f, v, e.match) ? 1.0 : 0.0);
    }
    case Expr::Op::Discretize: {
      Val v = f.get(e.slot);
      if (v.is_missing()) return e.has_map_missing ? e.map_missing_to : Val::missing();
      if (v.kind == Kind::String) {
        bool ok;
        v = cast(f, v, DataType::Double, ok);
        if (!ok) throw EvaluationError(fmt::format("Discretize at {}: a non-numeric value", e.path), f.row);
      }
      for (const auto& bin : e.bins)
        if (in_range(bin.range, v.num)) return bin.value;
      return e.has_default ? e.default_value : Val::missing();
    }
    case Expr::Op::MapValues: {
      std::size_t keys = e.key_slots.size();
      // Keys on the stack: MapValues rarely has more than a few columns.
      Val small[8];
      std::vector<Val> large;
      Val* key = small;
      if (keys > 8) {
        large.resize(keys);
        key = large.data();
      }
      for (std::size_t k = 0; k < keys; ++k) {
        key[k] = f.get(e.key_slots[k]);
        if (key[k].is_missing()) return e.has_map_missing ? e.map_missing_to : Val::missing();
      }
      for (const auto& row : e.table) {
        bool match = true;
        for (std::size_t k = 0; k < keys && match; ++k) match = same_value(f, key[k], row[k]);
        if (match) return row[keys];
      }
      return e.has_default ? e.default_value : Val::missing();
    }
    case Expr::Op::Apply:
      return apply(f, e);
  }
  return Val::missing();
}

}  // namespace pmmlrt::eval
