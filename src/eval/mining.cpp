// MiningModel: segments evaluated in document order (a FALSE or UNKNOWN segment predicate skips the
// segment), then combined by the multipleModelMethod as the reference's MiningModelEvaluator does.
// Segment results are first collected into the model's own working space (generic walk or the ensemble
// kernel), then aggregated by one piece of code, so both paths give the same numbers.

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "eval/models.hpp"

namespace pmmlrt::eval {

void MiningEval::copy_segment_prediction(const Segment& s, const Prediction& in, Prediction& out) {
  out.valid = in.valid;
  out.value = in.value;
  out.node = in.node;
  out.entity = in.entity;
  out.affinity = in.affinity;
  out.label = in.label >= 0 && std::size_t(in.label) < s.class_map.size() ? s.class_map[std::size_t(in.label)] : -1;
  out.has_probabilities = in.has_probabilities;
  out.has_confidences = in.has_confidences;
  for (std::size_t i = 0; i < s.class_map.size() && i < in.probabilities.size(); ++i) {
    out.probabilities[std::size_t(s.class_map[i])] = in.probabilities[i];
    out.confidences[std::size_t(s.class_map[i])] = in.confidences[i];
  }
}

void MiningEval::predict_selected(Frame& f, Prediction& out) const {
  const Segment* chosen = nullptr;
  for (const Segment& s : segments) {
    if (evaluate_predicate(f, s.predicate) != Truth::True) continue;
    f.program.models[std::size_t(s.model)]->evaluate(f);
    chosen = &s;
    if (method == Method::SelectFirst) break;
  }
  if (!chosen) return;
  copy_segment_prediction(*chosen, f.predictions[std::size_t(chosen->model)], out);
  if (method == Method::SelectFirst) out.entity = chosen->id;
}

bool MiningEval::predicts_from_sum() const {
  // Every tree gave a prediction (else the sum is NaN): no fraction of them is missing.
  return !(missing_treatment == MissingTreatment::SkipSegment && kernel->trees() > 0 && 0.0 > missing_threshold);
}

double MiningEval::sum_value(double sum) const {
  // The sum is the one aggregate_regression makes.
  const double trees = double(kernel->trees());
  if (method == Method::Average)
    return kernel->summing == EnsembleKernel::Summing::Float ? double(float(sum) / float(trees)) : sum / trees;
  return sum;
}

void MiningEval::predict_from_sum(double sum, Prediction& out) const {
  if (!predicts_from_sum()) return;
  out.valid = true;
  out.value = Val::number(sum_value(sum), sum_value_type());
}

const std::int32_t* ModelEval::kernel_results(Frame& f, Prediction& out) const {
  const std::int32_t*& ahead = f.precomputed[std::size_t(kernel_index)];
  if (!ahead) {
    out.features.resize(kernel->features());
    if (!kernel->gather(f, out.features.data())) return nullptr;
    out.results.resize(kernel->trees());
    kernel->walk_row(out.features.data(), out.results.data());
    ahead = out.results.data();
  }
  return ahead;
}

bool ModelEval::kernel_sums(Frame& f, Prediction& out, double* sums) const {
  if (!f.precomputed[std::size_t(kernel_index)] && kernel->sums_rows()) {
    out.features.resize(kernel->features());
    if (!kernel->gather(f, out.features.data())) return false;
    if (kernel->sum_row(out.features.data(), sums)) return true;
    // A tree without a prediction, or a NaN sum: the results, for the generic aggregation.
    out.results.resize(kernel->trees());
    kernel->walk_row(out.features.data(), out.results.data());
    f.precomputed[std::size_t(kernel_index)] = out.results.data();
    return kernel->sum_results(out.results.data(), sums);
  }
  const std::int32_t* results = kernel_results(f, out);
  return results && kernel->sum_results(results, sums);
}

void MiningEval::predict(Frame& f, Prediction& out) const {
  if (method == Method::SelectFirst || method == Method::ModelChain) return predict_selected(f, out);
  const bool skip = missing_treatment == MissingTreatment::SkipSegment;
  const bool regression = function == MiningFunction::Regression;
  const bool votes = method == Method::MajorityVote || method == Method::WeightedMajorityVote;
  const std::size_t k = classes.size();
  // Collected per contributing segment: (value, weight) in `pairs`; classification also the label in
  // `items` and the distribution (this model's class order, k per segment) in `work`; the first-seen order of
  // classes (the reference's insertion order, which breaks ties) in `work2`.
  out.pairs.clear();
  out.items.clear();
  out.work.clear();
  out.work2.assign(k, 0.0);
  double seen = 0;
  auto see = [&](std::int32_t c) {
    if (out.work2[std::size_t(c)] == 0.0) out.work2[std::size_t(c)] = ++seen;
  };
  std::size_t considered = 0, missing = 0;
  double missing_votes = 0;
  auto on_missing = [&](double weight) {
    ++missing;
    if (!regression && votes) {
      if (missing_treatment == MissingTreatment::ReturnMissing) return false;
      if (missing_treatment == MissingTreatment::Continue) missing_votes += method == Method::MajorityVote ? 1.0 : weight;
      return true;
    }
    return skip;
  };

  // The kernel's results for this record (nullptr until walked, and when the record needs the generic walk).
  const std::int32_t* ahead = nullptr;
  if (kernel && kernel->summing != EnsembleKernel::Summing::None) {
    double* sums = f.precomputed_sums[std::size_t(kernel_index)].data();
    bool have = sums[0] == sums[0];
    // One record: walk its trees here and add their terms (false when a tree has no prediction).
    if (!have) {
      have = kernel_sums(f, out, sums);
      ahead = f.precomputed[std::size_t(kernel_index)];
    }
    if (have && kernel->class_average) {
      // Every tree gave a distribution; aggregate_classification's average, with the first tree's class order
      // breaking ties, as the reference's first-seen order does then.
      const double trees = double(kernel->trees());
      if (skip && trees > 0 && 0.0 > missing_threshold) return;
      if (kernel->weight_total != 0.0) {
        const std::size_t k = classes.size();
        const auto& rank = kernel->class_rank;
        std::int32_t best = -1;
        for (std::size_t c = 0; c < k; ++c) {
          out.probabilities[c] = sums[c] / kernel->weight_total;
          if (best < 0 || out.probabilities[c] > out.probabilities[std::size_t(best)] ||
              (out.probabilities[c] == out.probabilities[std::size_t(best)] && rank[c] < rank[std::size_t(best)]))
            best = std::int32_t(c);
        }
        out.label = best;
        out.has_probabilities = true;
        out.valid = best >= 0;
        return;
      }
    }
    if (have && !kernel->class_average) return predict_from_sum(sums[0], out);
  }
  if (kernel && !ahead) ahead = kernel_results(f, out);
  if (ahead) {
    for (std::size_t t = 0; t < kernel->roots.size(); ++t) {
      std::int32_t r = ahead[t];
      ++considered;
      if (r == kernel->null_result) {
        if (!on_missing(kernel->weights[t])) return;
        continue;
      }
      out.pairs.emplace_back(kernel->values[std::size_t(r)], kernel->weights[t]);
      if (!regression) {
        std::int32_t label = kernel->labels[std::size_t(r)];
        out.items.push_back(label);
        const double* p = kernel->probabilities.data() + std::size_t(r) * k;
        out.work.insert(out.work.end(), p, p + k);
        if (!votes) {
          const auto& map = segments[t].class_map;
          for (std::size_t c = 0; c < map.size(); ++c)
            if (p[map[c]] != 0.0 || out.items.size() == 1) see(map[c]);
        }
        see(label);
      }
    }
  } else {
    for (const Segment& s : segments) {
      if (evaluate_predicate(f, s.predicate) != Truth::True) continue;
      f.program.models[std::size_t(s.model)]->evaluate(f);
      const Prediction& p = f.predictions[std::size_t(s.model)];
      ++considered;
      if (regression) {
        if (!p.valid || p.value.kind != Kind::Number) {
          if (!on_missing(s.weight)) return;
          continue;
        }
        out.pairs.emplace_back(p.value.num, s.weight);
        continue;
      }
      if (!p.valid || p.label < 0) {
        if (!on_missing(s.weight)) return;
        continue;
      }
      std::int32_t label = s.class_map[std::size_t(p.label)];
      out.pairs.emplace_back(0.0, s.weight);
      out.items.push_back(label);
      std::size_t base = out.work.size();
      out.work.resize(base + k, 0.0);
      if (p.has_probabilities) {
        for (std::size_t c = 0; c < s.class_map.size(); ++c) {
          out.work[base + std::size_t(s.class_map[c])] = p.probabilities[c];
          if (!votes && (p.probabilities[c] != 0.0 || out.items.size() == 1)) see(s.class_map[c]);
        }
      } else {
        out.work[base + std::size_t(label)] = 1.0;
      }
      see(label);
    }
  }
  if (skip && considered > 0 && double(missing) / double(considered) > missing_threshold) return;
  if (out.pairs.empty()) return;
  if (regression) aggregate_regression(f, out, considered, missing);
  else aggregate_classification(f, out, considered, missing, missing_votes);
}

void MiningEval::aggregate_regression(Frame& f, Prediction& out, std::size_t, std::size_t) const {
  auto& values = out.pairs;
  double y = 0;
  switch (method) {
    case Method::Sum:
    case Method::WeightedSum: {
      if (float_math) {
        float acc = float_start_at_constant ? float(float_start) : 0.0f;
        for (auto& [v, w] : values) acc += method == Method::Sum ? float(v) : float(w) * float(v);
        y = double(acc);
      } else {
        for (auto& [v, w] : values) y += method == Method::Sum ? v : w * v;
      }
      break;
    }
    case Method::Average: {
      if (float_math) {
        float acc = 0.0f;
        for (auto& [v, w] : values) acc += float(v);
        y = double(acc / float(values.size()));
      } else {
        for (auto& [v, w] : values) y += v;
        y /= double(values.size());
      }
      break;
    }
    case Method::WeightedAverage: {
      double wsum = 0;
      for (auto& [v, w] : values) {
        y += w * v;
        wsum += w;
      }
      if (wsum == 0) throw EvaluationError(fmt::format("MiningModel at {}: weights sum to zero", path), f.row);
      y /= wsum;
      break;
    }
    case Method::Median: {
      std::sort(values.begin(), values.end());
      std::size_t m = values.size() / 2;
      y = values.size() % 2 ? values[m].first : (values[m - 1].first + values[m].first) / 2.0;
      break;
    }
    case Method::WeightedMedian: {
      // A stable sort by value without std::stable_sort's temporary buffer: ties keep their segment order.
      auto& order = out.items;
      order.resize(values.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = std::int32_t(i);
      std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        const double x = values[std::size_t(a)].first, y = values[std::size_t(b)].first;
        return x < y || (!(y < x) && a < b);
      });
      auto& sorted = out.work;
      sorted.resize(2 * values.size());
      for (std::size_t i = 0; i < order.size(); ++i) {
        sorted[2 * i] = values[std::size_t(order[i])].first;
        sorted[2 * i + 1] = values[std::size_t(order[i])].second;
      }
      for (std::size_t i = 0; i < order.size(); ++i) values[i] = {sorted[2 * i], sorted[2 * i + 1]};
      double total = 0;
      for (auto& [v, w] : values) total += w;
      double acc = 0;
      y = values.back().first;
      for (auto& [v, w] : values) {
        acc += w;
        if (acc >= total / 2.0) {
          y = v;
          break;
        }
      }
      break;
    }
    case Method::Max: {
      y = values.front().first;
      for (auto& [v, w] : values) y = std::max(y, v);
      break;
    }
    default:
      throw EvaluationError(fmt::format("MiningModel at {}: method not valid for regression", path), f.row);
  }
  out.valid = true;
  out.value = Val::number(y, float_math ? DataType::Float : DataType::Double);
}

void MiningEval::aggregate_classification(Frame& f, Prediction& out, std::size_t, std::size_t,
                                          double missing_votes) const {
  const std::size_t k = classes.size();
  const std::size_t n = out.items.size();
  const auto& first_seen = out.work2;
  auto winner = [&](const double* score) {
    std::int32_t best = -1;
    for (std::size_t c = 0; c < k; ++c) {
      if (first_seen[c] == 0.0) continue;
      if (best < 0 || score[c] > score[std::size_t(best)] ||
          (score[c] == score[std::size_t(best)] && first_seen[c] < first_seen[std::size_t(best)]))
        best = std::int32_t(c);
    }
    return best;
  };
  double* result = out.probabilities.data();
  switch (method) {
    case Method::MajorityVote:
    case Method::WeightedMajorityVote: {
      double total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        double w = method == Method::MajorityVote ? 1.0 : out.pairs[i].second;
        result[std::size_t(out.items[i])] += w;
        total += w;
      }
      if (total == 0.0)
        throw EvaluationError(fmt::format("MiningModel at {}: the votes' weights sum to zero", path), f.row);
      std::int32_t best = winner(result);
      if (best < 0 || missing_votes > result[std::size_t(best)]) {
        std::fill(out.probabilities.begin(), out.probabilities.end(), 0.0);
        return;
      }
      total += missing_votes;
      for (std::size_t c = 0; c < k; ++c) result[c] /= total;
      out.label = best;
      break;
    }
    case Method::Average:
    case Method::WeightedAverage: {
      double wsum = 0;
      for (std::size_t i = 0; i < n; ++i) {
        double w = method == Method::Average ? 1.0 : out.pairs[i].second;
        const double* d = out.work.data() + i * k;
        for (std::size_t c = 0; c < k; ++c) result[c] += w * d[c];
        wsum += w;
      }
      if (wsum == 0.0) throw EvaluationError(fmt::format("MiningModel at {}: the weights sum to zero", path), f.row);
      for (std::size_t c = 0; c < k; ++c) result[c] /= wsum;
      out.label = winner(result);
      break;
    }
    case Method::Max:
    case Method::Median: {
      // Kept per thread between records: no allocation per record.
      thread_local std::vector<double> best_value, column;
      best_value.assign(k, 0.0);
      column.resize(n);
      for (std::size_t c = 0; c < k; ++c) {
        for (std::size_t i = 0; i < n; ++i) column[i] = out.work[i * k + c];
        if (method == Method::Max) {
          best_value[c] = *std::max_element(column.begin(), column.end());
        } else {
          std::sort(column.begin(), column.end());
          std::size_t m = n / 2;
          best_value[c] = n % 2 ? column[m] : (column[m - 1] + column[m]) / 2.0;
        }
      }
      std::int32_t best = winner(best_value.data());
      if (best < 0) return;
      // The distribution returned is the average of the segments that achieved the winning value.
      std::size_t count = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double* d = out.work.data() + i * k;
        if (d[std::size_t(best)] != best_value[std::size_t(best)]) continue;
        for (std::size_t c = 0; c < k; ++c) result[c] += d[c];
        ++count;
      }
      if (count == 0) std::copy(best_value.begin(), best_value.end(), result);
      else
        for (std::size_t c = 0; c < k; ++c) result[c] /= double(count);
      out.label = best;
      break;
    }
    default:
      throw EvaluationError(fmt::format("MiningModel at {}: method not valid for classification", path), f.row);
  }
  out.has_probabilities = true;
  out.valid = out.label >= 0;
}

}  // namespace pmmlrt::eval
