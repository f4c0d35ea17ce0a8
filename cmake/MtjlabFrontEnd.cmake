# mtjlab::front_end: compile options for code that only drives the modules' libraries - the test executables and
# the `mtjlab` command line. The work they start runs in the libraries, which keep the build type's flags (-O3 in
# release/ci, -O1 with the sanitizers in asan-ubsan) and, with MTJLAB_FUZZ, libFuzzer's coverage
# instrumentation. The front end gains nothing from either and was more than half of the sanitizer build's
# compile time (docs/reliability.md, "Build time"): Catch2's expansion of every assertion and CLI11's header-only
# validators and formatters (compiled anew in each translation unit that includes them) are where it went.
#   MTJLAB_FRONT_END_FLAGS  its optimisation flags in optimised builds (default -O1; the asan-ubsan preset: -O0).
#                           Debug builds keep -O0 + -g whatever this says.
set(MTJLAB_FRONT_END_FLAGS "-O1" CACHE STRING
    "Optimisation flags of the tests and the command line in optimised builds (the libraries keep the build type's)")
add_library(mtjlab_front_end INTERFACE)
add_library(mtjlab::front_end ALIAS mtjlab_front_end)
target_compile_options(mtjlab_front_end INTERFACE
  $<$<NOT:$<CONFIG:Debug>>:${MTJLAB_FRONT_END_FLAGS}>
  # Coverage feedback is for the code under test; the fuzz targets themselves are not front end.
  $<$<BOOL:${MTJLAB_FUZZ}>:-fno-sanitize=fuzzer-no-link>)
