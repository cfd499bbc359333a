#pragma once
#include "eval/program.hpp"

namespace pmmlrt::eval {
/// Evaluates an Apply expression: the built-in function or DefineFunction it names.
Val apply(Frame& f, const Expr& e);
/// The built-in function for a PMML function name; false when there is none.
bool lookup_function(std::string_view name, Fn& fn);
}  // namespace pmmlrt::eval
