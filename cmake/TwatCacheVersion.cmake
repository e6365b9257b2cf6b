# Reads the version of twat_cache from include/twat_cache/version.hpp, its one source of truth.
# The header keeps the lines `#define TWAT_CACHE_VERSION_{MAJOR,MINOR,PATCH} <n>`.

function(twat_cache_read_version header out_var)
  file(STRINGS "${header}" _lines
       REGEX "^#define TWAT_CACHE_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+ *$")
  set(_parts "")
  foreach(_part IN ITEMS MAJOR MINOR PATCH)
    set(_value "")
    foreach(_line IN LISTS _lines)
      if(_line MATCHES "^#define TWAT_CACHE_VERSION_${_part} +([0-9]+) *$")
        set(_value "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    if(_value STREQUAL "")
      message(FATAL_ERROR "twat_cache: no `#define TWAT_CACHE_VERSION_${_part} <n>` in ${header}")
    endif()
    list(APPEND _parts "${_value}")
  endforeach()
  list(JOIN _parts "." _version)
  set(${out_var} "${_version}" PARENT_SCOPE)
endfunction()
