#pragma once
// An asymmetric fence: a full memory barrier run on every CPU that runs a thread of this process
// (Linux membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED). A reader that pairs with it needs only a
// compiler barrier instead of a locked instruction, which is most of what an uncontended hit
// costs. The price moves to the writer: one system call (0.1 to 0.15 us here, see
// docs/performance.md), so reader_slots_lock uses it only while writes are rare.
//
// Not available (another OS, an old kernel, a seccomp filter, or ThreadSanitizer, which cannot see
// the system call's ordering and would report races): heavy_barrier_available() is false and
// every reader uses a locked instruction instead.

#include <twat_cache/config.hpp>

#if defined(__linux__) && !TWAT_CACHE_UNDER_TSAN && __has_include(<linux/membarrier.h>)
#define TWAT_CACHE_HAVE_MEMBARRIER 1
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#define TWAT_CACHE_HAVE_MEMBARRIER 0
#endif

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// True when heavy_barrier() works in this process (registered once, on first use).
inline bool heavy_barrier_available() noexcept {
#if TWAT_CACHE_HAVE_MEMBARRIER
  static const bool available = [] {
    const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (commands < 0 || (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  }();
  return available;
#else
  return false;
#endif
}

/// Every running thread of this process executes a full fence before this returns. Only called
/// after heavy_barrier_available() said yes; false if the kernel refused all the same.
inline bool heavy_barrier() noexcept {
#if TWAT_CACHE_HAVE_MEMBARRIER
  return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
  return false;
#endif
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
