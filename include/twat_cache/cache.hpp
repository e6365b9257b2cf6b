#pragma once
/// Everything twat_cache offers. Finer-grained headers exist for each part.

#include <twat_cache/acache.hpp>
#include <twat_cache/advice.hpp>
#include <twat_cache/backends.hpp>
#include <twat_cache/bcache.hpp>
#include <twat_cache/clock.hpp>
#include <twat_cache/codec.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/engine.hpp>
#include <twat_cache/engines/chosen.hpp>
#include <twat_cache/engines/fallback.hpp>
#include <twat_cache/engines/memory.hpp>
#include <twat_cache/engines/std_lru.hpp>
#include <twat_cache/engines/tiered.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/fcache.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/memoize.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/paths.hpp>
#include <twat_cache/registry.hpp>
#include <twat_cache/stats.hpp>
#include <twat_cache/task.hpp>
#include <twat_cache/task_traits.hpp>
#include <twat_cache/ucache.hpp>
#include <twat_cache/version.hpp>

#if TWAT_CACHE_WITH_HIREDIS
#include <twat_cache/engines/redis.hpp>
#endif
#if TWAT_CACHE_WITH_MEMCACHED
#include <twat_cache/engines/memcached.hpp>
#endif
