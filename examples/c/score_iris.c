/* Scores two iris flowers with the C ABI: cc -std=c99 score_iris.c -lpmmlrt_c && ./a.out iris_forest.pmml */
#include <stdio.h>
#include <pmmlrt.h>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "examples/models/iris_forest.pmml";
  double x[2][4] = {{5.1, 3.5, 1.4, 0.2}, {6.7, 3.0, 5.2, 2.3}}; /* sepal/petal length/width, row-major */
  double probabilities[2][3];
  const char* labels[2];
  pmmlrt_model* model = NULL;
  pmmlrt_batch_result* result = NULL;
  int i;
  if (pmmlrt_model_load_file(path, NULL, &model) != PMMLRT_OK ||
      pmmlrt_score_f64(model, &x[0][0], 2, 4, PMMLRT_ROW_MAJOR, NULL, NULL, &result) != PMMLRT_OK ||
      pmmlrt_batch_result_labels(result, labels, 2) != PMMLRT_OK ||
      pmmlrt_batch_result_probabilities(result, PMMLRT_ROW_MAJOR, &probabilities[0][0], 6) != PMMLRT_OK) {
    fprintf(stderr, "error: %s\n", pmmlrt_last_error());
    pmmlrt_model_release(model);
    return 1;
  }
  for (i = 0; i < 2; ++i)
    printf("%s (p = %.2f, %.2f, %.2f)\n", labels[i], probabilities[i][0], probabilities[i][1], probabilities[i][2]);
  pmmlrt_batch_result_release(result);
  pmmlrt_model_release(model);
  return 0;
}
