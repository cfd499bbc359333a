#include "eval/chain_tail.hpp"

#include <algorithm>

namespace pmmlrt::eval {

namespace {

bool always_true(const Program& p, std::int32_t predicate) {
  return predicate >= 0 && std::size_t(predicate) < p.predicates.size() &&
         p.predicates[std::size_t(predicate)].op == Pred::Op::True;
}

/// OutputFields whose value the tail computes as ModelEval::write_outputs does: the model's own predicted
/// value, probabilities and confidences (no expressions, display values, entities or other models).
bool simple_outputs(const ModelEval& m) {
  for (const OutputSpec& o : m.outputs) {
    if (o.source_model >= 0 || o.slot < 0) return false;
    switch (o.feature) {
      case OutputSpec::Feature::PredictedValue:
      case OutputSpec::Feature::Probability:
      case OutputSpec::Feature::Confidence: break;
      default: return false;
    }
  }
  return true;
}

/// The value write_outputs gives `o` from the finished prediction `p` of `m`; false when it would need a cast.
bool output_value(const OutputSpec& o, const ModelEval& m, const Prediction& p, Val& v) {
  switch (o.feature) {
    case OutputSpec::Feature::PredictedValue: v = p.valid ? p.value : Val::missing(); break;
    case OutputSpec::Feature::Probability: v = class_output(o, p, p.probabilities, p.has_probabilities, m.float_math); break;
    case OutputSpec::Feature::Confidence:
      v = p.has_confidences ? class_output(o, p, p.confidences, true, m.float_math)
                            : class_output(o, p, p.probabilities, p.has_probabilities, m.float_math);
      break;
    default: return false;
  }
  return !(o.cast && !v.is_missing() && v.type != o.type);
}

/// The top model's OutputFields from its finished prediction into f.tail_values, as write_outputs would set
/// its slots; false when one needs the generic path.
bool tail_outputs(const ModelEval& m, const Prediction& p, Frame& f) {
  std::vector<Val>& values = f.tail_values;
  values.resize(m.outputs.size());
  for (std::size_t o = 0; o < m.outputs.size(); ++o)
    if (!output_value(m.outputs[o], m, p, values[o])) return false;
  return true;
}

/// The regression's table sums over the chain's values (`number(slot, ok)`), which plan() made sure hold
/// no categorical predictor; false when the generic path decides.
template <class Number>
bool sum_tables(const RegressionEval& r, const Number& number, std::vector<double>& tables) {
  auto never = [](const RegressionTableEval::Categorical&) { return false; };
  tables.resize(r.tables.size());
  for (std::size_t t = 0; t < r.tables.size(); ++t)
    if (!r.tables[t].sum(number, never, r.float_math, tables[t])) return false;
  return true;
}

}  // namespace

std::unique_ptr<ChainTail> ChainTail::plan(const Program& program) {
  const auto* top = dynamic_cast<const MiningEval*>(&program.top());
  if (!top || top->method != MiningEval::Method::ModelChain || top->function != MiningFunction::Classification ||
      top->kernel || !top->outputs.empty() || top->segments.size() < 2)
    return nullptr;
  auto tail = std::make_unique<ChainTail>();
  tail->top_ = top;
  tail->value_of_slot_.assign(program.slots.size(), -1);
  for (const auto& s : top->segments)
    if (!always_true(program, s.predicate)) return nullptr;
  // Every segment but the last: a summing ensemble whose kernel runs ahead, seen through its OutputFields.
  for (std::size_t i = 0; i + 1 < top->segments.size(); ++i) {
    const auto* m = dynamic_cast<const MiningEval*>(program.models[std::size_t(top->segments[i].model)].get());
    if (!m || !m->kernel || !m->kernel_ahead || m->function != MiningFunction::Regression ||
        m->kernel->summing == EnsembleKernel::Summing::None || m->kernel->class_average || m->kernel->sum_width != 1 ||
        !simple_outputs(*m))
      return nullptr;
    for (const OutputSpec& o : m->outputs) {
      if (o.feature != OutputSpec::Feature::PredictedValue) return nullptr;
      tail->value_of_slot_[std::size_t(o.slot)] = std::int32_t(tail->set_slots_.size());
      tail->set_slots_.push_back(o.slot);
    }
    tail->sum_models_.push_back(m);
    tail->kernels_.push_back(m->kernel_index);
  }
  // The last: a RegressionModel classifier over those values only.
  const auto& last = top->segments.back();
  const auto* r = dynamic_cast<const RegressionEval*>(program.models[std::size_t(last.model)].get());
  if (!r || r->function != MiningFunction::Classification || r->ordinal || r->tables.empty() || !simple_outputs(*r))
    return nullptr;
  for (const auto& t : r->tables) {
    if (!t.categorical.empty()) return nullptr;
    for (const auto& p : t.numeric)
      if (tail->value_of_slot_[std::size_t(p.slot)] < 0) return nullptr;
    for (const auto& term : t.terms)
      for (auto s : term.slots)
        if (tail->value_of_slot_[std::size_t(s)] < 0) return nullptr;
  }
  for (const OutputSpec& o : r->outputs) tail->set_slots_.push_back(o.slot);
  tail->regression_ = r;
  tail->regression_segment_ = &last;
  tail->plain_ = tail->plan_plain();
  return tail;
}

bool ChainTail::plan_plain() {
  plain_types_.clear();
  // The output_value of a number of type `type` needs no cast.
  auto as_is = [](const OutputSpec& o, DataType type) { return !o.cast || o.type == type; };
  for (const MiningEval* m : sum_models_) {
    // finish() changes a valid sum's value by its Targets only, and keeps its type unless it casts.
    if (!m->predicts_from_sum() || m->target.cast != TargetSpec::Cast::None) return false;
    for (const OutputSpec& o : m->outputs) {
      if (!as_is(o, m->sum_value_type())) return false;
      plain_types_.push_back(m->sum_value_type());
    }
  }
  const RegressionEval& r = *regression_;
  const std::size_t k = r.classes.size();
  // classify() sets the probability of each table's class: every class once, so none keeps an old value.
  std::vector<bool> seen(k, false);
  if (r.tables.size() != k) return false;
  for (const auto& t : r.tables) {
    if (t.class_index < 0 || std::size_t(t.class_index) >= k || seen[std::size_t(t.class_index)]) return false;
    seen[std::size_t(t.class_index)] = true;
  }
  const DataType probability_type = r.float_math ? DataType::Float : DataType::Double;
  for (const OutputSpec& o : r.outputs) {
    if (o.feature != OutputSpec::Feature::Probability || o.class_unknown || o.class_index < 0 ||
        std::size_t(o.class_index) >= k || !as_is(o, probability_type))
      return false;
    plain_types_.push_back(probability_type);
  }
  // The regression's classes onto the top model's, one to one (copy_segment_prediction then sets every one).
  const auto& map = regression_segment_->class_map;
  if (map.size() != k || top_->classes.size() != k) return false;
  std::vector<bool> hit(k, false);
  for (auto c : map) {
    if (c < 0 || std::size_t(c) >= k || hit[std::size_t(c)]) return false;
    hit[std::size_t(c)] = true;
  }
  return true;
}

bool ChainTail::evaluate_plain(const double* sums, Frame& f, std::size_t row, double* values, double* probabilities,
                               std::int32_t& label) const {
  const std::size_t n = sum_models_.size();
  for (std::size_t i = 0; i < n; ++i)
    if (sums[i] != sums[i]) return false;
  // evaluate()'s steps, each model's Prediction reduced to the numbers plain() leaves to compute.
  std::size_t set = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const MiningEval& m = *sum_models_[i];
    double v = m.sum_value(sums[i]);
    if (!m.target.identity()) v = apply_targets(m.target, v, m.float_math);  // as finish() does
    for (std::size_t o = 0; o < m.outputs.size(); ++o) values[set++] = v;
  }
  const RegressionEval& r = *regression_;
  auto number = [&](std::int32_t slot, bool&) { return values[std::size_t(value_of_slot_[std::size_t(slot)])]; };
  std::vector<double>& tables = f.tail_tables;
  if (!sum_tables(r, number, tables)) return false;
  Prediction& rp = f.predictions[std::size_t(r.id)];
  if (rp.probabilities.size() != r.classes.size()) rp.reset(r.classes.size());
  r.classify(tables, rp, row);
  for (const OutputSpec& o : r.outputs) values[set++] = rp.probabilities[std::size_t(o.class_index)];
  const auto& map = regression_segment_->class_map;
  for (std::size_t i = 0; i < map.size(); ++i) probabilities[std::size_t(map[i])] = rp.probabilities[i];
  label = map[std::size_t(rp.label)];
  return true;
}

bool ChainTail::evaluate(const double* sums, Frame& f, std::size_t row) const {
  for (std::size_t i = 0; i < sum_models_.size(); ++i)
    if (sums[i] != sums[i]) return false;
  std::vector<Val>& values = f.tail_values;
  values.resize(set_slots_.size());
  // What ModelEval::evaluate does for each model of the chain, in the chain's order.
  std::size_t set = 0;
  for (std::size_t i = 0; i < sum_models_.size(); ++i) {
    const MiningEval& m = *sum_models_[i];
    Prediction& p = f.predictions[std::size_t(m.id)];
    p.reset(0);
    m.predict_from_sum(sums[i], p);
    m.finish(p);
    for (const OutputSpec& o : m.outputs)
      if (!output_value(o, m, p, values[set++])) return false;
  }
  // The tables read the summing segments' OutputFields: numbers, or the generic path decides.
  for (std::size_t k = 0; k < set; ++k)
    if (values[k].kind != Kind::Number) return false;
  const RegressionEval& r = *regression_;
  auto number = [&](std::int32_t slot, bool&) { return values[std::size_t(value_of_slot_[std::size_t(slot)])].num; };
  std::vector<double>& tables = f.tail_tables;
  if (!sum_tables(r, number, tables)) return false;
  Prediction& rp = f.predictions[std::size_t(r.id)];
  rp.reset(r.classes.size());
  r.classify(tables, rp, row);
  r.finish(rp);
  for (const OutputSpec& o : r.outputs)
    if (!output_value(o, r, rp, values[set++])) return false;
  Prediction& top = f.predictions[std::size_t(top_->id)];
  top.reset(top_->classes.size());
  MiningEval::copy_segment_prediction(*regression_segment_, rp, top);
  top_->finish(top);
  return true;
}

std::unique_ptr<LinearTail> LinearTail::plan(const Program& program) {
  const auto* top = dynamic_cast<const RegressionEval*>(&program.top());
  if (!top || top->id != 0 || top->tables.empty() || !simple_outputs(*top)) return nullptr;
  auto tail = std::make_unique<LinearTail>();
  tail->top_ = top;
  for (const OutputSpec& o : top->outputs) tail->set_slots_.push_back(o.slot);
  return tail;
}

bool LinearTail::evaluate(const double* sums, Frame& f, std::size_t row) const {
  // What ModelEval::evaluate does with precomputed sums, the outputs into tail_values instead of slots.
  const RegressionEval& r = *top_;
  Prediction& p = f.predictions[std::size_t(r.id)];
  p.reset(r.classes.size());
  r.predict_from_sums(sums, p, row);
  r.finish(p);
  return tail_outputs(r, p, f);
}

std::unique_ptr<TreeTail> TreeTail::plan(const Program& program) {
  const auto* top = dynamic_cast<const TreeEval*>(&program.top());
  if (!top || top->id != 0 || !top->kernel || !top->kernel_ahead || top->has_embedded() || !simple_outputs(*top))
    return nullptr;
  auto tail = std::make_unique<TreeTail>();
  tail->top_ = top;
  for (const OutputSpec& o : top->outputs) tail->set_slots_.push_back(o.slot);
  // A direct regression tree whose every node has a numeric score of one type: what fill would give is
  // that type and the walk's leaf value (see build_tree_kernel), with no node to read per record.
  if (top->function == MiningFunction::Regression && !top->kernel->direct.empty() && !top->nodes.empty()) {
    tail->leaf_type_ = top->nodes[0].score.type;
    tail->by_leaf_value_ = std::all_of(top->nodes.begin(), top->nodes.end(), [&](const TreeNode& n) {
      return n.has_score && n.embedded < 0 && n.score.kind == Kind::Number && n.score.type == tail->leaf_type_;
    });
  }
  return tail;
}

bool TreeTail::evaluate(std::int32_t result, double leaf_value, Frame& f, std::size_t row) const {
  // What ModelEval::evaluate does once the kernel has walked the record, the outputs into tail_values.
  const TreeEval& t = *top_;
  Prediction& p = f.predictions[std::size_t(t.id)];
  p.reset(t.classes.size());
  f.row = row;
  if (by_leaf_value_ && result != t.kernel->null_result) {
    p.valid = true;
    p.value = Val::number(leaf_value, leaf_type_);
  } else {
    t.predict_from_result(result, f, p);
  }
  t.finish(p);
  return tail_outputs(t, p, f);
}

}  // namespace pmmlrt::eval
