#pragma once
// Byte hashing: XXH3 when xxHash is available, else a small multiply-mix hash of our own.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <twat_cache/config.hpp>

#if TWAT_CACHE_WITH_XXHASH
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#define TWAT_CACHE_DEFINED_XXH_INLINE_ALL_
#endif
#include <xxhash.h>
#ifdef TWAT_CACHE_DEFINED_XXH_INLINE_ALL_
#undef XXH_INLINE_ALL
#undef TWAT_CACHE_DEFINED_XXH_INLINE_ALL_
#endif
#endif

#ifndef TWAT_CACHE_XXHASH_DISPATCH
#define TWAT_CACHE_XXHASH_DISPATCH 0
#endif
#if TWAT_CACHE_WITH_XXHASH && TWAT_CACHE_XXHASH_DISPATCH
// From libxxhash (xxh_x86dispatch.c), declared here: its header, under XXH_INLINE_ALL, would
// declare it static.
extern "C" unsigned long long XXH3_64bits_withSeed_dispatch(const void* input, std::size_t length,
                                                            unsigned long long seed);
// (The state is an XXH3_state_t; the result an XXH_errorcode, an int-sized enum.)
extern "C" int XXH3_64bits_update_dispatch(void* state, const void* input, std::size_t length);
#endif

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Inputs at least this long use libxxhash's dispatching functions when they are linked.
inline constexpr std::size_t xxhash_dispatch_threshold = 16 * 1024;

__extension__ using uint128_t = unsigned __int128;

/// 64x64->128 multiply folded to 64 bits: the mixing step of wyhash-style hashes.
[[nodiscard]] constexpr std::uint64_t mul_fold(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128_t r = static_cast<uint128_t>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

inline constexpr std::uint64_t mix_k0 = 0x9E3779B97F4A7C15ULL;
inline constexpr std::uint64_t mix_k1 = 0xD6E8FEB86659FD93ULL;

/// Scrambles a 64-bit value so every input bit affects every output bit.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  return mul_fold(x ^ mix_k0, mix_k1);
}

/// Which of 2^bits stripes a hash falls in: Fibonacci hashing, so that even a user's weak hash
/// spreads over them (its high bits decide).
[[nodiscard]] constexpr std::size_t stripe_index(std::uint64_t hash, unsigned bits) noexcept {
  return static_cast<std::size_t>((hash * mix_k0) >> (64 - bits));
}

/// Folds one more 64-bit hash into a running one; the order of elements matters.
[[nodiscard]] constexpr std::uint64_t combine(std::uint64_t seed, std::uint64_t h) noexcept {
  return mul_fold(seed ^ mix_k1, h ^ mix_k0);
}

#if !TWAT_CACHE_WITH_XXHASH
inline std::uint64_t read_u64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t read_tail(const unsigned char* p, std::size_t n) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}
#endif

/// Hash of `n` bytes at `data`.
[[nodiscard]] inline std::uint64_t hash_bytes(const void* data, std::size_t n,
                                              std::uint64_t seed = 0) noexcept {
#if TWAT_CACHE_WITH_XXHASH
#if TWAT_CACHE_XXHASH_DISPATCH
  // Long inputs (persistent values: checksums of megabytes) go to libxxhash's run-time dispatch,
  // which uses AVX2/AVX-512 where the CPU has them: 2-3x the inlined SSE2 code's speed.
  if (n >= xxhash_dispatch_threshold) return XXH3_64bits_withSeed_dispatch(data, n, seed);
#endif
  // The same value (xxHash's spec), and g++ makes a shorter call of it: every key hash has seed 0.
  if (seed == 0) return XXH3_64bits(data, n);
  return XXH3_64bits_withSeed(data, n, seed);
#else
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed ^ mul_fold(n ^ mix_k0, mix_k1);
  while (n >= 16) {
    h = mul_fold(read_u64(p) ^ mix_k1, read_u64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  const std::uint64_t a = n > 8 ? read_u64(p) : read_tail(p, n);
  const std::uint64_t b = n > 8 ? read_tail(p + 8, n - 8) : 0;
  return mul_fold(mul_fold(a ^ mix_k0, b ^ h ^ mix_k1), h ^ n);
#endif
}

#if TWAT_CACHE_WITH_XXHASH
/// hash_bytes(data, n, seed) computed over pieces fed in order, so a long value can be hashed
/// piece by piece while each piece is in cache for another use. Only with xxHash.
class hash_stream {
 public:
  explicit hash_stream(std::uint64_t seed) noexcept { XXH3_64bits_reset_withSeed(&state_, seed); }
  hash_stream(const hash_stream&) = delete;
  hash_stream& operator=(const hash_stream&) = delete;
  ~hash_stream() = default;

  void update(const void* data, std::size_t n) noexcept {
#if TWAT_CACHE_XXHASH_DISPATCH
    if (n >= xxhash_dispatch_threshold) {
      XXH3_64bits_update_dispatch(&state_, data, n);
      return;
    }
#endif
    XXH3_64bits_update(&state_, data, n);
  }
  [[nodiscard]] std::uint64_t digest() const noexcept {
    return XXH3_64bits_digest(&state_);
  }

 private:
  XXH3_state_t state_{};  // zeroed: reset_withSeed reads the seed it had
};
#endif

/// A 128-bit hash (persistent keys: collisions there would be checked anyway, but stay rare).
struct hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend bool operator==(const hash128&, const hash128&) = default;
};

[[nodiscard]] inline hash128 hash_bytes128(const void* data, std::size_t n) noexcept {
#if TWAT_CACHE_WITH_XXHASH
  const XXH128_hash_t h = XXH3_128bits(data, n);
  return {h.low64, h.high64};
#else
  return {hash_bytes(data, n, 0), hash_bytes(data, n, mix_k1)};
#endif
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
