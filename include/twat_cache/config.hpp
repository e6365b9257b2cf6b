#pragma once
/// Which optional dependencies this build uses. CMake defines each TWAT_CACHE_WITH_* to 0 or 1;
/// a build without CMake detects them with __has_include. Every default is #ifndef-overridable.

#include <twat_cache/version.hpp>

#ifndef TWAT_CACHE_WITH_BOOST
#if __has_include(<boost/unordered/unordered_flat_set.hpp>)
#define TWAT_CACHE_WITH_BOOST 1
#else
#define TWAT_CACHE_WITH_BOOST 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_XXHASH
#if __has_include(<xxhash.h>)
#define TWAT_CACHE_WITH_XXHASH 1
#else
#define TWAT_CACHE_WITH_XXHASH 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_SQLITE
#if __has_include(<sqlite3.h>)
#define TWAT_CACHE_WITH_SQLITE 1
#else
#define TWAT_CACHE_WITH_SQLITE 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_ZSTD
#if __has_include(<zstd.h>)
#define TWAT_CACHE_WITH_ZSTD 1
#else
#define TWAT_CACHE_WITH_ZSTD 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_CEREAL
#if __has_include(<cereal/archives/portable_binary.hpp>)
#define TWAT_CACHE_WITH_CEREAL 1
#else
#define TWAT_CACHE_WITH_CEREAL 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_ASIO
#if __has_include(<asio.hpp>)
#define TWAT_CACHE_WITH_ASIO 1
#else
#define TWAT_CACHE_WITH_ASIO 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_HIREDIS
#if __has_include(<hiredis/hiredis.h>)
#define TWAT_CACHE_WITH_HIREDIS 1
#else
#define TWAT_CACHE_WITH_HIREDIS 0
#endif
#endif

#ifndef TWAT_CACHE_WITH_MEMCACHED
#if __has_include(<libmemcached-1.0/memcached.h>)
#define TWAT_CACHE_WITH_MEMCACHED 1
#else
#define TWAT_CACHE_WITH_MEMCACHED 0
#endif
#endif

// Boost >= 1.81 is what has unordered_flat_set; an older Boost counts as absent.
#if TWAT_CACHE_WITH_BOOST
#include <boost/version.hpp>
#if BOOST_VERSION < 108100
#undef TWAT_CACHE_WITH_BOOST
#define TWAT_CACHE_WITH_BOOST 0
#endif
#endif

/// Number of per-thread reader slots a thread-safe memory engine keeps. Threads beyond this many
/// live at once still work, through the exclusive lock (slower, never wrong).
#ifndef TWAT_CACHE_MAX_READER_SLOTS
#define TWAT_CACHE_MAX_READER_SLOTS 64
#endif

/// Access records a thread buffers before they are applied to the eviction policy (lru, lfu,
/// tinylfu, or the advisor, in a thread-safe memory engine): to begin with, and at most, the
/// buffer doubling while other threads apply theirs. 4 bytes a record, per thread and cache.
#ifndef TWAT_CACHE_ACCESS_BUFFER_SIZE
#define TWAT_CACHE_ACCESS_BUFFER_SIZE 120
#endif
#ifndef TWAT_CACHE_ACCESS_BUFFER_MAX
#define TWAT_CACHE_ACCESS_BUFFER_MAX 2048
#endif
static_assert(TWAT_CACHE_ACCESS_BUFFER_SIZE >= 1 &&
                  TWAT_CACHE_ACCESS_BUFFER_MAX >= TWAT_CACHE_ACCESS_BUFFER_SIZE,
              "TWAT_CACHE_ACCESS_BUFFER_MAX must be at least TWAT_CACHE_ACCESS_BUFFER_SIZE, >= 1");

/// 1 when compiled with ThreadSanitizer (g++ defines __SANITIZE_THREAD__, clang has the feature).
#if defined(__SANITIZE_THREAD__)
#define TWAT_CACHE_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TWAT_CACHE_UNDER_TSAN 1
#endif
#endif
#ifndef TWAT_CACHE_UNDER_TSAN
#define TWAT_CACHE_UNDER_TSAN 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TWAT_CACHE_LIKELY(x) __builtin_expect(!!(x), 1)
#define TWAT_CACHE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TWAT_CACHE_NOINLINE __attribute__((noinline))
// The hit path: inlined whatever the translation unit's inlining budget has left (a unit with
// many caches, each with every engine of ucache, exhausts it).
#define TWAT_CACHE_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TWAT_CACHE_LIKELY(x) (x)
#define TWAT_CACHE_UNLIKELY(x) (x)
#define TWAT_CACHE_NOINLINE
#define TWAT_CACHE_ALWAYS_INLINE inline
#endif
