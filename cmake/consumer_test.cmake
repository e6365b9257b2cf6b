# Drives one consumer test (tests/CMakeLists.txt registers them); run with cmake -P.
#   -DMODE=install           `cmake --install` the main build into PREFIX (the fixture of the next two)
#   -DMODE=find_package      configure, build and run tests/consumer against PREFIX
#   -DMODE=pkgconfig         compile tests/consumer/main.cpp with `pkg-config --cflags --libs`
#   -DMODE=add_subdirectory  configure, build and run tests/consumer with add_subdirectory(SOURCE_DIR)
#   -DMODE=fetchcontent      the same through FetchContent from the local SOURCE_DIR
# Other variables: SOURCE_DIR MAIN_BINARY_DIR CONSUMER_DIR WORK_DIR PREFIX GENERATOR MAKE_PROGRAM
# CXX_COMPILER BUILD_TYPE WITH_OPTIONS (comma-separated NAME=ON/OFF) EXPECTED_VERSION
# EXPECTED_VERSION_STRING PKG_CONFIG.
cmake_minimum_required(VERSION 3.24)

foreach(_var IN ITEMS MODE SOURCE_DIR MAIN_BINARY_DIR CONSUMER_DIR WORK_DIR PREFIX GENERATOR
                      CXX_COMPILER EXPECTED_VERSION)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "consumer_test.cmake: -D${_var}=... is required")
  endif()
endforeach()

function(run_step what)
  string(REPLACE ";" " " _shown "${ARGN}")
  message(STATUS "[consumer.${MODE}] ${what}: ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  message("${_out}")
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "[consumer.${MODE}] ${what} failed (${_rc})")
  endif()
  set(step_output "${_out}" PARENT_SCOPE)
endfunction()

function(check_consumer_output exe)
  run_step("run" "${exe}")
  if(NOT step_output MATCHES "twat_cache version ${EXPECTED_VERSION}")
    message(FATAL_ERROR "[consumer.${MODE}] expected 'twat_cache version ${EXPECTED_VERSION}'")
  endif()
  if(NOT step_output MATCHES "results 144 144 calls 1 hits 1 misses 1")
    message(FATAL_ERROR "[consumer.${MODE}] the memoized call did not hit as expected")
  endif()
endfunction()

set(_config_args "")
if(BUILD_TYPE)
  set(_config_args --config "${BUILD_TYPE}")
endif()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run_step("install" "${CMAKE_COMMAND}" --install "${MAIN_BINARY_DIR}" --prefix "${PREFIX}"
           ${_config_args})
  foreach(_file IN ITEMS include/twat_cache/version.hpp
                         share/cmake/twat_cache/twat_cacheConfig.cmake
                         share/cmake/twat_cache/twat_cacheConfigVersion.cmake
                         share/cmake/twat_cache/twat_cacheTargets.cmake
                         share/pkgconfig/twat_cache.pc)
    if(NOT EXISTS "${PREFIX}/${_file}")
      message(FATAL_ERROR "[consumer.install] ${PREFIX}/${_file} was not installed")
    endif()
  endforeach()
  return()
endif()

set(_dir "${WORK_DIR}/${MODE}")
file(REMOVE_RECURSE "${_dir}")
file(MAKE_DIRECTORY "${_dir}")

if(MODE STREQUAL "pkgconfig")
  if(NOT PKG_CONFIG)
    message(FATAL_ERROR "[consumer.pkgconfig] -DPKG_CONFIG=<pkg-config> is required")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
  run_step("version" "${PKG_CONFIG}" --modversion twat_cache)
  string(STRIP "${step_output}" _pc_version)
  if(NOT _pc_version STREQUAL EXPECTED_VERSION_STRING)
    message(FATAL_ERROR "[consumer.pkgconfig] version ${_pc_version}, expected "
                        "${EXPECTED_VERSION_STRING}")
  endif()
  run_step("flags" "${PKG_CONFIG}" --cflags --libs twat_cache)
  string(STRIP "${step_output}" _flags)
  if(NOT _flags MATCHES "-I${PREFIX}/(share/pkgconfig/\\.\\./\\.\\./)?include")
    message(FATAL_ERROR "[consumer.pkgconfig] the flags do not point at ${PREFIX}/include")
  endif()
  separate_arguments(_flags UNIX_COMMAND "${_flags}")
  run_step("compile" "${CXX_COMPILER}" -std=c++20 "${CONSUMER_DIR}/main.cpp" -o "${_dir}/consumer"
           ${_flags})
  check_consumer_output("${_dir}/consumer")
  return()
endif()

set(_configure "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${_dir}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DTWAT_CACHE_CONSUMER_MODE=${MODE}"
    "-DTWAT_CACHE_SOURCE_DIR=${SOURCE_DIR}")
if(MAKE_PROGRAM)
  list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(MODE STREQUAL "find_package")
  list(APPEND _configure "-DCMAKE_PREFIX_PATH=${PREFIX}")
elseif(MODE STREQUAL "add_subdirectory" OR MODE STREQUAL "fetchcontent")
  # The embedded library gets the same optional dependencies as the main build.
  string(REPLACE "," ";" _with "${WITH_OPTIONS}")
  foreach(_option IN LISTS _with)
    list(APPEND _configure "-D${_option}")
  endforeach()
else()
  message(FATAL_ERROR "consumer_test.cmake: unknown MODE '${MODE}'")
endif()

run_step("configure" ${_configure})
if(MODE STREQUAL "find_package")
  # The package found must be the one just installed, not some other copy on the machine.
  file(STRINGS "${_dir}/CMakeCache.txt" _found_dir REGEX "^twat_cache_DIR:PATH=")
  if(NOT _found_dir STREQUAL "twat_cache_DIR:PATH=${PREFIX}/share/cmake/twat_cache")
    message(FATAL_ERROR "[consumer.find_package] found ${_found_dir}, not the one in ${PREFIX}")
  endif()
endif()
run_step("build" "${CMAKE_COMMAND}" --build "${_dir}" ${_config_args})

# Nothing of twat_cache's own (tests, examples, benchmarks) was built in the consumer's tree.
file(GLOB_RECURSE _leaked LIST_DIRECTORIES false "${_dir}/test_*" "${_dir}/*/test_*"
     "${_dir}/example_*" "${_dir}/*/example_*" "${_dir}/bench_*" "${_dir}/*/bench_*")
if(_leaked)
  message(FATAL_ERROR "[consumer.${MODE}] twat_cache built its own targets here: ${_leaked}")
endif()
if(EXISTS "${_dir}/twat_cache/CTestTestfile.cmake" OR EXISTS "${_dir}/_deps/twat_cache-build/CTestTestfile.cmake")
  message(FATAL_ERROR "[consumer.${MODE}] twat_cache registered CTest tests in the consumer")
endif()

set(_exe "${_dir}/consumer")
if(NOT EXISTS "${_exe}" AND BUILD_TYPE AND EXISTS "${_dir}/${BUILD_TYPE}/consumer")
  set(_exe "${_dir}/${BUILD_TYPE}/consumer")
endif()
check_consumer_output("${_exe}")
