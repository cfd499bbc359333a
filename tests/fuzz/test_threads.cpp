// One shared Model scored from several threads at once must give exactly the serial results. Built plain
// (ctest `threads`) and under ThreadSanitizer by scripts/sanitize.
//
//   pmmlrt_test_threads [ROOT] [--threads N] [--rounds N]
//
// Models: RandomForestBreastCancer and LightGBMLoanCat from tests/generated/cases (forests; the second with
// string categoricals and missing values) and the bundled iris example, each over its own input.csv.

#include <pmmlrt/pmmlrt.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/csv.hpp"

#ifndef PMMLRT_SOURCE_DIR
#define PMMLRT_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;

namespace {

struct Row {
  pmmlrt::Value predicted;
  std::vector<double> probabilities;
  std::vector<pmmlrt::Value> outputs;
  std::string error;
  bool operator==(const Row& o) const {
    if (!(predicted == o.predicted) || error != o.error || outputs != o.outputs) return false;
    if (probabilities.size() != o.probabilities.size()) return false;
    for (std::size_t i = 0; i < probabilities.size(); ++i)
      if (!(probabilities[i] == o.probabilities[i] || (std::isnan(probabilities[i]) && std::isnan(o.probabilities[i]))))
        return false;
    return true;
  }
};

struct Workload {
  std::string name;
  pmmlrt::Model model;
  std::vector<pmmlrt::Record> records;
  std::vector<std::string> columns;
  std::vector<std::vector<pmmlrt::Value>> cells;  // column-wise, for the Value batch
  std::vector<double> matrix;                      // row-major numeric batch (only for all-continuous inputs)
};

Row score_one(const pmmlrt::Model& m, const pmmlrt::Record& r) {
  Row row;
  try {
    pmmlrt::Result res = m.score(r);
    row.predicted = res.predicted();
    row.probabilities = res.probabilities();
    for (const auto& o : res.outputs()) row.outputs.push_back(o.value);
  } catch (const pmmlrt::Error& e) {
    row.error = e.what();
  }
  return row;
}

std::vector<Row> score_batch(const Workload& w) {
  pmmlrt::BatchOptions o;
  o.on_error = pmmlrt::RowErrorPolicy::Record;
  pmmlrt::BatchResult b = w.model.score(w.columns, w.cells, o);
  std::vector<Row> rows(b.rows());
  for (std::size_t r = 0; r < b.rows(); ++r) {
    rows[r].predicted = b.predicted_values()[r];
    for (std::size_t c = 0; c < b.classes().size(); ++c) rows[r].probabilities.push_back(b.probabilities()(r, c));
    for (const auto& name : b.output_names()) rows[r].outputs.push_back(b.output(name)[r]);
    rows[r].error = b.errors()[r];
  }
  return rows;
}

std::vector<double> score_matrix(const Workload& w) {
  if (w.matrix.empty()) return {};
  auto b = w.model.score(w.matrix.data(), w.records.size(), w.model.input_fields().size(), pmmlrt::Layout::RowMajor);
  std::vector<double> out(b.predicted().begin(), b.predicted().end());
  for (double p : b.probabilities()) out.push_back(p);
  return out;
}

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

Workload load(const fs::path& dir, const std::string& model_file, const std::string& input_file) {
  Workload w{dir.filename().string(), pmmlrt::Model::load_file(dir / model_file), {}, {}, {}, {}};
  auto table = pmmlrt::csv::read_table_file(dir / input_file);
  w.columns = table.header;
  w.cells.assign(w.columns.size(), {});
  for (const auto& r : table.rows) {
    pmmlrt::Record rec;
    for (std::size_t j = 0; j < r.size(); ++j) {
      pmmlrt::Value v = (r[j].empty() || r[j] == "N/A" || r[j] == "NA") ? pmmlrt::Value() : pmmlrt::Value(r[j]);
      if (!v.is_missing()) rec[w.columns[j]] = v;
      w.cells[j].push_back(v);
    }
    w.records.push_back(std::move(rec));
  }
  bool continuous = true;
  for (const auto& f : w.model.input_fields()) continuous = continuous && f.op_type == pmmlrt::OpType::Continuous;
  if (continuous) {
    for (const auto& rec : w.records)
      for (const auto& f : w.model.input_fields()) {
        auto it = rec.find(f.name);
        w.matrix.push_back(it == rec.end() ? std::nan("") : std::strtod(it->second.text().c_str(), nullptr));
      }
  }
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path root = PMMLRT_SOURCE_DIR;
  unsigned threads = 4, rounds = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = unsigned(std::stoul(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc) rounds = unsigned(std::stoul(argv[++i]));
    else root = a;
  }
  std::vector<Workload> work;
  try {
    work.push_back(load(root / "tests/generated/cases/RandomForestBreastCancer", "model.pmml", "input.csv"));
    work.push_back(load(root / "tests/generated/cases/LightGBMLoanCat", "model.pmml", "input.csv"));
    work.push_back(load(root / "examples/models", "iris_forest.pmml", "iris.csv"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot load the workloads: %s\n", e.what());
    return 2;
  }

  // The serial reference.
  std::vector<std::vector<Row>> serial(work.size());
  std::vector<std::vector<Row>> serial_batch(work.size());
  std::vector<std::vector<double>> serial_matrix(work.size());
  for (std::size_t k = 0; k < work.size(); ++k) {
    for (const auto& r : work[k].records) serial[k].push_back(score_one(work[k].model, r));
    serial_batch[k] = score_batch(work[k]);
    serial_matrix[k] = score_matrix(work[k]);
    std::size_t errors = 0;
    for (const auto& r : serial[k]) errors += !r.error.empty();
    std::printf("%s: %zu rows (%zu row errors), serial results taken\n", work[k].name.c_str(), serial[k].size(), errors);
    if (errors == serial[k].size()) {
      std::fprintf(stderr, "%s: every row fails; the test would prove nothing\n", work[k].name.c_str());
      return 1;
    }
    if (!(serial_batch[k] == serial[k])) {
      std::fprintf(stderr, "%s: the Value batch differs from single records\n", work[k].name.c_str());
      return 1;
    }
  }

  // All threads start together and score every workload, each thread in its own order and mixing the APIs.
  std::atomic<unsigned> ready{0};
  std::atomic<std::size_t> mismatches{0}, checks{0};
  auto worker = [&](unsigned id) {
    ready.fetch_add(1);
    while (ready.load() < threads) std::this_thread::yield();
    for (unsigned round = 0; round < rounds; ++round)
      for (std::size_t i = 0; i < work.size(); ++i) {
        std::size_t k = (i + id + round) % work.size();
        const Workload& w = work[k];
        switch ((id + round) % 3) {
          case 0:
            for (std::size_t r = 0; r < w.records.size(); ++r) {
              std::size_t rr = (r * 7 + id) % w.records.size();
              if (!(score_one(w.model, w.records[rr]) == serial[k][rr])) mismatches.fetch_add(1);
              checks.fetch_add(1);
            }
            break;
          case 1:
            if (!(score_batch(w) == serial_batch[k])) mismatches.fetch_add(1);
            checks.fetch_add(1);
            break;
          default:
            if (!same(score_matrix(w), serial_matrix[k])) mismatches.fetch_add(1);
            checks.fetch_add(1);
        }
      }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& t : pool) t.join();
  std::printf("%u threads x %u rounds: %zu comparisons, %zu mismatches\n", threads, rounds, checks.load(),
              mismatches.load());

  // One batch split across the model's own threads (BatchOptions::threads) equals the single-thread batch.
  std::size_t split_mismatches = 0;
  for (const auto& w : work) {
    if (w.matrix.empty()) continue;
    const std::size_t cols = w.model.input_fields().size();
    std::vector<double> big;
    while (big.size() / cols < 2000) big.insert(big.end(), w.matrix.begin(), w.matrix.end());
    const std::size_t rows = big.size() / cols;
    pmmlrt::BatchOptions one, many;
    one.on_error = many.on_error = pmmlrt::RowErrorPolicy::Record;
    many.threads = threads;
    auto a = w.model.score(big.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, one);
    auto b = w.model.score(big.data(), rows, cols, pmmlrt::Layout::RowMajor, {}, many);
    std::vector<double> x(a.predicted().begin(), a.predicted().end()), y(b.predicted().begin(), b.predicted().end());
    for (double p : a.probabilities()) x.push_back(p);
    for (double p : b.probabilities()) y.push_back(p);
    if (!same(x, y) || a.errors() != b.errors()) ++split_mismatches;
    std::printf("%s: %zu rows on %u batch threads %s\n", w.name.c_str(), rows, threads,
                same(x, y) ? "equal the single-thread batch" : "DIFFER");
  }
  return mismatches.load() == 0 && split_mismatches == 0 ? 0 : 1;
}
