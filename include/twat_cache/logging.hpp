#pragma once
/// Where warnings go (engine fallbacks, cache I/O errors). Default: stderr, once per cause.

#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <twat_cache/version.hpp>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

enum class log_level : unsigned char { warning, error };

/// Receives (level, cause, message). `cause` is a short stable identifier of what went wrong
/// ("fallback.sqlite", "io.write", ...); the message is for people.
using logger_fn = std::function<void(log_level, std::string_view cause, std::string_view message)>;

namespace detail {

struct logger_state {
  std::mutex mutex;
  logger_fn sink;  // empty: stderr
  std::set<std::string, std::less<>> seen_causes;

  static logger_state& instance() {
    static logger_state state;
    return state;
  }
};

/// Logs `message` the first time `cause` is seen; later reports of the same cause are dropped,
/// so a failing disk cannot flood the log on every call.
inline void log_once(log_level level, std::string_view cause, std::string_view message) {
  auto& state = logger_state::instance();
  logger_fn sink;
  {
    std::lock_guard lock(state.mutex);
    if (state.seen_causes.find(cause) != state.seen_causes.end()) return;
    state.seen_causes.emplace(cause);
    sink = state.sink;
  }
  if (sink) {
    sink(level, cause, message);
  } else {
    std::fprintf(stderr, "twat_cache %s [%.*s]: %.*s\n",
                 level == log_level::warning ? "warning" : "error", static_cast<int>(cause.size()),
                 cause.data(), static_cast<int>(message.size()), message.data());
  }
}

}  // namespace detail

/// Sends warnings to `sink` instead of stderr (an empty function restores stderr). Also forgets
/// which causes were already reported, so each is reported once more.
inline void set_logger(logger_fn sink) {
  auto& state = detail::logger_state::instance();
  std::lock_guard lock(state.mutex);
  state.sink = std::move(sink);
  state.seen_causes.clear();
}

TWAT_CACHE_END_NAMESPACE
