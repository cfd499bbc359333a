// The smallest useful scorer: load a PMML document and score a .f64 matrix (columns in input_fields() order),
// printing one predicted value per row. Linked fully statically to measure the footprint of an embedded scorer.
#include <cstdio>
#include <exception>

#include <pmmlrt/pmmlrt.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pmmlrt_min_scorer MODEL.pmml MATRIX.f64\n");
    return 2;
  }
  try {
    auto model = pmmlrt::Model::load_file(argv[1]);
    bench::Matrix x = bench::read_matrix(argv[2]);
    auto r = model.score(x.data.data(), x.rows, x.cols, pmmlrt::Layout::RowMajor);
    for (std::size_t i = 0; i < r.rows(); ++i) std::printf("%.17g\n", r.predicted()(i));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
