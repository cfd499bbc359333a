/* An application outside the pmmlrt tree, built against an installed pmmlrt through the C ABI (C99).
 *   consumer_c MODEL.pmml [EXPECTED_VERSION]
 * Scores one iris record; prints "pmmlrt <version> <label> <probability>". */
#include <pmmlrt.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  pmmlrt_model* model = NULL;
  double x[4] = {5.1, 3.5, 1.4, 0.2}, predicted = NAN, probabilities[3];
  size_t classes = 0;
  const char* label = NULL;

  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.pmml [EXPECTED_VERSION]\n", argv[0]);
    return 2;
  }
  if (pmmlrt_abi_version() != PMMLRT_ABI_VERSION) {
    fprintf(stderr, "ABI %d != header ABI %d\n", pmmlrt_abi_version(), PMMLRT_ABI_VERSION);
    return 1;
  }
  if (argc > 2 && strcmp(argv[2], pmmlrt_version()) != 0) {
    fprintf(stderr, "library version %s != expected %s\n", pmmlrt_version(), argv[2]);
    return 1;
  }
  if (pmmlrt_model_load_file(argv[1], NULL, &model) != PMMLRT_OK ||
      pmmlrt_model_class_count(model, &classes) != PMMLRT_OK || classes != 3 ||
      pmmlrt_score_one(model, x, 4, &predicted, probabilities, 3, NULL, 0) != PMMLRT_OK ||
      isnan(predicted) || pmmlrt_model_class_label(model, (size_t)predicted, &label) != PMMLRT_OK) {
    fprintf(stderr, "pmmlrt error: %s\n", pmmlrt_last_error());
    pmmlrt_model_release(model);
    return 1;
  }
  printf("pmmlrt %s %s %.6f\n", pmmlrt_version(), label, probabilities[(size_t)predicted]);
  if (strcmp(label, "setosa") != 0 || !(probabilities[0] > 0.5)) {
    fprintf(stderr, "unexpected results\n");
    pmmlrt_model_release(model);
    return 1;
  }
  pmmlrt_model_release(model);
  return 0;
}
