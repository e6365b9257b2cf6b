#pragma once
// What the benchmarks of persistent caches share: a cache root of their own for the run.

#include <stdlib.h>  // mkdtemp, setenv

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace bench_support {

/// A fresh folder from mkdtemp (under $TMPDIR, else /tmp), which is TWAT_CACHE_DIR from its
/// construction on, and is removed with everything in it when this object goes. Make it before
/// any cache.
class temp_cache_root {
 public:
  explicit temp_cache_root(std::string_view program) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern += "/twat_cache_" + std::string(program) + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
    if (setenv("TWAT_CACHE_DIR", path_.c_str(), 1) != 0)
      throw std::runtime_error(std::string("setenv TWAT_CACHE_DIR: ") + std::strerror(errno));
  }
  temp_cache_root(const temp_cache_root&) = delete;
  temp_cache_root& operator=(const temp_cache_root&) = delete;
  ~temp_cache_root() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bench_support
