# Shared compile settings and helpers for every clearbox library, test and fuzzer.

add_library(clearbox_options INTERFACE)
target_compile_options(clearbox_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict/-Wstringop-overflow inside libstdc++ std::string at -O2+
  # (GCC bug 105329); they are not about our code.
  target_compile_options(clearbox_options INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()
if(CLEARBOX_WERROR)
  target_compile_options(clearbox_options INTERFACE -Werror)
endif()
target_compile_definitions(clearbox_options INTERFACE _FILE_OFFSET_BITS=64)
target_include_directories(clearbox_options INTERFACE ${PROJECT_SOURCE_DIR}/src)

if(CLEARBOX_SANITIZE)
  target_compile_options(clearbox_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(clearbox_options INTERFACE -fsanitize=address,undefined)
endif()
if(CLEARBOX_FUZZ)
  target_compile_options(clearbox_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined)
  target_link_options(clearbox_options INTERFACE -fsanitize=address,undefined)
endif()

# clearbox_add_library(NAME SOURCES... DEPS ...): one CMake library per src/ folder.
function(clearbox_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC clearbox_options ${ARG_DEPS})
endfunction()

# clearbox_add_test(NAME SOURCES... DEPS ... [PROPERTIES ...]): a GoogleTest binary registered
# with CTest; PROPERTIES are added to every test case (e.g. FIXTURES_REQUIRED postgres).
function(clearbox_add_test name)
  if(NOT CLEARBOX_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE clearbox_options clearbox_test_support ${ARG_DEPS}
    GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "CLEARBOX_BIN=$<TARGET_FILE:clearbox>"
      ENVIRONMENT_MODIFICATION "CLEARBOX_SOURCE_DIR=set:${PROJECT_SOURCE_DIR}"
      ${ARG_PROPERTIES})
endfunction()

# The throw-away PostgreSQL cluster of a test run (scripts/pg-test-cluster.sh): tests that use
# it get FIXTURES_REQUIRED postgres and the state directory compiled in.
set(CLEARBOX_PG_TEST_STATE ${CMAKE_BINARY_DIR}/pg-test)
function(clearbox_use_test_postgres target)
  if(TARGET ${target})
    target_compile_definitions(${target} PRIVATE
      CLEARBOX_TEST_PG_STATE="${CLEARBOX_PG_TEST_STATE}")
  endif()
endfunction()

# clearbox_add_fuzzer(NAME SOURCE DEPS ...): a libFuzzer target (only with CLEARBOX_FUZZ).
function(clearbox_add_fuzzer name source)
  if(NOT CLEARBOX_FUZZ)
    return()
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE clearbox_options ${ARGN})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
