// RegressionModel: tables summed in the reference's order (numeric, categorical, terms, intercept), then
// the normalization, with the reference's special cases for binary and multiclass classification.

#include <cmath>

#include "eval/models.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

namespace {

double numeric_value(Frame& f, const Val& v, bool& ok) {
  if (v.is_missing()) {
    ok = false;
    return 0.0;
  }
  if (v.kind == Kind::String) {
    auto p = numbers::parse_double(f.text(v));
    if (!p) {
      ok = false;
      return 0.0;
    }
    return *p;
  }
  return v.num;
}

}  // namespace

bool RegressionTableEval::evaluate(Frame& f, bool float_math, double& out) const {
  return sum([&](std::int32_t slot, bool& ok) { return numeric_value(f, f.get(slot), ok); },
             [&](const Categorical& p) { return same_value(f, f.get(p.slot), p.value); }, float_math, out);
}

double inverse_link(Normalization n, double y, bool float_math) {
  if (float_math) {
    float v = float(y);
    switch (n) {
      case Normalization::None: return double(v);
      case Normalization::Softmax:
      case Normalization::Logit: return double(1.0f / (1.0f + std::exp(-v)));
      case Normalization::Exp: return double(std::exp(v));
      default: break;
    }
  }
  switch (n) {
    case Normalization::None: return y;
    case Normalization::Softmax:
    case Normalization::Logit: return 1.0 / (1.0 + std::exp(-y));
    case Normalization::Exp: return std::exp(y);
    case Normalization::Probit: return 0.5 * std::erfc(-y / std::sqrt(2.0));
    case Normalization::Cloglog: return 1.0 - std::exp(-std::exp(y));
    case Normalization::Loglog: return std::exp(-std::exp(-y));
    case Normalization::Cauchit: return 0.5 + std::atan(y) / M_PI;
    case Normalization::Simplemax: return y;
  }
  return y;
}

void RegressionEval::predict(Frame& f, Prediction& out) const {
  // The table sums of a batch's linear fast path (the top model only), else the tables here.
  if (const double* ahead = id == 0 ? f.precomputed_linear : nullptr) return predict_from_sums(ahead, out, f.row);
  const std::size_t k = function == MiningFunction::Regression ? 1 : tables.size();
  thread_local std::vector<double> v;
  v.resize(k);
  for (std::size_t i = 0; i < k; ++i)
    if (!tables[i].evaluate(f, float_math, v[i])) return;
  predict_from_sums(v.data(), out, f.row);
}

void RegressionEval::predict_from_sums(const double* sums, Prediction& out, std::size_t row) const {
  if (function == MiningFunction::Regression) {
    const double y = inverse_link(normalization, sums[0], float_math);
    out.valid = true;
    out.value = Val::number(y, float_math ? DataType::Float : DataType::Double);
    return;
  }
  thread_local std::vector<double> v;
  v.assign(sums, sums + tables.size());
  classify(v, out, row);
}

void RegressionEval::classify(std::vector<double>& v, Prediction& out, std::size_t row) const {
  const std::size_t k = tables.size();

  auto binomial = [&](Normalization n) {
    if (n == Normalization::None) v[0] = std::min(1.0, std::max(0.0, v[0]));
    else v[0] = inverse_link(n, v[0], float_math);
    v[1] = float_math ? double(1.0f - float(v[0])) : 1.0 - v[0];
  };
  auto multinomial = [&](Normalization n) {
    switch (n) {
      case Normalization::None: {
        double sum = 0;
        for (std::size_t i = 0; i + 1 < k; ++i) sum += v[i];
        v[k - 1] = 1.0 - sum;
        break;
      }
      case Normalization::Logit:
        for (auto& x : v) x = inverse_link(Normalization::Logit, x, float_math);
        [[fallthrough]];
      case Normalization::Simplemax: {
        double sum = 0;
        for (double x : v) sum += x;
        if (sum == 0.0) throw EvaluationError("simplemax over values that sum to zero", row);
        for (auto& x : v) x /= sum;
        break;
      }
      case Normalization::Softmax: {
        if (float_math) {
          float mx = float(v[0]);
          for (double x : v) mx = std::max(mx, float(x));
          float sum = 0;
          for (auto& x : v) {
            float e = std::exp(float(x) - mx);
            x = double(e);
            sum += e;
          }
          for (auto& x : v) x = double(float(x) / sum);
        } else {
          double mx = v[0];
          for (double x : v) mx = std::max(mx, x);
          double sum = 0;
          for (auto& x : v) {
            x = std::exp(x - mx);
            sum += x;
          }
          for (auto& x : v) x /= sum;
        }
        break;
      }
      default:
        break;
    }
  };
  if (ordinal) {
    double sum = 0;
    for (std::size_t i = 0; i + 1 < k; ++i) {
      double c = normalization == Normalization::None ? std::min(1.0, std::max(0.0, v[i]))
                                                      : inverse_link(normalization, v[i], false);
      if (i == 0) {
        v[i] = c;
        sum = c;
      } else {
        v[i] = c - sum;
        sum += v[i];
      }
    }
    v[k - 1] = 1.0 - sum;
  } else if (k == 2) {
    switch (normalization) {
      case Normalization::Softmax:
        if (tables[1].trivial()) binomial(Normalization::Logit);
        else multinomial(Normalization::Softmax);
        break;
      case Normalization::Simplemax: multinomial(Normalization::Simplemax); break;
      default: binomial(normalization); break;
    }
  } else {
    multinomial(normalization);
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < k; ++i)
    if (v[i] > v[best]) best = i;
  for (std::size_t i = 0; i < k; ++i) out.probabilities[std::size_t(tables[i].class_index)] = v[i];
  out.has_probabilities = true;
  out.label = tables[best].class_index;
  out.valid = true;
}

}  // namespace pmmlrt::eval
