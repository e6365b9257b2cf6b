// expect: require_key<[^>]*no_hash_type
// An argument type with no hash must fail at compile time, naming the type and the way out.
#include <twat_cache/cache.hpp>

struct no_hash_type {
  int v = 0;
  bool operator==(const no_hash_type&) const = default;
};

#ifdef TWAT_CACHE_COMPILE_FAIL_CONTROL
// The fix the message suggests.
auto twat_cache_key(const no_hash_type& x) {
  return x.v;
}
#endif

int use(const no_hash_type& x) {
  return x.v;
}

int main() {
  auto f = twat_cache::mcache(use);
  return f(no_hash_type{});
}
