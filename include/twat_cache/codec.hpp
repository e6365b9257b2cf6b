#pragma once
/// twat_cache::codec<T>: the binary encoding of arguments and results in persistent and networked
/// caches. Little-endian, fixed width for scalars, LEB128 varints for lengths, no padding; the
/// same bytes on every platform, so a cache folder can move between machines.
///
/// Built in: arithmetic types, enums, std::basic_string (and string_view, encode only),
/// std::vector, std::array, std::pair, std::tuple, std::optional, std::variant, std::monostate,
/// the std map and set types (ordered, unordered and multi), std::chrono::duration, nested to
/// any depth. A user type opts in, in the first of these ways that applies:
///  1. specialize `twat_cache::codec<T>` with
///       static void encode(twat_cache::encoder&, const T&);
///       static bool decode(twat_cache::decoder&, T&);         // false: the bytes do not decode
///       static constexpr std::string_view type_tag = "T/v1";   // optional: see below
///  2. an ADL function `twat_cache_fields(T& v)` returning `std::tie(v.a, v.b, ...)`: the fields
///     are encoded in that order (and their types form the type tag);
///  3. when cereal is installed, being cereal-serializable (PortableBinaryArchive).
/// Decoded types must be default-constructible.
///
/// Decoding is bounds-checked end to end: garbage, truncation and length fields that lie give
/// `false` / std::nullopt, never undefined behaviour and never a huge allocation.
///
/// Type tags: each encodable type has a short structural description ("i4", "v(f8)", ...).
/// Persistent caches put the tags of a function's parameter and result types into its keys, so
/// a cache written when a function returned `int` is not read back as `float` after a change.
/// A user codec without a `type_tag` is tagged "u"; give it one and change it when the encoding
/// changes.

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <twat_cache/config.hpp>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#if TWAT_CACHE_WITH_CEREAL
#include <cereal/archives/portable_binary.hpp>
#include <cereal/details/traits.hpp>
#include <sstream>
#endif

TWAT_CACHE_BEGIN_NAMESPACE

/// Version of the encoding below. Persistent engines store it and treat entries of another
/// version as misses.
inline constexpr std::uint32_t codec_format_version = 1;

template <class T, class Enable = void>
struct codec;

namespace detail {

template <class T>
[[nodiscard]] constexpr T byteswap_if_big_endian(T value) noexcept {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    auto bytes = std::bit_cast<std::array<unsigned char, sizeof(T)>>(value);
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i)
      std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
    return std::bit_cast<T>(bytes);
  } else {
    return value;
  }
}

/// Scalars whose bytes are copied as they are (little-endian): every arithmetic type but bool and
/// long double (whose layout differs between platforms).
template <class T>
concept raw_scalar =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, long double> &&
    (!std::is_floating_point_v<T> || std::numeric_limits<T>::is_iec559);

/// Reads little-endian T's out of bytes of any alignment, so a vector can be built from them in
/// one allocation and one pass (no zero-filling first).
template <class T>
struct unaligned_reader {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = T;

  const unsigned char* at = nullptr;

  T operator*() const noexcept {
    T value;
    std::memcpy(&value, at, sizeof(T));
    return byteswap_if_big_endian(value);
  }
  T operator[](difference_type i) const noexcept { return *(*this + i); }
  unaligned_reader& operator++() noexcept { return at += sizeof(T), *this; }
  unaligned_reader operator++(int) noexcept { return std::exchange(*this, *this + 1); }
  unaligned_reader& operator--() noexcept { return at -= sizeof(T), *this; }
  unaligned_reader operator--(int) noexcept { return std::exchange(*this, *this - 1); }
  unaligned_reader& operator+=(difference_type n) noexcept {
    return at += n * static_cast<difference_type>(sizeof(T)), *this;
  }
  unaligned_reader& operator-=(difference_type n) noexcept { return *this += -n; }
  friend unaligned_reader operator+(unaligned_reader r, difference_type n) noexcept {
    return r += n;
  }
  friend unaligned_reader operator+(difference_type n, unaligned_reader r) noexcept {
    return r += n;
  }
  friend unaligned_reader operator-(unaligned_reader r, difference_type n) noexcept {
    return r -= n;
  }
  friend difference_type operator-(unaligned_reader a, unaligned_reader b) noexcept {
    return (a.at - b.at) / static_cast<difference_type>(sizeof(T));
  }
  friend bool operator==(unaligned_reader a, unaligned_reader b) noexcept { return a.at == b.at; }
  friend auto operator<=>(unaligned_reader a, unaligned_reader b) noexcept { return a.at <=> b.at; }
};

}  // namespace detail

/// Appends the encoding of values to a byte string.
class encoder {
 public:
  explicit encoder(std::string& out) noexcept : out_(&out) {}

  void bytes(const void* data, std::size_t n) { out_->append(static_cast<const char*>(data), n); }

  /// An unsigned LEB128 varint: 1 byte below 128, at most 10.
  void varint(std::uint64_t value) {
    char buffer[10];
    std::size_t n = 0;
    while (value >= 0x80) {
      buffer[n++] = static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    buffer[n++] = static_cast<char>(value);
    out_->append(buffer, n);
  }

  template <detail::raw_scalar T>
  void scalar(T value) {
    value = detail::byteswap_if_big_endian(value);
    bytes(&value, sizeof value);
  }

  /// A run of scalars, as one copy when the host is little-endian.
  template <detail::raw_scalar T>
  void scalars(const T* data, std::size_t n) {
    if constexpr (std::endian::native == std::endian::little) {
      bytes(data, n * sizeof(T));
    } else {
      for (std::size_t i = 0; i < n; ++i)
        scalar(data[i]);
    }
  }

  /// Encodes each value with its codec, in order.
  template <class... T>
  void operator()(const T&... values) {
    (codec<std::remove_cvref_t<T>>::encode(*this, values), ...);
  }

 private:
  std::string* out_;
};

/// Reads encoded values back, checking every length against the bytes that remain. Once a read
/// fails the decoder stays failed, and every later read fails too.
class decoder {
 public:
  decoder(const void* data, std::size_t size) noexcept
      : at_(static_cast<const unsigned char*>(data)), end_(at_ + size) {}
  explicit decoder(std::string_view bytes) noexcept : decoder(bytes.data(), bytes.size()) {}

  /// The next n bytes, or nullptr (and failed) when fewer remain.
  [[nodiscard]] const unsigned char* take(std::size_t n) noexcept {
    if (failed_ || n > remaining()) {
      failed_ = true;
      return nullptr;
    }
    const unsigned char* start = at_;
    at_ += n;
    return start;
  }

  [[nodiscard]] bool varint(std::uint64_t& value) noexcept {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      const unsigned char* byte = take(1);
      if (byte == nullptr) return false;
      const std::uint64_t bits = *byte & 0x7fu;
      if (shift == 63 && bits > 1) return fail();  // would overflow 64 bits
      value |= bits << shift;
      if ((*byte & 0x80u) == 0) {
        // One encoding per value: a trailing zero group ("0x80 0x00") is not accepted.
        if (*byte == 0 && shift != 0) return fail();
        return true;
      }
    }
    return fail();
  }

  /// A count of elements that take at least `min_element_size` bytes each: it must fit in what
  /// remains, so a lying count cannot make the caller allocate or loop beyond the input.
  [[nodiscard]] bool count(std::size_t& n, std::size_t min_element_size) noexcept {
    std::uint64_t value = 0;
    if (!varint(value)) return false;
    const std::uint64_t limit =
        min_element_size == 0 ? max_empty_elements : remaining() / min_element_size;
    if (value > limit) return fail();
    n = static_cast<std::size_t>(value);
    return true;
  }

  template <detail::raw_scalar T>
  [[nodiscard]] bool scalar(T& value) noexcept {
    const unsigned char* p = take(sizeof(T));
    if (p == nullptr) return false;
    std::memcpy(&value, p, sizeof(T));
    value = detail::byteswap_if_big_endian(value);
    return true;
  }

  /// n scalars as a pair of iterators over the input (for one-pass construction of containers).
  template <detail::raw_scalar T>
  [[nodiscard]] std::optional<std::pair<detail::unaligned_reader<T>, detail::unaligned_reader<T>>>
  scalars(std::size_t n) noexcept {
    if (n > remaining() / sizeof(T)) return fail(), std::nullopt;
    const unsigned char* p = take(n * sizeof(T));
    if (p == nullptr) return std::nullopt;
    return std::pair{detail::unaligned_reader<T>{p},
                     detail::unaligned_reader<T>{p + n * sizeof(T)}};
  }

  /// Decodes each value with its codec, in order; false at the first failure.
  template <class... T>
  [[nodiscard]] bool operator()(T&... values) {
    return (codec<std::remove_cvref_t<T>>::decode(*this, values) && ...);
  }

  [[nodiscard]] std::size_t remaining() const noexcept {
    return static_cast<std::size_t>(end_ - at_);
  }
  [[nodiscard]] bool ok() const noexcept { return !failed_; }
  [[nodiscard]] bool done() const noexcept { return !failed_ && at_ == end_; }
  /// Marks the input as not decodable; returns false, for `return in.fail();`.
  bool fail() noexcept { return failed_ = true, false; }

  /// Elements that encode to no bytes at all (std::monostate, empty tuples) cannot be bounded by
  /// the input's size; this bounds them instead.
  static constexpr std::size_t max_empty_elements = std::size_t{1} << 20;

 private:
  const unsigned char* at_;
  const unsigned char* end_;
  bool failed_ = false;
};

namespace detail {

template <class T>
concept has_fields = requires(T& v) {
  twat_cache_fields(v);
};

#if TWAT_CACHE_WITH_CEREAL
template <class T>
concept cereal_serializable =
    cereal::traits::is_output_serializable<T, cereal::PortableBinaryOutputArchive>::value &&
    cereal::traits::is_input_serializable<T, cereal::PortableBinaryInputArchive>::value;
#else
template <class T>
concept cereal_serializable = false;
#endif

template <class T>
concept primary_codec_handles =
    std::is_arithmetic_v<T> || std::is_enum_v<T> || has_fields<T> || cereal_serializable<T>;

/// The type tag of T, appended to out (see the top of this file).
template <class T>
void append_type_tag(std::string& out);

/// The fewest bytes an encoded T takes, to bound element counts; 0 when unknown.
template <class T>
[[nodiscard]] constexpr std::size_t min_encoded_size() {
  if constexpr (requires { codec<T>::min_size; }) {
    return codec<T>::min_size;
  } else {
    return 0;
  }
}

template <class T>
void append_scalar_tag(std::string& out) {
  if constexpr (std::is_same_v<T, bool>) {
    out += 'b';
  } else if constexpr (std::is_floating_point_v<T>) {
    out += std::is_same_v<T, long double> ? std::string("fL") : 'f' + std::to_string(sizeof(T));
  } else if constexpr (std::is_same_v<T, char>) {
    out += 'c';
  } else {
    out += std::is_signed_v<T> ? 'i' : 'u';
    out += std::to_string(sizeof(T));
  }
}

/// long double as sign, class, binary exponent and a 128-bit mantissa: exact for every format
/// with at most 128 mantissa bits, and the same bytes on every platform.
inline void encode_long_double(encoder& out, long double value) {
  const bool negative = std::signbit(value);
  std::uint8_t kind = 0;  // 0 finite, 1 infinite, 2 nan
  if (std::isinf(value)) kind = 1;
  if (std::isnan(value)) kind = 2;
  int exponent = 0;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  if (kind == 0 && value != 0) {
    long double mantissa = std::frexp(std::fabs(value), &exponent);  // in [0.5, 1)
    mantissa = std::ldexp(mantissa, 64);
    high = static_cast<std::uint64_t>(mantissa);
    mantissa = std::ldexp(mantissa - static_cast<long double>(high), 64);
    low = static_cast<std::uint64_t>(mantissa);
  }
  out.scalar(static_cast<std::uint8_t>(kind | (negative ? 0x80 : 0)));
  out.scalar(static_cast<std::int32_t>(exponent));
  out.scalar(high);
  out.scalar(low);
}

inline bool decode_long_double(decoder& in, long double& value) {
  std::uint8_t kind = 0;
  std::int32_t exponent = 0;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  if (!in(kind, exponent, high, low)) return false;
  const bool negative = (kind & 0x80) != 0;
  switch (kind & 0x7f) {
    case 0:
      if (high == 0 && low == 0) {
        value = 0;
      } else {
        if ((high >> 63) == 0) return in.fail();  // not normalised: not something we wrote
        if (exponent < std::numeric_limits<long double>::min_exponent - 128 ||
            exponent > std::numeric_limits<long double>::max_exponent) {
          return in.fail();
        }
        value = std::ldexp(static_cast<long double>(high), exponent - 64) +
                std::ldexp(static_cast<long double>(low), exponent - 128);
      }
      break;
    case 1:
      value = std::numeric_limits<long double>::infinity();
      break;
    case 2:
      value = std::numeric_limits<long double>::quiet_NaN();
      break;
    default:
      return in.fail();
  }
  if (negative) value = -value;
  return true;
}

}  // namespace detail

/// The primary codec: scalars, enums, types with ADL `twat_cache_fields`, cereal types.
template <class T, class Enable>
struct codec {
  using is_primary = void;  // lets `encodable` tell a user specialization from this primary
  static constexpr std::size_t min_size = [] {
    if constexpr (std::is_same_v<T, long double>) {
      return std::size_t{21};
    } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
      return sizeof(T);
    } else {
      return std::size_t{0};
    }
  }();

  static void encode(encoder& out, const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      out.scalar(static_cast<std::uint8_t>(value ? 1 : 0));
    } else if constexpr (std::is_same_v<T, long double>) {
      detail::encode_long_double(out, value);
    } else if constexpr (detail::raw_scalar<T>) {
      out.scalar(value);
    } else if constexpr (std::is_enum_v<T>) {
      out(static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (detail::has_fields<T>) {
      // twat_cache_fields takes a mutable reference (decode needs it); encoding only reads.
      std::apply([&out](const auto&... fields) { out(fields...); },
                 twat_cache_fields(const_cast<T&>(value)));
    } else if constexpr (detail::cereal_serializable<T>) {
#if TWAT_CACHE_WITH_CEREAL
      std::ostringstream stream(std::ios::binary);
      {
        cereal::PortableBinaryOutputArchive archive(stream);
        archive(value);
      }
      const std::string bytes = std::move(stream).str();
      out.varint(bytes.size());
      out.bytes(bytes.data(), bytes.size());
#endif
    } else {
      static_assert(sizeof(T) == 0, "twat_cache::codec<T>: T has no codec (see codec.hpp)");
    }
  }

  static bool decode(decoder& in, T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      std::uint8_t byte = 0;
      if (!in.scalar(byte)) return false;
      if (byte > 1) return in.fail();
      value = byte == 1;
      return true;
    } else if constexpr (std::is_same_v<T, long double>) {
      return detail::decode_long_double(in, value);
    } else if constexpr (detail::raw_scalar<T>) {
      return in.scalar(value);
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> raw{};
      if (!in(raw)) return false;
      value = static_cast<T>(raw);
      return true;
    } else if constexpr (detail::has_fields<T>) {
      return std::apply([&in](auto&... fields) { return in(fields...); }, twat_cache_fields(value));
    } else if constexpr (detail::cereal_serializable<T>) {
#if TWAT_CACHE_WITH_CEREAL
      std::size_t size = 0;
      if (!in.count(size, 1)) return false;
      const unsigned char* bytes = in.take(size);
      if (bytes == nullptr) return false;
      try {
        std::istringstream stream(std::string(reinterpret_cast<const char*>(bytes), size),
                                  std::ios::binary);
        cereal::PortableBinaryInputArchive archive(stream);
        archive(value);
        return true;
      } catch (...) {  // cereal reports truncated or malformed input by throwing
        return in.fail();
      }
#endif
    } else {
      static_assert(sizeof(T) == 0, "twat_cache::codec<T>: T has no codec (see codec.hpp)");
      return false;
    }
  }

  static void append_tag(std::string& out) {
    if constexpr (std::is_arithmetic_v<T>) {
      detail::append_scalar_tag<T>(out);
    } else if constexpr (std::is_enum_v<T>) {
      out += 'e';
      detail::append_scalar_tag<std::underlying_type_t<T>>(out);
    } else if constexpr (detail::has_fields<T>) {
      using fields = decltype(twat_cache_fields(std::declval<T&>()));
      out += 'F';
      detail::append_type_tag<std::remove_cvref_t<fields>>(out);
    } else {
      out += "C";  // cereal: its own encoding, of which we know no structure
    }
  }
};

/// True when T can be encoded and decoded.
template <class T>
concept encodable = !requires {
  typename codec<T>::is_primary;
}
|| detail::primary_codec_handles<T>;

namespace detail {

/// Fails to compile, naming T in the instantiation, when T has no codec.
template <class T>
struct require_encodable {
  static_assert(encodable<T>,
                "twat_cache: this type cannot be stored in a persistent cache because it has no "
                "codec. Specialize twat_cache::codec<T> (encode/decode), or give it an ADL "
                "function `twat_cache_fields(T& v)` returning std::tie(v.member1, ...).");
  static constexpr bool value = true;
};

template <class T>
void append_type_tag(std::string& out) {
  static_assert(require_encodable<T>::value);
  if constexpr (requires { codec<T>::append_tag(out); }) {
    codec<T>::append_tag(out);
  } else if constexpr (requires { codec<T>::type_tag; }) {
    out += "U(";
    out += std::string_view(codec<T>::type_tag);
    out += ')';
  } else {
    out += 'u';
  }
}

template <class... T>
void append_type_tags(std::string& out) {
  (append_type_tag<T>(out), ...);
}

/// The codec of sequences that are encoded as a count and the elements (vector, string, sets).
template <class Container>
struct sequence_codec {
  using element = typename Container::value_type;
  static constexpr std::size_t min_size = 1;  // the count

  static void encode(encoder& out, const Container& c) {
    out.varint(c.size());
    if constexpr (raw_scalar<element> && requires { c.data(); }) {
      out.scalars(c.data(), c.size());
    } else {
      for (const element& e : c)  // (vector<bool> hands out proxies: this makes them bools)
        out(e);
    }
  }
};

}  // namespace detail

template <class Char, class Traits, class Alloc>
struct codec<std::basic_string<Char, Traits, Alloc>>
    : detail::sequence_codec<std::basic_string<Char, Traits, Alloc>> {
  static bool decode(decoder& in, std::basic_string<Char, Traits, Alloc>& s) {
    std::size_t n = 0;
    if (!in.count(n, sizeof(Char))) return false;
    auto range = in.scalars<Char>(n);
    if (!range) return false;
    s.assign(range->first, range->second);
    return true;
  }
  static void append_tag(std::string& out) {
    out += 's';
    detail::append_scalar_tag<Char>(out);
  }
};

/// Views encode like the string they view (keys are looked up by view); they cannot be decoded.
template <class Char, class Traits>
struct codec<std::basic_string_view<Char, Traits>> {
  static void encode(encoder& out, std::basic_string_view<Char, Traits> s) {
    out.varint(s.size());
    out.scalars(s.data(), s.size());
  }
  static void append_tag(std::string& out) {
    codec<std::basic_string<Char, Traits>>::append_tag(out);
  }
};

template <class T, class Alloc>
struct codec<std::vector<T, Alloc>> : detail::sequence_codec<std::vector<T, Alloc>> {
  static bool decode(decoder& in, std::vector<T, Alloc>& v) {
    static_assert(detail::require_encodable<T>::value);
    std::size_t n = 0;
    if (!in.count(n, detail::min_encoded_size<T>())) return false;
    if constexpr (detail::raw_scalar<T>) {
      auto range = in.scalars<T>(n);
      if (!range) return false;
      v.assign(range->first, range->second);  // one allocation, one pass, no zero-filling
    } else {
      v.clear();
      if constexpr (detail::min_encoded_size<T>() > 0) v.reserve(n);  // bounded by the input
      for (std::size_t i = 0; i < n; ++i) {
        T element{};
        if (!in(element)) return false;
        v.push_back(std::move(element));
      }
    }
    return true;
  }
  static void append_tag(std::string& out) {
    out += "v(";
    detail::append_type_tag<T>(out);
    out += ')';
  }
};

template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static constexpr std::size_t min_size = N * detail::min_encoded_size<T>();
  static void encode(encoder& out, const std::array<T, N>& a) {
    if constexpr (detail::raw_scalar<T>) {
      out.scalars(a.data(), N);
    } else {
      for (const auto& e : a)
        out(e);
    }
  }
  static bool decode(decoder& in, std::array<T, N>& a) {
    for (auto& e : a) {
      if (!in(e)) return false;
    }
    return true;
  }
  static void append_tag(std::string& out) {
    out += 'a' + std::to_string(N) + '(';
    detail::append_type_tag<T>(out);
    out += ')';
  }
};

template <class... T>
struct codec<std::tuple<T...>> {
  static constexpr std::size_t min_size = (std::size_t{0} + ... + detail::min_encoded_size<T>());
  static void encode(encoder& out, const std::tuple<T...>& t) {
    std::apply([&out](const auto&... e) { out(e...); }, t);
  }
  static bool decode(decoder& in, std::tuple<T...>& t) {
    return std::apply([&in](auto&... e) { return in(e...); }, t);
  }
  static void append_tag(std::string& out) {
    out += "t(";
    detail::append_type_tags<std::remove_cvref_t<T>...>(out);
    out += ')';
  }
};

template <class A, class B>
struct codec<std::pair<A, B>> {
  static constexpr std::size_t min_size =
      detail::min_encoded_size<A>() + detail::min_encoded_size<B>();
  static void encode(encoder& out, const std::pair<A, B>& p) { out(p.first, p.second); }
  static bool decode(decoder& in, std::pair<A, B>& p) {
    // Map elements are pair<const K, V>: decode into the plain types.
    return in(const_cast<std::remove_const_t<A>&>(p.first), p.second);
  }
  static void append_tag(std::string& out) {
    out += "t(";
    detail::append_type_tags<std::remove_const_t<A>, B>(out);
    out += ')';
  }
};

template <class T>
struct codec<std::optional<T>> {
  static constexpr std::size_t min_size = 1;
  static void encode(encoder& out, const std::optional<T>& o) {
    out.scalar(static_cast<std::uint8_t>(o ? 1 : 0));
    if (o) out(*o);
  }
  static bool decode(decoder& in, std::optional<T>& o) {
    std::uint8_t present = 0;
    if (!in.scalar(present)) return false;
    if (present == 0) return o.reset(), true;
    if (present != 1) return in.fail();
    return in(o.emplace());
  }
  static void append_tag(std::string& out) {
    out += "o(";
    detail::append_type_tag<T>(out);
    out += ')';
  }
};

template <>
struct codec<std::monostate> {
  static constexpr std::size_t min_size = 0;
  static void encode(encoder&, std::monostate) {}
  static bool decode(decoder& in, std::monostate&) { return in.ok(); }
  static void append_tag(std::string& out) { out += 'n'; }
};

template <class... T>
struct codec<std::variant<T...>> {
  static constexpr std::size_t min_size = 1;
  static void encode(encoder& out, const std::variant<T...>& v) {
    // A valueless variant gets an index no reader accepts: it reads back as a miss.
    out.varint(v.valueless_by_exception() ? sizeof...(T) : v.index());
    if (!v.valueless_by_exception()) std::visit([&out](const auto& alt) { out(alt); }, v);
  }
  static bool decode(decoder& in, std::variant<T...>& v) {
    std::uint64_t index = 0;
    if (!in.varint(index)) return false;
    if (index >= sizeof...(T)) return in.fail();
    return decode_alternative(in, v, static_cast<std::size_t>(index),
                              std::index_sequence_for<T...>{});
  }
  static void append_tag(std::string& out) {
    out += "x(";
    detail::append_type_tags<T...>(out);
    out += ')';
  }

 private:
  template <std::size_t... I>
  static bool decode_alternative(decoder& in, std::variant<T...>& v, std::size_t index,
                                 std::index_sequence<I...>) {
    bool ok = false;
    static_cast<void>(((index == I && ((ok = in(v.template emplace<I>())), true)) || ...));
    return ok;
  }
};

namespace detail {

/// What a map or set element is decoded into: maps' pair<const K, V> as pair<K, V>.
template <class Container>
struct decoded_element {
  using type = typename Container::value_type;
};
template <class Container>
  requires requires {
    typename Container::mapped_type;
  }
struct decoded_element<Container> {
  using type = std::pair<typename Container::key_type, typename Container::mapped_type>;
};

/// Maps and sets: a count, then the elements in the container's order.
template <class Container, char Tag>
struct associative_codec : sequence_codec<Container> {
  static bool decode(decoder& in, Container& c) {
    std::size_t n = 0;
    if (!in.count(n, min_encoded_size<typename decoded_element<Container>::type>())) return false;
    c.clear();
    for (std::size_t i = 0; i < n; ++i) {
      typename decoded_element<Container>::type e{};
      if (!in(e)) return false;
      if constexpr (requires { typename Container::key_compare; }) {
        // Ordered containers are written in order: anything else (a duplicate key included) is
        // not our encoding. This keeps decoding linear and the encoding canonical.
        if (!c.empty() && !in_order(c, e)) return in.fail();
        c.emplace_hint(c.end(), std::move(e));
      } else {
        const auto size = c.size();
        c.insert(std::move(e));
        if (c.size() == size) return in.fail();  // a duplicate in a unique container
      }
    }
    return true;
  }
  template <class Element>
  static bool in_order(const Container& c, const Element& e) {
    const auto& last_key = key_of(*std::prev(c.end()));
    const auto& next_key = key_of(e);
    constexpr bool unique_keys = requires(Container & d, Element && x) {
      d.insert(std::move(x)).second;
    };
    const auto less = c.key_comp();
    return unique_keys ? less(last_key, next_key) : !less(next_key, last_key);
  }
  template <class Element>
  static const auto& key_of(const Element& e) {
    if constexpr (requires { e.first; }) {
      return e.first;
    } else {
      return e;
    }
  }

  static void append_tag(std::string& out) {
    out += Tag;
    out += '(';
    if constexpr (requires { typename Container::mapped_type; }) {
      append_type_tags<typename Container::key_type, typename Container::mapped_type>(out);
    } else {
      append_type_tag<typename Container::key_type>(out);
    }
    out += ')';
  }
};

}  // namespace detail

template <class K, class V, class C, class A>
struct codec<std::map<K, V, C, A>> : detail::associative_codec<std::map<K, V, C, A>, 'm'> {};
template <class K, class V, class C, class A>
struct codec<std::multimap<K, V, C, A>>
    : detail::associative_codec<std::multimap<K, V, C, A>, 'M'> {};
template <class K, class C, class A>
struct codec<std::set<K, C, A>> : detail::associative_codec<std::set<K, C, A>, 'S'> {};
template <class K, class C, class A>
struct codec<std::multiset<K, C, A>> : detail::associative_codec<std::multiset<K, C, A>, 'Z'> {};
/// Unordered containers encode in their iteration order, which two equal containers need not
/// share: as arguments, equal unordered containers may key apart (a miss, never a wrong value).
template <class K, class V, class H, class E, class A>
struct codec<std::unordered_map<K, V, H, E, A>>
    : detail::associative_codec<std::unordered_map<K, V, H, E, A>, 'm'> {};
template <class K, class V, class H, class E, class A>
struct codec<std::unordered_multimap<K, V, H, E, A>>
    : detail::associative_codec<std::unordered_multimap<K, V, H, E, A>, 'M'> {};
template <class K, class H, class E, class A>
struct codec<std::unordered_set<K, H, E, A>>
    : detail::associative_codec<std::unordered_set<K, H, E, A>, 'S'> {};
template <class K, class H, class E, class A>
struct codec<std::unordered_multiset<K, H, E, A>>
    : detail::associative_codec<std::unordered_multiset<K, H, E, A>, 'Z'> {};

template <class Rep, class Period>
struct codec<std::chrono::duration<Rep, Period>> {
  static constexpr std::size_t min_size = detail::min_encoded_size<Rep>();
  static void encode(encoder& out, std::chrono::duration<Rep, Period> d) { out(d.count()); }
  static bool decode(decoder& in, std::chrono::duration<Rep, Period>& d) {
    Rep count{};
    if (!in(count)) return false;
    d = std::chrono::duration<Rep, Period>(count);
    return true;
  }
  static void append_tag(std::string& out) {
    out += 'd';
    detail::append_type_tag<Rep>(out);
    out += std::to_string(Period::num) + '/' + std::to_string(Period::den);
  }
};

/// Appends the encoding of `value` to `out`.
template <class T>
void encode_to(std::string& out, const T& value) {
  static_assert(detail::require_encodable<T>::value);
  encoder{out}(value);
}

/// The encoding of `value`.
template <class T>
[[nodiscard]] std::string encode(const T& value) {
  std::string out;
  encode_to(out, value);
  return out;
}

/// Decodes a T that takes all of `bytes`; std::nullopt when they do not decode to one.
template <class T>
[[nodiscard]] std::optional<T> decode(std::string_view bytes) {
  static_assert(detail::require_encodable<T>::value);
  decoder in(bytes);
  std::optional<T> value(std::in_place);
  if (!in(*value) || !in.done()) return std::nullopt;
  return value;
}

/// The type tag of T (see the top of this file).
template <class T>
[[nodiscard]] std::string type_tag() {
  std::string out;
  detail::append_type_tag<T>(out);
  return out;
}

TWAT_CACHE_END_NAMESPACE
