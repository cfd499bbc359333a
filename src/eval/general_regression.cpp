// GeneralRegressionModel, following the reference's evaluator: a linear predictor per equation as the dot
// product of ParamMatrix betas with PPMatrix rows; the link (generalizedLinear), exp + simplemax
// (multinomialLogistic), cumulative links (ordinalMultinomial), or baseline hazards (CoxRegression).

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "eval/models.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

namespace {

using Link = GeneralRegressionEval::Link;

double inverse(Link link, double x, double link_parameter, double dist_parameter) {
  switch (link) {
    case Link::Identity: return x;
    case Link::Log: return std::exp(x);
    case Link::Logc: return 1.0 - std::exp(x);
    case Link::Logit: return 1.0 / (1.0 + std::exp(-x));
    case Link::Probit: return 0.5 * std::erfc(-x / std::sqrt(2.0));
    case Link::Cloglog: return 1.0 - std::exp(-std::exp(x));
    case Link::Loglog: return std::exp(-std::exp(-x));
    case Link::Cauchit: return 0.5 + std::atan(x) / M_PI;
    case Link::Power: return link_parameter != 0.0 ? std::pow(x, 1.0 / link_parameter) : std::exp(x);
    case Link::OddsPower:
      return link_parameter != 0.0 ? 1.0 / (1.0 + std::pow(1.0 + link_parameter * x, -1.0 / link_parameter))
                                   : 1.0 / (1.0 + std::exp(-x));
    case Link::NegBin: return 1.0 / (dist_parameter * (std::exp(-x) - 1.0));
  }
  return x;
}

double number_of(Frame& f, const Val& v, bool& ok) {
  if (v.is_missing()) {
    ok = false;
    return 0;
  }
  if (v.kind == Kind::String) {
    auto p = numbers::parse_double(f.text(v));
    if (!p) {
      ok = false;
      return 0;
    }
    return *p;
  }
  return v.num;
}

}  // namespace

bool GeneralRegressionEval::dot(Frame& f, const Equation& eq, double& out) const {
  double result = 0.0;
  for (const Cell& c : eq.cells) {
    if (c.row < 0) {
      result += c.beta;
      continue;
    }
    const Row& row = rows[std::size_t(c.row)];
    double x = 1.0;
    for (const auto& fa : row.factors) {
      const Val& v = f.get(fa.slot);
      if (v.is_missing()) return false;
      if (fa.contrast >= 0) {
        const Contrast& cm = contrasts[std::size_t(fa.contrast)];
        std::size_t r = 0;
        while (r < cm.levels.size() && !same_value(f, cm.levels[r], v)) ++r;
        if (r == cm.levels.size() || std::size_t(fa.column) >= cm.matrix[r].size())
          throw EvaluationError(fmt::format("GeneralRegressionModel at {}: the value is not a level of its contrast matrix", path),
                                f.row);
        x *= cm.matrix[r][std::size_t(fa.column)];
      } else if (!same_value(f, v, fa.level)) {
        x *= 0.0;
      }
    }
    if (x != 0.0) {
      for (const auto& co : row.covariates) {
        bool ok = true;
        double v = number_of(f, f.get(co.slot), ok);
        if (!ok) return false;
        x *= co.exponent == 1.0 ? v : std::pow(v, co.exponent);
      }
    }
    result += c.beta * x;
  }
  out = result;
  return true;
}

double GeneralRegressionEval::with_offset(Frame& f, double eta) const {
  if (offset_slot >= 0) {
    bool ok = true;
    double o = number_of(f, f.get(offset_slot), ok);
    if (!ok) throw EvaluationError(fmt::format("GeneralRegressionModel at {}: the offset variable is missing", path), f.row);
    return eta + o;
  }
  return offset ? eta + *offset : eta;
}

double GeneralRegressionEval::apply_link(Frame& f, double eta) const {
  eta = with_offset(f, eta);
  double y = inverse(link, eta, link_parameter, dist_parameter);
  if (trials_slot >= 0) {
    bool ok = true;
    double t = number_of(f, f.get(trials_slot), ok);
    if (!ok) throw EvaluationError(fmt::format("GeneralRegressionModel at {}: the trials variable is missing", path), f.row);
    y *= t;
  } else if (trials) {
    y *= *trials;
  }
  return y;
}

void GeneralRegressionEval::predict_cox(Frame& f, Prediction& out) const {
  const Stratum* stratum = &strata.front();
  if (strata_slot >= 0) {
    const Val& v = f.get(strata_slot);
    if (v.is_missing()) throw EvaluationError(fmt::format("GeneralRegressionModel at {}: the strata variable is missing", path), f.row);
    stratum = nullptr;
    for (const auto& s : strata)
      if (same_value(f, s.value, v)) stratum = &s;
    if (!stratum) return;
  }
  bool ok = true;
  double t = number_of(f, f.get(end_time_slot), ok);
  if (!ok) throw EvaluationError(fmt::format("GeneralRegressionModel at {}: the end time variable is missing", path), f.row);
  if (t > stratum->max_time) return;
  if (stratum->cells.empty() || t < stratum->cells.front().first) {
    out.valid = true;
    out.value = Val::number(0.0);
    return;
  }
  double hazard = stratum->cells.front().second;
  for (const auto& [time, h] : stratum->cells)
    if (time <= t) hazard = h;
  double r;
  if (!dot(f, regression_equation, r)) return;
  double s = 0.0;
  for (const Cell& c : regression_equation.cells) {
    if (!c.has_reference) return;
    s += c.beta * c.reference;
  }
  out.valid = true;
  out.value = Val::number(std::exp(r - s) * hazard);
}

void GeneralRegressionEval::predict(Frame& f, Prediction& out) const {
  if (function == MiningFunction::Regression) {
    if (type == Type::Cox) return predict_cox(f, out);
    double eta;
    if (!dot(f, regression_equation, eta)) return;
    double y = type == Type::GeneralizedLinear ? apply_link(f, eta) : eta;
    out.valid = true;
    out.value = Val::number(y);
    return;
  }
  const std::size_t k = order.size();
  thread_local std::vector<double> v;
  v.assign(k, 0.0);
  double previous = 0.0;
  for (std::size_t i = 0; i + 1 < k; ++i) {
    double eta;
    if (!dot(f, class_equations[i], eta)) return;
    switch (type) {
      case Type::GeneralizedLinear: v[i] = apply_link(f, eta); break;
      case Type::MultinomialLogistic: v[i] = std::exp(eta); break;
      case Type::OrdinalMultinomial: {
        eta = with_offset(f, eta);
        double cumulative_value = inverse(cumulative, eta, 1.0, 1.0);
        v[i] = cumulative_value - previous;
        previous = cumulative_value;
        break;
      }
      default: break;
    }
  }
  switch (type) {
    case Type::GeneralizedLinear: {
      // The reference subtracts only the previous category's value from 1 (binary models).
      v[k - 1] = 1.0 - (k >= 2 ? v[k - 2] : 0.0);
      break;
    }
    case Type::MultinomialLogistic: {
      v[k - 1] = 1.0;  // exp(0)
      double sum = 0;
      for (double x : v) sum += x;
      for (auto& x : v) x /= sum;
      break;
    }
    case Type::OrdinalMultinomial:
      v[k - 1] = 1.0 - previous;
      break;
    default:
      break;
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < k; ++i)
    if (v[i] > v[best]) best = i;
  for (std::size_t i = 0; i < k; ++i) out.probabilities[std::size_t(order[i])] = v[i];
  out.has_probabilities = true;
  out.label = order[best];
  out.valid = true;
}

}  // namespace pmmlrt::eval
