// After a model predicts: Targets (rescaling, casting, defaults and priors) and then its OutputFields.

#include <cmath>

#include "eval/program.hpp"

namespace pmmlrt::eval {

double apply_targets(const TargetSpec& t, double y, bool float_math) {
  if (t.min && y < *t.min) y = *t.min;
  if (t.max && y > *t.max) y = *t.max;
  if (float_math) {
    float v = float(y);
    if (t.factor != 1.0) v *= float(t.factor);
    if (t.constant != 0.0) v += float(t.constant);
    y = double(v);
  } else {
    y = y * t.factor + t.constant;
  }
  switch (t.cast) {
    case TargetSpec::Cast::Round: y = std::floor(y + 0.5); break;
    case TargetSpec::Cast::Ceiling: y = std::ceil(y); break;
    case TargetSpec::Cast::Floor: y = std::floor(y); break;
    case TargetSpec::Cast::None: break;
  }
  return y;
}

std::int32_t ModelEval::class_of(const Val& v, const Frame& f) const {
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (same_value(f, classes[i], v)) return std::int32_t(i);
  return -1;
}

Val class_output(const OutputSpec& o, const Prediction& src, const std::vector<double>& values, bool present,
                 bool float_math) {
  if (!src.valid || !present || o.class_unknown) return Val::missing();
  std::int32_t c = o.class_index >= 0 ? o.class_index : src.label;
  if (c < 0) return Val::missing();
  return Val::number(values[std::size_t(c)], float_math ? DataType::Float : DataType::Double);
}

void ModelEval::evaluate(Frame& f) const {
  Prediction& p = f.predictions[std::size_t(id)];
  p.reset(classes.size());
  predict(f, p);
  finish(p);
  write_outputs(f, p);
}

void ModelEval::finish(Prediction& p) const {
  if (function == MiningFunction::Regression) {
    if (p.valid && !target.identity() && p.value.kind == Kind::Number) {
      double y = apply_targets(target, p.value.num, float_math);
      DataType t = target.cast != TargetSpec::Cast::None ? DataType::Integer : p.value.type;
      p.value = Val::number(y, t);
    } else if (!p.valid && target.default_value) {
      p.valid = true;
      p.value = Val::number(*target.default_value, target_type == DataType::Float ? DataType::Float : DataType::Double);
    }
  } else {
    if (!p.valid && !target.priors.empty()) {
      p.valid = true;
      p.has_probabilities = true;
      p.probabilities = target.priors;
      std::size_t best = 0;
      for (std::size_t i = 1; i < p.probabilities.size(); ++i)
        if (p.probabilities[i] > p.probabilities[best]) best = i;
      p.label = std::int32_t(best);
    }
    if (p.valid && p.label >= 0) p.value = classes[std::size_t(p.label)];
    else if (p.valid && p.label < 0 && p.value.is_missing()) p.valid = false;
  }
}

void ModelEval::write_outputs(Frame& f, const Prediction& p) const {
  for (const OutputSpec& o : outputs) {
    const Prediction& src = o.source_model >= 0 ? f.predictions[std::size_t(o.source_model)] : p;
    const ModelEval& model = o.source_model >= 0 ? *f.program.models[std::size_t(o.source_model)] : *this;
    Val v;
    auto class_value = [&](const std::vector<double>& values, bool present) {
      return class_output(o, src, values, present, model.float_math);
    };
    switch (o.feature) {
      case OutputSpec::Feature::PredictedValue:
        v = src.valid ? src.value : Val::missing();
        break;
      case OutputSpec::Feature::PredictedDisplayValue:
        if (src.valid) {
          if (src.label >= 0 && std::size_t(src.label) < model.target.display.size() &&
              model.target.display[std::size_t(src.label)] >= 0)
            v = Val::string(model.target.display[std::size_t(src.label)]);
          else {
            bool ok;
            v = cast(f, src.value, DataType::String, ok);
          }
        }
        break;
      case OutputSpec::Feature::Probability:
        v = class_value(src.probabilities, src.has_probabilities);
        break;
      case OutputSpec::Feature::Confidence:
        v = src.has_confidences ? class_value(src.confidences, true) : class_value(src.probabilities, src.has_probabilities);
        break;
      case OutputSpec::Feature::Affinity:
        v = src.valid && !std::isnan(src.affinity) ? Val::number(src.affinity) : Val::missing();
        break;
      case OutputSpec::Feature::EntityId:
        v = src.valid && src.entity >= 0 ? Val::string(src.entity) : Val::missing();
        break;
      case OutputSpec::Feature::TransformedValue:
        v = evaluate_expression(f, o.expression);
        break;
    }
    if (o.cast && !v.is_missing() && v.type != o.type) {
      bool ok;
      Val c = cast(f, v, o.type, ok);
      if (!ok && o.type == DataType::Integer && v.kind == Kind::Number) c = Val::number(std::trunc(v.num), DataType::Integer);
      else if (!ok)
        throw EvaluationError("output field \"" + o.name + "\": value does not convert to " + std::string(to_string(o.type)),
                              f.row);
      v = c;
    }
    f.set(o.slot, v);
  }
}

}  // namespace pmmlrt::eval
