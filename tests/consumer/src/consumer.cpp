// An application outside the pmmlrt tree, built against an installed pmmlrt through the C++ API.
//   consumer_cpp MODEL.pmml [EXPECTED_VERSION]
// Scores one iris record and a two-row batch; prints "pmmlrt <version> <label> <probability>".
// Exit 0 when the results are the expected ones (and the version matches, when given).
#include <pmmlrt/pmmlrt.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.pmml [EXPECTED_VERSION]\n", argv[0]);
    return 2;
  }
  try {
    if (std::strcmp(pmmlrt::version(), PMMLRT_VERSION_STRING) != 0) {
      std::fprintf(stderr, "header version %s != library version %s\n", PMMLRT_VERSION_STRING, pmmlrt::version());
      return 1;
    }
    if (argc > 2 && std::strcmp(argv[2], pmmlrt::version()) != 0) {
      std::fprintf(stderr, "library version %s != expected %s\n", pmmlrt::version(), argv[2]);
      return 1;
    }
    auto model = pmmlrt::Model::load_file(argv[1]);
    pmmlrt::Result r = model.score({{"sepal_length", 5.1}, {"sepal_width", 3.5},
                                    {"petal_length", 1.4}, {"petal_width", 0.2}});
    std::string label = r.predicted().to_string();
    double p = r.probability("setosa").value_or(-1.0);

    std::vector<double> X = {5.1, 3.5, 1.4, 0.2,    // setosa
                             6.3, 3.3, 6.0, 2.5};   // virginica
    auto view = xt::adapt(X.data(), X.size(), xt::no_ownership(), std::vector<std::size_t>{2, 4});
    pmmlrt::BatchResult b = pmmlrt::score(model, view);
    std::string second = b.rows() == 2 ? b.predicted_values()[1].to_string() : "?";

    std::printf("pmmlrt %s %s %.6f %s\n", pmmlrt::version(), label.c_str(), p, second.c_str());
    if (label != "setosa" || !(p > 0.5 && p <= 1.0) || second != "virginica" ||
        std::fabs(b.probabilities()(0, 0) - p) > 1e-12) {
      std::fprintf(stderr, "unexpected results\n");
      return 1;
    }
    return 0;
  } catch (const pmmlrt::Error& e) {
    std::fprintf(stderr, "pmmlrt error: %s\n", e.what());
    return 1;
  }
}
