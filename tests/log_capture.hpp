#pragma once
// What twat_cache logs while a test runs, for tests that check a fallback or a failure warns.

#include <string>
#include <string_view>
#include <twat_cache/cache.hpp>
#include <vector>

namespace test_support {

/// Collects the cause and message of each of twat_cache's log lines while it lives.
struct warnings {
  std::vector<std::string> causes;
  std::vector<std::string> messages;
  warnings() {
    twat_cache::set_logger(
        [this](twat_cache::log_level, std::string_view cause, std::string_view message) {
          causes.emplace_back(cause);
          messages.emplace_back(message);
        });
  }
  warnings(const warnings&) = delete;
  warnings& operator=(const warnings&) = delete;
  ~warnings() { twat_cache::set_logger({}); }
};

}  // namespace test_support
