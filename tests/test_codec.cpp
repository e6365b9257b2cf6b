// codec<T>: what persistent caches write, and how they survive bytes they did not write.
#include <catch2/catch.hpp>

#include <twat_cache/config.hpp>
#if TWAT_CACHE_WITH_CEREAL
#include <cereal/types/string.hpp>
#endif

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <twat_cache/codec.hpp>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace {

enum class color : std::uint8_t { red = 1, green = 2 };

struct fielded_point {
  double x = 0;
  double y = 0;
  std::string label;
  bool operator==(const fielded_point&) const = default;
};
auto twat_cache_fields(fielded_point& p) {
  return std::tie(p.x, p.y, p.label);
}

// A user codec with a version in its tag, as the docs recommend.
struct money {
  std::int64_t cents = 0;
  bool operator==(const money&) const = default;
};

// Serializable for cereal only: the codec comes from cereal's portable binary archive.
struct cereal_only {
  int a = 0;
  std::string b;
  bool operator==(const cereal_only&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(a, b);
  }
};

}  // namespace

template <>
struct twat_cache::codec<money> {
  static constexpr std::string_view type_tag = "money/v1";
  static void encode(twat_cache::encoder& out, const money& m) { out(m.cents); }
  static bool decode(twat_cache::decoder& in, money& m) {
    if (!in(m.cents)) return false;
    return m.cents >= 0 || in.fail();  // negative money is not something we write
  }
};

namespace {

template <class T>
void check_round_trip(const T& value) {
  const std::string bytes = twat_cache::encode(value);
  const std::optional<T> back = twat_cache::decode<T>(bytes);
  REQUIRE(back.has_value());
  CHECK(*back == value);
  // Every strict prefix is a truncation, and must be refused (values with a known size are
  // refused because `decode` requires every byte to be used, and shorter ones fail a read).
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix of " << n << " of " << bytes.size() << " bytes");
    CHECK_FALSE(twat_cache::decode<T>(std::string_view(bytes).substr(0, n)).has_value());
  }
  // A trailing byte is refused too: a value is all of its bytes.
  CHECK_FALSE(twat_cache::decode<T>(bytes + '\0').has_value());
}

}  // namespace

TEST_CASE("scalars round-trip at their limits") {
  check_round_trip(true);
  check_round_trip(false);
  check_round_trip('x');
  check_round_trip(std::numeric_limits<std::int8_t>::min());
  check_round_trip(std::numeric_limits<std::uint16_t>::max());
  check_round_trip(std::numeric_limits<std::int32_t>::min());
  check_round_trip(std::numeric_limits<std::int64_t>::min());
  check_round_trip(std::numeric_limits<std::uint64_t>::max());
  check_round_trip(3.5f);
  check_round_trip(-0.0);
  check_round_trip(std::numeric_limits<double>::denorm_min());
  check_round_trip(std::numeric_limits<double>::infinity());
  check_round_trip(color::green);
  check_round_trip(char32_t{0x1F600});
}

TEST_CASE("long double round-trips exactly through its portable encoding") {
  for (long double v :
       {0.0L, -0.0L, 1.0L, -3.25L, 1.0L / 3.0L, 1e300L * 1e300L,
        std::numeric_limits<long double>::max(), std::numeric_limits<long double>::min(),
        std::numeric_limits<long double>::denorm_min(),
        -std::numeric_limits<long double>::infinity()}) {
    INFO(static_cast<double>(v));
    check_round_trip(v);
    CHECK(std::signbit(*twat_cache::decode<long double>(twat_cache::encode(v))) == std::signbit(v));
  }
  const auto nan = twat_cache::decode<long double>(
      twat_cache::encode(std::numeric_limits<long double>::quiet_NaN()));
  REQUIRE(nan.has_value());
  CHECK(std::isnan(*nan));
}

TEST_CASE("the encoding is little-endian, fixed-width for scalars, varint for lengths") {
  CHECK(twat_cache::encode(std::uint32_t{0x01020304}) == std::string("\x04\x03\x02\x01", 4));
  CHECK(twat_cache::encode(std::string("ab")) == std::string("\x02"
                                                             "ab",
                                                             3));
  CHECK(twat_cache::encode(std::string(300, 'z')).substr(0, 2) == std::string("\xac\x02", 2));
  CHECK(twat_cache::encode(std::optional<int>{}) == std::string(1, '\0'));
  CHECK(twat_cache::encode(std::vector<std::uint16_t>{1, 2}) ==
        std::string("\x02\x01\x00\x02\x00", 5));
}

TEST_CASE("strings and containers round-trip, nested to any depth") {
  check_round_trip(std::string());
  check_round_trip(std::string("h\0llo", 5));
  check_round_trip(std::u16string(u"caf\u00e9"));
  check_round_trip(std::wstring(L"wide"));
  check_round_trip(std::vector<double>{1.5, -2.25, 1e300});
  check_round_trip(std::vector<bool>{true, false, true});
  check_round_trip(std::vector<std::string>{"a", "", "ccc"});
  check_round_trip(std::array<int, 3>{1, 2, 3});
  check_round_trip(std::array<std::string, 2>{"x", "y"});
  check_round_trip(std::pair<int, std::string>{7, "seven"});
  check_round_trip(std::tuple<>{});
  check_round_trip(std::tuple<int, double, std::string>{1, 2.5, "three"});
  check_round_trip(std::optional<std::string>{"present"});
  check_round_trip(std::optional<std::string>{});
  check_round_trip(std::variant<int, std::string>{"alt"});
  check_round_trip(std::variant<std::monostate, int>{});
  check_round_trip(std::map<std::string, std::vector<int>>{{"a", {1}}, {"b", {}}});
  check_round_trip(std::multimap<int, int>{{1, 1}, {1, 2}});
  check_round_trip(std::set<int>{3, 1, 2});
  check_round_trip(std::multiset<int>{1, 1, 2});
  check_round_trip(std::unordered_map<int, std::string>{{1, "one"}, {2, "two"}});
  check_round_trip(std::unordered_set<std::string>{"u", "v"});
  check_round_trip(std::chrono::milliseconds(1234));
  check_round_trip(std::chrono::duration<double>(0.5));
  using deep = std::vector<std::map<
      std::string, std::optional<std::tuple<int, std::vector<std::variant<double, std::string>>>>>>;
  check_round_trip(deep{
      {{"k", std::tuple{1, std::vector<std::variant<double, std::string>>{2.0, std::string("s")}}}},
      {{"empty", std::nullopt}}});
}

TEST_CASE("user types: twat_cache_fields and a codec specialization") {
  check_round_trip(fielded_point{1.5, -2, "here"});
  check_round_trip(std::vector<fielded_point>{{1, 2, "a"}, {3, 4, "b"}});
  check_round_trip(money{1999});
  // The user's decode refuses what it never writes.
  CHECK_FALSE(twat_cache::decode<money>(twat_cache::encode(std::int64_t{-5})).has_value());
}

TEST_CASE("cereal-serializable types get a codec exactly when cereal is there") {
  STATIC_REQUIRE(twat_cache::encodable<cereal_only> == bool(TWAT_CACHE_WITH_CEREAL));
#if TWAT_CACHE_WITH_CEREAL
  check_round_trip(cereal_only{7, "seven"});
  check_round_trip(std::vector<cereal_only>{{1, "a"}, {2, "b"}});
#endif
}

TEST_CASE("string views encode like the strings they view") {
  const std::string text = "the same bytes";
  CHECK(twat_cache::encode(std::string_view(text)) == twat_cache::encode(text));
  CHECK(twat_cache::type_tag<std::string_view>() == twat_cache::type_tag<std::string>());
}

TEST_CASE("type tags tell apart types whose bytes could be confused") {
  CHECK(twat_cache::type_tag<int>() != twat_cache::type_tag<float>());
  CHECK(twat_cache::type_tag<std::int32_t>() != twat_cache::type_tag<std::uint32_t>());
  CHECK(twat_cache::type_tag<std::vector<int>>() != twat_cache::type_tag<std::set<int>>());
  CHECK(twat_cache::type_tag<std::pair<int, int>>() ==
        twat_cache::type_tag<std::tuple<int, int>>());
  CHECK(twat_cache::type_tag<fielded_point>() == "Ft(f8f8s" + std::string("c") + ")");
  CHECK(twat_cache::type_tag<money>() == "U(money/v1)");
  CHECK(twat_cache::type_tag<std::chrono::seconds>() !=
        twat_cache::type_tag<std::chrono::milliseconds>());
}

TEST_CASE("lying lengths are refused without allocating what they claim") {
  // A vector of a billion doubles, claimed in 5 bytes.
  std::string lie;
  twat_cache::encoder{lie}.varint(1'000'000'000);
  CHECK_FALSE(twat_cache::decode<std::vector<double>>(lie).has_value());
  CHECK_FALSE(twat_cache::decode<std::string>(lie).has_value());
  CHECK_FALSE(twat_cache::decode<std::map<int, int>>(lie).has_value());
  // Elements that take no bytes are bounded by a fixed limit instead.
  std::string empties;
  twat_cache::encoder{empties}.varint(std::uint64_t{1} << 40);
  CHECK_FALSE(twat_cache::decode<std::vector<std::monostate>>(empties).has_value());
  // A varint longer than 64 bits.
  CHECK_FALSE(twat_cache::decode<std::string>(std::string(11, '\xff')).has_value());
}

TEST_CASE("out-of-range tags are refused: bool, optional, variant, duplicates in a set") {
  CHECK_FALSE(twat_cache::decode<bool>(std::string(1, '\x02')).has_value());
  CHECK_FALSE(twat_cache::decode<std::optional<int>>(std::string(1, '\x07')).has_value());
  CHECK_FALSE(
      twat_cache::decode<std::variant<int, float>>(std::string("\x02\0\0\0\0", 5)).has_value());
  std::string twice = twat_cache::encode(std::vector<int>{1, 1});
  CHECK_FALSE(twat_cache::decode<std::set<int>>(twice).has_value());
  CHECK(twat_cache::decode<std::multiset<int>>(twice) == std::multiset<int>{1, 1});
  // Ordered containers must come in order: two byte strings never decode to one value.
  CHECK_FALSE(twat_cache::decode<std::set<int>>(twat_cache::encode(std::vector<int>{2, 1})));
  CHECK_FALSE(twat_cache::decode<std::multiset<int>>(twat_cache::encode(std::vector<int>{2, 1})));
}

TEST_CASE("random bytes never decode into undefined behaviour") {
  using nested = std::map<std::string, std::vector<std::variant<int, std::optional<double>>>>;
  std::mt19937_64 random(42);
  std::size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(static_cast<std::size_t>(random() % 64), '\0');
    for (char& c : bytes)
      c = static_cast<char>(random());
    // Whatever the result, it must come back without a sanitizer report or a crash.
    decoded += twat_cache::decode<nested>(bytes).has_value() ? 1 : 0;
    decoded += twat_cache::decode<std::tuple<std::string, long double, bool>>(bytes).has_value();
  }
  CHECK(decoded < 20000);  // almost nothing random is a valid encoding
}
