// Shared helpers of the benchmark programs: the .f64 matrix format and resident-memory readings.
//
// .f64 format (little endian): 8 bytes magic "PMRTMAT1", uint64 rows, uint64 cols, then rows*cols float64 values in
// row-major order (NaN = missing). benchmarks/bench/data.py writes it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;
  const double* row(std::size_t r) const { return data.data() + r * cols; }
};

inline Matrix read_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  char magic[8];
  std::uint64_t hdr[2];
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(hdr), sizeof hdr);
  if (!in || std::memcmp(magic, "PMRTMAT1", 8) != 0) throw std::runtime_error(path + " is not a PMRTMAT1 matrix");
  Matrix m;
  m.rows = hdr[0];
  m.cols = hdr[1];
  m.data.resize(m.rows * m.cols);
  in.read(reinterpret_cast<char*>(m.data.data()), std::streamsize(m.data.size() * sizeof(double)));
  if (!in) throw std::runtime_error(path + " is truncated");
  return m;
}

struct Rss {
  long long rss = 0, hwm = 0;  // bytes
};

/// VmRSS and VmHWM of this process, from /proc/self/status.
inline Rss read_rss() {
  Rss r;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return r;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    long long kb = 0;
    if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) r.rss = kb * 1024;
    if (std::sscanf(line, "VmHWM: %lld kB", &kb) == 1) r.hwm = kb * 1024;
  }
  std::fclose(f);
  return r;
}

}  // namespace bench
