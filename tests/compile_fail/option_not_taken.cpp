// expect: cannot convert.*mcache_options
// mcache keeps nothing on disk: giving it folder_name must not compile.
#include <twat_cache/cache.hpp>

int identity(int x) {
  return x;
}

int main() {
#ifdef TWAT_CACHE_COMPILE_FAIL_CONTROL
  auto f = twat_cache::mcache(identity, {.maxsize = 8});
#else
  auto f = twat_cache::mcache(identity, {.maxsize = 8, .folder_name = "x"});
#endif
  return f(1);
}
