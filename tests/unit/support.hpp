#pragma once
// Helpers shared by the unit tests that compare a fast path with the generic one.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

/// A whole file as text.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pmmlrt_test
