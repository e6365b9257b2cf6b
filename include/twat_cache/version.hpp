#pragma once
/// Version of twat_cache; CMake parses these three lines, so keep their shape.
#define TWAT_CACHE_VERSION_MAJOR 0
#define TWAT_CACHE_VERSION_MINOR 1
#define TWAT_CACHE_VERSION_PATCH 0

#define TWAT_CACHE_VERSION \
  (TWAT_CACHE_VERSION_MAJOR * 10000 + TWAT_CACHE_VERSION_MINOR * 100 + TWAT_CACHE_VERSION_PATCH)

// The inline namespace carries the major version so two incompatible copies in one program fail to
// link instead of silently violating the ODR.
#define TWAT_CACHE_ABI_NAMESPACE_CONCAT_(a) v##a
#define TWAT_CACHE_ABI_NAMESPACE_(a) TWAT_CACHE_ABI_NAMESPACE_CONCAT_(a)
#define TWAT_CACHE_ABI_NAMESPACE TWAT_CACHE_ABI_NAMESPACE_(TWAT_CACHE_VERSION_MAJOR)

#define TWAT_CACHE_BEGIN_NAMESPACE \
  namespace twat_cache {           \
  inline namespace TWAT_CACHE_ABI_NAMESPACE {
#define TWAT_CACHE_END_NAMESPACE \
  }                              \
  }
