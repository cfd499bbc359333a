// Google Benchmark micro-suite for optimising pmmlrt's scoring paths: single records and small batches over a few
// benchmark models (made by benchmarks/run in build/bench-models).
//
//   build/bench/micro/pmmlrt_micro [--models-dir build/bench-models] [--models a,b] [google benchmark flags]
//   e.g. --benchmark_filter='xgb_binary_dense_100x8' --benchmark_repetitions=5 --benchmark_min_time=0.5
//
// Per model: record/<model> (Model::score(Record), records built beforehand), into/<model> (Model::score_into,
// the allocation-free latency path), batch/<model>/<n> (numeric batch
// path, n rows) with items_per_second = rows/s.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <pmmlrt/pmmlrt.hpp>

#include "common.hpp"

namespace {

struct Case {
  std::string name;
  std::shared_ptr<pmmlrt::Model> model;
  std::shared_ptr<bench::Matrix> x;
  std::vector<std::string> columns;
  std::vector<pmmlrt::Record> records;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

/// meta.json is written by benchmarks/bench/models.py; read the two fields needed without a JSON library.
std::string json_field(const std::string& text, const std::string& key) {
  auto k = text.find("\"" + key + "\"");
  if (k == std::string::npos) return {};
  auto c = text.find(':', k);
  auto b = text.find_first_not_of(" \n", c + 1);
  if (text[b] == '"') return text.substr(b + 1, text.find('"', b + 1) - b - 1);
  if (text[b] == '[') return text.substr(b + 1, text.find(']', b) - b - 1);
  return {};
}

std::vector<Case> load_cases(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  std::vector<Case> cases;
  std::map<std::string, std::shared_ptr<bench::Matrix>> data;
  for (const auto& n : names) {
    auto d = dir / n;
    std::ifstream in(d / "meta.json");
    if (!in) {
      std::cerr << "pmmlrt_micro: no " << (d / "meta.json") << " (run benchmarks/run --quick first); skipping\n";
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string meta = ss.str();
    Case c;
    c.name = n;
    c.model = std::make_shared<pmmlrt::Model>(pmmlrt::Model::load_file(d / "model.pmml"));
    std::string data_path = json_field(meta, "data");
    auto& m = data[data_path];
    if (!m) {
      // The first 100,000 rows are plenty for micro benchmarks.
      auto full = bench::read_matrix(data_path);
      full.rows = std::min<std::size_t>(full.rows, 100000);
      full.data.resize(full.rows * full.cols);
      full.data.shrink_to_fit();
      m = std::make_shared<bench::Matrix>(std::move(full));
    }
    c.x = m;
    for (auto col : split(json_field(meta, "columns"), ',')) {
      auto b = col.find('"'), e = col.rfind('"');
      c.columns.push_back(col.substr(b + 1, e - b - 1));
    }
    for (std::size_t r = 0; r < 4096; ++r) {
      pmmlrt::Record rec;
      for (std::size_t j = 0; j < m->cols; ++j)
        if (!std::isnan(m->row(r)[j])) rec.emplace(c.columns[j], pmmlrt::Value(m->row(r)[j]));
      c.records.push_back(std::move(rec));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = "build/bench-models";
  std::vector<std::string> names{"xgb_binary_dense_100x8", "lgbm_binary_na_100x8", "lgbm_multiclass_cat_100x8",
                                 "skrf_binary_dense_100x8", "logreg_binary_wide_1000f"};
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--models-dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--models" && i + 1 < argc) names = split(argv[++i], ',');
    else rest.push_back(argv[i]);
  }
  int rc = int(rest.size());
  benchmark::Initialize(&rc, rest.data());
  static std::vector<Case> cases = load_cases(dir, names);
  for (auto& c : cases) {
    Case* cp = &c;
    benchmark::RegisterBenchmark(("record/" + c.name).c_str(), [cp](benchmark::State& st) {
      std::size_t i = 0;
      for (auto _ : st) {
        auto r = cp->model->score(cp->records[i++ & 4095]);
        benchmark::DoNotOptimize(r);
      }
      st.SetItemsProcessed(std::int64_t(st.iterations()));
    });
    benchmark::RegisterBenchmark(("into/" + c.name).c_str(), [cp](benchmark::State& st) {
      // Model::score_into over the matrix rows (columns are in input order when the names match).
      const auto& fields = cp->model->input_fields();
      std::vector<std::size_t> col_of(fields.size(), 0);
      for (std::size_t f = 0; f < fields.size(); ++f)
        for (std::size_t j = 0; j < cp->columns.size(); ++j)
          if (cp->columns[j] == fields[f].name) col_of[f] = j;
      std::vector<double> x(4096 * fields.size());
      for (std::size_t r = 0; r < 4096; ++r)
        for (std::size_t f = 0; f < fields.size(); ++f) x[r * fields.size() + f] = cp->x->row(r)[col_of[f]];
      std::vector<double> probs(cp->model->class_labels().size()), outs(cp->model->output_fields().size());
      double predicted = 0;
      pmmlrt::RecordOutput out;
      out.predicted = &predicted;
      out.probabilities = probs.data();
      out.outputs = outs.data();
      std::size_t i = 0;
      for (auto _ : st) {
        cp->model->score_into(x.data() + (i++ & 4095) * fields.size(), fields.size(), out);
        benchmark::DoNotOptimize(predicted);
      }
      st.SetItemsProcessed(std::int64_t(st.iterations()));
    });
    for (std::size_t n : {1, 16, 256, 4096}) {
      benchmark::RegisterBenchmark(("batch/" + c.name + "/" + std::to_string(n)).c_str(), [cp, n](benchmark::State& st) {
        std::size_t start = 0;
        for (auto _ : st) {
          if (start + n > cp->x->rows) start = 0;
          auto r = cp->model->score(cp->x->row(start), n, cp->x->cols, pmmlrt::Layout::RowMajor, cp->columns);
          benchmark::DoNotOptimize(r);
          start += n;
        }
        st.SetItemsProcessed(std::int64_t(st.iterations() * n));
      });
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
