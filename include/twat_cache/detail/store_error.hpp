#pragma once
// A store that failed after its value was computed (the value's copy threw, memory ran out): the
// call still returns its value, so the failure is logged once per engine kind, never thrown.

#include <exception>
#include <string>
#include <string_view>
#include <twat_cache/logging.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

inline void log_store_error(std::string_view engine_name, std::exception_ptr error) noexcept {
  std::string what = "an unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  log_once(log_level::error, std::string("put.") + std::string(engine_name),
           "storing a result failed (the call still returned it): " + what);
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
