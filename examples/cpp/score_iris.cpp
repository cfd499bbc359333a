// Scores two iris flowers with the C++ API.
#include <iostream>

#include <pmmlrt/pmmlrt.hpp>

int main(int argc, char** argv) try {
  auto model = pmmlrt::Model::load_file(argc > 1 ? argv[1] : "examples/models/iris_forest.pmml");
  pmmlrt::Result r = model.score({{"sepal_length", 5.1}, {"sepal_width", 3.5}, {"petal_length", 1.4}, {"petal_width", 0.2}});
  std::cout << r.predicted().to_string() << " (p = " << r.probability("setosa").value_or(0.0) << ")\n";

  const double x[] = {6.7, 3.0, 5.2, 2.3};  // one row, row-major, in input field order
  pmmlrt::BatchResult b = model.score(x, 1, 4, pmmlrt::Layout::RowMajor);
  std::cout << b.predicted_values()[0].to_string() << " (p = " << b.probabilities()(0, 2) << ")\n";
  return 0;
} catch (const pmmlrt::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
