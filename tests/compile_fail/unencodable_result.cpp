// expect: require_encodable<[^>]*opaque_result
// A persistent cache of a result type without a codec must fail at compile time, naming the type
// and the way out (whether or not this build has SQLite: code must not break when it gets it).
#include <twat_cache/cache.hpp>

struct opaque_result {
  int v = 0;
};

#ifdef TWAT_CACHE_COMPILE_FAIL_CONTROL
auto twat_cache_fields(opaque_result& r) {
  return std::tie(r.v);
}  // the fix the message suggests
#endif

opaque_result make(int x) {
  return {x};
}

int main() {
  auto f = twat_cache::bcache(make, {.folder_name = "compile_fail", .name = "make"});
  return f(1).v;
}
