# parley_library(NAME SOURCES ... DEPS ...): one library per folder, named parley_<NAME>.
function(parley_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(parley_${name} STATIC ${ARG_SOURCES})
  target_include_directories(parley_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(parley_${name} PUBLIC ${ARG_DEPS})
endfunction()

# parley_test(NAME SOURCES ... DEPS ...): one GoogleTest binary per library, run by CTest.
function(parley_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "PARLEY_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
