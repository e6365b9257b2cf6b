#pragma once
// Real Redis / memcached servers for the tests, on 127.0.0.1.
//
//   server_process: a private server a test can crash (stop), restart on the same port (start)
//   and hang (pause / resume).
//     twat_cache_test::server_process redis("redis", {"--requirepass", "secret"});
//     connect to 127.0.0.1:redis.port(); redis.stop(); ...; redis.start();
//
//   shared_server_port: the port of the server the CTest fixture (tests/servers/server.sh)
//   started for the whole run, found through TWAT_CACHE_TEST_SERVERS_DIR.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace twat_cache_test {

namespace server_detail {

inline std::string errno_text() {
  return std::strerror(errno);
}

class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

inline sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

inline int tcp_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  // Not inherited by servers forked meanwhile, which would keep our connections open.
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

/// A port on 127.0.0.1 that bind(0) gave us. The port is left in TIME_WAIT (we accept a
/// connection and close our end first): other bind(0) callers then skip it, while the servers,
/// which set SO_REUSEADDR, can still take it.
inline int pick_free_port() {
  fd_guard listener(tcp_socket());
  if (listener.get() < 0) throw std::runtime_error("server_process: socket: " + errno_text());
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("server_process: cannot bind 127.0.0.1:0: " + errno_text());
  }
  const int port = ntohs(addr.sin_port);
  fd_guard client(tcp_socket());
  if (client.get() >= 0 &&
      ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    fd_guard accepted(::accept(listener.get(), nullptr, nullptr));
  }
  return port;
}

/// A connected socket to 127.0.0.1:port with short send/receive timeouts, or -1.
inline int connect_loopback(int port) {
  const int fd = tcp_socket();
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_usec = 500'000;  // a paused or foreign server must not hang the wait
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
#ifdef MSG_NOSIGNAL
  constexpr int flags = MSG_NOSIGNAL;  // a closed peer must not kill the test with SIGPIPE
#else
  constexpr int flags = 0;
#endif
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), flags);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Appends what arrives to buf until done(buf); false on timeout, EOF or error.
template <class Done>
bool receive_until(int fd, std::string& buf, Done done) {
  char chunk[4096];
  while (!done(std::string_view(buf))) {
    if (buf.size() > (1u << 20)) return false;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

inline bool has_line(std::string_view s) {
  return s.find("\r\n") != std::string_view::npos;
}

/// The number after `key` in text (up to the end of its line), or -1.
inline long number_after(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return -1;
  const char* first = text.data() + at + key.size();
  long value = -1;
  const auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), value);
  return ec == std::errc() && ptr != first ? value : -1;
}

enum class probe_result { silent, ours, foreign };

/// Asks the server on the port to answer, and for its pid: a foreign server that already held
/// the port would answer too, and our own child would then fail to bind.
inline probe_result probe(std::string_view kind, int port, pid_t pid, std::string_view password) {
  const fd_guard fd(connect_loopback(port));
  if (fd.get() < 0) return probe_result::silent;
  std::string buf;
  long reported = -1;
  if (kind == "redis") {
    if (!send_all(fd.get(), "PING\r\n") || !receive_until(fd.get(), buf, has_line)) {
      return probe_result::silent;
    }
    const bool pong = buf.starts_with("+PONG");
    if (!pong && !buf.starts_with("-NOAUTH")) return probe_result::silent;
    if (!pong) {
      // Without the password the pid can't be asked; an answer is good enough then.
      if (password.empty()) return probe_result::ours;
      buf.clear();
      const std::string auth = "*2\r\n$4\r\nAUTH\r\n$" + std::to_string(password.size()) + "\r\n" +
                               std::string(password) + "\r\n";
      if (!send_all(fd.get(), auth) || !receive_until(fd.get(), buf, has_line) ||
          !buf.starts_with("+OK")) {
        return probe_result::ours;
      }
    }
    buf.clear();
    const auto info_done = [](std::string_view s) {
      const auto at = s.find("process_id:");
      return s.starts_with("-") ? has_line(s)
                                : at != std::string_view::npos && has_line(s.substr(at));
    };
    if (!send_all(fd.get(), "INFO server\r\n") || !receive_until(fd.get(), buf, info_done)) {
      return probe_result::silent;
    }
    reported = number_after(buf, "process_id:");
  } else {
    const auto stats_done = [](std::string_view s) {
      return s.find("\r\nEND\r\n") != std::string_view::npos ||
             s.find("ERROR") != std::string_view::npos;
    };
    if (!send_all(fd.get(), "version\r\nstats\r\n") || !receive_until(fd.get(), buf, stats_done) ||
        !buf.starts_with("VERSION")) {
      return probe_result::silent;
    }
    reported = number_after(buf, "STAT pid ");
  }
  // No pid in the answer (e.g. INFO renamed away): trust that it is ours.
  return reported < 0 || reported == pid ? probe_result::ours : probe_result::foreign;
}

}  // namespace server_detail

/// A private redis-server or memcached child process on 127.0.0.1 at a free port.
class server_process {
 public:
  /// kind is "redis" or "memcached"; extra_args are appended to the command line (later
  /// settings win, e.g. {"--maxmemory", "1mb"}). Throws std::runtime_error if it won't come up.
  explicit server_process(std::string kind, std::vector<std::string> extra_args = {})
      : kind_(std::move(kind)), extra_args_(std::move(extra_args)) {
    if (kind_ != "redis" && kind_ != "memcached") {
      throw std::invalid_argument(
          "server_process: kind must be \"redis\" or \"memcached\", not \"" + kind_ + "\"");
    }
    if (kind_ == "redis") {
      const auto auth = std::find(extra_args_.begin(), extra_args_.end(), "--requirepass");
      if (auth != extra_args_.end() && auth + 1 != extra_args_.end()) password_ = *(auth + 1);
      std::string dir =
          (std::filesystem::temp_directory_path() / "twat_cache_redis_XXXXXX").string();
      if (::mkdtemp(dir.data()) == nullptr) {
        throw std::runtime_error("server_process: mkdtemp " + dir + ": " +
                                 server_detail::errno_text());
      }
      dir_ = dir;
    }
    // Another process may take the port between our pick and the server's bind: pick again.
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = server_detail::pick_free_port();
      if (launch(why)) return;
      if (missing_binary_) break;
    }
    remove_dir();
    throw std::runtime_error("server_process: " + why);
  }

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  ~server_process() {
    if (paused_) resume();
    stop();
    remove_dir();
  }

  int port() const noexcept { return port_; }

  /// True while the server process exists (also when paused).
  bool running() const {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // it exited by itself (e.g. SHUTDOWN); reaped so the pid can't be reused
      paused_ = false;
      return false;
    }
    return true;
  }

  /// Kills the server with SIGKILL: a crash, no clean shutdown.
  void stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    paused_ = false;
  }

  /// Starts the server again on the same port and waits until it answers. No-op if running.
  void start() {
    if (running()) return;
    // The port may still be held briefly (or taken by someone else): retry for a while.
    std::string why;
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (launch(why)) return;
      if (missing_binary_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("server_process: restart: " + why);
  }

  /// Freezes the server with SIGSTOP: connections stay open but nothing is answered.
  void pause() {
    if (!running() || paused_) return;
    if (::kill(pid_, SIGSTOP) != 0) {
      throw std::runtime_error("server_process: SIGSTOP: " + server_detail::errno_text());
    }
    // Wait until it is really stopped, so the test's next request surely hangs.
    int status = 0;
    while (::waitpid(pid_, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (!WIFSTOPPED(status)) {
      pid_ = -1;
      throw std::runtime_error("server_process: " + kind_ + " died while being paused");
    }
    paused_ = true;
  }

  /// Lets a paused server go on (SIGCONT).
  void resume() noexcept {
    if (!paused_ || pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    paused_ = false;
  }

 private:
  std::vector<std::string> command() const {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args;
    if (kind_ == "redis") {
      args = {"redis-server", "--port", port,    "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no",     "--dir", dir_};
    } else {
      args = {"memcached", "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "64"};
      if (::geteuid() == 0) {
        args.insert(args.end(), {"-u", "root"});  // memcached refuses to run as root otherwise
      }
    }
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    return args;
  }

  /// Forks and execs the server on port_, then waits until it answers. On failure the child is
  /// gone and why says what happened.
  bool launch(std::string& why) {
    std::vector<std::string> args = command();
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    const long open_max = ::sysconf(_SC_OPEN_MAX);
    const int max_fd = static_cast<int>(std::clamp(open_max, 256L, 65536L));

    const pid_t child = ::fork();
    if (child < 0) {
      why = "fork: " + server_detail::errno_text();
      return false;
    }
    if (child == 0) {
      const int null_fd = ::open("/dev/null", O_RDWR);
      if (null_fd >= 0) {
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(null_fd, STDOUT_FILENO);
        ::dup2(null_fd, STDERR_FILENO);
      }
      // Inherited sockets would keep the test's connections open in the server.
      for (int fd = 3; fd < max_fd; ++fd)
        ::close(fd);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = child;
    paused_ = false;
    missing_binary_ = false;

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        missing_binary_ = WIFEXITED(status) && WEXITSTATUS(status) == 127;
        const std::string how = WIFEXITED(status)
                                    ? "exit code " + std::to_string(WEXITSTATUS(status))
                                    : "signal " + std::to_string(WTERMSIG(status));
        why = missing_binary_ ? args[0] + " could not be run (is it installed and in PATH?)"
                              : args[0] + " exited at once on 127.0.0.1:" + std::to_string(port_) +
                                    " (" + how + "; port taken or bad arguments?)";
        return false;
      }
      if (server_detail::probe(kind_, port_, pid_, password_) ==
          server_detail::probe_result::ours) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    why = args[0] + " did not answer on 127.0.0.1:" + std::to_string(port_) + " within 10 s";
    return false;
  }

  void remove_dir() noexcept {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }

  std::string kind_;
  std::vector<std::string> extra_args_;
  std::string password_;  // from --requirepass, to ask a protected redis for its pid
  std::string dir_;       // redis --dir, so no test writes into the working directory
  int port_ = 0;
  mutable pid_t pid_ = -1;  // running() reaps a server that exited by itself
  mutable bool paused_ = false;
  bool missing_binary_ = false;
};

/// The port of the shared server the CTest fixture started (tests/servers/server.sh), read from
/// $TWAT_CACHE_TEST_SERVERS_DIR/<kind>.port. Throws std::runtime_error if there is none.
inline int shared_server_port(std::string_view kind) {
  const char* dir = std::getenv("TWAT_CACHE_TEST_SERVERS_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error(
        "TWAT_CACHE_TEST_SERVERS_DIR is not set: run this test through ctest, whose fixture "
        "starts the shared " +
        std::string(kind) + " server");
  }
  const std::filesystem::path file = std::filesystem::path(dir) / (std::string(kind) + ".port");
  std::ifstream in(file);
  std::string text;
  if (!in || !std::getline(in, text)) {
    throw std::runtime_error("no shared " + std::string(kind) + " server: cannot read " +
                             file.string() +
                             " (did the fixture tests/servers/server.sh start it?)");
  }
  int port = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr == text.data() || port <= 0 || port > 65535) {
    throw std::runtime_error("bad port \"" + text + "\" in " + file.string());
  }
  return port;
}

}  // namespace twat_cache_test
