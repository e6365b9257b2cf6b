// acache over standalone Asio's awaitable<T> (libasio-dev); built when TWAT_CACHE_WITH_ASIO.
#include <twat_cache/asio.hpp>  // first: it enables awaitable<T> for clang with older Asio

#include <asio.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <memory>

namespace net = ::asio;
#define TEST_TAG "acache asio"
#include "acache_asio_tests.inc"
