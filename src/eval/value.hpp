#pragma once
// The value every evaluator computes with: 16 bytes, no heap. Strings are symbols: an index into the
// model's string table (every string the document mentions), or, for text that appears only at scoring
// time, a negative index into the frame's scratch texts.

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pmmlrt/value.hpp"

namespace pmmlrt::eval {

enum class Kind : std::uint8_t { Missing, Number, String, Boolean };

struct Val {
  Kind kind = Kind::Missing;
  DataType type = DataType::Double;
  std::int32_t sym = 0;
  double num = 0.0;

  static Val missing() { return {}; }
  static Val number(double v, DataType t = DataType::Double) { return {Kind::Number, t, 0, v}; }
  static Val boolean(bool b) { return {Kind::Boolean, DataType::Boolean, 0, b ? 1.0 : 0.0}; }
  static Val string(std::int32_t sym) { return {Kind::String, DataType::String, sym, 0.0}; }
  bool is_missing() const { return kind == Kind::Missing; }
  bool is_numeric() const { return kind == Kind::Number || kind == Kind::Boolean; }
};

/// Every string the document mentions, interned once at compile time; immutable afterwards.
class StringTable {
 public:
  std::int32_t intern(std::string_view text) {
    auto it = index_.find(text);
    if (it != index_.end()) return it->second;
    auto id = std::int32_t(texts_.size());
    texts_.emplace_back(text);
    index_.emplace(std::string_view(texts_.back()), id);
    return id;
  }
  /// -1 when the text is not in the table.
  std::int32_t find(std::string_view text) const {
    auto it = index_.find(text);
    return it == index_.end() ? -1 : it->second;
  }
  const std::string& text(std::int32_t id) const { return texts_[std::size_t(id)]; }

 private:
  std::deque<std::string> texts_;  // deque: growth never moves the texts the index points into
  std::unordered_map<std::string_view, std::int32_t> index_;
};

bool is_integral_type(DataType t);
bool is_numeric_type(DataType t);

}  // namespace pmmlrt::eval
