# Flags for twat_cache's own targets (tests, examples, benchmarks) and never for a consumer's:
#   twat_cache_warnings    INTERFACE target with the warning flags (-Werror when TWAT_CACHE_WERROR)
#   twat_cache_sanitizers  INTERFACE target with the flags of TWAT_CACHE_SANITIZE
#   twat_cache_add_dev_target(<target>)  links both, plus the library, into <target>
# Neither helper target is installed or exported, and nothing links them to `twat_cache`.

include_guard(GLOBAL)

option(TWAT_CACHE_WERROR "Treat warnings as errors in twat_cache's own targets" ${PROJECT_IS_TOP_LEVEL})

set(TWAT_CACHE_SANITIZE "" CACHE STRING
    "Sanitizers for twat_cache's own targets: empty, address,undefined, or thread")
set_property(CACHE TWAT_CACHE_SANITIZE PROPERTY STRINGS "" "address,undefined" "address" "undefined"
                                                        "thread")

add_library(twat_cache_warnings INTERFACE)
if(MSVC)
  target_compile_options(twat_cache_warnings INTERFACE /W4 $<$<BOOL:${TWAT_CACHE_WERROR}>:/WX>)
else()
  target_compile_options(twat_cache_warnings INTERFACE -Wall -Wextra -Wpedantic
                                                       $<$<BOOL:${TWAT_CACHE_WERROR}>:-Werror>)
endif()

add_library(twat_cache_sanitizers INTERFACE)
if(NOT TWAT_CACHE_SANITIZE STREQUAL "")
  string(REPLACE "," ";" _twat_cache_sanitizers "${TWAT_CACHE_SANITIZE}")
  foreach(_s IN LISTS _twat_cache_sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "TWAT_CACHE_SANITIZE: unknown sanitizer '${_s}'; use \"\", "
                          "\"address,undefined\" or \"thread\"")
    endif()
  endforeach()
  if("thread" IN_LIST _twat_cache_sanitizers AND "address" IN_LIST _twat_cache_sanitizers)
    message(FATAL_ERROR "TWAT_CACHE_SANITIZE: thread and address cannot be combined")
  endif()
  set(_twat_cache_sanitizer_flags -fsanitize=${TWAT_CACHE_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST _twat_cache_sanitizers)
    list(APPEND _twat_cache_sanitizer_flags -fno-sanitize-recover=all)
    # clang's -fsanitize=function (part of `undefined`; g++ has no such check) cannot place its
    # prologue data in a coroutine's split functions: "Cannot represent a difference across
    # sections" (llvm-project #49689; clang 14 has it).
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      list(APPEND _twat_cache_sanitizer_flags -fno-sanitize=function)
    endif()
  endif()
  target_compile_options(twat_cache_sanitizers INTERFACE ${_twat_cache_sanitizer_flags})
  target_link_options(twat_cache_sanitizers INTERFACE ${_twat_cache_sanitizer_flags})
  message(STATUS "twat_cache: sanitizers for own targets: ${TWAT_CACHE_SANITIZE}")
endif()

function(twat_cache_add_dev_target target)
  target_link_libraries(${target} PRIVATE twat_cache::twat_cache twat_cache_warnings
                                          twat_cache_sanitizers)
endfunction()
