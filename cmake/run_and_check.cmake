# Runs a program and checks its output; run with cmake -P.
#   -DCOMMAND=<program>       the program (no arguments)
#   -DEXPECT_FILE=<file>      optional: each non-empty line is a CMake regular expression that must
#                             match somewhere in the output (stdout and stderr together)
#   -DCLEAN_DIR=<dir>         optional: removed before the run (a fresh cache directory each run)
#   -DWORKING_DIRECTORY=<dir> optional
# The program's output is printed as it is; the script fails when the exit code is not 0 or an
# expected line does not match. CMake regexes: no \d or \s; use [0-9] and [ \t].
cmake_minimum_required(VERSION 3.24)

if(NOT COMMAND)
  message(FATAL_ERROR "run_and_check.cmake: -DCOMMAND=<program> is required")
endif()
if(CLEAN_DIR)
  file(REMOVE_RECURSE "${CLEAN_DIR}")
  file(MAKE_DIRECTORY "${CLEAN_DIR}")
endif()
set(_wd_args "")
if(WORKING_DIRECTORY)
  set(_wd_args WORKING_DIRECTORY "${WORKING_DIRECTORY}")
endif()

execute_process(COMMAND "${COMMAND}" ${_wd_args}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _output ERROR_VARIABLE _output)
string(REGEX REPLACE "\n$" "" _shown "${_output}")
message("${_shown}")

set(_failed FALSE)
if(NOT _rc STREQUAL "0")
  message("run_and_check: ${COMMAND} exited with ${_rc}")
  set(_failed TRUE)
endif()

if(EXPECT_FILE AND EXISTS "${EXPECT_FILE}")
  # Read by hand rather than with file(STRINGS): a ';' or '[' in a regex must survive intact.
  file(READ "${EXPECT_FILE}" _expect)
  string(ASCII 31 _semicolon)
  string(ASCII 30 _open)
  string(ASCII 29 _close)
  string(REPLACE ";" "${_semicolon}" _expect "${_expect}")
  string(REPLACE "[" "${_open}" _expect "${_expect}")
  string(REPLACE "]" "${_close}" _expect "${_expect}")
  string(REPLACE "\r\n" "\n" _expect "${_expect}")
  string(REPLACE "\n" ";" _lines "${_expect}")
  foreach(_line IN LISTS _lines)
    string(REPLACE "${_semicolon}" ";" _line "${_line}")
    string(REPLACE "${_open}" "[" _line "${_line}")
    string(REPLACE "${_close}" "]" _line "${_line}")
    if(_line MATCHES "^[ \t]*$")
      continue()
    endif()
    if(NOT _output MATCHES "${_line}")
      message("run_and_check: no match in the output for: ${_line}")
      set(_failed TRUE)
    endif()
  endforeach()
endif()

if(_failed)
  message(FATAL_ERROR "run_and_check: ${COMMAND} failed its checks")
endif()
