#pragma once
#include "eval/program.hpp"
#include "pmmlrt/value.hpp"

namespace pmmlrt::eval {
/// Prepares one input field from an API value (strings are parsed by the field's dataType), applying
/// validity, invalid/missing value treatment and outliers in the reference order. Throws InputError.
void prepare_input(Frame& f, const InputSpec& spec, const Value& raw);
/// The same for a numeric batch cell: NaN is missing; string-typed categorical fields take a category code.
void prepare_number(Frame& f, const InputSpec& spec, double x);
/// False when prepare_number cannot throw for any cell of this field (its MiningSchema treatments turn every
/// missing or invalid value into a value), so that a numeric row may prepare it on first use without
/// changing which error a row reports first. Decided once per field, not per cell.
bool preparation_may_fail(const InputSpec& spec);
}  // namespace pmmlrt::eval
