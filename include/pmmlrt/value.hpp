#pragma once
/// \file value.hpp
/// pmmlrt::Value: one scalar crossing the API (an input cell or a result), and the PMML type vocabulary.

#include <string>
#include <string_view>

namespace pmmlrt {
inline namespace v0 {

/// PMML DataField@dataType. Date and time types are recognised so that they can be reported, not scored.
enum class DataType { String, Integer, Float, Double, Boolean, Date, Time, DateTime };

/// PMML optype.
enum class OpType { Categorical, Ordinal, Continuous };

/// The PMML name of a data type ("string", "integer", ...).
std::string_view to_string(DataType type) noexcept;
/// The PMML name of an optype ("categorical", "ordinal", "continuous").
std::string_view to_string(OpType type) noexcept;

/// A scalar value: missing, a number (with the PMML numeric type it was computed in), a string or a boolean.
/// Inputs given as strings are parsed by the field's dataType during scoring, exactly as the text of a
/// CSV cell would be.
class Value {
 public:
  /// The three shapes a value can have.
  enum class Kind { Missing, Number, String, Boolean };

  /// A missing value.
  Value() noexcept = default;
  /// A number; `type` says whether it is a double, a float (exactly representable) or an integer.
  Value(double number, DataType type = DataType::Double) noexcept : kind_(Kind::Number), type_(type), number_(number) {}
  /// A string (category label, or text to be parsed by the field's dataType).
  Value(std::string text) : kind_(Kind::String), type_(DataType::String), text_(std::move(text)) {}
  /// A string (category label, or text to be parsed by the field's dataType).
  Value(const char* text) : Value(std::string(text)) {}
  /// A boolean.
  static Value boolean(bool b) noexcept {
    Value v;
    v.kind_ = Kind::Boolean;
    v.type_ = DataType::Boolean;
    v.number_ = b ? 1.0 : 0.0;
    return v;
  }
  /// A missing value (same as the default constructor; reads better at call sites).
  static Value missing() noexcept { return Value(); }

  Kind kind() const noexcept { return kind_; }
  /// The PMML data type of the value (String for strings, Boolean for booleans).
  DataType type() const noexcept { return type_; }
  bool is_missing() const noexcept { return kind_ == Kind::Missing; }
  bool is_number() const noexcept { return kind_ == Kind::Number; }
  bool is_string() const noexcept { return kind_ == Kind::String; }
  bool is_boolean() const noexcept { return kind_ == Kind::Boolean; }

  /// The number (booleans are 1 and 0). Throws pmmlrt::Error (Usage) for missing values and strings.
  double number() const;
  /// The text of a string value. Throws pmmlrt::Error (Usage) for other kinds.
  const std::string& text() const;
  /// The value as text: numbers in the shortest form that reads back to the same value in its own type
  /// (float32 for Float), integers without a fraction, booleans as "true"/"false", missing as "".
  std::string to_string() const;

  /// Same kind, type and content (NaN equals NaN).
  friend bool operator==(const Value& a, const Value& b) noexcept;
  friend bool operator!=(const Value& a, const Value& b) noexcept { return !(a == b); }

 private:
  Kind kind_ = Kind::Missing;
  DataType type_ = DataType::Double;
  double number_ = 0.0;
  std::string text_;
};

}  // namespace v0
}  // namespace pmmlrt
