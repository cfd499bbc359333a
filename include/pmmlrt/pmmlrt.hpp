#pragma once
/// \file pmmlrt.hpp
/// The whole pmmlrt C++ API.
///
/// \code
///   auto model = pmmlrt::Model::load_file("model.pmml");
///   pmmlrt::Result r = model.score({{"sepal_length", 5.1}, {"species", "setosa"}});
///   double p = r.probability("setosa").value_or(0.0);
/// \endcode

#include "pmmlrt/batch.hpp"
#include "pmmlrt/error.hpp"
#include "pmmlrt/model.hpp"
#include "pmmlrt/value.hpp"
#include "pmmlrt/version.hpp"
