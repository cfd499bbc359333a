// The binning of the vector kernels (EnsembleKernel::bin_rows, bin_row_avx512, bin_row_avx2) against the
// plain lower bound over each feature's edges: the number of edges below a value, 2 * that + 1 for an exact
// feature's value equal to the next edge, and the missing bin for NaN. Checked directly, for every vector
// level the CPU has (whatever PMMLRT_SIMD says), over the kernels of the corpora and over edge sets made
// here with the counts where the search changes shape (one block, one more level, padding).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

using pmmlrt::eval::EnsembleKernel;
using pmmlrt::eval::SimdLevel;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The bin of `v` for feature `f`, written the obvious way.
std::int32_t reference_bin(const EnsembleKernel::Binned& b, std::size_t f, double v) {
  if (std::isnan(v)) return b.missing_bin;
  const double* first = b.edges.data() + b.edge_begin[f];
  const double* last = b.edges.data() + b.edge_begin[f + 1];
  const auto below = std::lower_bound(first, last, v);
  const auto n = std::int32_t(below - first);
  if (!b.exact[f]) return n;
  return 2 * n + (below != last && *below == v ? 1 : 0);
}

/// Values worth binning for feature `f`: every edge and its neighbours both ways, zeros, infinities, NaN,
/// extremes, and random values over and around the edges' range.
std::vector<double> probes(const EnsembleKernel::Binned& b, std::size_t f, std::mt19937_64& rng) {
  std::vector<double> v = {0.0,     -0.0, kInf, -kInf, kNaN, std::numeric_limits<double>::max(),
                           -std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(), 1e300,
                           -1e300, double(std::numeric_limits<float>::max()), -double(std::numeric_limits<float>::max()),
                           std::nextafter(double(std::numeric_limits<float>::max()), kInf),
                           double(std::numeric_limits<float>::denorm_min()), -double(std::numeric_limits<float>::denorm_min()),
                           double(std::numeric_limits<float>::denorm_min()) / 3};
  double lo = -1.0, hi = 1.0;
  for (auto i = b.edge_begin[f]; i < b.edge_begin[f + 1]; ++i) {
    const double e = b.edges[std::size_t(i)];
    v.insert(v.end(), {e, std::nextafter(e, -kInf), std::nextafter(e, kInf), -e});
    // The float neighbours too, and the double halfway to them: the float search rounds values down to
    // floats (bin_rows_avx512), so these are where it could go wrong.
    const float ef = static_cast<float>(e);
    for (float n : {std::nextafter(ef, -std::numeric_limits<float>::infinity()),
                    std::nextafter(ef, std::numeric_limits<float>::infinity())})
      v.insert(v.end(), {double(n), (double(n) + e) / 2});
    if (std::isfinite(e)) lo = std::min(lo, e), hi = std::max(hi, e);
  }
  std::uniform_real_distribution<double> around(lo - (hi - lo) / 8, hi + (hi - lo) / 8);
  for (int i = 0; i < 64; ++i) v.push_back(around(rng));
  return v;
}

/// The vector levels of this CPU.
std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> l;
  if (pmmlrt::eval::cpu_has_avx2()) l.push_back(SimdLevel::Avx2);
  if (pmmlrt::eval::cpu_has_avx512()) l.push_back(SimdLevel::Avx512);
  return l;
}

/// Checks bin_rows (blocks of several sizes) and the single-row binning of `kernel` at every vector level
/// against reference_bin, and bin_rows at the scalar level too. (The AVX2 level bins exact features right,
/// though finish() leaves such kernels unbinned there.)
void check_binning(const EnsembleKernel& kernel, std::mt19937_64& rng) {
  const auto& b = kernel.bins;
  const std::size_t nf = kernel.features();
  REQUIRE(b.edge_begin.size() == nf + 1);
  // Rows of probes: row r holds probe r (cycling) of every feature, the features' probes shuffled apart.
  std::vector<std::vector<double>> per_feature(nf);
  std::size_t rows = 0;
  for (std::size_t f = 0; f < nf; ++f) {
    per_feature[f] = probes(b, f, rng);
    std::shuffle(per_feature[f].begin(), per_feature[f].end(), rng);
    rows = std::max(rows, per_feature[f].size());
  }
  std::vector<double> x(rows * nf);
  std::vector<std::int32_t> expected(rows * nf);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t f = 0; f < nf; ++f) {
      x[r * nf + f] = per_feature[f][r % per_feature[f].size()];
      expected[r * nf + f] = reference_bin(b, f, x[r * nf + f]);
    }
  auto check_rows = [&](const std::vector<std::int32_t>& got, std::size_t from, std::size_t count, std::string what) {
    for (std::size_t r = from; r < from + count; ++r)
      for (std::size_t f = 0; f < nf; ++f)
        if (got[r * nf + f] != expected[r * nf + f]) {
          CAPTURE(what);
          CAPTURE(f);
          CAPTURE(x[r * nf + f]);
          CAPTURE(b.edge_begin[f + 1] - b.edge_begin[f]);
          CAPTURE(int(b.exact[f]));
          REQUIRE(got[r * nf + f] == expected[r * nf + f]);
        }
  };
  EnsembleKernel k = kernel;
  k.binned = true;
  std::vector<SimdLevel> all = levels();
  all.push_back(SimdLevel::Scalar);
  for (SimdLevel level : all) {
    CAPTURE(int(level));
    k.simd = level;
    std::vector<std::int32_t> got(rows * nf, -1);
    if (level == SimdLevel::Avx512) {
      for (std::size_t r = 0; r < rows; ++r) pmmlrt::eval::bin_row_avx512(k, x.data() + r * nf, got.data() + r * nf);
      check_rows(got, 0, rows, "bin_row_avx512");
    }
    if (level == SimdLevel::Avx2) {
      for (std::size_t r = 0; r < rows; ++r) pmmlrt::eval::bin_row_avx2(k, x.data() + r * nf, got.data() + r * nf);
      check_rows(got, 0, rows, "bin_row_avx2");
    }
    // Blocks of every size up to 17 rows (the vector blocks and what they leave over), then all of them.
    std::size_t r0 = 0;
    for (std::size_t block = 1; r0 + block <= rows && block <= 17; r0 += block, ++block) {
      std::fill(got.begin(), got.end(), -1);
      k.bin_rows(x.data() + r0 * nf, block, got.data() + r0 * nf);
      check_rows(got, r0, block, "bin_rows (block)");
    }
    std::fill(got.begin(), got.end(), -1);
    k.bin_rows(x.data(), rows, got.data());
    check_rows(got, 0, rows, "bin_rows");
  }
}

/// A kernel that is only its binned edges: feature f has counts[f] edges (unless `shared`, drawn from a
/// small grid so that features share them, random doubles otherwise, and -0.0, infinities among them).
EnsembleKernel edges_kernel(const std::vector<std::size_t>& counts, bool exact, std::mt19937_64& rng) {
  EnsembleKernel k;
  k.feature_slots.resize(counts.size());
  auto& b = k.bins;
  b.missing_bin = (1 << 27) - 2;
  b.leaf_k = b.missing_bin + 1;
  b.edge_begin.assign(1, 0);
  std::normal_distribution<double> wide(0.0, 1000.0);
  for (std::size_t f = 0; f < counts.size(); ++f) {
    // Edges on a grid of quarters (zero among them, probes equal to a neighbour's edge likely) or anywhere;
    // some features with -0.0 (which is 0.0 to the search) and infinities among their edges.
    std::set<double> e;
    if (counts[f] > 0 && f % 4 == 1) e.insert(-0.0);
    if (counts[f] > 1 && f % 5 == 2) e.insert(kInf);
    if (counts[f] > 2 && f % 5 == 3) e.insert(-kInf);
    // Features 3k + 1 have float edges, features 6k + 5 the doubles just below floats (XGBoost's x < t
    // for float t, canonicalised): the batch binning searches both in float.
    auto below_float = [](double v) { return std::nextafter(double(static_cast<float>(v)), -kInf); };
    while (e.size() < counts[f])
      e.insert(f % 3 == 0   ? std::round(wide(rng)) / 4
               : f % 3 == 1 ? double(static_cast<float>(wide(rng) / 64))
               : f % 6 == 5 ? below_float(wide(rng) / 64)
                            : wide(rng));
    b.edges.insert(b.edges.end(), e.begin(), e.end());
    b.edge_begin.push_back(std::int32_t(b.edges.size()));
    b.exact.push_back(exact && f % 2 == 0 ? 1 : 0);
    b.any_exact = b.any_exact || b.exact.back();
  }
  pmmlrt::eval::build_bin_search(b);
  return k;
}

/// The binned ensemble kernels of one PMML document.
void check_document(const std::string& text, std::mt19937_64& rng, std::size_t& checked) {
  pmmlrt::LoadOptions options;
  auto compile = [&] { return pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options); };
  decltype(compile()) compiled;
  try {
    compiled = compile();
  } catch (const std::exception&) {
    return;  // the corpora hold documents made to be refused
  }
  for (auto id : compiled->program.kernel_models) {
    const auto& model = *compiled->program.models[std::size_t(id)];
    if (!model.kernel || !model.kernel->binned) continue;
    check_binning(*model.kernel, rng);
    ++checked;
  }
}

}  // namespace

TEST_CASE("kernel binning: edge counts around the search's block and level sizes") {
  std::mt19937_64 rng(20261202);
  const std::vector<std::size_t> counts = {0, 1, 2, 15, 16, 17, 31, 32, 33, 255, 256, 257, 272, 273, 4097};
  for (bool exact : {false, true}) {
    CAPTURE(exact);
    check_binning(edges_kernel(counts, exact, rng), rng);
    // One feature alone, and as the last of a partial vector of features.
    for (std::size_t n : counts) {
      CAPTURE(n);
      check_binning(edges_kernel({n}, exact, rng), rng);
      check_binning(edges_kernel({3, 0, 17, 1, 256, 2, 15, 16, 4, n}, exact, rng), rng);
    }
  }
  // Wide rows: more than one vector of features at every level.
  std::vector<std::size_t> wide(600);
  for (std::size_t f = 0; f < wide.size(); ++f) wide[f] = counts[f % counts.size()] % 300;
  check_binning(edges_kernel(wide, false, rng), rng);
  check_binning(edges_kernel(wide, true, rng), rng);
}

TEST_CASE("kernel binning: every binned kernel of the corpora") {
  if (levels().empty()) return;
  std::mt19937_64 rng(7);
  std::size_t checked = 0;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!std::filesystem::is_directory(root)) continue;
    for (auto& p : std::filesystem::recursive_directory_iterator(root)) {
      if (p.path().extension() != ".pmml") continue;
      CAPTURE(p.path().string());
      check_document(pmmlrt_test::slurp(p.path()), rng, checked);
    }
  }
  MESSAGE(checked << " binned kernels checked");
  // Kernels are binned only at a vector level: none under PMMLRT_SIMD=scalar.
  if (pmmlrt::eval::simd_level() != SimdLevel::Scalar) CHECK(checked >= 20);
}
