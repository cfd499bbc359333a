#include "eval/models.hpp"

namespace pmmlrt::eval {
void GeneralRegressionEval::predict(Frame&, Prediction&) const {}
}  // namespace pmmlrt::eval
