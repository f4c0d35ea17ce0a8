# mtjlab::warnings: the house warning set, -Werror when MTJLAB_WERROR is on (the ci preset).
add_library(mtjlab_warnings INTERFACE)
add_library(mtjlab::warnings ALIAS mtjlab_warnings)
target_compile_options(mtjlab_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
  $<$<BOOL:${MTJLAB_WERROR}>:-Werror>
  # g++ 12 at -O2/-O3 reports these through inlined library code (std::optional, fmt, Eigen) where nothing is
  # wrong; they stay visible as warnings but do not fail the ci build.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-error=maybe-uninitialized -Wno-error=array-bounds -Wno-error=stringop-overflow
    -Wno-error=restrict>)

# mtjlab_module(NAME <name> [SOURCES ...] [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One static library per module, alias mtjlab::<name>, public headers under include/.
function(mtjlab_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(mtjlab_${M_NAME} STATIC ${M_SOURCES})
  add_library(mtjlab::${M_NAME} ALIAS mtjlab_${M_NAME})
  target_include_directories(mtjlab_${M_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(mtjlab_${M_NAME} PUBLIC ${M_PUBLIC_DEPS} PRIVATE mtjlab::warnings ${M_PRIVATE_DEPS})
  set_target_properties(mtjlab_${M_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
