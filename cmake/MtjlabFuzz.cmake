# MTJLAB_FUZZ: build the libFuzzer targets of tests/fuzz (clang only). Every module is then compiled with
# coverage instrumentation (-fsanitize=fuzzer-no-link) so libFuzzer sees the edges of the code under test; the
# fuzz executables add -fsanitize=fuzzer (libFuzzer's main). Combine with the asan-ubsan preset, which does.
option(MTJLAB_FUZZ "Build the libFuzzer targets in tests/fuzz (requires clang)" OFF)
if(MTJLAB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
      "MTJLAB_FUZZ=ON needs clang for C and C++ (libFuzzer), but the compilers are "
      "${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER} / ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}. "
      "Use the asan-ubsan preset (cmake --preset asan-ubsan) or pass -DCMAKE_C_COMPILER=clang-14 "
      "-DCMAKE_CXX_COMPILER=clang++-14 in a fresh build directory.")
  endif()
  if(NOT MTJLAB_BUILD_TESTS)
    message(FATAL_ERROR "MTJLAB_FUZZ=ON needs MTJLAB_BUILD_TESTS=ON (the fuzz targets live in tests/fuzz)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
