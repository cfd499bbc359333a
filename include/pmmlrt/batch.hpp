#pragma once
/// \file batch.hpp
/// Batch results as xtensor arrays, and scoring straight from xtensor / xt::adapt views over caller memory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "pmmlrt/model.hpp"

namespace pmmlrt {
inline namespace v0 {

/// The outcome of scoring a batch: one entry per input row, column by column.
class BatchResult {
 public:
  /// Number of rows scored.
  std::size_t rows() const noexcept { return predicted_.size(); }
  /// Predicted value per row: the number for regression; for classification the index of the predicted
  /// class in classes(). NaN where a row has no prediction.
  const xt::xtensor<double, 1>& predicted() const noexcept { return predicted_; }
  /// Predicted value per row as Values (category labels for classification). The Values are built on the
  /// first call (safe from several threads at once); predicted() and probabilities() never build them.
  const std::vector<Value>& predicted_values() const;
  /// Class labels (classification only).
  const std::vector<std::string>& classes() const noexcept { return classes_; }
  /// rows x classes probabilities (classification only; NaN where a row has no distribution).
  const xt::xtensor<double, 2>& probabilities() const noexcept { return probabilities_; }
  /// Names of the OutputFields, in the model's order.
  const std::vector<std::string>& output_names() const noexcept { return output_names_; }
  /// The values of one OutputField, one per row, built on the first call for that field (safe from several
  /// threads at once). Throws Error(Usage) for an unknown name.
  const std::vector<Value>& output(std::string_view name) const;
  /// An OutputField as numbers (NaN for missing or non-numeric values), read without building its Values.
  /// Throws Error(Usage) for an unknown name.
  xt::xtensor<double, 1> output_numbers(std::string_view name) const;
  /// Per-row error messages under RowErrorPolicy::Record: empty string for rows that scored.
  const std::vector<std::string>& errors() const noexcept { return errors_; }

 private:
  friend struct Model::Impl;
  struct Built;
  // A column of Values as scoring leaves it: per row a tag (missing, a number and its type, a boolean, a
  // class label, a string) and a number (the label's index for a label); the strings that are no class
  // label apart, by row. A Value is 48 bytes: most callers read numbers only, so the Values of a column are
  // built on its first request, once, and shared by copies of the result.
  struct Column {
    enum Tag : std::uint8_t { kMissing = 0, kBoolean = 1, kLabel = 2, kString = 3, kNumber = 4 };  // + DataType
    std::vector<std::uint8_t> tags;
    std::vector<double> numbers;
    std::vector<std::pair<std::size_t, Value>> strings;  // rows tagged kString, ascending
    std::shared_ptr<Built> built;

    void resize(std::size_t rows);
    double number(std::size_t row) const noexcept;
    const std::vector<Value>& values(const std::vector<std::string>& classes) const;
  };
  const Column& column(std::string_view name) const;

  xt::xtensor<double, 1> predicted_;
  Column predicted_values_;
  std::vector<std::string> classes_;
  xt::xtensor<double, 2> probabilities_;
  std::vector<std::string> output_names_;
  std::vector<Column> outputs_;
  std::vector<std::string> errors_;
};

/// Scores a 2-D xtensor expression of doubles or floats (an xt::xtensor, or an xt::adapt view over the
/// caller's buffer). Row-major and column-major contiguous data are read in place; other layouts are
/// copied once. `columns` as for Model::score.
template <class E>
BatchResult score(const Model& model, const xt::xexpression<E>& matrix, const std::vector<std::string>& columns = {},
                  const BatchOptions& options = {}) {
  const auto& m = matrix.derived_cast();
  using value_type = std::decay_t<typename E::value_type>;
  static_assert(std::is_same_v<value_type, double> || std::is_same_v<value_type, float>,
                "pmmlrt::score takes double or float matrices");
  if (m.dimension() != 2) throw Error(ErrorKind::Usage, "pmmlrt::score: the matrix must be 2-D");
  const std::size_t rows = m.shape()[0], cols = m.shape()[1];
  if constexpr (xt::has_data_interface<E>::value) {
    const auto& st = m.strides();
    const bool row_major = (cols <= 1 || st[1] == 1) && (rows <= 1 || std::size_t(st[0]) == cols);
    const bool col_major = (rows <= 1 || st[0] == 1) && (cols <= 1 || std::size_t(st[1]) == rows);
    if (row_major) return model.score(m.data() + m.data_offset(), rows, cols, Layout::RowMajor, columns, options);
    if (col_major) return model.score(m.data() + m.data_offset(), rows, cols, Layout::ColumnMajor, columns, options);
  }
  xt::xtensor<value_type, 2> copy = m;
  return model.score(copy.data(), rows, cols, Layout::RowMajor, columns, options);
}

}  // namespace v0
}  // namespace pmmlrt
