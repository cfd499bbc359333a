#pragma once
// Helpers shared by the unit tests that compare a fast path with the generic one.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "pmmlrt/pmmlrt.hpp"

namespace pmmlrt_test {

/// Load options that compile on `threads` threads.
inline pmmlrt::LoadOptions on_threads(std::size_t threads) {
  pmmlrt::LoadOptions o;
  o.threads = threads;
  return o;
}

/// The same double to the bit; any two NaNs count as the same.
inline bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

/// Two Values the same to the bit (any two NaNs alike).
inline bool same_value(const pmmlrt::Value& x, const pmmlrt::Value& y) {
  if (x.kind() != y.kind()) return false;
  return x.is_number() ? same_bits(x.number(), y.number()) : x == y;
}

/// Two batch results the same to the bit, row by row: errors, predictions, probabilities, predicted
/// values and every output.
inline void require_same_batches(const pmmlrt::BatchResult& a, const pmmlrt::BatchResult& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.output_names() == b.output_names());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    CAPTURE(r);
    REQUIRE(a.errors().empty() == b.errors().empty());
    if (!a.errors().empty()) REQUIRE(a.errors()[r] == b.errors()[r]);
    REQUIRE(same_bits(a.predicted()(r), b.predicted()(r)));
    for (std::size_t c = 0; c < a.classes().size(); ++c) REQUIRE(same_bits(a.probabilities()(r, c), b.probabilities()(r, c)));
    REQUIRE(same_value(a.predicted_values()[r], b.predicted_values()[r]));
    for (const auto& name : a.output_names()) {
      CAPTURE(name);
      REQUIRE(same_value(a.output(name)[r], b.output(name)[r]));
    }
  }
}

/// score_into for the record `x` (cols cells) on two models: the same error, or the same prediction,
/// probabilities and outputs to the bit.
inline void require_same_score_into(const pmmlrt::Model& a, const pmmlrt::Model& b, const double* x, std::size_t cols) {
  const std::size_t k = a.class_labels().size(), no = a.output_fields().size();
  auto run = [&](const pmmlrt::Model& m, std::vector<double>& buf) {
    pmmlrt::RecordOutput out;
    out.predicted = buf.data();
    out.probabilities = buf.data() + 1;
    out.outputs = buf.data() + 1 + k;
    try {
      m.score_into(x, cols, out);
      return std::string();
    } catch (const pmmlrt::Error& e) {
      return std::string(e.what());
    }
  };
  std::vector<double> pa(1 + k + no, -1.0), pb(1 + k + no, -1.0);
  REQUIRE(run(a, pa) == run(b, pb));
  for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(same_bits(pa[i], pb[i]));
}

/// Model::score(Record) for the record of `x` (cols cells, named as the input fields; a NaN cell is left
/// out, or, with nan_as_number, given as a NaN number) on two models: the same error, or the same targets,
/// probabilities, confidences and outputs, names, kinds and types included, to the bit.
inline void require_same_record(const pmmlrt::Model& a, const pmmlrt::Model& b, const double* x, std::size_t cols,
                                bool nan_as_number = false) {
  pmmlrt::Record record;
  for (std::size_t c = 0; c < cols; ++c)
    if (nan_as_number || !std::isnan(x[c])) record.emplace(a.input_fields()[c].name, pmmlrt::Value(x[c]));
  auto run = [&](const pmmlrt::Model& m, std::optional<pmmlrt::Result>& r) {
    try {
      r.emplace(m.score(record));
      return std::string();
    } catch (const pmmlrt::Error& e) {
      return std::string(e.what());
    }
  };
  std::optional<pmmlrt::Result> ra, rb;
  REQUIRE(run(a, ra) == run(b, rb));
  if (!ra) return;
  auto same_named = [](const std::vector<pmmlrt::NamedValue>& p, const std::vector<pmmlrt::NamedValue>& q) {
    REQUIRE(p.size() == q.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      CAPTURE(p[i].name);
      REQUIRE(p[i].name == q[i].name);
      REQUIRE(p[i].value.type() == q[i].value.type());
      REQUIRE(same_value(p[i].value, q[i].value));
    }
  };
  same_named(ra->targets(), rb->targets());
  same_named(ra->outputs(), rb->outputs());
  REQUIRE(ra->classes() == rb->classes());
  auto same_numbers = [](const std::vector<double>& p, const std::vector<double>& q) {
    REQUIRE(p.size() == q.size());
    for (std::size_t i = 0; i < p.size(); ++i) REQUIRE(same_bits(p[i], q[i]));
  };
  same_numbers(ra->probabilities(), rb->probabilities());
  same_numbers(ra->confidences(), rb->confidences());
}

/// Every model.pmml of the generated cases and the conformance corpus, sorted.
inline std::vector<std::filesystem::path> corpus_models() {
  std::vector<std::filesystem::path> models;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!std::filesystem::is_directory(root)) continue;
    for (auto& p : std::filesystem::recursive_directory_iterator(root))
      if (p.path().filename() == "model.pmml") models.push_back(p.path());
  }
  std::sort(models.begin(), models.end());
  return models;
}

/// A whole file as text.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pmmlrt_test
