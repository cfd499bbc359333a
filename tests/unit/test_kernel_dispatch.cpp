// The ensemble kernels' dispatch level: the ctest runs of the kernel tests at each level (tests/CMakeLists.txt)
// only test that level if simd_level() really obeys the environment, so check it here.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "eval/ensemble_kernel.hpp"

using pmmlrt::eval::SimdLevel;

TEST_CASE("kernel dispatch: the best level the CPU has, capped by PMMLRT_SIMD and PMMLRT_DISABLE_AVX512") {
  SimdLevel expected = pmmlrt::eval::cpu_has_avx512() ? SimdLevel::Avx512
                       : pmmlrt::eval::cpu_has_avx2() ? SimdLevel::Avx2
                                                      : SimdLevel::Scalar;
  if (const char* off = std::getenv("PMMLRT_DISABLE_AVX512"); off && *off && *off != '0')
    expected = std::min(expected, SimdLevel::Avx2);
  if (const char* want = std::getenv("PMMLRT_SIMD"); want && *want) {
    const std::string w = want;
    // A misspelt level would be ignored by the library, and the test run would silently test another one.
    REQUIRE((w == "scalar" || w == "avx2" || w == "avx512"));
    expected = std::min(expected, w == "scalar" ? SimdLevel::Scalar : w == "avx2" ? SimdLevel::Avx2 : SimdLevel::Avx512);
  }
  CHECK(int(pmmlrt::eval::simd_level()) == int(expected));
  MESSAGE("kernel level: " << (expected == SimdLevel::Avx512 ? "avx512" : expected == SimdLevel::Avx2 ? "avx2" : "scalar"));
}

TEST_CASE("kernel dispatch: gathers are preferred on Intel unless Gather Data Sampling's microcode fix slows them") {
  using pmmlrt::eval::gathers_preferred;
  CHECK(gathers_preferred(true, ""));
  CHECK(gathers_preferred(true, "Not affected"));
  CHECK(gathers_preferred(true, "Vulnerable"));
  CHECK(gathers_preferred(true, "Mitigation: AVX disabled, no microcode"));
  CHECK_FALSE(gathers_preferred(true, "Mitigation: Microcode"));
  CHECK_FALSE(gathers_preferred(true, "Mitigation: Microcode (locked)"));
  CHECK_FALSE(gathers_preferred(false, "Not affected"));
  CHECK_FALSE(gathers_preferred(false, ""));
}

TEST_CASE("kernel dispatch: the perfect walk's levels of 8 and 16 nodes by gathers on Intel, PMMLRT_TREE_LEVELS aside") {
  if (const char* want = std::getenv("PMMLRT_TREE_LEVELS"); want && *want) {
    const std::string w = want;
    // As above: a misspelt choice would leave the run testing the CPU's default twice.
    REQUIRE((w == "gather" || w == "permute"));
    CHECK(pmmlrt::eval::perfect_levels_gathered() == (w == "gather"));
    return;
  }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool intel = __builtin_cpu_is("intel") != 0;
  CHECK(pmmlrt::eval::perfect_levels_gathered() ==
        pmmlrt::eval::gathers_preferred(intel, pmmlrt::eval::gather_data_sampling_report()));
#else
  CHECK(!pmmlrt::eval::perfect_levels_gathered());
#endif
}
