// The one translation unit that provides doctest's main() for pmmlrt_unit_tests; every other file in
// tests/unit/ only includes <doctest/doctest.h> and adds TEST_CASEs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
