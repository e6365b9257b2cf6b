#pragma once
/// How a policy that needs a key's hash (s3fifo's ghost, tinylfu's sketch) gets it: from the
/// engine, on demand, by node index. Storing it per node would cost every entry 4 to 8 bytes for a
/// value needed only on inserts and evictions.

#include <cstdint>
#include <twat_cache/version.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

class node_hasher {
 public:
  using function = std::uint64_t (*)(const void* context, std::uint32_t node);

  constexpr node_hasher() noexcept = default;
  constexpr node_hasher(const void* context, function hash) noexcept
      : context_(context), hash_(hash) {}

  /// The hash of node i's key (well mixed: every bit usable).
  [[nodiscard]] std::uint64_t operator()(std::uint32_t i) const { return hash_(context_, i); }

 private:
  const void* context_ = nullptr;
  function hash_ = nullptr;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
