// The binned kernel has two layouts at the vector levels: nodes with their children's index (any forest),
// and perfect trees, a vector of trees at a time (sixteen with AVX-512, eight with AVX2; forests of at
// least one vector of trees, at most 12 levels deep). Both must
// agree with the generic walk: the kernel tests run with the default choice (the perfect layout wherever it
// is taken) and again under PMMLRT_TREE_LAYOUT=nodes (ctest unit_node_layout_kernels). This file checks that
// the perfect layout really is taken where it should be, and that its padding is what the walk assumes.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "compile/compiler.hpp"
#include "eval/ensemble_kernel.hpp"
#include "eval/models.hpp"
#include "pmml/loader.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace {

bool nodes_forced() {
  const char* want = std::getenv("PMMLRT_TREE_LAYOUT");
  return want && std::string_view(want) == "nodes";
}

struct Layouts {
  std::size_t ensembles = 0, binned = 0, perfect = 0, should_be_perfect = 0;
};

/// Checks every binned ensemble kernel of `text`: a perfect layout covers every tree, each padded to the
/// kernel's depth; leaf slots name leaves of the node layout (or the null leaf).
Layouts layouts(const std::string& text) {
  pmmlrt::LoadOptions options;
  auto compiled = pmmlrt::compile::compile_document(pmmlrt::pmml::load_document(text, options), options);
  const auto& program = compiled->program;
  Layouts n;
  for (auto id : program.kernel_models) {
    const auto& model = *program.models[std::size_t(id)];
    if (!dynamic_cast<const pmmlrt::eval::MiningEval*>(&model)) continue;
    const auto& k = *model.kernel;
    ++n.ensembles;
    if (!k.binned) continue;
    ++n.binned;
    const auto& b = k.bins;
    const std::int32_t depth = b.depth.empty() ? 0 : *std::max_element(b.depth.begin(), b.depth.end());
    // The rule: a vector of trees or more, 1 to 12 levels, padding that at most doubles the node layout
    // (+ 64 KiB).
    const std::size_t lanes = k.simd == pmmlrt::eval::SimdLevel::Avx512 ? 16 : 8;
    const std::size_t padded_bytes = (k.trees() + lanes - 1) / lanes * lanes * ((std::size_t(2) << depth) - 1) * 4;
    if (k.trees() >= lanes && depth >= 1 && depth <= 12 && padded_bytes <= 2 * b.nodes.size() * 8 + (std::size_t(64) << 10))
      ++n.should_be_perfect;
    if (!b.perfect_depth) continue;
    ++n.perfect;
    REQUIRE(b.perfect_depth == depth);
    REQUIRE(std::size_t(b.perfect_lanes) == lanes);
    REQUIRE(b.gathered_levels == (lanes == 16 && pmmlrt::eval::perfect_levels_gathered()));
    const std::size_t groups = (k.trees() + lanes - 1) / lanes, slots = std::size_t(1) << depth;
    REQUIRE(b.perfect_groups() == groups);
    REQUIRE(b.perfect_tests.size() == groups * lanes * (slots - 1));
    REQUIRE(b.perfect_leaves.size() == groups * lanes * slots);
    for (std::int32_t leaf : b.perfect_leaves) {
      const auto e = std::size_t(leaf);
      REQUIRE(e < b.nodes.size());
      REQUIRE((b.nodes[e] >> 32) == e);  // a leaf loops to itself
    }
  }
  return n;
}

}  // namespace

TEST_CASE("kernel layout: the forests that suit the perfect layout take it") {
  Layouts total;
  for (auto& p : std::filesystem::recursive_directory_iterator(PMMLRT_CONFORMANCE_DIR)) {
    if (p.path().filename() != "model.pmml") continue;
    CAPTURE(p.path().string());
    const auto n = layouts(pmmlrt_test::slurp(p.path()));
    total.ensembles += n.ensembles;
    total.binned += n.binned;
    total.perfect += n.perfect;
    total.should_be_perfect += n.should_be_perfect;
    if (!nodes_forced()) CHECK(n.perfect >= n.should_be_perfect);
    else CHECK(n.perfect == 0);
  }
  MESSAGE(total.ensembles << " ensemble kernels in the corpus, " << total.binned << " binned, " << total.perfect
                          << " in the perfect layout");
  const bool vectors = pmmlrt::eval::simd_level() != pmmlrt::eval::SimdLevel::Scalar;
  if (vectors && !nodes_forced()) CHECK(total.perfect >= 10);
  if (!vectors) CHECK(total.perfect == 0);
}
