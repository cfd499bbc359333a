// TreeModel: children tested in document order, the first TRUE one wins; UNKNOWN follows
// missingValueStrategy and a node without a TRUE child follows noTrueChildStrategy, exactly as the reference
// (ComplexTreeModelEvaluator) walks. Iterative, so a degenerate deep tree cannot overflow the stack.

#include <cmath>

#include <fmt/format.h>

#include "eval/models.hpp"

namespace pmmlrt::eval {

void TreeEval::fill(Frame& f, const TreeNode& n, int missing_levels, Prediction& out) const {
  out.node = std::int32_t(&n - nodes.data());
  out.entity = n.id;
  if (function == MiningFunction::Regression) {
    double y = n.value;
    bool have = n.has_score;
    if (n.embedded >= 0) {
      double r;
      if (embedded[std::size_t(n.embedded)].evaluate(f, float_math, r)) {
        y = r;
        have = true;
      }
    }
    if (!have) return;
    out.valid = true;
    out.value = n.has_score && n.embedded < 0 ? n.score : Val::number(y, float_math ? DataType::Float : DataType::Double);
    if (out.value.kind != Kind::Number) out.value = Val::number(y);
    return;
  }
  if (n.dist_end > n.dist_begin) {
    double penalty = missing_levels > 0 ? std::pow(missing_penalty, missing_levels) : 1.0;
    double sum = 0;
    for (auto i = n.dist_begin; i < n.dist_end; ++i) sum += dists[std::size_t(i)].weight;
    for (auto i = n.dist_begin; i < n.dist_end; ++i) {
      const TreeDist& d = dists[std::size_t(i)];
      double p = d.weight;
      if (sum != 1.0) {
        if (sum == 0.0)
          throw EvaluationError(fmt::format("TreeModel at {}: the ScoreDistribution of the selected node sums to zero", path),
                                f.row);
        p /= sum;
      }
      out.probabilities[std::size_t(d.label)] = p;
      if (d.has_confidence) {
        out.confidences[std::size_t(d.label)] = d.confidence * penalty;
        out.has_confidences = true;
      }
    }
    out.has_probabilities = true;
    if (n.has_score) {
      out.label = n.label;
    } else {
      std::int32_t best = -1;
      for (auto i = n.dist_begin; i < n.dist_end; ++i) {
        auto l = dists[std::size_t(i)].label;
        if (best < 0 || out.probabilities[std::size_t(l)] > out.probabilities[std::size_t(best)]) best = l;
      }
      out.label = best;
    }
    out.valid = out.label >= 0;
    return;
  }
  if (!n.has_score) return;
  out.label = n.label;
  out.valid = true;
}

void TreeEval::predict_from_result(std::int32_t r, Frame& f, Prediction& out) const {
  if (r != kernel->null_result) fill(f, nodes[std::size_t(r - 1)], 0, out);
}

void TreeEval::predict(Frame& f, Prediction& out) const {
  if (kernel) {
    // The node the walk below selects, from the flattened tree (build_tree_kernel): walked ahead by a batch,
    // or here by the scalar walk (one deep path is a chain of dependent steps, which vectors do not shorten);
    // a record whose features the kernel cannot take (gather) takes the walk below.
    std::int32_t r = -1;
    if (const std::int32_t* ahead = f.precomputed[std::size_t(kernel_index)]) {
      r = *ahead;
    } else {
      out.features.resize(kernel->features());
      if (kernel->gather(f, out.features.data()))
        r = kernel->direct.empty() ? kernel->walk(0, out.features.data()) : kernel->walk_direct(out.features.data());
    }
    if (r >= 0) return predict_from_result(r, f, out);
  }
  if (missing == Missing::WeightedConfidence || missing == Missing::AggregateNodes) return predict_weighted(f, out);
  int levels = 0;
  bool surrogate = false;
  if (evaluate_predicate(f, nodes[0].predicate, &surrogate) != Truth::True) return;
  if (surrogate) ++levels;
  std::int32_t node = 0;
  std::int32_t last = -1;
  for (;;) {
    const TreeNode& n = nodes[std::size_t(node)];
    if (n.child_count == 0) return fill(f, n, levels, out);
    last = node;
    std::int32_t next = -1;
    for (std::int32_t c = n.first_child; c < n.first_child + n.child_count; ++c) {
      bool used = false;
      Truth t = evaluate_predicate(f, nodes[std::size_t(c)].predicate, &used);
      if (used) ++levels;
      if (t == Truth::True) {
        next = c;
        break;
      }
      if (t == Truth::Unknown) {
        switch (missing) {
          case Missing::NullPrediction: return;
          case Missing::LastPrediction: return fill(f, nodes[std::size_t(last)], levels, out);
          case Missing::DefaultChild:
            if (n.default_child < 0) return fill(f, nodes[std::size_t(last)], levels, out);
            ++levels;
            next = n.default_child;
            break;
          default: continue;  // none: as if FALSE
        }
        break;
      }
    }
    if (next >= 0) {
      node = next;
      continue;
    }
    // No TRUE child.
    if (return_last_prediction && nodes[std::size_t(last)].has_score) return fill(f, nodes[std::size_t(last)], levels, out);
    return;
  }
}

void TreeEval::predict_weighted(Frame& f, Prediction& out) const {
  // On an UNKNOWN child the record flows into every child that is not FALSE: weightedConfidence weights the
  // leaves' confidences by recordCount shares; aggregateNodes adds up the leaves' record counts.
  if (evaluate_predicate(f, nodes[0].predicate) != Truth::True) return;
  const bool weighted = missing == Missing::WeightedConfidence;
  thread_local std::vector<double> acc;
  acc.assign(classes.size(), 0.0);
  struct Item {
    std::int32_t node;
    double weight;
  };
  thread_local std::vector<Item> stack;
  stack.clear();
  stack.push_back({0, 1.0});
  bool split = false;
  std::int32_t single = -1;
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const TreeNode& n = nodes[std::size_t(it.node)];
    std::int32_t next = -1;
    bool unknown = false;
    for (std::int32_t c = n.first_child; c < n.first_child + n.child_count; ++c) {
      Truth t = evaluate_predicate(f, nodes[std::size_t(c)].predicate);
      if (t == Truth::True) {
        next = c;
        break;
      }
      if (t == Truth::Unknown) {
        unknown = true;
        break;
      }
    }
    if (next >= 0) {
      stack.push_back({next, it.weight});
      continue;
    }
    if (unknown) {
      split = true;
      for (std::int32_t c = n.first_child + n.child_count - 1; c >= n.first_child; --c) {
        if (evaluate_predicate(f, nodes[std::size_t(c)].predicate) == Truth::False) continue;
        double share = n.record_count > 0 ? nodes[std::size_t(c)].record_count / n.record_count : 0.0;
        stack.push_back({c, weighted ? it.weight * share : 1.0});
      }
      continue;
    }
    // A leaf, or a node without a TRUE child: it answers for its share.
    if (n.child_count > 0 && !return_last_prediction) continue;
    single = it.node;
    for (auto i = n.dist_begin; i < n.dist_end; ++i) {
      const TreeDist& d = dists[std::size_t(i)];
      acc[std::size_t(d.label)] += weighted ? it.weight * (d.has_confidence ? d.confidence : 0.0) : d.weight;
    }
  }
  if (!split) {
    if (single >= 0) fill(f, nodes[std::size_t(single)], 0, out);
    return;
  }
  double total = 0;
  for (double a : acc) total += a;
  if (total <= 0) return;
  std::size_t best = 0;
  for (std::size_t i = 1; i < acc.size(); ++i)
    if (acc[i] > acc[best]) best = i;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    out.probabilities[i] = acc[i] / total;
    out.confidences[i] = weighted ? acc[i] : acc[i] / total;
  }
  out.has_probabilities = out.has_confidences = true;
  out.label = std::int32_t(best);
  out.valid = true;
}

}  // namespace pmmlrt::eval
