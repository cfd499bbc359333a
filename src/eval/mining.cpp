// MiningModel: segments evaluated in document order (a FALSE or UNKNOWN segment predicate skips the
// segment), then combined by the multipleModelMethod as the reference's MiningModelEvaluator does.

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "eval/models.hpp"

namespace pmmlrt::eval {

namespace {

void copy_prediction(const MiningEval::Segment& s, const Prediction& in, Prediction& out) {
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

}  // namespace

void MiningEval::predict(Frame& f, Prediction& out) const {
  const Program& prog = f.program;
  auto run = [&](const Segment& s) -> const Prediction& {
    prog.models[std::size_t(s.model)]->evaluate(f);
    return f.predictions[std::size_t(s.model)];
  };

  if (method == Method::SelectFirst || method == Method::ModelChain) {
    const Segment* chosen = nullptr;
    for (const Segment& s : segments) {
      if (evaluate_predicate(f, s.predicate) != Truth::True) continue;
      run(s);
      chosen = &s;
      if (method == Method::SelectFirst) break;
    }
    if (!chosen) return;
    copy_prediction(*chosen, f.predictions[std::size_t(chosen->model)], out);
    if (method == Method::SelectFirst) out.entity = chosen->id;
    return;
  }

  const bool skip = missing_treatment == MissingTreatment::SkipSegment;
  std::size_t considered = 0, missing = 0;
  auto too_many_missing = [&] { return considered > 0 && double(missing) / double(considered) > missing_threshold; };

  if (function == MiningFunction::Regression) {
    thread_local std::vector<std::pair<double, double>> values;  // (value, weight)
    values.clear();
    for (const Segment& s : segments) {
      if (evaluate_predicate(f, s.predicate) != Truth::True) continue;
      const Prediction& p = run(s);
      ++considered;
      if (!p.valid || p.value.kind != Kind::Number) {
        ++missing;
        if (!skip) return;
        continue;
      }
      values.emplace_back(p.value.num, s.weight);
    }
    if (values.empty() || (skip && too_many_missing())) return;
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
        std::stable_sort(values.begin(), values.end(), [](auto& a, auto& b) { return a.first < b.first; });
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
    return;
  }

  // Classification.
  const std::size_t k = classes.size();
  thread_local std::vector<double> votes, first_seen;
  votes.assign(k, 0.0);
  first_seen.assign(k, 0.0);
  double seen_counter = 0;
  auto see = [&](std::size_t c) {
    if (first_seen[c] == 0.0) first_seen[c] = ++seen_counter;
  };
  double missing_votes = 0;
  double total_weight = 0;
  thread_local std::vector<const Prediction*> preds;
  thread_local std::vector<const Segment*> segs;
  preds.clear();
  segs.clear();
  for (const Segment& s : segments) {
    if (evaluate_predicate(f, s.predicate) != Truth::True) continue;
    const Prediction& p = run(s);
    ++considered;
    if (!p.valid || p.label < 0) {
      ++missing;
      if (method == Method::MajorityVote || method == Method::WeightedMajorityVote) {
        if (missing_treatment == MissingTreatment::ReturnMissing) return;
        if (missing_treatment == MissingTreatment::Continue) missing_votes += method == Method::MajorityVote ? 1.0 : s.weight;
        continue;
      }
      if (!skip) return;
      continue;
    }
    preds.push_back(&p);
    segs.push_back(&s);
  }
  if (skip && too_many_missing()) return;
  if (preds.empty()) return;

  auto winner = [&](const std::vector<double>& score) {
    std::int32_t best = -1;
    for (std::size_t c = 0; c < k; ++c) {
      if (first_seen[c] == 0.0) continue;
      if (best < 0 || score[c] > score[std::size_t(best)] ||
          (score[c] == score[std::size_t(best)] && first_seen[c] < first_seen[std::size_t(best)]))
        best = std::int32_t(c);
    }
    return best;
  };

  switch (method) {
    case Method::MajorityVote:
    case Method::WeightedMajorityVote: {
      for (std::size_t i = 0; i < preds.size(); ++i) {
        auto c = std::size_t(segs[i]->class_map[std::size_t(preds[i]->label)]);
        double w = method == Method::MajorityVote ? 1.0 : segs[i]->weight;
        votes[c] += w;
        total_weight += w;
        see(c);
      }
      std::int32_t best = winner(votes);
      if (best < 0 || missing_votes > votes[std::size_t(best)]) return;
      double total = total_weight + missing_votes;
      for (std::size_t c = 0; c < k; ++c) out.probabilities[c] = votes[c] / total;
      out.has_probabilities = true;
      out.label = best;
      out.valid = true;
      return;
    }
    case Method::Average:
    case Method::WeightedAverage:
    case Method::Max:
    case Method::Median: {
      // Each segment's distribution mapped into this model's classes (a vote-only segment counts as one-hot).
      thread_local std::vector<std::vector<double>> dist;
      dist.resize(preds.size());
      for (std::size_t i = 0; i < preds.size(); ++i) {
        dist[i].assign(k, 0.0);
        const auto& map = segs[i]->class_map;
        if (preds[i]->has_probabilities) {
          for (std::size_t c = 0; c < map.size(); ++c) {
            dist[i][std::size_t(map[c])] = preds[i]->probabilities[c];
            if (preds[i]->probabilities[c] != 0.0 || i == 0) see(std::size_t(map[c]));
          }
        } else {
          dist[i][std::size_t(map[std::size_t(preds[i]->label)])] = 1.0;
        }
        see(std::size_t(map[std::size_t(preds[i]->label)]));
      }
      if (method == Method::Average || method == Method::WeightedAverage) {
        double wsum = 0;
        for (std::size_t i = 0; i < preds.size(); ++i) {
          double w = method == Method::Average ? 1.0 : segs[i]->weight;
          for (std::size_t c = 0; c < k; ++c) votes[c] += w * dist[i][c];
          wsum += w;
        }
        for (std::size_t c = 0; c < k; ++c) out.probabilities[c] = votes[c] / wsum;
        out.label = winner(out.probabilities);
      } else {
        for (std::size_t c = 0; c < k; ++c) {
          thread_local std::vector<double> col;
          col.clear();
          for (auto& d : dist) col.push_back(d[c]);
          if (method == Method::Max) {
            votes[c] = *std::max_element(col.begin(), col.end());
          } else {
            std::sort(col.begin(), col.end());
            std::size_t m = col.size() / 2;
            votes[c] = col.size() % 2 ? col[m] : (col[m - 1] + col[m]) / 2.0;
          }
        }
        std::int32_t best = winner(votes);
        if (best < 0) return;
        // The distribution returned is the average of the segments that achieved the winning value.
        std::size_t n = 0;
        for (auto& d : dist)
          if (d[std::size_t(best)] == votes[std::size_t(best)]) {
            for (std::size_t c = 0; c < k; ++c) out.probabilities[c] += d[c];
            ++n;
          }
        if (n == 0) {
          for (std::size_t c = 0; c < k; ++c) out.probabilities[c] = votes[c];
        } else {
          for (std::size_t c = 0; c < k; ++c) out.probabilities[c] /= double(n);
        }
        out.label = best;
      }
      out.has_probabilities = true;
      out.valid = out.label >= 0;
      return;
    }
    default:
      throw EvaluationError(fmt::format("MiningModel at {}: method not valid for classification", path), f.row);
  }
}

}  // namespace pmmlrt::eval
