#include <cmath>

#include <fmt/format.h>

#include "pmmlrt/error.hpp"
#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"
#include "pmmlrt/version.hpp"

namespace pmmlrt {
inline namespace v0 {

const char* version() noexcept { return PMMLRT_VERSION_STRING; }

std::string_view to_string(DataType type) noexcept {
  switch (type) {
    case DataType::String: return "string";
    case DataType::Integer: return "integer";
    case DataType::Float: return "float";
    case DataType::Double: return "double";
    case DataType::Boolean: return "boolean";
    case DataType::Date: return "date";
    case DataType::Time: return "time";
    case DataType::DateTime: return "dateTime";
  }
  return "unknown";
}

std::string_view to_string(OpType type) noexcept {
  switch (type) {
    case OpType::Categorical: return "categorical";
    case OpType::Ordinal: return "ordinal";
    case OpType::Continuous: return "continuous";
  }
  return "unknown";
}

std::string_view to_string(MiningFunction function) noexcept {
  return function == MiningFunction::Classification ? "classification" : "regression";
}

std::string_view to_string(FieldUsage usage) noexcept {
  switch (usage) {
    case FieldUsage::Active: return "active";
    case FieldUsage::Target: return "target";
    case FieldUsage::Supplementary: return "supplementary";
    case FieldUsage::Group: return "group";
    case FieldUsage::Order: return "order";
    case FieldUsage::FrequencyWeight: return "frequencyWeight";
    case FieldUsage::AnalysisWeight: return "analysisWeight";
  }
  return "unknown";
}

double Value::number() const {
  if (kind_ == Kind::Number || kind_ == Kind::Boolean) return number_;
  throw Error(ErrorKind::Usage, kind_ == Kind::Missing ? "Value::number() on a missing value"
                                                       : "Value::number() on a string value \"" + text_ + "\"");
}

const std::string& Value::text() const {
  if (kind_ == Kind::String) return text_;
  throw Error(ErrorKind::Usage, "Value::text() on a value that is not a string");
}

std::string Value::to_string() const {
  switch (kind_) {
    case Kind::Missing: return "";
    case Kind::String: return text_;
    case Kind::Boolean: return number_ != 0 ? "true" : "false";
    case Kind::Number:
      if (std::isnan(number_)) return "NaN";
      if (std::isinf(number_)) return number_ > 0 ? "Infinity" : "-Infinity";
      if (type_ == DataType::Integer && std::fabs(number_) < 9.2e18) return fmt::format("{}", static_cast<long long>(number_));
      if (type_ == DataType::Float) return fmt::format("{}", static_cast<float>(number_));
      return fmt::format("{}", number_);
  }
  return "";
}

bool operator==(const Value& a, const Value& b) noexcept {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::Missing: return true;
    case Value::Kind::String: return a.text_ == b.text_;
    default:
      return a.type_ == b.type_ && (a.number_ == b.number_ || (std::isnan(a.number_) && std::isnan(b.number_)));
  }
}

}  // namespace v0
}  // namespace pmmlrt
