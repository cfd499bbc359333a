# CLI tests for `pmmlrt`, run by ctest as
#   cmake -DPMMLRT=<path of the pmmlrt executable> -DDATA=<tests/cli/data> -DWORK=<scratch folder>
#         -DCASES=<tests/generated/cases> -DCASE=<score|errors|misc|load_options> -P cli_test.cmake
# Each CASE runs a few commands and checks exit codes, output files and messages.

cmake_minimum_required(VERSION 3.25)

foreach(var PMMLRT DATA WORK CASES CASE)
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

# expect_different_files(<name> <a> <b>): both written, and not the same.
function(expect_different_files name a b)
  foreach(f "${a}" "${b}")
    if(NOT EXISTS "${f}")
      message(SEND_ERROR "[${name}] ${f} was not written")
      return()
    endif()
  endforeach()
  file(READ "${a}" ta)
  file(READ "${b}" tb)
  if(ta STREQUAL tb)
    message(SEND_ERROR "[${name}] ${a} and ${b} are the same:\n${ta}")
  endif()
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

elseif(CASE STREQUAL "load_options")
  # --leaf-precision: half rounds the leaf 0.1 to binary16, exact (the default) leaves it alone.
  set(tree "${DATA}/half_tree.pmml")
  set(rows "${DATA}/half_tree_input.csv")
  run(0 default_precision score "${tree}" "${rows}")
  run(0 exact score "${tree}" "${rows}" --leaf-precision exact)
  run(0 half score "${tree}" "${rows}" --leaf-precision=half)
  foreach(out IN ITEMS out_default_precision out_exact)
    if(NOT "${${out}}" STREQUAL "y\n0.1\n2.5\n")
      message(SEND_ERROR "[${out}] exact leaves expected, got:\n${${out}}")
    endif()
  endforeach()
  if(NOT out_half STREQUAL "y\n0.0999755859375\n2.5\n")
    message(SEND_ERROR "[half] binary16 leaves expected, got:\n${out_half}")
  endif()
  # A leaf beyond binary16's range cannot be loaded in half precision (exit 1), and loads in exact.
  file(READ "${tree}" text)
  string(REPLACE "score=\"2.5\"" "score=\"70000\"" text "${text}")
  file(WRITE "${WORK}/huge_leaf.pmml" "${text}")
  run(1 huge_leaf_half score "${WORK}/huge_leaf.pmml" "${rows}" --leaf-precision half)
  expect_contains(huge_leaf_half "${err_huge_leaf_half}" "cannot load" "binary16")
  run(0 huge_leaf_exact score "${WORK}/huge_leaf.pmml" "${rows}")

  # --load-threads: a forest of 50 Segments scores the same whatever the count, in either precision; half
  # differs from exact.
  set(forest "${CASES}/XGBoostDiabetes/model.pmml")
  set(forest_rows "${CASES}/XGBoostDiabetes/input.csv")
  foreach(precision IN ITEMS exact half)
    foreach(threads IN ITEMS 1 2 4 0)
      file(REMOVE "${WORK}/forest_${precision}_${threads}.csv")
      run(0 forest_${precision}_${threads} score "${forest}" "${forest_rows}" -o "${WORK}/forest_${precision}_${threads}.csv"
          --leaf-precision ${precision} --load-threads ${threads})
      expect_same_file(forest_${precision}_${threads} "${WORK}/forest_${precision}_${threads}.csv" "${WORK}/forest_${precision}_1.csv")
    endforeach()
  endforeach()
  expect_different_files(forest_half_vs_exact "${WORK}/forest_exact_1.csv" "${WORK}/forest_half_1.csv")
  # A failed load gives the same message: a bad number in the last Segment.
  file(READ "${forest}" text)
  string(FIND "${text}" " score=\"" at REVERSE)
  math(EXPR at "${at} + 8")
  string(SUBSTRING "${text}" 0 ${at} head)
  string(SUBSTRING "${text}" ${at} -1 tail)
  file(WRITE "${WORK}/broken_forest.pmml" "${head}oops${tail}")
  run(1 broken_1 score "${WORK}/broken_forest.pmml" "${forest_rows}" --load-threads 1)
  run(1 broken_4 score "${WORK}/broken_forest.pmml" "${forest_rows}" --load-threads 4)
  expect_contains(broken_1 "${err_broken_1}" "oops")
  if(NOT err_broken_1 STREQUAL err_broken_4)
    message(SEND_ERROR "[broken] the error depends on --load-threads:\n${err_broken_1}--- 4 threads:\n${err_broken_4}")
  endif()

  # inspect and verify take the load options too.
  run(0 inspect_options inspect "${forest}" --leaf-precision half --load-threads=2)
  expect_contains(inspect_options "${out_inspect_options}" "MiningModel")
  run(0 verify_options verify "${DATA}/regression.pmml" --load-threads 0 --leaf-precision exact)

  # Bad values: exit 64 with a message naming the option and what it takes.
  run(64 bad_precision score "${tree}" "${rows}" --leaf-precision float16)
  expect_contains(bad_precision "${err_bad_precision}" "--leaf-precision" "'exact' or 'half'" "float16")
  run(64 bad_precision_case inspect "${tree}" --leaf-precision HALF)
  expect_contains(bad_precision_case "${err_bad_precision_case}" "--leaf-precision")
  foreach(bad IN ITEMS -1 2x abc 99999999999999999999999)
    run(64 bad_threads_${bad} verify "${tree}" --load-threads ${bad})
    expect_contains(bad_threads_${bad} "${err_bad_threads_${bad}}" "--load-threads" "'${bad}'")
  endforeach()
  run(64 empty_threads score "${tree}" "${rows}" --load-threads=)
  run(64 missing_threads score "${tree}" "${rows}" --load-threads)
  expect_contains(missing_threads "${err_missing_threads}" "needs a value")

  # The help of every command lists them.
  foreach(command IN ITEMS score inspect verify)
    run(0 help_${command} help ${command})
    expect_contains(help_${command} "${out_help_${command}}" "--sha256" "--leaf-precision" "--load-threads")
  endforeach()

else()
  message(FATAL_ERROR "cli_test.cmake: unknown CASE '${CASE}'")
endif()
