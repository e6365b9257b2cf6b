#pragma once
/// acache for standalone Asio (libasio-dev): makes asio::awaitable<T, Executor> a task type acache
/// memoizes. The same as <twat_cache/boost_asio.hpp>, for the asio:: namespace.
///
///   #include <twat_cache/asio.hpp>
///   asio::awaitable<std::string> lookup(int id);
///   auto cached = twat_cache::acache(lookup, {.maxsize = 1024});

// Asio before 1.24 looks for clang's old Coroutines TS macro only, so it hides awaitable<T> from
// clang in C++20 mode; the standard coroutines it then uses are there.
#if !defined(ASIO_HAS_CO_AWAIT) && defined(__clang__) && defined(__cpp_impl_coroutine)
#define ASIO_HAS_CO_AWAIT 1
#endif

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/system_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#if !defined(ASIO_HAS_CO_AWAIT)
#error \
    "twat_cache/asio.hpp: this Asio has no awaitable<T> for this compiler. With clang and Asio < 1.24, include <twat_cache/asio.hpp> before Asio, or define ASIO_HAS_CO_AWAIT=1."
#endif
#include <exception>
#include <memory>
#include <twat_cache/acache.hpp>
#include <twat_cache/task_traits.hpp>
#include <utility>

#define TWAT_CACHE_ASIO_NS ::asio
#define TWAT_CACHE_ASIO_SYSTEM_ERROR ::asio::system_error
#include <twat_cache/detail/asio_task_traits.ipp>
#undef TWAT_CACHE_ASIO_SYSTEM_ERROR
#undef TWAT_CACHE_ASIO_NS
