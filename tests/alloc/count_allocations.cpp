// Zero heap allocations per scored record on the latency path (Model::score_into): every global operator new
// in this process is counted, and after a warm-up call per model the count must not move while records are
// scored. Run over every generated case (scikit-learn, XGBoost, LightGBM exports) and a few shared ones.
//
//   pmmlrt_test_allocations <case folder>...     (each holding model.pmml and input.csv)

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "cli/csv.hpp"
#include "pmml/numbers.hpp"
#include "pmmlrt/pmmlrt.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too, so that every allocation and release in this process pairs malloc with free
// (sanitizers check the pairing).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

/// The case's input rows as numbers in input field order: category codes for string fields, NaN for missing.
std::vector<std::vector<double>> numeric_rows(const pmmlrt::Model& m, const std::filesystem::path& csv) {
  std::ifstream in(csv);
  pmmlrt::csv::TableReader table(in);
  std::vector<std::vector<double>> rows;
  std::vector<std::string> row;
  while (table.next(row) && rows.size() < 200) {
    std::vector<double> x;
    for (const auto& f : m.input_fields()) {
      double v = std::nan("");
      if (auto col = table.column(f.name)) {
        const std::string& text = row[*col];
        if (f.data_type == pmmlrt::DataType::String) {
          for (std::size_t i = 0; i < f.values.size(); ++i)
            if (f.values[i] == text) v = double(i);
        } else if (auto n = pmmlrt::numbers::parse_double(text)) {
          v = *n;
        }
      }
      x.push_back(v);
    }
    rows.push_back(std::move(x));
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0, models = 0;
  long records = 0;
  for (int a = 1; a < argc; ++a) {
    std::filesystem::path dir = argv[a];
    auto model = pmmlrt::Model::load_file(dir / "model.pmml");
    auto rows = numeric_rows(model, dir / "input.csv");
    if (rows.empty()) continue;
    std::vector<double> probabilities(model.class_labels().size()), outputs(model.output_fields().size());
    double predicted = 0;
    pmmlrt::RecordOutput out;
    out.predicted = &predicted;
    out.probabilities = probabilities.data();
    out.outputs = outputs.data();
    auto score = [&](const std::vector<double>& x) {
      try {
        model.score_into(x.data(), x.size(), out);
        return true;
      } catch (const pmmlrt::Error&) {
        return false;  // an error message may allocate; such rows are not counted
      }
    };
    // Warm up: every row once (buffers grow to their largest size), then count a second pass.
    for (const auto& x : rows) score(x);
    long counted = 0;
    for (const auto& x : rows) {
      long before = g_allocations.load();
      bool ok = score(x);
      long used = g_allocations.load() - before;
      if (!ok) continue;
      ++counted;
      if (used != 0) {
        std::printf("FAIL %s: %ld heap allocations scoring a record\n", dir.string().c_str(), used);
        ++failures;
        break;
      }
    }
    records += counted;
    ++models;
  }
  std::printf("%d models, %ld records scored through score_into without a heap allocation; %d failures\n", models,
              records, failures);
  return failures || models == 0 ? 1 : 0;
}
