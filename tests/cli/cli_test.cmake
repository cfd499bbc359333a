# CLI tests for `pmmlrt`, run by ctest as
#   cmake -DPMMLRT=<path of the pmmlrt executable> -DDATA=<tests/cli/data> -DWORK=<scratch folder>
#         -DCASE=<score|errors|misc> -P cli_test.cmake
# Each CASE runs a few commands and checks exit codes, output files and messages.

cmake_minimum_required(VERSION 3.25)

foreach(var PMMLRT DATA WORK CASE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "cli_test.cmake: -D${var}=... is required")
  endif()
endforeach()
file(MAKE_DIRECTORY "${WORK}")

set(failures 0)

# run(<expected exit code> <name> ARGS...): runs pmmlrt; leaves out_<name> and err_<name> in the caller's scope.
function(run expected name)
  execute_process(
    COMMAND "${PMMLRT}" ${ARGN}
    RESULT_VARIABLE code
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  set(out_${name} "${out}" PARENT_SCOPE)
  set(err_${name} "${err}" PARENT_SCOPE)
  if(NOT "${code}" STREQUAL "${expected}")
    message(SEND_ERROR "[${name}] pmmlrt ${ARGN}\n  exit code ${code}, expected ${expected}\n  stdout: ${out}\n  stderr: ${err}")
  else()
    message(STATUS "[${name}] exit ${code} as expected")
  endif()
endfunction()

# expect_contains(<name> <text> <needle>...)
function(expect_contains name text)
  foreach(needle IN LISTS ARGN)
    string(FIND "${text}" "${needle}" pos)
    if(pos EQUAL -1)
      message(SEND_ERROR "[${name}] output lacks \"${needle}\":\n${text}")
    endif()
  endforeach()
endfunction()

function(expect_same_file name actual expected)
  if(NOT EXISTS "${actual}")
    message(SEND_ERROR "[${name}] ${actual} was not written")
    return()
  endif()
  file(READ "${actual}" a)
  file(READ "${expected}" e)
  if(NOT a STREQUAL e)
    message(SEND_ERROR "[${name}] ${actual} differs from ${expected}\n--- actual:\n${a}--- expected:\n${e}")
  endif()
endfunction()

if(CASE STREQUAL "score")
  # Regression: CRLF input, quoted cells (comma, doubled quotes), extra and reordered columns, NA and empty
  # cells as missing values (replaced by the MiningField's missingValueReplacement).
  file(REMOVE "${WORK}/regression_out.csv")
  run(0 regression score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" -o "${WORK}/regression_out.csv")
  expect_same_file(regression "${WORK}/regression_out.csv" "${DATA}/regression_expected.csv")

  # Same through --missing=..., and to standard output.
  run(0 regression_stdout score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" --missing=NA,empty)
  file(READ "${DATA}/regression_expected.csv" expected)
  if(NOT out_regression_stdout STREQUAL expected)
    message(SEND_ERROR "[regression_stdout] stdout differs:\n${out_regression_stdout}--- expected:\n${expected}")
  endif()

  # Classification tree: target, probability(<class>) (except the one an OutputField already provides),
  # confidence(<class>), then the OutputFields; a quoted multi-line cell in an ignored column.
  file(REMOVE "${WORK}/tree_out.csv")
  run(0 tree score "${DATA}/tree.pmml" "${DATA}/tree_input.csv" --output "${WORK}/tree_out.csv")
  expect_same_file(tree "${WORK}/tree_out.csv" "${DATA}/tree_expected.csv")

elseif(CASE STREQUAL "errors")
  # A value the model rejects: exit 2, naming the data row and the field; no output file is left behind.
  file(REMOVE "${WORK}/bad_out.csv")
  run(2 bad_value score "${DATA}/regression.pmml" "${DATA}/bad_value.csv" -o "${WORK}/bad_out.csv")
  expect_contains(bad_value "${err_bad_value}" "data row 2" "line 3" "x1")
  if(EXISTS "${WORK}/bad_out.csv")
    message(SEND_ERROR "[bad_value] a failed run left ${WORK}/bad_out.csv behind")
  endif()

  # Without missing tokens, "NA" is an invalid double.
  run(2 no_missing_tokens score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" --missing none)
  expect_contains(no_missing_tokens "${err_no_missing_tokens}" "data row 2" "x2")

  # Malformed CSV: exit 2 with the line.
  run(2 bad_arity score "${DATA}/regression.pmml" "${DATA}/bad_arity.csv")
  expect_contains(bad_arity "${err_bad_arity}" "line 3")
  run(2 bad_quote score "${DATA}/regression.pmml" "${DATA}/bad_quote.csv")
  expect_contains(bad_quote "${err_bad_quote}" "unterminated")
  run(2 no_input score "${DATA}/regression.pmml" "${WORK}/does-not-exist.csv")

  # The model cannot be loaded: exit 1.
  run(1 no_model score "${WORK}/does-not-exist.pmml" "${DATA}/bad_value.csv")
  run(1 not_pmml inspect "${DATA}/bad_value.csv")
  run(1 wrong_sha score "${DATA}/regression.pmml" "${DATA}/regression_input.csv"
      --sha256 0000000000000000000000000000000000000000000000000000000000000000)

  # Bad command lines: exit 64.
  run(64 no_args)
  run(64 unknown_command frobnicate)
  run(64 score_no_input score "${DATA}/regression.pmml")
  run(64 unknown_option score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" --bogus)
  run(64 missing_value score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" -o)
  run(64 bad_sha score "${DATA}/regression.pmml" "${DATA}/regression_input.csv" --sha256 xyz)
  run(64 inspect_no_model inspect)

elseif(CASE STREQUAL "misc")
  run(0 version --version)
  expect_contains(version "${out_version}" "pmmlrt ")
  run(0 help --help)
  expect_contains(help "${out_help}" "pmmlrt score" "pmmlrt inspect")
  run(0 score_help score --help)
  expect_contains(score_help "${out_score_help}" "--missing" "--sha256" "--output")

  run(0 inspect_regression inspect "${DATA}/regression.pmml")
  expect_contains(inspect_regression "${out_inspect_regression}"
    "RegressionModel" "regression" "4.4" "x1" "x2" "double" "continuous" "y_pred")
  run(0 inspect_tree inspect "${DATA}/tree.pmml")
  expect_contains(inspect_tree "${out_inspect_tree}"
    "TreeModel" "classification" "color" "string" "categorical" "[red, green, blue]" "label" "yes, no"
    "probability(yes)" "predictedValue")

else()
  message(FATAL_ERROR "cli_test.cmake: unknown CASE '${CASE}'")
endif()
