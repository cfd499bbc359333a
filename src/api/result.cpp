#include <cmath>

#include "pmmlrt/batch.hpp"

namespace pmmlrt {
inline namespace v0 {

namespace {
const Value kMissing;
const std::vector<std::string> kNoClasses;
}  // namespace

const Value& Result::predicted() const noexcept { return targets_.empty() ? kMissing : targets_.front().value; }

const std::vector<std::string>& Result::classes() const noexcept { return classes_ ? *classes_ : kNoClasses; }

std::optional<double> Result::probability(std::string_view label) const {
  const auto& c = classes();
  for (std::size_t i = 0; i < c.size() && i < probabilities_.size(); ++i)
    if (c[i] == label) return probabilities_[i];
  return std::nullopt;
}

std::optional<double> Result::confidence(std::string_view label) const {
  const auto& c = classes();
  for (std::size_t i = 0; i < c.size() && i < confidences_.size(); ++i)
    if (c[i] == label) return confidences_[i];
  return std::nullopt;
}

const Value* Result::output(std::string_view name) const {
  for (const auto& o : outputs_)
    if (o.name == name) return &o.value;
  return nullptr;
}

const std::vector<Value>& BatchResult::output(std::string_view name) const {
  for (std::size_t i = 0; i < output_names_.size(); ++i)
    if (output_names_[i] == name) return outputs_[i];
  throw Error(ErrorKind::Usage, "BatchResult::output: no output named \"" + std::string(name) + "\"");
}

xt::xtensor<double, 1> BatchResult::output_numbers(std::string_view name) const {
  const auto& column = output(name);
  xt::xtensor<double, 1> out = xt::xtensor<double, 1>::from_shape({column.size()});
  for (std::size_t i = 0; i < column.size(); ++i)
    out(i) = column[i].is_number() || column[i].is_boolean() ? column[i].number() : std::nan("");
  return out;
}

}  // namespace v0
}  // namespace pmmlrt
