// requires: BOOST
// An Asio TCP server on 127.0.0.1 whose request handler awaits a slow lookup, memoized with
// acache: concurrent requests for one key cost one lookup, and later requests are cache hits.

#include <boost/asio.hpp>
#include <twat_cache/boost_asio.hpp>  // acache for boost::asio::awaitable<T>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

namespace net = boost::asio;
using net::ip::tcp;
using namespace std::chrono_literals;

std::atomic<int> lookups_run{0};

// The slow part: a profile from a "database" 200 ms away.
net::awaitable<std::string> load_profile(int user_id) {
  ++lookups_run;
  net::steady_timer db_latency(co_await net::this_coro::executor, 200ms);
  co_await db_latency.async_wait(net::use_awaitable);
  co_return "user " + std::to_string(user_id) + ": level " + std::to_string(user_id % 7 + 1);
}

// One line per request: "profile <id>\n" -> "<profile>\n".
template <class Lookup>
net::awaitable<void> serve(tcp::socket socket, Lookup& profile) {
  std::string line;
  co_await net::async_read_until(socket, net::dynamic_buffer(line), '\n', net::use_awaitable);
  const int id = std::stoi(line.substr(line.find(' ') + 1));
  std::string reply = co_await profile(id) + "\n";
  co_await net::async_write(socket, net::buffer(reply), net::use_awaitable);
}

template <class Lookup>
net::awaitable<void> accept_loop(tcp::acceptor& acceptor, Lookup& profile) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(net::use_awaitable);
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket), profile), net::detached);
  }
}

// Requests of one wave: how many were answered, and the loop to stop when all are done.
struct wave_progress {
  net::io_context& io;
  int expected;
  int answered = 0;
  int finished = 0;
  void done(bool ok) {
    answered += ok ? 1 : 0;
    if (++finished == expected) io.stop();
  }
};

// One request; counted as answered when the reply is the profile asked for.
net::awaitable<void> client(tcp::endpoint server, int id, wave_progress& progress) {
  bool ok = false;
  try {
    tcp::socket socket(co_await net::this_coro::executor);
    co_await socket.async_connect(server, net::use_awaitable);
    std::string request = "profile " + std::to_string(id) + "\n";
    co_await net::async_write(socket, net::buffer(request), net::use_awaitable);
    std::string reply;
    co_await net::async_read_until(socket, net::dynamic_buffer(reply), '\n', net::use_awaitable);
    ok = reply.starts_with("user " + std::to_string(id) + ":");
  } catch (const std::exception& e) {
    std::printf("request failed: %s\n", e.what());
  }
  progress.done(ok);
}

// Sends `count` concurrent requests for users 7 and 8, and waits for every reply.
int wave(net::io_context& io, tcp::endpoint server, int count) {
  wave_progress progress{io, count};
  for (int i = 0; i < count; ++i)
    net::co_spawn(io, client(server, 7 + i % 2, progress), net::detached);
  io.restart();
  io.run_for(10s);  // bounded; the last reply stops it long before
  return progress.answered;
}

int main() {
  auto profile = twat_cache::acache(load_profile, {.maxsize = 10'000, .ttl = 60s});

  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  net::co_spawn(io, accept_loop(acceptor, profile), net::detached);
  const tcp::endpoint server = acceptor.local_endpoint();

  int answered = wave(io, server, 12);
  std::printf("first wave: answered %d requests, slow lookups run: %d\n", answered,
              lookups_run.load());

  answered = wave(io, server, 12);
  std::printf("second wave: answered %d requests, slow lookups run: %d\n", answered,
              lookups_run.load());

  const auto stats = profile.stats();
  std::printf("stats: %llu hits, %llu misses, %llu entries, backend %s\n",
              static_cast<unsigned long long>(stats.hits),
              static_cast<unsigned long long>(stats.misses),
              static_cast<unsigned long long>(stats.size), std::string(profile.backend()).c_str());
}
