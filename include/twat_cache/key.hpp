#pragma once
/// How arguments become cache keys: the hash customization point, and the owned key and borrowed
/// lookup view built from a callable's parameters.
///
/// A user type becomes usable as an argument in one of three ways, tried in this order:
///  1. specialize `twat_cache::hash<T>` (full control: `std::uint64_t operator()(const T&) const`);
///  2. an ADL function `twat_cache_key(const T&)` returning something hashable, typically
///     `std::tie(member1, member2)` (the easy way);
///  3. an existing `std::hash<T>` specialization (its result is re-mixed).
/// Keys are compared with `operator==`, which must agree with the hash.

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <twat_cache/detail/hash_bytes.hpp>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

template <class T, class Enable = void>
struct hash;

namespace detail {

template <class T>
concept has_adl_key = requires(const T& v) {
  twat_cache_key(v);
};

template <class T>
concept std_hashable = requires(const T& v) {
  { std::hash<T>{}(v) } -> std::convertible_to<std::size_t>;
};

template <class T>
concept scalar_key = std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_pointer_v<T> ||
    std::is_same_v<T, std::nullptr_t>;

/// The bytes of a scalar that make its value: all of them, but for x87's 80-bit long double,
/// whose last 6 of 16 bytes are padding that two equal values need not share.
template <class T>
[[nodiscard]] constexpr std::size_t value_bytes() noexcept {
  if constexpr (std::is_same_v<T, long double>) {
    if (std::numeric_limits<long double>::digits == 64) return 10;
  }
  return sizeof(T);
}

template <class T>
[[nodiscard]] std::uint64_t hash_scalar(T value) noexcept {
  if constexpr (std::is_floating_point_v<T>) {
    if (value == T{}) value = T{};  // -0.0 == 0.0, so both must hash alike
  }
  if constexpr (std::is_same_v<T, std::nullptr_t>) {
    return mix64(0);
  } else if constexpr (sizeof(T) <= sizeof(std::uint64_t)) {
    // One multiply-fold of the value's bits: as well distributed as XXH3 on a fixed-width key
    // (both end in the same kind of 128-bit multiply), at a third of XXH3's instructions.
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    return mix64(bits);
  } else {
    return hash_bytes(&value, value_bytes<T>());
  }
}

}  // namespace detail

/// The hash of any key type: built in for scalars and the std types listed in the docs, and the
/// fallbacks (ADL `twat_cache_key`, `std::hash`) for everything else.
template <class T, class Enable>
struct hash {
  using is_primary = void;  // lets `hashable` tell a user specialization from this primary
  [[nodiscard]] std::uint64_t operator()(const T& value) const {
    if constexpr (detail::scalar_key<T>) {
      return detail::hash_scalar(value);
    } else if constexpr (detail::has_adl_key<T>) {
      using repr = std::remove_cvref_t<decltype(twat_cache_key(value))>;
      return hash<repr>{}(twat_cache_key(value));
    } else if constexpr (detail::std_hashable<T>) {
      return detail::mix64(static_cast<std::uint64_t>(std::hash<T>{}(value)));
    } else {
      static_assert(sizeof(T) == 0, "twat_cache::hash<T>: T has no hash (see key.hpp)");
      return 0;
    }
  }
};

/// True when T can be hashed as a key.
template <class T>
concept hashable = !requires {
  typename hash<T>::is_primary;
}
|| detail::scalar_key<T> || detail::has_adl_key<T> || detail::std_hashable<T>;

template <class Char, class Traits, class Alloc>
struct hash<std::basic_string<Char, Traits, Alloc>> {
  [[nodiscard]] std::uint64_t operator()(std::basic_string_view<Char, Traits> s) const noexcept {
    return detail::hash_bytes(s.data(), s.size() * sizeof(Char));
  }
};
template <class Char, class Traits>
struct hash<std::basic_string_view<Char, Traits>> : hash<std::basic_string<Char, Traits>> {};

template <>
struct hash<std::monostate> {
  [[nodiscard]] std::uint64_t operator()(std::monostate) const noexcept { return detail::mix64(1); }
};

template <class Rep, class Period>
struct hash<std::chrono::duration<Rep, Period>> {
  [[nodiscard]] std::uint64_t operator()(std::chrono::duration<Rep, Period> d) const noexcept {
    return detail::hash_scalar(d.count());
  }
};

template <class... T>
struct hash<std::tuple<T...>> {
  [[nodiscard]] std::uint64_t operator()(const std::tuple<T...>& t) const {
    return std::apply(
        [](const auto&... elements) {
          std::uint64_t h = detail::mix64(sizeof...(T));
          ((h = detail::combine(h, hash<std::remove_cvref_t<decltype(elements)>>{}(elements))),
           ...);
          return h;
        },
        t);
  }
};

template <class A, class B>
struct hash<std::pair<A, B>> {
  [[nodiscard]] std::uint64_t operator()(const std::pair<A, B>& p) const {
    return detail::combine(hash<std::remove_cvref_t<A>>{}(p.first),
                           hash<std::remove_cvref_t<B>>{}(p.second));
  }
};

template <class T>
struct hash<std::optional<T>> {
  [[nodiscard]] std::uint64_t operator()(const std::optional<T>& o) const {
    return o ? detail::combine(detail::mix64(1), hash<T>{}(*o)) : detail::mix64(0);
  }
};

template <class... T>
struct hash<std::variant<T...>> {
  [[nodiscard]] std::uint64_t operator()(const std::variant<T...>& v) const {
    return std::visit(
        [&v](const auto& alt) {
          return detail::combine(detail::mix64(v.index()),
                                 hash<std::remove_cvref_t<decltype(alt)>>{}(alt));
        },
        v);
  }
};

namespace detail {

/// Hashes a sequence: one pass over raw bytes when the elements' bytes are their value.
template <class Range>
[[nodiscard]] std::uint64_t hash_sequence(const Range& range) {
  using element = std::remove_cvref_t<decltype(*std::begin(range))>;
  if constexpr (std::is_integral_v<element> && requires { std::data(range); }) {
    return hash_bytes(std::data(range), std::size(range) * sizeof(element));
  } else {
    std::uint64_t h = mix64(std::size(range));
    for (const auto& e : range)
      h = combine(h, hash<element>{}(e));
    return h;
  }
}

}  // namespace detail

template <class T, class Alloc>
struct hash<std::vector<T, Alloc>> {
  [[nodiscard]] std::uint64_t operator()(const std::vector<T, Alloc>& v) const {
    return detail::hash_sequence(v);
  }
};
template <class T, std::size_t N>
struct hash<std::array<T, N>> {
  [[nodiscard]] std::uint64_t operator()(const std::array<T, N>& a) const {
    return detail::hash_sequence(a);
  }
};
template <class K, class C, class A>
struct hash<std::set<K, C, A>> {
  [[nodiscard]] std::uint64_t operator()(const std::set<K, C, A>& s) const {
    return detail::hash_sequence(s);
  }
};
template <class K, class V, class C, class A>
struct hash<std::map<K, V, C, A>> {
  [[nodiscard]] std::uint64_t operator()(const std::map<K, V, C, A>& m) const {
    std::uint64_t h = detail::mix64(m.size());
    for (const auto& [k, v] : m)
      h = detail::combine(h, detail::combine(hash<K>{}(k), hash<V>{}(v)));
    return h;
  }
};

namespace detail {

/// Fails to compile, naming T in the instantiation, when T cannot be a key.
template <class T>
struct require_key {
  static_assert(hashable<T>,
                "twat_cache: this argument type cannot be used as a cache key because it has no "
                "hash. Specialize twat_cache::hash<T>, or give it an ADL function "
                "`twat_cache_key(const T&)` returning hashable members (e.g. std::tie(a, b)), or "
                "specialize std::hash<T>.");
  static_assert(std::equality_comparable<T>,
                "twat_cache: this argument type cannot be used as a cache key because it has no "
                "operator==. Define `bool operator==(const T&) const` (or `= default`).");
  static constexpr bool value = true;
};

template <class T>
inline constexpr bool is_string_like_v = std::is_same_v<T, std::string_view> ||
                                         std::is_same_v<T, const char*> || std::is_same_v<T, char*>;

/// What the cache stores for a parameter of type P: the decayed type, except that string views
/// and C strings are stored as std::string (keyed on their text, never on a pointer that could
/// dangle or be reused).
template <class P>
struct stored_key_element {
  using decayed = std::remove_cvref_t<P>;
  using type = std::conditional_t<is_string_like_v<decayed>, std::string, decayed>;
};
template <class P>
using stored_key_element_t = typename stored_key_element<P>::type;

/// What a lookup borrows from a parameter: scalars by value, strings as views, the rest by
/// reference, so a hit builds no owned key.
template <class P>
using key_view_element_t =
    std::conditional_t<scalar_key<std::remove_cvref_t<P>> &&
                           !is_string_like_v<std::remove_cvref_t<P>>,
                       std::remove_cvref_t<P>,
                       std::conditional_t<std::is_same_v<stored_key_element_t<P>, std::string>,
                                          std::string_view, const std::remove_cvref_t<P>&>>;

/// How the wrapper's call operator takes a parameter of type P: scalars by value, everything
/// else by const reference (a by-value parameter is copied only when the function is called).
template <class P>
using call_param_t = std::conditional_t<scalar_key<std::remove_cvref_t<P>>, std::remove_cvref_t<P>,
                                        const std::remove_cvref_t<P>&>;

template <class T>
inline constexpr bool is_tuple_v = false;
template <class... T>
inline constexpr bool is_tuple_v<std::tuple<T...>> = true;

/// The owned key of a lookup, which is the key itself or a view of it (string views become
/// strings): what an engine stores when it was asked with a view.
template <class Key, class K>
[[nodiscard]] Key to_owned_key(const K& key) {
  if constexpr (std::is_same_v<K, Key>) {
    return key;
  } else if constexpr (is_tuple_v<Key>) {
    return std::apply(
        [](const auto&... e) {
          return Key([](const auto& element) -> decltype(auto) {
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(element)>,
                                         std::string_view>) {
              return std::string(element);
            } else {
              return (element);
            }
          }(e)...);
        },
        key);
  } else {
    return Key(key);
  }
}

}  // namespace detail

/// The owned key and the borrowed lookup view of a parameter list. One parameter is its own key;
/// several make a std::tuple.
template <class... Params>
struct key_traits {
  static_assert((detail::require_key<detail::stored_key_element_t<Params>>::value && ...));

  using key_type = std::tuple<detail::stored_key_element_t<Params>...>;
  using view_type = std::tuple<detail::key_view_element_t<Params>...>;

  [[nodiscard]] static view_type make_view(detail::call_param_t<Params>... args) {
    return view_type(args...);
  }
  [[nodiscard]] static key_type make_key(const view_type& view) {
    return detail::to_owned_key<key_type>(view);
  }
};

template <class Param>
struct key_traits<Param> {
  static_assert(detail::require_key<detail::stored_key_element_t<Param>>::value);

  using key_type = detail::stored_key_element_t<Param>;
  using view_type = detail::key_view_element_t<Param>;

  [[nodiscard]] static view_type make_view(detail::call_param_t<Param> arg) {
    return view_type(arg);
  }
  [[nodiscard]] static key_type make_key(const view_type& view) { return key_type(view); }
};

/// Transparent hash over a key type and its lookup views; avalanching, so Boost's flat
/// containers use it as is instead of mixing it again.
template <class Key>
struct key_hash {
  using is_transparent = void;
  using is_avalanching = void;
  template <class K>
  [[nodiscard]] std::uint64_t operator()(const K& k) const {
    return hash<std::remove_cvref_t<K>>{}(k);
  }
};

/// Transparent equality between a key type and its lookup views.
template <class Key>
struct key_equal {
  using is_transparent = void;
  template <class A, class B>
  [[nodiscard]] bool operator()(const A& a, const B& b) const {
    return a == b;
  }
};

TWAT_CACHE_END_NAMESPACE
