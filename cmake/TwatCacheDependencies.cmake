# Optional dependencies of twat_cache.
#
# Each optional dependency <NAME> gets an option TWAT_CACHE_WITH_<NAME>, ON by default when the
# dependency was found, and the interface target gets TWAT_CACHE_WITH_<NAME>=1 or =0, so switching an
# option OFF really hides the library from the headers (they fall back to __has_include only when the
# macro is undefined, i.e. without CMake). Adding a dependency is a detection block and one call:
#
#   twat_cache_dependency_wanted(FOO _want)
#   if(_want)
#     find_package(Foo 1.2 CONFIG QUIET)
#   endif()
#   twat_cache_optional_dependency(FOO "what it gives us"
#     FOUND "${Foo_FOUND}"
#     TARGETS Foo::foo
#     CONFIG "find_dependency(Foo 1.2 CONFIG)"
#     PC_REQUIRES foo)
#
# Arguments of twat_cache_optional_dependency:
#   FOUND         whether the detection succeeded
#   TARGETS       imported targets to link
#   LIBRARIES     library files to link (when there is no imported target)
#   INCLUDE_DIRS  include directories; the compiler's own (system) ones are skipped
#   CONFIG        lines of CMake for twat_cacheConfig.cmake that bring the dependency to a consumer
#   PC_REQUIRES   pkg-config modules for the Requires: line of twat_cache.pc
#   PC_CFLAGS     extra flags for the Cflags: line of twat_cache.pc
#
# Results, read by TwatCacheInstall.cmake: the global properties TWAT_CACHE_CONFIG_DEPENDENCIES,
# TWAT_CACHE_PC_REQUIRES, TWAT_CACHE_PC_CFLAGS, TWAT_CACHE_PC_LIBS and TWAT_CACHE_DEPENDENCY_NAMES.

include_guard(GLOBAL)

# Sets <out_var> to FALSE when the user already switched TWAT_CACHE_WITH_<name> off, so we do not even
# look for the dependency; TRUE otherwise.
function(twat_cache_dependency_wanted name out_var)
  if(DEFINED TWAT_CACHE_WITH_${name} AND NOT TWAT_CACHE_WITH_${name})
    set(${out_var} FALSE PARENT_SCOPE)
  else()
    set(${out_var} TRUE PARENT_SCOPE)
  endif()
endfunction()

# TRUE when <dir> is one of the compiler's own include directories (no -I needed, and adding one
# would turn its headers from system headers into ordinary ones).
function(_twat_cache_is_system_include_dir dir out_var)
  set(_result FALSE)
  if(dir)
    file(REAL_PATH "${dir}" _real)
    foreach(_implicit IN LISTS CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
      file(REAL_PATH "${_implicit}" _implicit_real)
      if(_real STREQUAL _implicit_real)
        set(_result TRUE)
      endif()
    endforeach()
  endif()
  set(${out_var} ${_result} PARENT_SCOPE)
endfunction()

function(twat_cache_optional_dependency name description)
  cmake_parse_arguments(PARSE_ARGV 2 arg ""
                        "FOUND"
                        "TARGETS;LIBRARIES;INCLUDE_DIRS;CONFIG;PC_REQUIRES;PC_CFLAGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "twat_cache_optional_dependency(${name}): unknown arguments "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(_option TWAT_CACHE_WITH_${name})
  set(_found FALSE)
  if(arg_FOUND)
    set(_found TRUE)
  endif()

  option(${_option} "Use ${description}" ${_found})
  if(${_option} AND NOT _found)
    message(FATAL_ERROR "twat_cache: ${_option} is ON but ${name} was not found. Install it "
                        "(scripts/install-deps.sh) or configure with -D${_option}=OFF.")
  endif()
  set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_DEPENDENCY_NAMES ${name})

  if(NOT ${_option})
    target_compile_definitions(twat_cache INTERFACE ${_option}=0)
    message(STATUS "twat_cache: ${_option}=OFF (${description})")
    return()
  endif()

  target_compile_definitions(twat_cache INTERFACE ${_option}=1)
  if(arg_TARGETS)
    target_link_libraries(twat_cache INTERFACE ${arg_TARGETS})
  endif()
  if(arg_LIBRARIES)
    target_link_libraries(twat_cache INTERFACE ${arg_LIBRARIES})
  endif()
  foreach(_dir IN LISTS arg_INCLUDE_DIRS)
    _twat_cache_is_system_include_dir("${_dir}" _system)
    if(NOT _system)
      # An absolute path outside our trees is valid in the installed export as well.
      target_include_directories(twat_cache SYSTEM INTERFACE "${_dir}")
      set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_PC_CFLAGS "-I${_dir}")
    endif()
  endforeach()
  foreach(_lib IN LISTS arg_LIBRARIES)
    set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_PC_LIBS "${_lib}")
  endforeach()
  foreach(_line IN LISTS arg_CONFIG)
    set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_CONFIG_DEPENDENCIES "${_line}")
  endforeach()
  set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_PC_REQUIRES ${arg_PC_REQUIRES})
  set_property(GLOBAL APPEND PROPERTY TWAT_CACHE_PC_CFLAGS ${arg_PC_CFLAGS})
  message(STATUS "twat_cache: ${_option}=ON (${description})")
endfunction()
