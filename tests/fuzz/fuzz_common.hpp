#pragma once
// Shared pieces of the fuzz harnesses: a byte reader, and checks that abort (so that libFuzzer and the
// regression driver both report a crash) when an invariant of pmmlrt does not hold.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pmmlrt_fuzz {

/// Consumes the fuzzer's bytes front to back; past the end every read gives zeros.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ >= end_; }
  std::size_t left() const { return std::size_t(end_ - p_); }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | byte();
    return v;
  }
  double f64() {
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | byte();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  std::string text(std::size_t max) {
    std::size_t n = std::min<std::size_t>(byte() % (max + 1), left());
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), left());
    p_ = end_;
    return s;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

[[noreturn]] inline void invariant_failed(const char* what, const std::string& detail, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s %s\n", file, line, what, detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::pmmlrt_fuzz::invariant_failed(#cond, (detail), __FILE__, __LINE__); \
  } while (0)

/// Equal as results: NaN equals NaN, otherwise bitwise-equal doubles.
inline bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace pmmlrt_fuzz
