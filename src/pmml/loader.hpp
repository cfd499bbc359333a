#pragma once
// pmml/: the only room that knows XML. Turns the bytes of a PMML document into the IR, enforcing the
// document limits of LoadOptions, and reporting errors with the element path and line.

#include <string_view>

#include "pmml/ir.hpp"
#include "pmmlrt/model.hpp"

namespace pmmlrt::pmml {

ir::Document load_document(std::string_view bytes, const LoadOptions& options);

}  // namespace pmmlrt::pmml
