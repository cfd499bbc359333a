#include "eval/ensemble_kernel.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "eval/models.hpp"

namespace pmmlrt::eval {

void EnsembleKernel::gather(Frame& f, double* x) const {
  for (std::size_t i = 0; i < feature_slots.size(); ++i) {
    const Val& v = f.get(feature_slots[i]);
    if (v.is_missing()) x[i] = std::numeric_limits<double>::quiet_NaN();
    else if (v.kind == Kind::String) x[i] = v.sym >= 0 ? double(v.sym) : -1.0;  // a text the model never names
    else x[i] = v.num;
  }
}

bool EnsembleKernel::in_set(const Test& T, double v) const {
  const auto& r = set_ranges[std::size_t(T.aux)];
  return std::binary_search(sets.begin() + r.first, sets.begin() + r.second, v);
}

void EnsembleKernel::walk_block(const double* x, std::size_t rows, std::int32_t* out) const {
  const std::size_t nf = features(), nt = trees();
  for (std::size_t t = 0; t < nt; ++t) {
    const std::int32_t root = roots[t];
    for (std::size_t r = 0; r < rows; ++r) {
      const double* row = x + r * nf;
      std::int32_t e = root;
      while (e >= 0) e = step(tests[std::size_t(e)], row);
      out[r * nt + t] = -e - 1;
    }
  }
}

namespace {

class Builder {
 public:
  Builder(const Program& p, const MiningEval& m, EnsembleKernel& k) : prog_(p), mining_(m), k_(k) {}

  bool build() {
    k_.classes = mining_.function == MiningFunction::Classification ? mining_.classes.size() : 0;
    k_.null_result = add_null();
    for (const auto& seg : mining_.segments) {
      if (prog_.predicates[std::size_t(seg.predicate)].op != Pred::Op::True) return false;
      const auto* tree = dynamic_cast<const TreeEval*>(prog_.models[std::size_t(seg.model)].get());
      if (!tree || !tree->outputs.empty() || tree->function != mining_.function) return false;
      if (tree->missing == TreeEval::Missing::WeightedConfidence || tree->missing == TreeEval::Missing::AggregateNodes)
        return false;
      if (tree->target.default_value || !tree->target.priors.empty()) return false;
      if (prog_.predicates[std::size_t(tree->nodes[0].predicate)].op != Pred::Op::True) return false;
      std::int32_t root;
      if (!add_tree(*tree, seg, root)) return false;
      k_.roots.push_back(root);
      k_.weights.push_back(seg.weight);
    }
    return true;
  }

 private:
  const Program& prog_;
  const MiningEval& mining_;
  EnsembleKernel& k_;
  std::unordered_map<std::int32_t, std::int32_t> feature_of_slot_;

  static std::int32_t exit_of_result(std::int32_t r) { return -r - 1; }

  std::int32_t add_null() {
    k_.values.push_back(0.0);
    k_.labels.push_back(-1);
    k_.probabilities.insert(k_.probabilities.end(), k_.classes, 0.0);
    return std::int32_t(k_.values.size() - 1);
  }

  /// The result a tree gives when it selects node `n`, as TreeEval::fill and ModelEval::evaluate compute it.
  bool result_of(const TreeEval& t, const MiningEval::Segment& seg, const TreeNode& n, std::int32_t& out) {
    if (t.function == MiningFunction::Regression) {
      if (!n.has_score || n.score.kind != Kind::Number || n.embedded >= 0) {
        if (n.embedded >= 0) return false;
        out = k_.null_result;
        return true;
      }
      double y = n.value;
      if (!t.target.identity()) y = apply_targets(t.target, y, t.float_math);
      k_.values.push_back(y);
      k_.labels.push_back(-1);
      out = std::int32_t(k_.values.size() - 1);
      return true;
    }
    std::vector<double> probs(k_.classes, 0.0);
    std::int32_t label = -1;
    if (n.dist_end > n.dist_begin) {
      double sum = 0;
      for (auto i = n.dist_begin; i < n.dist_end; ++i) sum += t.dists[std::size_t(i)].weight;
      if (sum == 0.0) return false;  // the generic walk reports this as an error
      std::vector<double> local(t.classes.size(), 0.0);
      for (auto i = n.dist_begin; i < n.dist_end; ++i) {
        const TreeDist& d = t.dists[std::size_t(i)];
        local[std::size_t(d.label)] = sum != 1.0 ? d.weight / sum : d.weight;
      }
      if (n.has_score) {
        label = n.label;
      } else {
        for (auto i = n.dist_begin; i < n.dist_end; ++i) {
          auto l = t.dists[std::size_t(i)].label;
          if (label < 0 || local[std::size_t(l)] > local[std::size_t(label)]) label = l;
        }
      }
      for (std::size_t c = 0; c < local.size(); ++c) probs[std::size_t(seg.class_map[c])] = local[c];
    } else if (n.has_score) {
      label = n.label;
      probs[std::size_t(seg.class_map[std::size_t(label)])] = 1.0;
    }
    if (label < 0) {
      out = k_.null_result;
      return true;
    }
    k_.values.push_back(0.0);
    k_.labels.push_back(seg.class_map[std::size_t(label)]);
    k_.probabilities.insert(k_.probabilities.end(), probs.begin(), probs.end());
    out = std::int32_t(k_.values.size() - 1);
    return true;
  }

  std::int32_t feature(std::int32_t slot, bool& ok) {
    const Slot& s = prog_.slots[std::size_t(slot)];
    if (s.kind != Slot::Kind::Input && s.kind != Slot::Kind::Derived) ok = false;
    auto [it, fresh] = feature_of_slot_.emplace(slot, std::int32_t(k_.feature_slots.size()));
    if (fresh) {
      if (k_.feature_slots.size() >= 65535) ok = false;  // Test::feature is 16 bits
      k_.feature_slots.push_back(slot);
    }
    return it->second;
  }

  // 0: a test was made (in `test`); 1: always true; 2: always false; -1: not expressible.
  int translate(std::int32_t pred, EnsembleKernel::Test& test) {
    const Pred& p = prog_.predicates[std::size_t(pred)];
    using K = EnsembleKernel::Op;
    bool ok = true;
    switch (p.op) {
      case Pred::Op::True: return 1;
      case Pred::Op::False: return 2;
      case Pred::Op::IsMissing:
      case Pred::Op::IsNotMissing:
        test.op = p.op == Pred::Op::IsMissing ? K::IsMissing : K::IsNotMissing;
        test.feature = std::uint16_t(feature(p.slot, ok));
        return ok ? 0 : -1;
      case Pred::Op::Equal: case Pred::Op::NotEqual: case Pred::Op::Less: case Pred::Op::LessEq:
      case Pred::Op::Greater: case Pred::Op::GreaterEq: {
        static const K map[] = {K::Equal, K::NotEqual, K::Less, K::LessEq, K::Greater, K::GreaterEq};
        test.op = map[int(p.op) - int(Pred::Op::Equal)];
        test.feature = std::uint16_t(feature(p.slot, ok));
        if (p.string_compare) {
          if (test.op != K::Equal && test.op != K::NotEqual) return -1;
          test.threshold = double(p.sym);
        } else {
          test.threshold = p.num;
        }
        return ok ? 0 : -1;
      }
      case Pred::Op::In:
      case Pred::Op::NotIn: {
        test.op = p.op == Pred::Op::In ? K::In : K::NotIn;
        test.feature = std::uint16_t(feature(p.slot, ok));
        auto begin = std::int32_t(k_.sets.size());
        if (p.string_compare)
          for (auto i = p.begin; i < p.end; ++i) k_.sets.push_back(double(prog_.set_syms[std::size_t(i)]));
        else
          for (auto i = p.begin; i < p.end; ++i) k_.sets.push_back(prog_.set_nums[std::size_t(i)]);
        std::sort(k_.sets.begin() + begin, k_.sets.end());
        test.aux = std::int32_t(k_.set_ranges.size());
        k_.set_ranges.emplace_back(begin, std::int32_t(k_.sets.size()));
        return ok ? 0 : -1;
      }
      default:
        return -1;  // compound predicates stay on the generic walk
    }
  }

  bool add_tree(const TreeEval& t, const MiningEval::Segment& seg, std::int32_t& root) {
    // Children have larger indices than their parent (breadth-first layout), so a backward pass sees every
    // child's entry before its parent's.
    std::vector<std::int32_t> entry(t.nodes.size());
    const std::int32_t null_exit = exit_of_result(k_.null_result);
    for (std::size_t i = t.nodes.size(); i-- > 0;) {
      const TreeNode& n = t.nodes[i];
      std::int32_t own;
      if (!result_of(t, seg, n, own)) return false;
      if (n.child_count == 0) {
        entry[i] = exit_of_result(own);
        continue;
      }
      std::int32_t next = t.return_last_prediction && n.has_score ? exit_of_result(own) : null_exit;
      std::int32_t on_unknown_fixed;
      bool unknown_is_next = false;
      switch (t.missing) {
        case TreeEval::Missing::None: unknown_is_next = true; on_unknown_fixed = 0; break;
        case TreeEval::Missing::NullPrediction: on_unknown_fixed = null_exit; break;
        case TreeEval::Missing::LastPrediction: on_unknown_fixed = exit_of_result(own); break;
        default:
          on_unknown_fixed = n.default_child >= 0 ? entry[std::size_t(n.default_child)] : exit_of_result(own);
          break;
      }
      for (std::int32_t c = n.first_child + n.child_count - 1; c >= n.first_child; --c) {
        EnsembleKernel::Test test{};
        int kind = translate(t.nodes[std::size_t(c)].predicate, test);
        if (kind < 0) return false;
        if (kind == 2) continue;
        if (kind == 1) {
          next = entry[std::size_t(c)];
          continue;
        }
        test.on_true = entry[std::size_t(c)];
        test.on_false = next;
        std::int32_t on_unknown = unknown_is_next ? next : on_unknown_fixed;
        if (on_unknown == test.on_false) {
          test.unknown = EnsembleKernel::Unknown::False;
        } else if (on_unknown == test.on_true) {
          test.unknown = EnsembleKernel::Unknown::True;
        } else {
          if (test.op == EnsembleKernel::Op::In || test.op == EnsembleKernel::Op::NotIn) return false;  // aux is taken
          test.unknown = EnsembleKernel::Unknown::Aside;
          test.aux = on_unknown;
        }
        k_.tests.push_back(test);
        next = std::int32_t(k_.tests.size() - 1);
      }
      entry[i] = next;
    }
    root = entry[0];
    return true;
  }
};

}  // namespace

std::unique_ptr<EnsembleKernel> build_ensemble_kernel(const Program& program, const MiningEval& mining) {
  using M = MiningEval::Method;
  switch (mining.method) {
    case M::Sum: case M::WeightedSum: case M::Average: case M::WeightedAverage:
    case M::MajorityVote: case M::WeightedMajorityVote:
      break;
    default:
      return nullptr;
  }
  auto kernel = std::make_unique<EnsembleKernel>();
  Builder b(program, mining, *kernel);
  if (!b.build()) return nullptr;
  return kernel;
}

}  // namespace pmmlrt::eval
