// Three-valued predicate logic: a predicate over a missing value is UNKNOWN, and compounds combine
// UNKNOWN as the PMML specification's truth tables say.

#include <algorithm>

#include "eval/program.hpp"
#include "pmml/numbers.hpp"

namespace pmmlrt::eval {

namespace {

Truth of(bool b) { return b ? Truth::True : Truth::False; }

Truth compare_numbers(Pred::Op op, double x, double t) {
  switch (op) {
    case Pred::Op::Equal: return of(x == t);
    case Pred::Op::NotEqual: return of(x != t);
    case Pred::Op::Less: return of(x < t);
    case Pred::Op::LessEq: return of(x <= t);
    case Pred::Op::Greater: return of(x > t);
    case Pred::Op::GreaterEq: return of(x >= t);
    default: return Truth::Unknown;
  }
}

}  // namespace

Truth evaluate_predicate(Frame& f, std::int32_t index, bool* used_surrogate) {
  const Program& prog = f.program;
  const Pred& p = prog.predicates[std::size_t(index)];
  switch (p.op) {
    case Pred::Op::True: return Truth::True;
    case Pred::Op::False: return Truth::False;
    case Pred::Op::IsMissing: return of(f.get(p.slot).is_missing());
    case Pred::Op::IsNotMissing: return of(!f.get(p.slot).is_missing());
    case Pred::Op::Equal: case Pred::Op::NotEqual: case Pred::Op::Less: case Pred::Op::LessEq:
    case Pred::Op::Greater: case Pred::Op::GreaterEq: {
      const Val& v = f.get(p.slot);
      if (v.is_missing()) return Truth::Unknown;
      if (p.string_compare) {
        if (p.op == Pred::Op::Equal || p.op == Pred::Op::NotEqual) {
          bool eq = v.kind == Kind::String ? v.sym == p.sym : same_value(f, v, Val::string(p.sym));
          return of(p.op == Pred::Op::Equal ? eq : !eq);
        }
        auto x = v.kind == Kind::String ? f.text(v) : std::string_view();
        auto t = prog.strings.text(p.sym);
        int c = x.compare(t);
        return compare_numbers(p.op, double(c), 0.0);
      }
      double x = v.num;
      if (v.kind == Kind::String) {
        auto parsed = numbers::parse_double(f.text(v));
        if (!parsed) return Truth::Unknown;
        x = *parsed;
      }
      return compare_numbers(p.op, x, p.num);
    }
    case Pred::Op::In: case Pred::Op::NotIn: {
      const Val& v = f.get(p.slot);
      if (v.is_missing()) return Truth::Unknown;
      bool found;
      if (p.string_compare) {
        if (v.kind == Kind::String) {
          // Scratch symbols are texts the document never mentions, so they match no set member.
          found = v.sym >= 0 && std::binary_search(prog.set_syms.begin() + p.begin, prog.set_syms.begin() + p.end, v.sym);
        } else {
          found = false;
          for (auto i = p.begin; i < p.end && !found; ++i) found = same_value(f, v, Val::string(prog.set_syms[std::size_t(i)]));
        }
      } else {
        double x = v.num;
        if (v.kind == Kind::String) {
          auto parsed = numbers::parse_double(f.text(v));
          if (!parsed) return Truth::Unknown;
          x = *parsed;
        }
        found = std::binary_search(prog.set_nums.begin() + p.begin, prog.set_nums.begin() + p.end, x);
      }
      return of(p.op == Pred::Op::In ? found : !found);
    }
    case Pred::Op::And: {
      Truth r = Truth::True;
      for (auto i = p.begin; i < p.end; ++i) {
        Truth t = evaluate_predicate(f, prog.pred_children[std::size_t(i)], used_surrogate);
        if (t == Truth::False) return Truth::False;
        if (t == Truth::Unknown) r = Truth::Unknown;
      }
      return r;
    }
    case Pred::Op::Or: {
      Truth r = Truth::False;
      for (auto i = p.begin; i < p.end; ++i) {
        Truth t = evaluate_predicate(f, prog.pred_children[std::size_t(i)], used_surrogate);
        if (t == Truth::True) return Truth::True;
        if (t == Truth::Unknown) r = Truth::Unknown;
      }
      return r;
    }
    case Pred::Op::Xor: {
      bool r = false;
      for (auto i = p.begin; i < p.end; ++i) {
        Truth t = evaluate_predicate(f, prog.pred_children[std::size_t(i)], used_surrogate);
        if (t == Truth::Unknown) return Truth::Unknown;
        r = r != (t == Truth::True);
      }
      return of(r);
    }
    case Pred::Op::Surrogate: {
      for (auto i = p.begin; i < p.end; ++i) {
        Truth t = evaluate_predicate(f, prog.pred_children[std::size_t(i)], used_surrogate);
        if (t != Truth::Unknown) {
          if (i != p.begin && used_surrogate) *used_surrogate = true;
          return t;
        }
      }
      return Truth::Unknown;
    }
  }
  return Truth::Unknown;
}

}  // namespace pmmlrt::eval
