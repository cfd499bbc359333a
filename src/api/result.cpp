#include <cmath>
#include <mutex>

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

struct BatchResult::Built {
  std::once_flag once;
  std::vector<Value> values;
};

void BatchResult::Column::resize(std::size_t rows) {
  tags.assign(rows, kMissing);
  numbers.assign(rows, 0.0);
  strings.clear();
  built = std::make_shared<Built>();
}

double BatchResult::Column::number(std::size_t row) const noexcept {
  const std::uint8_t tag = tags[row];
  return tag == kBoolean || tag >= kNumber ? numbers[row] : std::nan("");
}

const std::vector<Value>& BatchResult::Column::values(const std::vector<std::string>& classes) const {
  static const std::vector<Value> kNone;
  if (!built) return kNone;
  std::call_once(built->once, [&] {
    std::vector<Value>& out = built->values;
    out.resize(tags.size());
    auto string = strings.begin();
    for (std::size_t row = 0; row < tags.size(); ++row) {
      const std::uint8_t tag = tags[row];
      if (tag >= kNumber) out[row] = Value(numbers[row], DataType(tag - kNumber));
      else if (tag == kBoolean) out[row] = Value::boolean(numbers[row] != 0);
      else if (tag == kLabel) out[row] = Value(classes[std::size_t(numbers[row])]);
      else if (tag == kString) out[row] = (string++)->second;
    }
  });
  return built->values;
}

const BatchResult::Column& BatchResult::column(std::string_view name) const {
  for (std::size_t i = 0; i < output_names_.size(); ++i)
    if (output_names_[i] == name) return outputs_[i];
  throw Error(ErrorKind::Usage, "BatchResult::output: no output named \"" + std::string(name) + "\"");
}

const std::vector<Value>& BatchResult::predicted_values() const { return predicted_values_.values(classes_); }

const std::vector<Value>& BatchResult::output(std::string_view name) const { return column(name).values(classes_); }

xt::xtensor<double, 1> BatchResult::output_numbers(std::string_view name) const {
  const Column& c = column(name);
  xt::xtensor<double, 1> out = xt::xtensor<double, 1>::from_shape({c.tags.size()});
  for (std::size_t i = 0; i < c.tags.size(); ++i) out(i) = c.number(i);
  return out;
}

}  // namespace v0
}  // namespace pmmlrt
