// The linear fast path of numeric batches (a top-level RegressionModel over plain numeric inputs: table sums
// for up to sixteen rows at a time, inputs prepared only when read) must give what one record at a time gives, bit
// for bit, whatever the layout, the cell type, missing columns, NaN or infinite cells.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;

}  // namespace

TEST_CASE("linear models: the batch fast path equals record-by-record scoring") {
  // Each model also with float inputs (the cells are rounded to float before their products).
  for (std::string name : {"LogisticRegressionBreastCancer", "LogisticRegressionIris", "LinearRegressionDiabetes",
                           "LogisticRegressionBreastCancer:float", "LinearRegressionDiabetes:float"}) {
    CAPTURE(name);
    const bool as_float = name.size() > 6 && name.compare(name.size() - 6, 6, ":float") == 0;
    if (as_float) name.resize(name.size() - 6);
    std::string text = pmmlrt_test::slurp(std::string(PMMLRT_SOURCE_DIR "/tests/generated/cases/") + name + "/model.pmml");
    if (as_float) {
      const auto dd = text.find("</DataDictionary>");
      REQUIRE(dd != std::string::npos);
      for (auto at = text.find("dataType=\"double\""); at < dd; at = text.find("dataType=\"double\"", at))
        text.replace(at, 17, "dataType=\"float\"");
    }
    auto m = pmmlrt::Model::load_string(text);
    const std::size_t cols = m.input_fields().size(), rows = 203;
    const std::size_t k = m.class_labels().size(), no = m.output_fields().size();
    std::mt19937_64 rng(11);
    std::normal_distribution<double> value(0.0, 2.0);
    std::vector<double> x(rows * cols);
    for (auto& v : x) {
      auto r = rng() % 40;
      v = r == 0 ? std::nan("") : r == 1 ? std::numeric_limits<double>::infinity() : r == 2 ? -0.0 : value(rng);
    }
    std::vector<double> col_major(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) col_major[c * rows + r] = x[r * cols + c];
    std::vector<float> xf(x.begin(), x.end()), xf_col_major(col_major.begin(), col_major.end());
    pmmlrt::BatchOptions keep;
    keep.on_error = pmmlrt::RowErrorPolicy::Record;
    auto row_major = m.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep);
    auto by_columns = m.score(col_major.data(), rows, cols, pmmlrt::Layout::ColumnMajor, {}, keep);
    auto floats = m.score(xf.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, keep);
    auto floats_by_columns = m.score(xf_col_major.data(), rows, cols, pmmlrt::Layout::ColumnMajor, {}, keep);
    // A matrix without the first input field: that input is missing in every row.
    std::vector<std::string> names;
    for (std::size_t c = 1; c < cols; ++c) names.push_back(m.input_fields()[c].name);
    std::vector<double> without_first;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 1; c < cols; ++c) without_first.push_back(x[r * cols + c]);
    auto partial = m.score(without_first.data(), rows, cols - 1, pmmlrt::Layout::RowMajor, names, keep);
    std::vector<float> without_first_f(without_first.begin(), without_first.end());
    auto partial_f = m.score(without_first_f.data(), rows, cols - 1, pmmlrt::Layout::RowMajor, names, keep);
    // The columns in reverse order, named: no eight table terms read consecutive columns.
    std::vector<std::string> reversed;
    std::vector<double> x_reversed(rows * cols);
    for (std::size_t c = cols; c-- > 0;) reversed.push_back(m.input_fields()[c].name);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) x_reversed[r * cols + (cols - 1 - c)] = x[r * cols + c];
    auto backwards = m.score(x_reversed.data(), rows, cols, pmmlrt::Layout::RowMajor, reversed, keep);
    for (std::size_t r = 0; r < rows; ++r) {
      CAPTURE(r);
      auto one = [&](const std::vector<double>& in, std::vector<double>& out) {
        out.assign(1 + k + no, 0.0);
        pmmlrt::RecordOutput o{out.data(), out.data() + 1, out.data() + 1 + k};
        try {
          m.score_into(in.data(), in.size(), o);
          return std::string();
        } catch (const pmmlrt::Error& e) {
          return std::string(e.what());
        }
      };
      auto same = [&](const pmmlrt::BatchResult& b, const std::string& error, const std::vector<double>& want) {
        REQUIRE(b.errors()[r] == error);
        if (!error.empty()) return;
        REQUIRE(same_bits(b.predicted()(r), want[0]));
        for (std::size_t c = 0; c < k; ++c) REQUIRE(same_bits(b.probabilities()(r, c), want[1 + c]));
        for (std::size_t o = 0; o < no; ++o) {
          const auto& v = b.output(m.output_fields()[o].name)[r];
          REQUIRE(same_bits(v.is_number() ? v.number() : std::nan(""), want[1 + k + o]));
        }
      };
      std::vector<double> in(x.begin() + std::ptrdiff_t(r * cols), x.begin() + std::ptrdiff_t((r + 1) * cols)), want;
      std::string error = one(in, want);
      for (const auto* b : {&row_major, &by_columns, &backwards}) same(*b, error, want);
      // Float cells: the record is the same cells rounded to float.
      std::vector<double> inf(in.size()), wantf;
      for (std::size_t c = 0; c < in.size(); ++c) inf[c] = double(float(in[c]));
      const std::string errorf = one(inf, wantf);
      same(floats, errorf, wantf);
      same(floats_by_columns, errorf, wantf);
      std::vector<double> inpf = inf, wantpf;
      inpf[0] = std::nan("");
      same(partial_f, one(inpf, wantpf), wantpf);
      std::vector<double> inp = in, wantp;
      inp[0] = std::nan("");
      same(partial, one(inp, wantp), wantp);
    }
  }
}

TEST_CASE("linear models: the batch tail (no Frame) gives the generic path's Values, types included") {
  auto load = [](const std::string& text, bool tail) {
    // PMMLRT_CHAIN_TAIL=generic turns every tail off; it is read when a model is loaded.
    if (tail) unsetenv("PMMLRT_CHAIN_TAIL");
    else setenv("PMMLRT_CHAIN_TAIL", "generic", 1);
    auto m = pmmlrt::Model::load_string(text);
    unsetenv("PMMLRT_CHAIN_TAIL");
    return m;
  };
  auto identical = [](const pmmlrt::Value& a, const pmmlrt::Value& b) {
    if (a.kind() != b.kind() || a.type() != b.type()) return false;
    return a.is_number() ? same_bits(a.number(), b.number()) : a == b;
  };
  for (const std::string name : {"LogisticRegressionBreastCancer", "LogisticRegressionIris", "LinearRegressionDiabetes"}) {
    CAPTURE(name);
    const std::string text =
        pmmlrt_test::slurp(std::string(PMMLRT_SOURCE_DIR "/tests/generated/cases/") + name + "/model.pmml");
    const auto fast = load(text, true), slow = load(text, false);
    const std::size_t cols = fast.input_fields().size(), rows = 301;
    std::mt19937_64 rng(5);
    std::normal_distribution<double> value(0.0, 3.0);
    std::vector<double> x(rows * cols);
    for (auto& v : x) v = rng() % 50 == 0 ? std::nan("") : value(rng);
    for (std::size_t threads : {1, 2}) {
      CAPTURE(threads);
      pmmlrt::BatchOptions o;
      o.on_error = pmmlrt::RowErrorPolicy::Record;
      o.threads = threads;
      const auto a = fast.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o);
      const auto b = slow.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o);
      REQUIRE(a.output_names() == b.output_names());
      for (std::size_t r = 0; r < rows; ++r) {
        CAPTURE(r);
        REQUIRE(a.errors()[r] == b.errors()[r]);
        REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
        REQUIRE(identical(a.predicted_values()[r], b.predicted_values()[r]));
        for (std::size_t c = 0; c < a.classes().size(); ++c) REQUIRE(same_bits(a.probabilities()(r, c), b.probabilities()(r, c)));
        for (const auto& output : a.output_names()) REQUIRE(identical(a.output(output)[r], b.output(output)[r]));
      }
    }
  }
}
