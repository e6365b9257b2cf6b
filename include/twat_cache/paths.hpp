#pragma once
/// Where persistent caches live: get_cache_path(folder_name).

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <twat_cache/errors.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {

inline constexpr std::size_t max_folder_name_length = 255;

/// `value` fit for a message: control characters (a NUL would end what()) as \xNN.
inline std::string printable(std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

/// Throws config_error unless `value` is a relative path that stays inside the cache root.
inline void validate_relative_name(std::string_view field, std::string_view value) {
  auto fail = [&](std::string_view why) {
    throw config_error(std::string(field) + " = \"" + printable(value) +
                       "\" is invalid: " + std::string(why) +
                       "; use a relative path (at most 255 characters) that stays inside the "
                       "cache folder");
  };
  if (value.size() > max_folder_name_length) fail("longer than 255 characters");
  if (value.find('\0') != std::string_view::npos) fail("it contains a NUL character");
  const std::filesystem::path p{std::string(value)};
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) fail("it is absolute");
  for (const auto& part : p) {
    if (part == "..") fail("it climbs out with '..'");
  }
}

inline std::filesystem::path cache_root() {
  if (const char* dir = std::getenv("TWAT_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "twat_cache";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "twat_cache";
  }
  return std::filesystem::temp_directory_path() / "twat_cache";
}

}  // namespace detail

/// The folder of a persistent cache: $TWAT_CACHE_DIR, else $XDG_CACHE_HOME/twat_cache, else
/// ~/.cache/twat_cache, followed by `folder_name`. Does not create it. Throws config_error for a
/// folder_name that is absolute or climbs out with "..".
[[nodiscard]] inline std::filesystem::path get_cache_path(std::string_view folder_name = {}) {
  detail::validate_relative_name("folder_name", folder_name);
  auto root = detail::cache_root();
  return folder_name.empty() ? root : root / std::filesystem::path(std::string(folder_name));
}

TWAT_CACHE_END_NAMESPACE
