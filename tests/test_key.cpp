// Keys: what makes two calls "the same call".
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>

#include <map>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

namespace {

struct keyed_point {
  int x = 0;
  int y = 0;
  bool operator==(const keyed_point&) const = default;
};
auto twat_cache_key(const keyed_point& p) {
  return std::tie(p.x, p.y);
}

struct tagged {
  std::string tag;
  bool operator==(const tagged&) const = default;
};

struct via_std_hash {
  int v = 0;
  bool operator==(const via_std_hash&) const = default;
};

}  // namespace

template <>
struct twat_cache::hash<tagged> {
  std::uint64_t operator()(const tagged& t) const { return twat_cache::hash<std::string>{}(t.tag); }
};

template <>
struct std::hash<via_std_hash> {
  std::size_t operator()(const via_std_hash& s) const noexcept {
    return static_cast<std::size_t>(s.v);
  }
};

TEST_CASE("a string literal passed to a const std::string& parameter keys on its text") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](const std::string& s) {
    ++calls;
    return s.size();
  });
  const std::string owned = "hello";
  char buffer[] = "hello";
  CHECK(f("hello") == 5);
  CHECK(f(owned) == 5);
  CHECK(f(buffer) == 5);
  CHECK(f(std::string("hel") + "lo") == 5);
  CHECK(calls == 1);
  CHECK(f("world") == 5);
  CHECK(calls == 2);
}

TEST_CASE("string_view and C string parameters key on the text, not the pointer") {
  int calls = 0;
  auto by_view = twat_cache::mcache([&calls](std::string_view s) {
    ++calls;
    return std::string(s);
  });
  std::string a = "abc";
  CHECK(by_view(a) == "abc");
  a[0] = 'x';  // same buffer, new text: must be a new key
  CHECK(by_view(a) == "xbc");
  CHECK(calls == 2);
  CHECK(by_view(std::string("abc")) == "abc");
  CHECK(calls == 2);

  int c_calls = 0;
  auto by_pointer = twat_cache::mcache([&c_calls](const char* s) {
    ++c_calls;
    return std::string(s);
  });
  char buf[] = "one";
  CHECK(by_pointer(buf) == "one");
  buf[0] = 'x';
  CHECK(by_pointer(buf) == "xne");
  CHECK(c_calls == 2);
}

TEST_CASE("several arguments make one key; each matters") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](int a, double b, const std::string& c) {
    ++calls;
    return a + b + static_cast<double>(c.size());
  });
  CHECK(f(1, 2.0, "x") == 4.0);
  CHECK(f(1, 2.0, "x") == 4.0);
  CHECK(calls == 1);
  CHECK(f(2, 2.0, "x") == 5.0);
  CHECK(f(1, 3.0, "x") == 5.0);
  CHECK(f(1, 2.0, "xy") == 5.0);
  CHECK(calls == 4);
}

TEST_CASE("-0.0 and 0.0 are one key, as operator== says") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](double x) {
    ++calls;
    return x * 2;
  });
  CHECK(f(0.0) == 0.0);
  CHECK(f(-0.0) == 0.0);
  CHECK(calls == 1);
}

TEST_CASE("a long double key is its value, not the padding beside it") {
  // x87's 80-bit long double fills 10 of its 16 bytes; equal values may differ in the rest.
  const auto with_padding = [](long double value, unsigned char fill) {
    unsigned char bytes[sizeof(long double)];
    std::memset(bytes, fill, sizeof bytes);
    std::memcpy(bytes, &value, std::numeric_limits<long double>::digits == 64 ? 10 : sizeof value);
    long double out;
    std::memcpy(&out, bytes, sizeof out);
    return out;
  };
  int calls = 0;
  auto f = twat_cache::mcache([&calls](long double x) {
    ++calls;
    return static_cast<double>(x * 2);
  });
  for (int i = 0; i < 50; ++i) {
    const long double x = static_cast<long double>(i) / 3;
    const long double a = with_padding(x, 0x00);
    const long double b = with_padding(x, 0xA5);
    REQUIRE(a == b);
    CHECK(twat_cache::key_hash<long double>{}(a) == twat_cache::key_hash<long double>{}(b));
    CHECK(f(a) == f(b));
    CHECK(calls == i + 1);
  }
}

TEST_CASE("std containers and vocabulary types are keys") {
  int calls = 0;
  auto f = twat_cache::mcache(
      [&calls](const std::vector<std::string>& v, const std::map<std::string, int>& m,
               const std::optional<int>& o, const std::variant<int, std::string>& var,
               const std::pair<int, int>& p, std::chrono::milliseconds d) {
        ++calls;
        return v.size() + m.size() + (o ? 1u : 0u) + var.index() +
               static_cast<std::size_t>(p.first) + static_cast<std::size_t>(d.count());
      });
  const std::vector<std::string> v{"a", "b"};
  const std::map<std::string, int> m{{"k", 1}};
  CHECK(f(v, m, 3, std::string("s"), {1, 2}, std::chrono::milliseconds(5)) == 11);
  CHECK(f(v, m, 3, std::string("s"), {1, 2}, std::chrono::milliseconds(5)) == 11);
  CHECK(calls == 1);
  CHECK(f(v, m, std::nullopt, std::string("s"), {1, 2}, std::chrono::milliseconds(5)) == 10);
  CHECK(f(v, m, 3, 7, {1, 2}, std::chrono::milliseconds(5)) == 10);
  CHECK(calls == 3);
}

TEST_CASE("user types become keys by ADL twat_cache_key, twat_cache::hash, or std::hash") {
  int calls = 0;
  auto f =
      twat_cache::mcache([&calls](const keyed_point& p, const tagged& t, const via_std_hash& s) {
        ++calls;
        return p.x + p.y + static_cast<int>(t.tag.size()) + s.v;
      });
  CHECK(f({1, 2}, {"ab"}, {3}) == 8);
  CHECK(f({1, 2}, {"ab"}, {3}) == 8);
  CHECK(calls == 1);
  CHECK(f({2, 1}, {"ab"}, {3}) == 8);
  CHECK(calls == 2);
  STATIC_REQUIRE(twat_cache::hashable<keyed_point>);
  STATIC_REQUIRE(twat_cache::hashable<tagged>);
  STATIC_REQUIRE(twat_cache::hashable<via_std_hash>);
  STATIC_REQUIRE_FALSE(twat_cache::hashable<std::mutex>);
}

TEST_CASE("a lookup view hashes and compares like the owned key") {
  using traits = twat_cache::key_traits<int, const std::string&, std::string_view>;
  const std::string s = "text";
  const auto view = traits::make_view(7, s, "more");
  const auto key = traits::make_key(view);
  CHECK(twat_cache::key_hash<traits::key_type>{}(view) ==
        twat_cache::key_hash<traits::key_type>{}(key));
  CHECK(twat_cache::key_equal<traits::key_type>{}(view, key));
  CHECK(std::get<1>(key) == "text");
  CHECK(std::get<2>(key) == "more");
}

TEST_CASE("hashes of distinct small keys do not collide") {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100000; ++i)
    seen.insert(twat_cache::hash<int>{}(i));
  CHECK(seen.size() == 100000);
}
