// acache over Boost.Asio's awaitable<T>; built when TWAT_CACHE_WITH_BOOST.
#include <boost/asio.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <memory>
#include <twat_cache/boost_asio.hpp>

namespace net = boost::asio;
#define TEST_TAG "acache boost.asio"
#include "acache_asio_tests.inc"
