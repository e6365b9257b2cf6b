#pragma once
// An asymmetric fence: a full memory barrier run on every CPU that runs a thread of this process
// (Linux membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED). A reader that pairs with it needs only a
// compiler barrier instead of a locked instruction, which is most of what an uncontended hit
// costs. The price moves to the writer: one system call, whose cost varies a hundredfold between
// machines (0.1 to 0.15 us on bare metal, 15 us on a KVM guest, where the kernel's interrupt to
// the other CPUs leaves the VM; docs/performance.md). So the barrier is timed where it is used,
// and reader_slots_lock uses it only while writes are rare enough for what it costs here.
//
// Not available (another OS, an old kernel, a seccomp filter, or ThreadSanitizer, which cannot see
// the system call's ordering and would report races): heavy_barrier_available() is false and
// every reader uses a locked instruction instead.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
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

/// What heavy_barrier() has cost in this process, in ns: a moving average over its calls,
/// shared by every lock. Before the first call, the bare-metal
/// figure (0.13 us), with which the lock behaves as it did before the cost was measured.
inline std::atomic<std::uint32_t> heavy_barrier_ns{128};

/// heavy_barrier(), timed into heavy_barrier_ns, an average over about the last 8 calls. The cost
/// is far from steady where it is dear: on a 2-vCPU KVM guest with both threads busy, a quarter
/// of the calls take over 20 us and most under 1 us, so the mean is what a write pays, and what
/// is averaged. A sample counts for at most 100 us (past that, the scheduler interrupted the
/// call, which says nothing of the next one). The two clock reads cost far less than the system
/// call they time. Racing writers of the average may lose an update: it stays an average.
inline bool timed_heavy_barrier() noexcept {
  const auto start = std::chrono::steady_clock::now();
  const bool done = heavy_barrier();
  const auto took =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  constexpr std::uint64_t longest = 100'000;
  const std::uint64_t sample =
      took < 0 ? std::uint64_t{0} : std::min(static_cast<std::uint64_t>(took), longest);
  const std::uint64_t average = heavy_barrier_ns.load(std::memory_order_relaxed);
  heavy_barrier_ns.store(static_cast<std::uint32_t>((average * 7 + sample) / 8),
                         std::memory_order_relaxed);
  return done;
}

/// How many reads must come between two writes for light readers to pay: each read saves about
/// `saved_ns_per_read` (a locked instruction on the reader's own line, measured at 1.5 to 7 ns),
/// each write costs one barrier. Never below 64, the figure that holds on bare metal.
[[nodiscard]] constexpr std::uint64_t light_reads_per_write(std::uint64_t barrier_ns) noexcept {
  constexpr std::uint64_t saved_ns_per_read = 2;
  constexpr std::uint64_t at_least = 64;
  const std::uint64_t needed = barrier_ns / saved_ns_per_read;
  return needed < at_least ? at_least : needed;
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
