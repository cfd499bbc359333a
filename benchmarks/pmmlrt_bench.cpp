// pmmlrt_bench: the pmmlrt side of the benchmark harness (benchmarks/run).
//
// Loads one PMML document, reads a numeric matrix (benchmarks' .f64 format, see common.hpp), and measures, single
// thread:
//   - model load time (median of --load-repeats loads) and the resident memory the loaded model keeps;
//   - rows/s through the numeric batch path (Model::score(const double*, ...)) for each --batches size;
//   - single-record latency p50/p99 through Model::score(Record), the numeric batch path with one row,
//     Model::score_into and the C ABI's pmmlrt_score_one (the same model loaded through libpmmlrt_c);
//   - agreement with the training library's own predictions (--expected): max abs and max ulp difference.
// Prints one JSON object on stdout.
//
// `pmmlrt_bench --load-only --model M.pmml` loads once in a fresh process and reports peak RSS (VmHWM) and retained
// RSS around the load, for the footprint figures. `--load-threads N` loads with LoadOptions::threads = N (default 1).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pmmlrt/pmmlrt.hpp>
#if PMMLRT_BENCH_CAPI
#include <pmmlrt.h>
#endif

#include "common.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Matrix;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// CPU time of the whole process: on a loaded, shared machine it is far steadier than wall time for
/// single-threaded work (time spent descheduled is not counted).
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Args {
  std::string model, data, expected, precision = "double";
  std::vector<std::string> columns;
  std::vector<std::size_t> batches{1, 1000, 1000000};
  double min_time = 1.0;  // seconds per repeat (at least one call)
  int repeats = 5;
  int load_repeats = 3;
  std::size_t load_threads = 1;  // LoadOptions::threads
  std::size_t latency_records = 5000;
  std::size_t check_rows = 10000;
  double large_target_s = 0;  // > 0: cap batches over 1,000 rows at what takes about this long at the 1,000-row rate
  bool load_only = false;
  bool stream = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + k);
      return argv[++i];
    };
    if (k == "--model") a.model = next();
    else if (k == "--data") a.data = next();
    else if (k == "--expected") a.expected = next();
    else if (k == "--precision") a.precision = next();
    else if (k == "--columns") a.columns = split(next(), ',');
    else if (k == "--batches") {
      a.batches.clear();
      for (auto& b : split(next(), ',')) a.batches.push_back(std::stoull(b));
    } else if (k == "--min-time") a.min_time = std::stod(next());
    else if (k == "--repeats") a.repeats = std::stoi(next());
    else if (k == "--load-repeats") a.load_repeats = std::stoi(next());
    else if (k == "--load-threads") a.load_threads = std::stoull(next());
    else if (k == "--latency-records") a.latency_records = std::stoull(next());
    else if (k == "--check-rows") a.check_rows = std::stoull(next());
    else if (k == "--large-target-s") a.large_target_s = std::stod(next());
    else if (k == "--load-only") a.load_only = true;
    else if (k == "--stream") a.stream = true;
    else throw std::runtime_error("unknown argument " + k);
  }
  if (a.model.empty() && !a.stream) throw std::runtime_error("--model is required");
  return a;
}

/// The model's numbers for a batch: probabilities (rows x classes) for classification, the predicted value for
/// regression; row-major.
std::vector<double> outputs_of(const pmmlrt::Model& m, const pmmlrt::BatchResult& r) {
  std::vector<double> out;
  if (m.function() == pmmlrt::MiningFunction::Classification) {
    const auto& p = r.probabilities();
    out.assign(p.begin(), p.end());
  } else {
    const auto& p = r.predicted();
    out.assign(p.begin(), p.end());
  }
  return out;
}

std::vector<double> outputs_of(const pmmlrt::Model& m, const pmmlrt::Result& r) {
  if (m.function() == pmmlrt::MiningFunction::Classification) return r.probabilities();
  const auto& v = r.predicted();
  return {v.is_missing() ? std::nan("") : v.number()};
}

double ulp_at(double x, bool single) {
  if (single) {
    float f = float(std::fabs(x));
    return double(std::nextafter(f, std::numeric_limits<float>::infinity()) - f);
  }
  double d = std::fabs(x);
  return std::nextafter(d, std::numeric_limits<double>::infinity()) - d;
}

struct Diff {
  double max_abs = 0, max_ulp = 0;
  std::size_t compared = 0, mismatched = 0, nan_mismatch = 0;
};

void compare(Diff& d, const std::vector<double>& got, const double* want, std::size_t n, bool single) {
  for (std::size_t i = 0; i < n; ++i) {
    double g = got[i], w = want[i];
    ++d.compared;
    if (std::isnan(g) || std::isnan(w)) {
      if (std::isnan(g) != std::isnan(w)) ++d.nan_mismatch;
      continue;
    }
    double a = std::fabs(g - w);
    if (a > 0) ++d.mismatched;
    d.max_abs = std::max(d.max_abs, a);
    d.max_ulp = std::max(d.max_ulp, a / ulp_at(w, single));
  }
}

struct RateStats {
  std::size_t batch = 0;
  double median_rows_per_s = 0, min_rows_per_s = 0, max_rows_per_s = 0;  // wall clock
  double median_rows_per_cpu_s = 0;                                       // process CPU time
  std::size_t calls = 0;
};

/// Rows/s for calls of `batch` rows, cycling through the matrix; median over repeats of at least min_time each.
template <class Call>
RateStats measure_rate(std::size_t batch, std::size_t rows, int repeats, double min_time, Call&& call) {
  RateStats s;
  s.batch = batch;
  std::vector<double> rates, cpu_rates;
  std::size_t start = 0;
  call(0, std::min(batch, rows));  // warm up
  for (int r = 0; r < repeats; ++r) {
    std::size_t done = 0;
    auto t0 = Clock::now();
    double c0 = cpu_seconds();
    double t = 0;
    do {
      if (start + batch > rows) start = 0;
      call(start, batch);
      start += batch;
      done += batch;
      ++s.calls;
      t = seconds_since(t0);
    } while (t < min_time);
    rates.push_back(double(done) / t);
    cpu_rates.push_back(double(done) / std::max(1e-9, cpu_seconds() - c0));
  }
  std::sort(cpu_rates.begin(), cpu_rates.end());
  s.median_rows_per_cpu_s = cpu_rates[cpu_rates.size() / 2];
  std::sort(rates.begin(), rates.end());
  s.median_rows_per_s = rates[rates.size() / 2];
  s.min_rows_per_s = rates.front();
  s.max_rows_per_s = rates.back();
  return s;
}

struct Latency {
  double p50_us = 0, p99_us = 0, mean_us = 0;
  std::size_t n = 0;
};

template <class Call>
Latency measure_latency(std::size_t n, Call&& call) {
  std::vector<double> t(n);
  for (std::size_t i = 0; i < std::min<std::size_t>(n, 200); ++i) call(i);  // warm up
  for (std::size_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    call(i);
    t[i] = seconds_since(t0) * 1e6;
  }
  Latency l;
  l.n = n;
  for (double x : t) l.mean_us += x / double(n);
  std::sort(t.begin(), t.end());
  l.p50_us = t[n / 2];
  l.p99_us = t[std::min(n - 1, std::size_t(double(n) * 0.99))];
  return l;
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o + "\"";
}

std::string num(double x) {
  if (!std::isfinite(x)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/// A STREAM-like read bandwidth figure, single thread: sum of a 512 MiB array of doubles (best of 5), bytes/s.
double stream_read_bandwidth() {
  std::vector<double> a(std::size_t(64) << 20, 1.0);
  double best = 0;
  volatile double sink = 0;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i < a.size(); i += 4) {
      s0 += a[i];
      s1 += a[i + 1];
      s2 += a[i + 2];
      s3 += a[i + 3];
    }
    sink = sink + s0 + s1 + s2 + s3;
    best = std::max(best, double(a.size() * sizeof(double)) / seconds_since(t0));
  }
  return best;
}

pmmlrt::LoadOptions load_options(const Args& a) {
  pmmlrt::LoadOptions options;
  options.threads = a.load_threads;
  return options;
}

int run_load_only(const Args& a) {
  auto before = bench::read_rss();
  auto t0 = Clock::now();
  auto model = pmmlrt::Model::load_file(a.model, load_options(a));
  double load_s = seconds_since(t0);
  auto after = bench::read_rss();
  std::cout << "{\"load_s\": " << num(load_s) << ", \"rss_before_bytes\": " << before.rss
            << ", \"rss_after_bytes\": " << after.rss << ", \"peak_rss_bytes\": " << after.hwm
            << ", \"retained_bytes\": " << (after.rss - before.rss)
            << ", \"peak_delta_bytes\": " << (after.hwm - before.rss) << ", \"model_type\": " << json_str(model.model_type())
            << "}\n";
  return 0;
}

int run(const Args& a) {
  // Load time: median over load_repeats (the last model is kept).
  std::vector<double> loads;
  std::optional<pmmlrt::Model> model;
  for (int i = 0; i < std::max(1, a.load_repeats); ++i) {
    model.reset();
    auto t0 = Clock::now();
    model.emplace(pmmlrt::Model::load_file(a.model, load_options(a)));
    loads.push_back(seconds_since(t0));
  }
  std::sort(loads.begin(), loads.end());
  const pmmlrt::Model& m = *model;

  Matrix X = bench::read_matrix(a.data);
  std::vector<std::string> columns = a.columns;
  if (!columns.empty() && columns.size() != X.cols)
    throw std::runtime_error("--columns names " + std::to_string(columns.size()) + " columns, the matrix has " +
                             std::to_string(X.cols));
  const bool single = a.precision == "float";
  const bool classification = m.function() == pmmlrt::MiningFunction::Classification;
  const std::size_t width = classification ? m.class_labels().size() : 1;

  // Correctness first: batch path vs the native predictions, record path vs the batch path.
  Diff native_diff, record_diff;
  std::size_t check = 0;
  if (!a.expected.empty()) {
    Matrix E = bench::read_matrix(a.expected);
    if (E.cols != width)
      throw std::runtime_error("expected matrix has " + std::to_string(E.cols) + " columns, the model gives " +
                               std::to_string(width));
    check = std::min({a.check_rows, E.rows, X.rows});
    for (std::size_t start = 0; start < check; start += 10000) {
      std::size_t n = std::min<std::size_t>(10000, check - start);
      auto r = m.score(X.row(start), n, X.cols, pmmlrt::Layout::RowMajor, columns);
      compare(native_diff, outputs_of(m, r), E.row(start), n * width, single);
    }
  }
  const auto& names = columns.empty() ? std::vector<std::string>() : columns;
  std::vector<std::string> field_names;
  if (names.empty())
    for (auto& f : m.input_fields()) field_names.push_back(f.name);
  const auto& rec_names = names.empty() ? field_names : names;
  auto make_record = [&](std::size_t row) {
    pmmlrt::Record rec;
    const double* x = X.row(row);
    for (std::size_t j = 0; j < X.cols; ++j)
      if (!std::isnan(x[j])) rec.emplace(rec_names[j], pmmlrt::Value(x[j]));
    return rec;
  };
  const std::size_t nrec = std::min(a.latency_records, X.rows);
  std::vector<pmmlrt::Record> records;
  records.reserve(nrec);
  for (std::size_t i = 0; i < nrec; ++i) records.push_back(make_record(i));
  {
    std::size_t n = std::min<std::size_t>(nrec, 2000);
    auto r = m.score(X.row(0), n, X.cols, pmmlrt::Layout::RowMajor, columns);
    auto batch_out = outputs_of(m, r);
    for (std::size_t i = 0; i < n; ++i) {
      auto got = outputs_of(m, m.score(records[i]));
      if (got.size() != width) got.assign(width, std::nan(""));
      compare(record_diff, got, batch_out.data() + i * width, width, false);
    }
  }

  // Throughput.
  volatile double sink = 0;
  std::vector<RateStats> rates;
  double rate_1000 = 0;
  for (std::size_t b : a.batches) {
    std::size_t batch = std::min(b, X.rows);
    if (batch > 1000 && a.large_target_s > 0 && rate_1000 > 0) {
      auto cap = std::size_t(rate_1000 * a.large_target_s);
      cap = cap >= 100000 ? cap / 100000 * 100000 : std::max<std::size_t>(10000, cap / 10000 * 10000);
      batch = std::min(batch, cap);
    }
    rates.push_back(measure_rate(batch, X.rows, a.repeats, a.min_time, [&](std::size_t start, std::size_t n) {
      auto r = m.score(X.row(start), n, X.cols, pmmlrt::Layout::RowMajor, columns);
      sink = sink + r.predicted()(0);
    }));
    rates.back().batch = batch;
    if (batch == 1000) rate_1000 = rates.back().median_rows_per_s;
  }
  // The largest batch again on every hardware thread (BatchOptions::threads = 0): wall-clock rows/s.
  RateStats all_threads;
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  if (!rates.empty()) {
    pmmlrt::BatchOptions every;
    every.threads = 0;
    all_threads = measure_rate(rates.back().batch, X.rows, a.repeats, a.min_time, [&](std::size_t start, std::size_t n) {
      auto r = m.score(X.row(start), n, X.cols, pmmlrt::Layout::RowMajor, columns, every);
      sink = sink + r.predicted()(0);
    });
  }
  // The largest batch again from a float32 copy of the matrix (the cells ONNX Runtime reads), single thread.
  RateStats float_input;
  if (!rates.empty()) {
    const std::vector<float> xf(X.data.begin(), X.data.end());
    float_input = measure_rate(rates.back().batch, X.rows, a.repeats, a.min_time, [&](std::size_t start, std::size_t n) {
      auto r = m.score(xf.data() + start * X.cols, n, X.cols, pmmlrt::Layout::RowMajor, columns);
      sink = sink + r.predicted()(0);
    });
  }
  // Latency.
  Latency rec_lat = measure_latency(nrec, [&](std::size_t i) {
    auto r = m.score(records[i]);
    sink = sink + double(r.probabilities().size());
  });
  Latency batch1_lat = measure_latency(nrec, [&](std::size_t i) {
    auto r = m.score(X.row(i), 1, X.cols, pmmlrt::Layout::RowMajor, columns);
    sink = sink + r.predicted()(0);
  });
  // The latency path: numbers in input order straight into caller memory (Model::score_into).
  std::vector<double> in_order(nrec * m.input_fields().size(), std::nan(""));
  for (std::size_t i = 0; i < nrec; ++i)
    for (std::size_t f = 0; f < m.input_fields().size(); ++f)
      for (std::size_t c = 0; c < columns.size(); ++c)
        if (columns[c] == m.input_fields()[f].name) in_order[i * m.input_fields().size() + f] = X.row(i)[c];
  std::vector<double> probs(m.class_labels().size()), outs(m.output_fields().size());
  double predicted = 0;
  pmmlrt::RecordOutput into;
  into.predicted = &predicted;
  into.probabilities = probs.data();
  into.outputs = outs.data();
  Latency numeric_lat = measure_latency(nrec, [&](std::size_t i) {
    m.score_into(in_order.data() + i * m.input_fields().size(), m.input_fields().size(), into);
    sink = sink + predicted;
  });
  // The same numbers through the C ABI, as a host application in C (or any FFI) would call it.
#if PMMLRT_BENCH_CAPI
  pmmlrt_model* c_model = nullptr;
  if (pmmlrt_model_load_file(a.model.c_str(), nullptr, &c_model) != PMMLRT_OK)
    throw std::runtime_error(std::string("pmmlrt_model_load_file: ") + pmmlrt_last_error());
  const std::size_t n_inputs = m.input_fields().size();
  double c_predicted = 0;
  Latency capi_lat = measure_latency(nrec, [&](std::size_t i) {
    if (pmmlrt_score_one(c_model, in_order.data() + i * n_inputs, n_inputs, &c_predicted, probs.data(), probs.size(),
                         outs.data(), outs.size()) != PMMLRT_OK)
      throw std::runtime_error(std::string("pmmlrt_score_one: ") + pmmlrt_last_error());
    sink = sink + c_predicted;
  });
  pmmlrt_model_release(c_model);
#endif

  std::ostringstream o;
  o << "{\"engine\": \"pmmlrt\", \"model_type\": " << json_str(m.model_type()) << ", \"load_s_median\": "
    << num(loads[loads.size() / 2]) << ", \"load_s_min\": " << num(loads.front()) << ", \"rows\": " << X.rows
    << ", \"cols\": " << X.cols << ", \"inputs\": " << m.input_fields().size() << ", \"width\": " << width;
  o << ", \"check\": {\"rows\": " << check << ", \"max_abs\": " << num(native_diff.max_abs)
    << ", \"max_ulp\": " << num(native_diff.max_ulp) << ", \"ulp_of\": \"" << (single ? "float" : "double")
    << "\", \"values_compared\": " << native_diff.compared << ", \"values_differing\": " << native_diff.mismatched
    << ", \"nan_mismatch\": " << native_diff.nan_mismatch << "}";
  o << ", \"record_vs_batch\": {\"max_abs\": " << num(record_diff.max_abs) << ", \"values_compared\": "
    << record_diff.compared << ", \"nan_mismatch\": " << record_diff.nan_mismatch << "}";
  o << ", \"throughput\": [";
  for (std::size_t i = 0; i < rates.size(); ++i) {
    const auto& r = rates[i];
    o << (i ? ", " : "") << "{\"batch\": " << r.batch << ", \"rows_per_s\": " << num(r.median_rows_per_s)
      << ", \"rows_per_cpu_s\": " << num(r.median_rows_per_cpu_s)
      << ", \"rows_per_s_min\": " << num(r.min_rows_per_s) << ", \"rows_per_s_max\": " << num(r.max_rows_per_s)
      << ", \"calls\": " << r.calls << "}";
  }
  o << "], \"all_threads\": {\"threads\": " << hw_threads << ", \"batch\": " << all_threads.batch
    << ", \"rows_per_s\": " << num(all_threads.median_rows_per_s) << "}";
  o << ", \"float_input\": {\"batch\": " << float_input.batch << ", \"rows_per_s\": "
    << num(float_input.median_rows_per_s) << ", \"rows_per_cpu_s\": " << num(float_input.median_rows_per_cpu_s) << "}";
  o << ", \"latency\": {\"record\": {\"p50_us\": " << num(rec_lat.p50_us) << ", \"p99_us\": " << num(rec_lat.p99_us)
    << ", \"mean_us\": " << num(rec_lat.mean_us) << ", \"n\": " << rec_lat.n << "}, \"batch1\": {\"p50_us\": "
    << num(batch1_lat.p50_us) << ", \"p99_us\": " << num(batch1_lat.p99_us) << ", \"mean_us\": " << num(batch1_lat.mean_us)
    << ", \"n\": " << batch1_lat.n << "}, \"numeric\": {\"p50_us\": " << num(numeric_lat.p50_us)
    << ", \"p99_us\": " << num(numeric_lat.p99_us) << ", \"mean_us\": " << num(numeric_lat.mean_us)
    << ", \"n\": " << numeric_lat.n << "}";
#if PMMLRT_BENCH_CAPI
  o << ", \"capi\": {\"p50_us\": " << num(capi_lat.p50_us) << ", \"p99_us\": " << num(capi_lat.p99_us)
    << ", \"mean_us\": " << num(capi_lat.mean_us) << ", \"n\": " << capi_lat.n << "}";
#endif
  o << "}";
  o << "}\n";
  std::cout << o.str();
  return sink == 12345.678 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    if (a.stream) {
      std::cout << "{\"stream_read_bytes_per_s\": " << num(stream_read_bandwidth()) << "}\n";
      return 0;
    }
    return a.load_only ? run_load_only(a) : run(a);
  } catch (const std::exception& e) {
    std::cerr << "pmmlrt_bench: " << e.what() << "\n";
    return 1;
  }
}
