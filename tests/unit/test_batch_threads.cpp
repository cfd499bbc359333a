// BatchOptions::threads splits a batch across threads: every thread count must give the single-thread
// results bit for bit, and under RowErrorPolicy::Throw the same (first failing row's) error.

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt_test::same_bits;

std::string first_error(const pmmlrt::Model& m, const std::vector<double>& x, std::size_t rows, std::size_t threads) {
  pmmlrt::BatchOptions o;
  o.threads = threads;
  try {
    m.score(x.data(), rows, m.input_fields().size(), pmmlrt::Layout::RowMajor, {}, o);
  } catch (const pmmlrt::Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a batch split across threads gives the single-thread results") {
  for (const char* name : {"XGBoostWine", "RandomForestBreastCancer", "LightGBMLoanNA", "LogisticRegressionIris"}) {
    CAPTURE(name);
    auto m = pmmlrt::Model::load_file(std::string(PMMLRT_SOURCE_DIR "/tests/generated/cases/") + name + "/model.pmml");
    const std::size_t cols = m.input_fields().size(), rows = 3001;
    std::mt19937_64 rng(7);
    std::normal_distribution<double> value(0.0, 3.0);
    std::vector<double> x(rows * cols);
    for (auto& v : x) v = (rng() % 17 == 0) ? std::nan("") : value(rng);
    pmmlrt::BatchOptions base;
    base.on_error = pmmlrt::RowErrorPolicy::Record;
    auto one = m.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, base);
    for (std::size_t threads : {2, 3, 7, 0}) {
      CAPTURE(threads);
      pmmlrt::BatchOptions o = base;
      o.threads = threads;
      auto many = m.score(x.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, o);
      REQUIRE(many.rows() == rows);
      for (std::size_t r = 0; r < rows; ++r) {
        REQUIRE(same_bits(one.predicted()(r), many.predicted()(r)));
        for (std::size_t c = 0; c < one.classes().size(); ++c)
          REQUIRE(same_bits(one.probabilities()(r, c), many.probabilities()(r, c)));
        REQUIRE(one.errors()[r] == many.errors()[r]);
        REQUIRE(one.predicted_values()[r] == many.predicted_values()[r]);
      }
    }
  }
}

TEST_CASE("under RowErrorPolicy::Throw a split batch throws the first failing row's error") {
  // Invalid category codes (an InputError under the default invalidValueTreatment) in two threads' ranges.
  auto m = pmmlrt::Model::load_file(PMMLRT_SOURCE_DIR "/tests/generated/cases/PipelineLogisticLoan/model.pmml");
  const std::size_t cols = m.input_fields().size(), rows = 2000;
  std::vector<double> x(rows * cols, 1.0);
  std::size_t categorical = cols;
  for (std::size_t c = 0; c < cols; ++c)
    if (!m.input_fields()[c].values.empty()) categorical = c;
  REQUIRE(categorical < cols);
  REQUIRE(first_error(m, x, rows, 1).empty());
  x[1500 * cols + categorical] = 99;
  x[400 * cols + categorical] = 98;
  const std::string serial = first_error(m, x, rows, 1);
  REQUIRE(serial.find("98") != std::string::npos);
  for (std::size_t threads : {2, 4, 0}) REQUIRE(first_error(m, x, rows, threads) == serial);
}
