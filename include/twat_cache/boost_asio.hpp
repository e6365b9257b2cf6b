#pragma once
/// acache for Boost.Asio: makes boost::asio::awaitable<T, Executor> a task type acache memoizes.
///
///   #include <twat_cache/boost_asio.hpp>
///   boost::asio::awaitable<std::string> lookup(int id);
///   auto cached = twat_cache::acache(lookup, {.maxsize = 1024});
///   std::string s = co_await cached(7);   // inside a boost::asio coroutine
///
/// Concurrent awaiters of one key share one computation, which runs on the first awaiter's
/// executor; each awaiter resumes on its own executor; a cancelled awaiter gets operation_aborted
/// and the computation goes on for the others.

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <memory>
#include <twat_cache/acache.hpp>
#include <twat_cache/task_traits.hpp>
#include <utility>

#define TWAT_CACHE_ASIO_NS boost::asio
#define TWAT_CACHE_ASIO_SYSTEM_ERROR boost::system::system_error
#include <twat_cache/detail/asio_task_traits.ipp>
#undef TWAT_CACHE_ASIO_SYSTEM_ERROR
#undef TWAT_CACHE_ASIO_NS
