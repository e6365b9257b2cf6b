# install() rules: the headers (FILE_SET), the exported target, a package config with a version file,
# and a pkg-config file. Config and .pc live under DATADIR: the library is header-only and the same on
# every architecture.

include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TWAT_CACHE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/twat_cache" CACHE STRING
    "Where twat_cacheConfig.cmake is installed, relative to the prefix")
set(TWAT_CACHE_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Where twat_cache.pc is installed, relative to the prefix")

install(TARGETS twat_cache EXPORT twat_cacheTargets FILE_SET HEADERS)
install(EXPORT twat_cacheTargets
        NAMESPACE twat_cache::
        DESTINATION "${TWAT_CACHE_INSTALL_CMAKEDIR}")

# find_dependency() only for what this build enabled, and the TWAT_CACHE_WITH_* values it was built
# with, for a consumer to read.
get_property(_twat_cache_dep_lines GLOBAL PROPERTY TWAT_CACHE_CONFIG_DEPENDENCIES)
get_property(_twat_cache_dep_names GLOBAL PROPERTY TWAT_CACHE_DEPENDENCY_NAMES)
set(TWAT_CACHE_CONFIG_DEPENDENCIES "")
foreach(_line IN LISTS _twat_cache_dep_lines)
  string(APPEND TWAT_CACHE_CONFIG_DEPENDENCIES "${_line}\n")
endforeach()
set(TWAT_CACHE_CONFIG_WITH "")
set(_twat_cache_pc_defines "")
foreach(_name IN LISTS _twat_cache_dep_names)
  if(TWAT_CACHE_WITH_${_name})
    set(_value 1)
  else()
    set(_value 0)
  endif()
  string(APPEND TWAT_CACHE_CONFIG_WITH "set(twat_cache_WITH_${_name} ${_value})\n")
  list(APPEND _twat_cache_pc_defines "-DTWAT_CACHE_WITH_${_name}=${_value}")
endforeach()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/twat_cacheConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/twat_cacheConfig.cmake"
  INSTALL_DESTINATION "${TWAT_CACHE_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/twat_cacheConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/twat_cacheConfig.cmake"
              "${PROJECT_BINARY_DIR}/twat_cacheConfigVersion.cmake"
        DESTINATION "${TWAT_CACHE_INSTALL_CMAKEDIR}")

# pkg-config
get_property(_twat_cache_pc_requires GLOBAL PROPERTY TWAT_CACHE_PC_REQUIRES)
get_property(_twat_cache_pc_cflags GLOBAL PROPERTY TWAT_CACHE_PC_CFLAGS)
get_property(_twat_cache_pc_libs GLOBAL PROPERTY TWAT_CACHE_PC_LIBS)
list(REMOVE_DUPLICATES _twat_cache_pc_cflags)
list(JOIN _twat_cache_pc_requires ", " TWAT_CACHE_PC_REQUIRES)
list(JOIN _twat_cache_pc_cflags " " _twat_cache_pc_cflags)
list(JOIN _twat_cache_pc_defines " " _twat_cache_pc_defines)
list(JOIN _twat_cache_pc_libs " " _twat_cache_pc_libs)
# No -std flag: a consumer chooses its standard (C++20 or later).
set(TWAT_CACHE_PC_CFLAGS "${_twat_cache_pc_defines} ${_twat_cache_pc_cflags}")
string(STRIP "${TWAT_CACHE_PC_CFLAGS}" TWAT_CACHE_PC_CFLAGS)
set(TWAT_CACHE_PC_LIBS "-pthread ${_twat_cache_pc_libs}")
string(STRIP "${TWAT_CACHE_PC_LIBS}" TWAT_CACHE_PC_LIBS)
# The .pc is relocatable (`cmake --install --prefix` may pick any prefix): the prefix is found from
# the .pc file's own directory.
if(IS_ABSOLUTE "${TWAT_CACHE_INSTALL_PKGCONFIGDIR}")
  set(TWAT_CACHE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(TWAT_CACHE_PC_PREFIX "\${pcfiledir}")
  string(REPLACE "/" ";" _twat_cache_pc_components "${TWAT_CACHE_INSTALL_PKGCONFIGDIR}")
  foreach(_component IN LISTS _twat_cache_pc_components)
    if(NOT _component STREQUAL "" AND NOT _component STREQUAL ".")
      string(APPEND TWAT_CACHE_PC_PREFIX "/..")
    endif()
  endforeach()
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(TWAT_CACHE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(TWAT_CACHE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/twat_cache.pc.in" "${PROJECT_BINARY_DIR}/twat_cache.pc"
               @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/twat_cache.pc" DESTINATION "${TWAT_CACHE_INSTALL_PKGCONFIGDIR}")
