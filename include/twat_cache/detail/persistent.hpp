#pragma once
// What the persistent engines (SQLite, files) share: their options in one shape, the bytes and
// hash of a persistent key, wall-clock time, zstd where it pays, private folders, counters.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <twat_cache/codec.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/hash_bytes.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/paths.hpp>
#include <twat_cache/stats.hpp>
#include <utility>

#if TWAT_CACHE_WITH_ZSTD
#include <zstd.h>
#endif

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {

/// bcache_options and fcache_options, validated, in one shape.
struct persistent_config {
  std::string folder_name;
  std::string name;
  std::optional<std::size_t> maxsize;
  std::optional<std::uint64_t> max_bytes;
  std::optional<std::chrono::nanoseconds> ttl;
  bool compress = false;
  durability durable = durability::fast;
  wall_clock_fn clock;
};

inline constexpr std::size_t max_name_length = 128;
/// bcache's database in a cache folder (with its -wal and -shm files); fcache's folder of a name
/// sits beside it, so no name may take it.
inline constexpr std::string_view sqlite_database_file = "cache.sqlite3";

/// A function's `name` becomes one path component (fcache) and part of every key: it must be
/// given, and be plain.
inline void validate_function_name(std::string_view where, std::string_view name) {
  const std::string field = std::string(where) + ".name";
  auto fail = [&](std::string_view why) {
    throw config_error(field + " = \"" + printable(name) + "\" is invalid: " + std::string(why) +
                       "; use 1 to 128 letters, digits, '-', '_' and '.', not starting with '.'");
  };
  if (name.empty()) {
    throw config_error(field +
                       " is required for a persistent cache: it is how the next run finds "
                       "the entries, and what keeps two functions in one folder apart (a silent "
                       "default would let them share entries); e.g. .name = \"geocode\"");
  }
  if (name.size() > max_name_length) fail("longer than 128 characters");
  if (name.front() == '.') fail("it starts with '.'");
  if (name.starts_with(sqlite_database_file)) {
    fail("it is reserved for bcache's database in the same folder");
  }
  for (const char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    if (!plain) fail("it contains '" + printable(std::string_view(&c, 1)) + "'");
  }
}

template <class Options>
[[nodiscard]] persistent_config validate_persistent(std::string_view where, const Options& o) {
  validate_relative_name(std::string(where) + ".folder_name", o.folder_name);
  validate_function_name(where, o.name);
  validate_maxsize(where, o.maxsize, std::size_t{1} << 62);
  if (o.max_bytes && *o.max_bytes == 0) {
    throw config_error(std::string(where) +
                       ".max_bytes = 0 is invalid: use a positive number of bytes, or leave it "
                       "empty (std::nullopt) for no limit");
  }
  validate_ttl(where, o.ttl);
  if (o.durability != durability::fast && o.durability != durability::full) {
    throw config_error(std::string(where) +
                       ".durability = " + std::to_string(static_cast<unsigned>(o.durability)) +
                       " is not a twat_cache::durability; allowed: fast, full");
  }
  return {o.folder_name, o.name, o.maxsize, o.max_bytes, o.ttl, o.compress, o.durability, o.clock};
}

/// Nanoseconds since the Unix epoch, from the configured wall clock.
[[nodiscard]] inline std::int64_t wall_now_ns(const wall_clock_fn& clock) {
  const auto now = clock ? clock() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
}

/// The bytes of a persistent key: the codec version, the function's name, the type tags of its
/// parameters and result, then the encoded arguments. A changed signature, name or encoding
/// thus keys apart from old entries (a miss), never onto them.
template <class Key, class Value>
class persistent_keys {
 public:
  explicit persistent_keys(std::string_view name) {
    encoder out(prefix_);
    out.varint(codec_format_version);
    out(name);
    std::string tags = "(";
    append_type_tag<Key>(tags);
    tags += ")->";
    append_type_tag<Value>(tags);
    out(std::string_view(tags));
  }

  /// The key bytes of `key` (the owned key or a lookup view of it), in a buffer of this thread
  /// that the next call overwrites.
  template <class K>
  [[nodiscard]] std::string_view bytes(const K& key) const {
    thread_local std::string buffer;
    buffer.assign(prefix_);
    encoder{buffer}(key);
    return buffer;
  }

 private:
  std::string prefix_;
};

/// Where a key lives: a 128-bit hash of its bytes (XXH3-128 when xxHash is built in; builds
/// without it use another hash, so they find other entries: a miss, never a wrong value).
[[nodiscard]] inline hash128 key_hash128(std::string_view key_bytes) noexcept {
  return hash_bytes128(key_bytes.data(), key_bytes.size());
}

inline constexpr std::uint64_t checksum_seed = 0x7477617463616368ULL;

/// Checksum of stored bytes, so altered entries read as misses: the hash of `b`, seeded with the
/// hash of `a`.
[[nodiscard]] inline std::uint64_t checksum(std::string_view a, std::string_view b = {}) noexcept {
  return hash_bytes(b.data(), b.size(), hash_bytes(a.data(), a.size(), checksum_seed));
}

// ---------------------------------------------------------------------------------------------
// zstd, where it pays.

/// Values below this stay raw: zstd's frame overhead eats what it would save.
inline constexpr std::size_t min_compressed_size = 128;
/// A compressed value must be at most this fraction of the raw one to be kept compressed.
inline constexpr double max_kept_ratio = 0.9;
/// Larger values are first judged on a sample of this size, so incompressible data (random
/// doubles) costs a sample's compression, not the whole value's.
inline constexpr std::size_t compression_sample_size = 64 * 1024;
/// The largest value we decompress: a bound on what a damaged entry can make us allocate.
inline constexpr std::uint64_t max_decompressed_size = std::uint64_t{1} << 36;

[[nodiscard]] inline bool zstd_available() noexcept {
  return TWAT_CACHE_WITH_ZSTD != 0;
}

/// zstd of `raw` into `out` when that saves enough; false (out untouched) to store it raw.
inline bool compress_if_worth(std::string_view raw, std::string& out) {
#if TWAT_CACHE_WITH_ZSTD
  if (raw.size() < min_compressed_size) return false;
  constexpr int level = 3;
  auto compress = [](std::string_view in, std::string& dest) {
    dest.resize(ZSTD_compressBound(in.size()));
    const std::size_t n = ZSTD_compress(dest.data(), dest.size(), in.data(), in.size(), level);
    if (ZSTD_isError(n)) return false;
    dest.resize(n);
    return true;
  };
  if (raw.size() > 4 * compression_sample_size) {
    std::string sample;
    const std::string_view middle =
        raw.substr(raw.size() / 2 - compression_sample_size / 2, compression_sample_size);
    if (!compress(middle, sample) ||
        static_cast<double>(sample.size()) > max_kept_ratio * static_cast<double>(middle.size())) {
      return false;
    }
  }
  std::string packed;
  if (!compress(raw, packed) ||
      static_cast<double>(packed.size()) > max_kept_ratio * static_cast<double>(raw.size())) {
    return false;
  }
  out = std::move(packed);
  return true;
#else
  static_cast<void>(raw);
  static_cast<void>(out);
  return false;
#endif
}

/// Decompresses a zstd frame that must hold exactly `raw_size` bytes; false when it does not
/// (damaged, or written by a build with zstd when this one has none).
inline bool decompress_exact(std::string_view packed, std::uint64_t raw_size, std::string& out) {
#if TWAT_CACHE_WITH_ZSTD
  if (raw_size > max_decompressed_size) return false;
  if (ZSTD_getFrameContentSize(packed.data(), packed.size()) != raw_size) return false;
  out.resize(static_cast<std::size_t>(raw_size));
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  return !ZSTD_isError(n) && n == raw_size;
#else
  static_cast<void>(packed);
  static_cast<void>(raw_size);
  static_cast<void>(out);
  return false;
#endif
}

/// A value as a persistent engine stores it: encoded, and zstd-compressed when that pays.
struct packed_value {
  std::string bytes;
  std::int64_t raw_size = -1;  ///< -1: `bytes` are the encoding itself; else its size unpacked
};

template <class Value>
[[nodiscard]] packed_value pack_value(const Value& value, bool compress) {
  packed_value packed{encode(value)};
  std::string compressed;
  if (compress && compress_if_worth(packed.bytes, compressed)) {
    packed.raw_size = static_cast<std::int64_t>(packed.bytes.size());
    packed.bytes = std::move(compressed);
  }
  return packed;
}

/// The value back from stored bytes; nullopt with `why` set when they do not give one.
template <class Value>
[[nodiscard]] std::optional<Value> unpack_value(std::string_view stored, std::int64_t raw_size,
                                                std::string_view& why) {
  std::optional<Value> value;
  if (raw_size < 0) {
    value = decode<Value>(stored);
  } else {
    std::string raw;
    if (!decompress_exact(stored, static_cast<std::uint64_t>(raw_size), raw)) {
      why = zstd_available() ? "it does not decompress"
                             : "it is compressed and this build has no zstd";
      return std::nullopt;
    }
    value = decode<Value>(raw);
  }
  if (!value) why = "its value does not decode";
  return value;
}

// ---------------------------------------------------------------------------------------------
// Private folders.

[[nodiscard]] inline std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

/// Makes `dir` (and its missing parents) with mode 0700 whatever the umask. Components below
/// `trusted` must be real directories: a symlink planted there is refused, never followed.
/// Throws engine_unavailable with the reason.
inline void make_private_directory(const std::filesystem::path& trusted,
                                   const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  auto make_one = [](const fs::path& p, bool must_not_be_link) {
    if (::mkdir(p.c_str(), 0700) == 0) {
      if (::chmod(p.c_str(), 0700) != 0) {
        throw engine_unavailable("cannot set mode 0700 on " + p.string() + ": " +
                                 errno_text(errno));
      }
      return;
    }
    const int error = errno;
    struct stat st {};
    if (error != EEXIST || ::lstat(p.c_str(), &st) != 0) {
      throw engine_unavailable("cannot create " + p.string() + ": " + errno_text(error));
    }
    if (S_ISLNK(st.st_mode) && must_not_be_link) {
      throw engine_unavailable(p.string() +
                               " is a symbolic link; a cache folder must be a real "
                               "directory (refusing to follow it)");
    }
    if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) {
      throw engine_unavailable(p.string() + " exists and is not a directory");
    }
    // A cache folder of ours made earlier with a wider mode (by hand, by another tool) is
    // narrowed; one that is not ours is used as it is.
    if (must_not_be_link && (st.st_mode & 077) != 0 && st.st_uid == ::geteuid()) {
      ::chmod(p.c_str(), 0700);
    }
  };
  fs::path at;
  for (const auto& part : trusted) {
    at /= part;
    if (at == at.root_path()) continue;
    make_one(at, /*must_not_be_link=*/false);  // the root may be a link the user made
  }
  const fs::path below = dir.lexically_relative(trusted);
  for (const auto& part : below) {
    if (part.empty() || part == ".") continue;
    at /= part;
    make_one(at, /*must_not_be_link=*/true);
  }
}

/// The folder of a persistent cache, made private; throws engine_unavailable when it cannot be.
[[nodiscard]] inline std::filesystem::path open_cache_folder(std::string_view folder_name) {
  const std::filesystem::path root = cache_root();
  const std::filesystem::path folder = get_cache_path(folder_name);
  make_private_directory(root, folder);
  return folder;
}

/// Counters a persistent engine keeps in the process (size and bytes live on disk).
struct persistent_counters {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> expirations{0};
  std::atomic<std::uint64_t> errors{0};

  void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  void fill(cache_stats& s) const noexcept {
    s.hits = hits.load(std::memory_order_relaxed);
    s.misses = misses.load(std::memory_order_relaxed);
    s.evictions = evictions.load(std::memory_order_relaxed);
    s.expirations = expirations.load(std::memory_order_relaxed);
    s.errors = errors.load(std::memory_order_relaxed);
  }
  /// An entry that was there but unusable (altered, truncated, foreign): a miss, counted as
  /// an error and logged once per engine.
  void damaged(std::string_view engine, const std::filesystem::path& where, std::string_view why) {
    add(errors);
    log_once(log_level::error, "data." + std::string(engine),
             "an entry in " + where.string() + " was ignored: " + std::string(why) +
                 " (counted as a miss)");
  }
  /// A read that failed (I/O error, lock timeout): a miss, counted and logged once per engine.
  void read_failed(std::string_view engine, const std::filesystem::path& where,
                   std::string_view why) {
    add(errors);
    log_once(log_level::error, "io." + std::string(engine) + ".read",
             "reading " + where.string() + " failed: " + std::string(why));
  }

  void reset() noexcept {
    for (auto* c : {&hits, &misses, &evictions, &expirations, &errors})
      c->store(0, std::memory_order_relaxed);
  }
};

/// get, peek and contains of a persistent engine, over its `lookup(key, counted)` (which it
/// makes reachable with `friend persistent_reads`) and the counters kept here.
template <class Engine, class Value>
class persistent_reads {
 public:
  /// The value for `key`, counting a hit or a miss.
  template <class K>
  [[nodiscard]] std::optional<Value> get(const K& key) {
    auto value = self().lookup(key, /*counted=*/true);
    counters_.add(value ? counters_.hits : counters_.misses);
    return value;
  }

  /// The value without counting a hit or a miss (single flight's second look).
  template <class K>
  [[nodiscard]] std::optional<Value> peek(const K& key) {
    return self().lookup(key, /*counted=*/false);
  }

  template <class K>
  [[nodiscard]] bool contains(const K& key) {
    return self().lookup(key, /*counted=*/false).has_value();
  }

 protected:
  persistent_reads() = default;
  mutable persistent_counters counters_;

 private:
  Engine& self() noexcept { return static_cast<Engine&>(*this); }
};

}  // namespace detail

TWAT_CACHE_END_NAMESPACE
