// libFuzzer target for the codec's decoder: whatever the bytes, decoding must neither crash nor
// trip a sanitizer, and bytes that do decode must be exactly what encoding the value gives back
// (the encoding is canonical), so no two byte strings decode to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <twat_cache/codec.hpp>
#include <variant>
#include <vector>

namespace {

template <class T>
void decode_and_check(std::string_view bytes) {
  const std::optional<T> value = twat_cache::decode<T>(bytes);
  if (value && twat_cache::encode(*value) != bytes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the type, so one corpus explores them all.
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      decode_and_check<std::string>(bytes);
      break;
    case 1:
      decode_and_check<std::vector<double>>(bytes);
      break;
    case 2:
      decode_and_check<std::map<std::string, std::vector<std::int32_t>>>(bytes);
      break;
    case 3:
      decode_and_check<std::tuple<bool, std::optional<std::uint16_t>, std::set<std::int64_t>>>(
          bytes);
      break;
    case 4:
      decode_and_check<std::vector<std::variant<std::monostate, float, std::string>>>(bytes);
      break;
    case 5:
      decode_and_check<std::vector<std::vector<bool>>>(bytes);
      break;
    case 6:
      decode_and_check<std::pair<std::u32string, std::array<std::int8_t, 3>>>(bytes);
      break;
    default:
      // long double is exact but not canonical (bits below its precision are dropped): decode only.
      static_cast<void>(twat_cache::decode<std::vector<long double>>(bytes));
      break;
  }
  return 0;
}
