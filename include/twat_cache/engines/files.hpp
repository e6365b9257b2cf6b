#pragma once
/// The files engine of fcache: one file per entry in get_cache_path(folder_name)/<name>/, named
/// by the key's 128-bit hash only (no user text in paths), 32 hex digits and ".twc".
///
/// File layout (little-endian), so a reader can reason about upgrades:
///   offset size
///        0    4  magic "TWCF"
///        4    2  file format version (1)
///        6    2  flags: bit 0 = value is zstd-compressed
///        8    8  key size K
///       16    8  stored value size V
///       24    8  raw value size (the encoding's size before compression; V when raw)
///       32    8  stored at, ns since the Unix epoch
///       40    8  expires at, ns since the Unix epoch (0: never)
///       48    8  checksum (XXH3-64; the built-in hash without xxHash) of bytes 0..47, the
///                key and the value
///       56    8  reserved (0)
///       64    K  key bytes (compared on every hit: a collision is a miss, never a wrong value)
///     64+K    V  value bytes (codec<T>, maybe zstd)
/// A file whose size is not 64 + K + V, or whose checksum does not match, is a miss.
///
/// Writes go to a temporary file in the same folder (O_EXCL, 0600, never following a link),
/// are fsynced when durability is full, then renamed over the entry: a reader sees the old entry
/// or the new one, never a mix. Large values are mapped, checked and decoded straight from the
/// mapping: a std::vector of scalars is built in one allocation and one copy.
///
/// Limits: each writer counts what it added since its last scan of the folder, and when that
/// passes maxsize / max_bytes it scans the folder and deletes the least recently stored files
/// (by modification time, which each write sets strictly increasing) down to 1/16 below the
/// limit, so that a full cache scans once per maxsize/16 stores, not on every one. Deleting a file
/// another process is reading is safe: its open descriptor keeps the data. Several writing
/// processes can overshoot a limit until one of them scans.

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/codec.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

namespace detail_files {

inline constexpr std::array<char, 4> magic = {'T', 'W', 'C', 'F'};
inline constexpr std::uint16_t format_version = 1;
inline constexpr std::size_t header_size = 64;
inline constexpr std::uint16_t flag_compressed = 1;
inline constexpr std::string_view entry_suffix = ".twc";
inline constexpr std::string_view temp_prefix = ".tmp-";
/// Files up to this size are read with one pread into a reused buffer; larger ones are mapped.
inline constexpr std::size_t map_threshold = 256 * 1024;
/// Puts between two full scans of the folder (stale temporaries, expired entries, totals).
inline constexpr std::uint64_t scan_interval = 4096;
/// A temporary file this old was left by a writer that died.
inline constexpr std::chrono::hours stale_temp_age{1};

struct header {
  std::uint16_t flags = 0;
  std::uint64_t key_size = 0;
  std::uint64_t stored_size = 0;
  std::uint64_t raw_size = 0;
  std::int64_t stored_ns = 0;
  std::int64_t expires_ns = 0;
  std::uint64_t checksum = 0;
};

template <class T>
void put_le(unsigned char* at, T value) noexcept {
  value = twat_cache::detail::byteswap_if_big_endian(value);
  std::memcpy(at, &value, sizeof value);
}
template <class T>
[[nodiscard]] T get_le(const unsigned char* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof value);
  return twat_cache::detail::byteswap_if_big_endian(value);
}

[[nodiscard]] inline std::uint64_t checksum_of(const unsigned char* head48, std::string_view key,
                                               std::string_view value) noexcept {
  const std::uint64_t h =
      twat_cache::detail::hash_bytes(head48, 48, twat_cache::detail::checksum(key, value));
  return h;
}

/// The header's 64 bytes, checksum included.
[[nodiscard]] inline std::array<unsigned char, header_size> write_header(const header& h,
                                                                         std::string_view key,
                                                                         std::string_view value) {
  std::array<unsigned char, header_size> out{};
  std::memcpy(out.data(), magic.data(), magic.size());
  put_le(out.data() + 4, format_version);
  put_le(out.data() + 6, h.flags);
  put_le(out.data() + 8, h.key_size);
  put_le(out.data() + 16, h.stored_size);
  put_le(out.data() + 24, h.raw_size);
  put_le(out.data() + 32, h.stored_ns);
  put_le(out.data() + 40, h.expires_ns);
  put_le(out.data() + 48, checksum_of(out.data(), key, value));
  return out;
}

/// The header of a file of `file_size` bytes, or nullopt (with why) when it is not one of ours
/// or its sizes do not add up.
[[nodiscard]] inline std::optional<header> read_header(const unsigned char* p,
                                                       std::uint64_t file_size,
                                                       std::string_view& why) {
  if (file_size < header_size || std::memcmp(p, magic.data(), magic.size()) != 0) {
    why = "it is not a twat_cache entry";
    return std::nullopt;
  }
  if (get_le<std::uint16_t>(p + 4) != format_version) {
    why = "it has another file format version";
    return std::nullopt;
  }
  header h;
  h.flags = get_le<std::uint16_t>(p + 6);
  h.key_size = get_le<std::uint64_t>(p + 8);
  h.stored_size = get_le<std::uint64_t>(p + 16);
  h.raw_size = get_le<std::uint64_t>(p + 24);
  h.stored_ns = get_le<std::int64_t>(p + 32);
  h.expires_ns = get_le<std::int64_t>(p + 40);
  h.checksum = get_le<std::uint64_t>(p + 48);
  const std::uint64_t body = file_size - header_size;
  if (h.key_size > body || h.stored_size != body - h.key_size) {
    why = "its size does not match its header (truncated?)";
    return std::nullopt;
  }
  return h;
}

/// A file descriptor, closed when it goes.
class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

/// The bytes of a whole file: read into a buffer of this thread when small, mapped when large.
class file_bytes {
 public:
  file_bytes() = default;
  file_bytes(const file_bytes&) = delete;
  file_bytes& operator=(const file_bytes&) = delete;
  ~file_bytes() {
    if (mapped_ != nullptr) ::munmap(mapped_, size_);
  }

  /// False with errno set when the file cannot be read whole.
  bool load(int fd, std::size_t size) {
    size_ = size;
    if (size > map_threshold) {
      void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p == MAP_FAILED) return false;
      mapped_ = p;
      data_ = static_cast<const unsigned char*>(p);
      return true;
    }
    thread_local std::string buffer;
    buffer.resize(size);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd, buffer.data() + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = EIO;  // shorter than fstat said: it changed under us
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    data_ = reinterpret_cast<const unsigned char*>(buffer.data());
    return true;
  }

  [[nodiscard]] const unsigned char* data() const noexcept { return data_; }
  [[nodiscard]] std::string_view view(std::uint64_t offset, std::uint64_t n) const noexcept {
    return {reinterpret_cast<const char*>(data_ + offset), static_cast<std::size_t>(n)};
  }

 private:
  const unsigned char* data_ = nullptr;
  void* mapped_ = nullptr;
  std::size_t size_ = 0;
};

inline void write_all(int fd, const std::array<iovec, 3>& parts) {
  std::array<iovec, 3> left = parts;
  std::size_t first = 0;
  while (first < left.size()) {
    const ssize_t n = ::writev(fd, left.data() + first, static_cast<int>(left.size() - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw cache_io_error("writing an entry: " + twat_cache::detail::errno_text(errno));
    }
    auto written = static_cast<std::size_t>(n);
    while (first < left.size() && written >= left[first].iov_len) {
      written -= left[first].iov_len;
      ++first;
    }
    if (first < left.size()) {
      left[first].iov_base = static_cast<char*>(left[first].iov_base) + written;
      left[first].iov_len -= written;
    }
  }
}

/// std::vector of scalars whose bytes are their encoding: decoded in chunks while hashed.
template <class V>
inline constexpr bool scalar_vector = false;
template <class T, class A>
inline constexpr bool scalar_vector<std::vector<T, A>> =
    twat_cache::detail::raw_scalar<T>&& std::endian::native == std::endian::little;

/// Bytes hashed and copied per step: small enough to stay in L2 between the two.
inline constexpr std::size_t hashing_chunk = 64 * 1024;

#if TWAT_CACHE_WITH_XXHASH
/// Decodes a scalar_vector from `stored` while computing the hash checksum_of() takes of it
/// (seeded with the key's), a chunk at a time: each chunk is hashed, then copied while still in
/// cache. The caller compares the checksum before using the value.
template <class V>
[[nodiscard]] std::optional<V> decode_vector_hashing(std::string_view key, std::string_view stored,
                                                     std::uint64_t& value_hash) {
  using T = typename V::value_type;
  twat_cache::detail::hash_stream hash(
      twat_cache::detail::hash_bytes(key.data(), key.size(), twat_cache::detail::checksum_seed));
  std::optional<V> out;
  decoder in(stored);
  std::size_t n = 0;
  if (in.count(n, sizeof(T)) && in.remaining() == n * sizeof(T)) {
    const std::size_t prefix = stored.size() - in.remaining();
    hash.update(stored.data(), prefix);
    const auto* at = reinterpret_cast<const unsigned char*>(stored.data()) + prefix;
    out.emplace();
    out->reserve(n);
    constexpr std::size_t chunk_elements = hashing_chunk / sizeof(T);
    for (std::size_t done = 0; done < n;) {
      const std::size_t k = std::min(chunk_elements, n - done);
      hash.update(at, k * sizeof(T));
      out->insert(out->end(), twat_cache::detail::unaligned_reader<T>{at},
                  twat_cache::detail::unaligned_reader<T>{at + k * sizeof(T)});
      at += k * sizeof(T);
      done += k;
    }
  } else {
    hash.update(stored.data(), stored.size());  // the checksum decides what is reported
  }
  value_hash = hash.digest();
  return out;
}
#endif

/// One file of the folder, as a scan sees it.
struct scanned_file {
  std::string name;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
};

[[nodiscard]] inline bool is_entry_name(std::string_view name) noexcept {
  if (name.size() != 32 + entry_suffix.size() || !name.ends_with(entry_suffix)) return false;
  return std::all_of(name.begin(), name.begin() + 32,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace detail_files

/// fcache's engine. Thread-safe; several processes may share one folder.
template <class Key, class Value>
class files : public twat_cache::detail::persistent_reads<files<Key, Value>, Value> {
  friend class twat_cache::detail::persistent_reads<files, Value>;
  using twat_cache::detail::persistent_reads<files, Value>::counters_;
  static_assert(twat_cache::detail::require_encodable<Key>::value);
  static_assert(twat_cache::detail::require_encodable<Value>::value);
  using header = detail_files::header;

 public:
  using key_type = Key;
  using value_type = Value;

  /// Opens (creating when needed) the folder of `options.name`; throws config_error for bad
  /// options and engine_unavailable when the folder cannot be made or opened.
  explicit files(const fcache_options& options)
      : config_(twat_cache::detail::validate_persistent("fcache_options", options)),
        keys_(config_.name) {
    const auto root = twat_cache::detail::cache_root();
    dir_ = twat_cache::detail::open_cache_folder(config_.folder_name) / config_.name;
    twat_cache::detail::make_private_directory(root, dir_);
    dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd_ < 0) {
      throw engine_unavailable("cannot open " + dir_.string() + ": " +
                               twat_cache::detail::errno_text(errno));
    }
    if (::faccessat(dir_fd_, ".", W_OK, AT_EACCESS) != 0) {
      ::close(dir_fd_);
      throw engine_unavailable("cannot write in " + dir_.string() + ": " +
                               twat_cache::detail::errno_text(errno));
    }
    if (config_.maxsize || config_.max_bytes) rescan();
  }
  files(const files&) = delete;
  files& operator=(const files&) = delete;
  ~files() { ::close(dir_fd_); }

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "files"; }

  /// The folder of this name's entries.
  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return dir_; }

  void put(const Key& key, const Value& value) {
    const std::string key_bytes(keys_.bytes(key));
    const auto packed = twat_cache::detail::pack_value(value, config_.compress);
    const std::uint64_t file_size =
        detail_files::header_size + key_bytes.size() + packed.bytes.size();
    if (config_.max_bytes && file_size > *config_.max_bytes) return;  // could never be kept

    header h;
    h.flags = packed.raw_size >= 0 ? detail_files::flag_compressed : 0;
    h.key_size = key_bytes.size();
    h.stored_size = packed.bytes.size();
    h.raw_size =
        packed.raw_size >= 0 ? static_cast<std::uint64_t>(packed.raw_size) : packed.bytes.size();
    h.stored_ns = twat_cache::detail::wall_now_ns(config_.clock);
    h.expires_ns = config_.ttl ? h.stored_ns + config_.ttl->count() : 0;
    auto head = detail_files::write_header(h, key_bytes, packed.bytes);

    const std::string entry = entry_name(key_bytes);
    const std::string temp = temp_name();
    detail_files::fd_guard fd(::openat(dir_fd_, temp.c_str(),
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) io_failure("creating a temporary file in", errno);
    try {
      detail_files::write_all(fd.get(),
                              {iovec{head.data(), head.size()},
                               iovec{const_cast<char*>(key_bytes.data()), key_bytes.size()},
                               iovec{const_cast<char*>(packed.bytes.data()), packed.bytes.size()}});
      // Strictly increasing modification times order the entries for eviction, even when the
      // file system's clock ticks coarser than our writes.
      const timespec times[2] = {{0, UTIME_OMIT}, next_stamp()};
      ::futimens(fd.get(), times);
      if (config_.durable == durability::full && ::fsync(fd.get()) != 0) {
        io_failure("syncing an entry in", errno);
      }
      if (::close(fd.release()) != 0) io_failure("closing an entry in", errno);
      if (::renameat(dir_fd_, temp.c_str(), dir_fd_, entry.c_str()) != 0) {
        io_failure("renaming an entry into place in", errno);
      }
    } catch (...) {
      ::unlinkat(dir_fd_, temp.c_str(), 0);
      throw;
    }
    if (config_.durable == durability::full && ::fsync(dir_fd_) != 0) {
      io_failure("syncing", errno);
    }
    const auto puts = puts_.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto count = added_count_.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto bytes = added_bytes_.fetch_add(file_size, std::memory_order_relaxed) + file_size;
    const bool over = (config_.maxsize && count > *config_.maxsize) ||
                      (config_.max_bytes && bytes > *config_.max_bytes);
    if (over || puts % detail_files::scan_interval == 0) rescan();
  }

  template <class K>
  bool erase(const K& key) {
    const std::string key_bytes(keys_.bytes(key));
    const std::string entry = entry_name(key_bytes);
    // Only this key's file: a colliding key's entry is left alone.
    detail_files::fd_guard fd(::openat(dir_fd_, entry.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return false;
    std::array<unsigned char, detail_files::header_size> head{};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (::pread(fd.get(), head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) {
      return ::unlinkat(dir_fd_, entry.c_str(), 0) == 0;  // not a whole entry: no one's
    }
    std::string_view why;
    const auto h =
        detail_files::read_header(head.data(), static_cast<std::uint64_t>(st.st_size), why);
    if (h && h->key_size == key_bytes.size()) {
      std::string stored(key_bytes.size(), '\0');
      if (::pread(fd.get(), stored.data(), stored.size(), detail_files::header_size) !=
              static_cast<ssize_t>(stored.size()) ||
          stored != key_bytes) {
        return false;
      }
    } else if (h) {
      return false;
    }
    // An expired entry goes too, but was not there for the caller, as contains() says.
    const bool live =
        !h || h->expires_ns == 0 || h->expires_ns > twat_cache::detail::wall_now_ns(config_.clock);
    return ::unlinkat(dir_fd_, entry.c_str(), 0) == 0 && live;
  }

  /// Removes this name's entries and zeroes the counters.
  void clear() {
    for (const auto& f : scan(/*read_expiry=*/false).entries)
      ::unlinkat(dir_fd_, f.name.c_str(), 0);
    added_count_.store(0, std::memory_order_relaxed);
    added_bytes_.store(0, std::memory_order_relaxed);
    counters_.reset();
  }

  [[nodiscard]] cache_stats stats() const {
    cache_stats s;
    counters_.fill(s);
    s.capacity = config_.maxsize.value_or(0);
    const auto found = scan(/*read_expiry=*/false);
    s.size = found.entries.size();
    s.bytes = found.bytes;
    return s;
  }

 private:
  struct scan_result {
    std::vector<detail_files::scanned_file> entries;  // live ones, oldest first
    std::vector<std::string> expired;
    std::vector<std::string> stale_temps;
    std::uint64_t bytes = 0;
  };

  /// The folder's entry files (never following links, ignoring anything not named like ours).
  scan_result scan(bool read_expiry) const {
    scan_result result;
    const int fd = ::openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return result;
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return result;
    }
    const std::int64_t now = twat_cache::detail::wall_now_ns(config_.clock);
    const auto real_now = std::chrono::system_clock::now();
    while (const dirent* e = ::readdir(dir)) {
      const std::string_view file = e->d_name;
      struct stat st {};
      if (::fstatat(dir_fd_, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      if (file.starts_with(detail_files::temp_prefix)) {
        const auto modified = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::seconds(st.st_mtim.tv_sec)));
        if (real_now - modified > detail_files::stale_temp_age) {
          result.stale_temps.emplace_back(file);
        }
        continue;
      }
      if (!detail_files::is_entry_name(file)) continue;
      if (read_expiry && expired_file(e->d_name, st, now)) {
        result.expired.emplace_back(file);
        continue;
      }
      result.bytes += static_cast<std::uint64_t>(st.st_size);
      result.entries.push_back(
          {std::string(file),
           static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
           static_cast<std::uint64_t>(st.st_size)});
    }
    ::closedir(dir);
    std::sort(result.entries.begin(), result.entries.end(), [](const auto& a, const auto& b) {
      return std::tie(a.mtime_ns, a.name) < std::tie(b.mtime_ns, b.name);
    });
    return result;
  }

  bool expired_file(const char* file, const struct stat& st, std::int64_t now) const {
    if (static_cast<std::uint64_t>(st.st_size) < detail_files::header_size) return false;
    detail_files::fd_guard fd(::openat(dir_fd_, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    std::array<unsigned char, detail_files::header_size> head{};
    if (fd.get() < 0 ||
        ::pread(fd.get(), head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) {
      return false;
    }
    const auto expires = detail_files::get_le<std::int64_t>(head.data() + 40);
    return expires != 0 && expires <= now;
  }

  /// Rescans the folder: removes expired entries and dead temporaries, then the least recently
  /// stored entries beyond the limits. One thread of the process at a time; others skip.
  void rescan() {
    const std::unique_lock lock(scan_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    auto found = scan(/*read_expiry=*/config_.ttl.has_value());
    for (const auto& t : found.stale_temps)
      ::unlinkat(dir_fd_, t.c_str(), 0);
    for (const auto& e : found.expired) {
      if (::unlinkat(dir_fd_, e.c_str(), 0) == 0) counters_.add(counters_.expirations);
    }
    std::uint64_t count = found.entries.size();
    std::uint64_t bytes = found.bytes;
    // Over a limit, evict down to 1/16 below it: a scan reads the whole folder, and evicting one
    // entry per scan made every store of a full cache scan it (800 us for 1,000 small entries).
    const std::uint64_t count_target =
        config_.maxsize ? *config_.maxsize - *config_.maxsize / 16 : 0;
    const std::uint64_t bytes_target =
        config_.max_bytes ? *config_.max_bytes - *config_.max_bytes / 16 : 0;
    const bool over_a_limit = (config_.maxsize && count > *config_.maxsize) ||
                              (config_.max_bytes && bytes > *config_.max_bytes);
    auto above_target = [&] {
      return (config_.maxsize && count > count_target) ||
             (config_.max_bytes && bytes > bytes_target);
    };
    for (const auto& victim : found.entries) {
      if (!over_a_limit || !above_target()) break;
      if (::unlinkat(dir_fd_, victim.name.c_str(), 0) == 0) counters_.add(counters_.evictions);
      --count;
      bytes -= victim.size;
    }
    added_count_.store(count, std::memory_order_relaxed);
    added_bytes_.store(bytes, std::memory_order_relaxed);
  }

  [[nodiscard]] static std::string entry_name(std::string_view key_bytes) {
    const auto h = twat_cache::detail::key_hash128(key_bytes);
    static constexpr char hex[] = "0123456789abcdef";
    std::string name(32, '0');
    for (int i = 0; i < 16; ++i) {
      name[static_cast<std::size_t>(15 - i)] = hex[(h.high >> (4 * i)) & 15];
      name[static_cast<std::size_t>(31 - i)] = hex[(h.low >> (4 * i)) & 15];
    }
    name += detail_files::entry_suffix;
    return name;
  }

  [[nodiscard]] std::string temp_name() {
    return std::string(detail_files::temp_prefix) + std::to_string(::getpid()) + "-" +
           std::to_string(temp_counter_.fetch_add(1, std::memory_order_relaxed)) + "-" +
           std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  }

  /// Wall-clock now, strictly above any stamp this engine gave before.
  timespec next_stamp() {
    std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    std::int64_t last = last_stamp_.load(std::memory_order_relaxed);
    while (!last_stamp_.compare_exchange_weak(last, std::max(now, last + 1),
                                              std::memory_order_relaxed)) {
    }
    now = std::max(now, last + 1);
    return {static_cast<time_t>(now / 1'000'000'000), static_cast<long>(now % 1'000'000'000)};
  }

  [[noreturn]] void io_failure(std::string_view what, int error) const {
    throw cache_io_error(std::string(what) + " " + dir_.string() + ": " +
                         twat_cache::detail::errno_text(error));
  }

  /// Unlinks `entry` if it is still the file `opened` (not one another process renamed there
  /// since); true if it did.
  bool remove_if_same(const std::string& entry, const struct stat& opened) const {
    struct stat now {};
    if (::fstatat(dir_fd_, entry.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
        now.st_ino != opened.st_ino || now.st_dev != opened.st_dev) {
      return false;
    }
    return ::unlinkat(dir_fd_, entry.c_str(), 0) == 0;
  }

  /// The live value for `key`, or nullopt: absent, expired, altered, undecodable or unreadable.
  /// When `counted` (get, not peek or contains), an expired entry is removed and counted as an
  /// expiration, and the last three are counted as errors.
  template <class K>
  std::optional<Value> lookup(const K& key, bool counted) {
    auto damaged = [&](const std::string& entry, std::string_view why) {
      if (counted) counters_.damaged(name(), dir_ / entry, why);
    };
    auto read_failed = [&](const std::string& entry, std::string_view why) {
      if (counted) counters_.read_failed(name(), dir_ / entry, why);
    };
    const std::string_view key_bytes = keys_.bytes(key);
    const std::string entry = entry_name(key_bytes);
    detail_files::fd_guard fd(::openat(dir_fd_, entry.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno != ENOENT) read_failed(entry, twat_cache::detail::errno_text(errno));
      return std::nullopt;
    }
    try {
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        damaged(entry, "it is not a regular file");
        return std::nullopt;
      }
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (size < detail_files::header_size) {
        damaged(entry, "it is shorter than a header (truncated?)");
        return std::nullopt;
      }
      detail_files::file_bytes bytes;
      if (!bytes.load(fd.get(), static_cast<std::size_t>(size))) {
        read_failed(entry, twat_cache::detail::errno_text(errno));
        return std::nullopt;
      }
      std::string_view why;
      const auto h = detail_files::read_header(bytes.data(), size, why);
      if (!h) {
        damaged(entry, why);
        return std::nullopt;
      }
      const std::string_view stored_key = bytes.view(detail_files::header_size, h->key_size);
      if (stored_key != key_bytes) return std::nullopt;  // another key with this hash
      if (h->expires_ns != 0 && h->expires_ns <= twat_cache::detail::wall_now_ns(config_.clock)) {
        if (counted && remove_if_same(entry, st)) counters_.add(counters_.expirations);
        return std::nullopt;
      }
      const std::string_view stored =
          bytes.view(detail_files::header_size + h->key_size, h->stored_size);
      const bool compressed = (h->flags & detail_files::flag_compressed) != 0;
      if (!compressed && h->raw_size != h->stored_size) {
        damaged(entry, "its sizes do not agree");
        return std::nullopt;
      }
#if TWAT_CACHE_WITH_XXHASH
      if constexpr (detail_files::scalar_vector<Value>) {
        // A large array: checked and copied chunk by chunk, each chunk read from memory once.
        if (!compressed && stored.size() >= detail_files::hashing_chunk) {
          std::uint64_t value_hash = 0;
          auto value = detail_files::decode_vector_hashing<Value>(stored_key, stored, value_hash);
          if (twat_cache::detail::hash_bytes(bytes.data(), 48, value_hash) != h->checksum) {
            damaged(entry, "its checksum does not match");
            return std::nullopt;
          }
          if (!value) damaged(entry, "its value does not decode");
          return value;
        }
      }
#endif
      if (detail_files::checksum_of(bytes.data(), stored_key, stored) != h->checksum) {
        damaged(entry, "its checksum does not match");
        return std::nullopt;
      }
      auto value = twat_cache::detail::unpack_value<Value>(
          stored, compressed ? static_cast<std::int64_t>(h->raw_size) : -1, why);
      if (!value) damaged(entry, why);
      return value;
    } catch (const std::exception& e) {  // bad_alloc from a huge (damaged) size, and the like
      read_failed(entry, e.what());
      return std::nullopt;
    }
  }

  twat_cache::detail::persistent_config config_;
  twat_cache::detail::persistent_keys<Key, Value> keys_;
  std::filesystem::path dir_;
  int dir_fd_ = -1;
  std::atomic<std::uint64_t> puts_{0};
  std::atomic<std::uint64_t> added_count_{
      0};  // entries in the folder as of the last scan, plus ours since
  std::atomic<std::uint64_t> added_bytes_{0};
  std::atomic<std::uint64_t> temp_counter_{0};
  std::atomic<std::int64_t> last_stamp_{0};
  std::mutex scan_mutex_;
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
