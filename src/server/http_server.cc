// HTTP/1.1 transport on Boost.Beast with C++20 coroutines.
//
// Threading: `io_threads` threads run one io_context. Every connection is a coroutine bound to
// its own strand, so its steps never run concurrently even though any I/O thread may resume
// it. Handler code (Plan, Handle, Error, BodySink::Finish/Fail, BodySource::Next) may block,
// so it runs on a separate thread pool: the coroutine suspends, the call runs on the pool and
// the result is posted back to the connection's strand (see OnWorker). BodySink::Write is the
// exception: it runs on the I/O thread because it is called per 64 KiB chunk and is meant to
// be cheap, and a pool hop per chunk would double the cost of an upload.
//
// File ranges of response bodies (BodySource::NextPiece) are opened and sent on the I/O
// thread with sendfile(2): no copy into user space and no pool hop per chunk, which is most
// of the cost of retrieving large stored instances. Like a read, sendfile blocks on a file
// whose pages are not cached; that is the price of not handing each chunk to a worker.
#include "server/http_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sendfile.h>
#endif

// Must precede Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"

namespace dicomstore::server {
namespace {

// Local ASCII helpers: Debian's Abseil has its own absl::string_view, which does not accept a
// std::string_view.
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return Lower(x) == Lower(y); }) != haystack.end();
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const HttpHeader& header : headers) {
    if (EqualsIgnoreCase(header.name, name)) return header.value;
  }
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Parser = http::request_parser<http::buffer_body>;

// Body I/O granularity: request bodies are read and response bodies pulled in pieces of
// about this size, which bounds per-connection memory for streamed bodies.
constexpr size_t kChunkSize = 64 << 10;
// A streamed response is pulled from its source in batches of about this much: each batch
// is one worker-pool hop and one socket write, so large retrieves want large batches.
constexpr size_t kResponseBatch = 1 << 20;
// File ranges per batch: they cost only their paths until sent, so many go in one pool hop.
constexpr size_t kBatchFiles = 256;
#if defined(__linux__)
constexpr bool kSendfile = true;  // else bodies are always pulled through BodySource::Next
#else
constexpr bool kSendfile = false;
#endif
constexpr uint32_t kHeaderLimit = 64 << 10;
// Largest body we read and discard to keep a connection alive after an immediate response;
// beyond that closing is cheaper than reading.
constexpr uint64_t kDrainLimit = 1 << 20;
// After an early response the client may still be sending: read and discard (bounded) after
// shutting down our side, so that closing does not send a RST that could destroy the
// response before the client has read it.
constexpr uint64_t kLingerLimit = 64 << 20;
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr auto kIdleTimeout = std::chrono::seconds(60);  // between requests on a connection
constexpr auto kIoTimeout = std::chrono::seconds(60);    // per read or write
constexpr auto kShutdownGrace = std::chrono::seconds(10);
constexpr auto kForcedCloseGrace = std::chrono::seconds(2);

auto Await(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

// Errors of Beast's HTTP category mean the peer sent something we could not parse (as
// opposed to socket errors and timeouts, after which there is nobody to answer).
bool IsProtocolError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category();
}

absl::Status ReadError(const beast::error_code& ec) {
  if (IsProtocolError(ec)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed request body: ", ec.message()));
  }
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError("timed out reading the request body");
  }
  return absl::UnavailableError(absl::StrCat("error reading the request body: ", ec.message()));
}

// A header we may copy into the response verbatim: no CR/LF (response splitting) and not one
// that the transport sets itself.
bool IsForwardableHeader(const HttpHeader& header) {
  if (header.name.empty()) return false;
  if (header.name.find_first_of("\r\n:") != std::string::npos) return false;
  if (header.value.find_first_of("\r\n") != std::string::npos) return false;
  return !EqualsIgnoreCase(header.name, "Content-Length") &&
         !EqualsIgnoreCase(header.name, "Transfer-Encoding") &&
         !EqualsIgnoreCase(header.name, "Connection");
}

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  // Waiting for the next request head. Only touched on the connection's strand.
  bool idle = false;
};

// One request/response exchange, for the access log.
struct Exchange {
  Clock::time_point start = Clock::now();
  std::string remote;
  std::string method = "-";
  std::string path = "-";
  int status = 0;
  uint64_t bytes = 0;  // response body bytes written
};

// What of the request shapes the response.
struct RequestInfo {
  bool head_only = false;  // HEAD: headers as for GET, no body
  unsigned version = 11;
};

// A piece of a streamed response body: bytes, and file ranges to send between them.
struct Batch {
  absl::Status status;
  std::string data;
  // In body order; each is sent after data[0, first) and before the rest of `data`.
  std::vector<std::pair<size_t, FileRange>> files;
  uint64_t size = 0;  // of the data and the ranges
  bool end = false;
};

// An open file, closed with the object.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

absl::StatusOr<Fd> OpenForReading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("a file of the response body cannot be opened: ", std::strerror(errno)));
  }
  return Fd(fd);
}

// One non-blocking send of `count` bytes of `file` from `offset`: the bytes sent, 0 when the
// file ends first, or -errno.
ssize_t SendFileStep(int socket, int file, uint64_t offset, uint64_t count) {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(count, SSIZE_MAX));
#if defined(__linux__)
  off_t position = static_cast<off_t>(offset);
  const ssize_t n = ::sendfile(socket, file, &position, want);
  if (n >= 0) return n;
  if (errno != EINVAL && errno != ENOSYS) return -errno;
#endif
  // A file that cannot be spliced to a socket (EINVAL: e.g. some /proc files, FUSE): copy.
  char buffer[64 << 10];
  const ssize_t got =
      ::pread(file, buffer, std::min(want, sizeof(buffer)), static_cast<off_t>(offset));
  if (got <= 0) return got < 0 ? -errno : 0;
  const ssize_t sent = ::send(socket, buffer, static_cast<size_t>(got), MSG_NOSIGNAL);
  return sent < 0 ? -errno : sent;
}

// Waits until `socket` takes more bytes, for at most kIoTimeout; false on timeout or error.
asio::awaitable<bool> WaitWritable(tcp::socket& socket) {
  // Boost 1.74 has no per-operation cancellation: a timer on the connection's strand cancels
  // the wait. `waiting` keeps a timer that fires just as the wait completes from cancelling
  // whatever the connection does next.
  auto waiting = std::make_shared<bool>(true);
  asio::steady_timer timer(socket.get_executor(), kIoTimeout);
  timer.async_wait([waiting, &socket](const beast::error_code& ec) {
    if (!ec && *waiting) socket.cancel();
  });
  beast::error_code ec;
  co_await socket.async_wait(tcp::socket::wait_write, Await(ec));
  *waiting = false;
  co_return !ec;
}

// Sends `size` bytes with `step(sent)`, one non-blocking send of what is left after `sent`
// bytes (returning the bytes sent, 0 when there is nothing more to send, or -errno), waiting
// for room in the socket buffer when it is full. False on errors, timeouts and an early 0.
// `run` counts the bytes sent since the last wait: a client that keeps up would otherwise
// keep the I/O thread from its other connections, so every kResponseBatch it yields.
template <typename Step>
asio::awaitable<bool> SendAll(tcp::socket& socket, uint64_t size, uint64_t* run, Step step) {
  uint64_t sent = 0;
  while (sent < size) {
    const ssize_t n = step(sent);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
      *run += static_cast<uint64_t>(n);
      if (*run >= kResponseBatch) {
        *run = 0;
        co_await asio::post(socket.get_executor(), asio::use_awaitable);
      }
    } else if (n == -EAGAIN || n == -EWOULDBLOCK) {
      *run = 0;
      if (!co_await WaitWritable(socket)) co_return false;
    } else if (n != -EINTR) {
      co_return false;
    }
  }
  co_return true;
}

// `more`: further body bytes follow at once, so the kernel may hold these back to fill a
// segment with them (TCP_NODELAY would otherwise push a part header out on its own).
asio::awaitable<bool> SendBytes(tcp::socket& socket, std::string_view bytes, bool more,
                                uint64_t* run) {
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  co_return co_await SendAll(socket, bytes.size(), run, [&](uint64_t sent) -> ssize_t {
    const ssize_t n =
        ::send(socket.native_handle(), bytes.data() + sent, bytes.size() - sent, flags);
    return n < 0 ? -errno : n;
  });
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler* handler)
      : options_(options),
        handler_(handler),
        ioc_(std::max(1, options.io_threads)),
        work_(asio::make_work_guard(ioc_)),
        acceptor_(asio::make_strand(ioc_)),
        workers_(static_cast<size_t>(std::max(1, options.worker_threads))) {}

  ~ServerImpl() override { Shutdown(); }

  uint16_t port() const override { return port_; }

  absl::Status Listen();
  void Run();
  void Shutdown() override;

 private:
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Session(std::shared_ptr<Connection> conn);
  // Serves one request; returns whether the connection stays open for another.
  asio::awaitable<bool> ServeOne(Connection& c, beast::flat_buffer& buffer,
                                 const std::string& remote);
  asio::awaitable<beast::error_code> ReadBody(Connection& c, beast::flat_buffer& buffer,
                                              Parser& parser,
                                              const std::function<bool(std::string_view)>& consume);
  asio::awaitable<beast::error_code> SendContinue(Connection& c);
  // Writes `response`; returns whether the connection may be kept (false on any error).
  asio::awaitable<bool> Send(Connection& c, Exchange& x, HttpResponse response, RequestInfo info,
                             bool keep);
  // Writes a batch with file ranges straight to the socket (after the head). `first` is the
  // open file of the batch's first range, if already opened. `run` counts the bytes sent since
  // the connection last let others run (see SendAll).
  asio::awaitable<bool> SendPieces(Connection& c, const Batch& batch, Fd first, uint64_t* run);
  asio::awaitable<void> Linger(Connection& c);

  // Runs `fn` on the worker pool and resumes the calling coroutine on its own executor (the
  // connection's strand) with the result. `fn` must not throw. Posting the continuation
  // instead of resuming on the pool thread keeps all socket work on the I/O threads.
  template <typename Fn>
  asio::awaitable<std::invoke_result_t<Fn&>> OnWorker(Fn fn) {
    using R = std::invoke_result_t<Fn&>;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
        [this, fn = std::move(fn)](auto handler) mutable {
          auto ex = asio::get_associated_executor(handler);
          asio::post(workers_, [fn = std::move(fn), handler = std::move(handler), ex]() mutable {
            R result = fn();
            asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
              std::move(handler)(std::move(result));
            });
          });
        },
        asio::use_awaitable);
  }

  // Handler calls with exceptions turned into responses/statuses: nothing may escape into
  // Asio (a detached coroutine would just vanish, leaving the client hanging).
  BodyPlan CallPlan(const HttpRequest& head);
  HttpResponse CallError(const absl::Status& status);
  template <typename Fn>
  HttpResponse Guard(Fn&& fn);
  static absl::Status CallWrite(BodySink* sink, std::string_view chunk);
  // The next batch of a body: through NextPiece when `with_files`, else through Next.
  static Batch Pull(BodySource* source, bool with_files);

  void CloseConnections(bool idle_only);
  void Unregister(const std::shared_ptr<Connection>& conn);
  void Log(const Exchange& x) const;

  const HttpServerOptions options_;
  HttpHandler* const handler_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  // Declared before the io_context so that they outlive it: destroying the context destroys
  // suspended coroutines, which unregister themselves.
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::shared_ptr<Connection>> conns_;  // guarded by mu_
  bool shut_down_ = false;                                 // guarded by mu_

  asio::io_context ioc_;
  // Keeps run() going while every connection waits on the worker pool.
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_;  // on its own strand: Shutdown closes it from outside
  std::vector<std::thread> io_threads_;
  // Last: destroyed first, while the sockets its queued jobs refer to still exist.
  asio::thread_pool workers_;
};

absl::Status ServerImpl::Listen() {
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, options_.port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot resolve host '", options_.host, "': ", ec.message()));
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  for (const tcp::endpoint& endpoint : endpoints) {
    beast::error_code close_ec;
    acceptor_.close(close_ec);
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) continue;
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) continue;
    acceptor_.bind(endpoint, ec);
    if (ec) continue;
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) continue;
    port_ = acceptor_.local_endpoint(ec).port();
    if (!ec) return absl::OkStatus();
  }
  beast::error_code close_ec;
  acceptor_.close(close_ec);
  return absl::UnavailableError(
      absl::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ", ec.message()));
}

void ServerImpl::Run() {
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), asio::detached);
  const int n = std::max(1, options_.io_threads);
  for (int i = 0; i < n; ++i) {
    io_threads_.emplace_back([this] {
      // sendfile(2) has no MSG_NOSIGNAL: with SIGPIPE blocked in the threads that call it, a
      // peer that went away is an EPIPE (the signal stays pending), not the end of the process.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (...) {
          // Handlers catch their own exceptions; keep the thread serving regardless.
        }
      }
    });
  }
}

asio::awaitable<void> ServerImpl::AcceptLoop() {
  try {
    for (;;) {
      beast::error_code ec;
      asio::any_io_executor strand = asio::make_strand(ioc_);
      tcp::socket socket = co_await acceptor_.async_accept(strand, Await(ec));
      if (stopping_.load()) break;
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
        // Typically EMFILE: back off rather than spin until descriptors are freed.
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(100));
        co_await timer.async_wait(Await(ec));
        continue;
      }
      // Header and body of a chunked response go out in separate writes; Nagle plus delayed
      // ACK would add ~40 ms to each.
      socket.set_option(tcp::no_delay(true), ec);
      auto conn = std::make_shared<Connection>(std::move(socket));
      {
        std::lock_guard lock(mu_);
        conns_.insert(conn);
      }
      asio::co_spawn(conn->stream.get_executor(), Session(conn), asio::detached);
    }
  } catch (...) {
    // Only allocation failures can get here; nothing sensible to do but stop accepting.
  }
}

asio::awaitable<void> ServerImpl::Session(std::shared_ptr<Connection> conn) {
  try {
    beast::error_code ec;
    tcp::endpoint peer = conn->stream.socket().remote_endpoint(ec);
    const std::string remote = ec ? std::string("-") : peer.address().to_string();
    beast::flat_buffer buffer;  // lives across requests: it may hold a pipelined request
    while (co_await ServeOne(*conn, buffer, remote)) {
    }
  } catch (...) {
    // Allocation failure in the middle of a request: drop the connection.
  }
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  conn->stream.close();
  Unregister(conn);
}

asio::awaitable<bool> ServerImpl::ServeOne(Connection& c, beast::flat_buffer& buffer,
                                           const std::string& remote) {
  if (stopping_.load()) co_return false;
  Parser parser;
  parser.header_limit(kHeaderLimit);
  // Limits are enforced by us per plan; boost::none (unlimited) is broken in Boost 1.74.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code ec;
  c.idle = true;
  c.stream.expires_after(kIdleTimeout);
  co_await http::async_read_header(c.stream, buffer, parser, Await(ec));
  c.idle = false;

  Exchange x;
  x.remote = remote;
  if (ec) {
    // Closed, reset or timed out between requests: nobody to answer.
    if (ec == http::error::end_of_stream || !IsProtocolError(ec)) co_return false;
    const absl::Status status =
        absl::InvalidArgumentError(absl::StrCat("malformed HTTP request: ", ec.message()));
    HttpResponse response = co_await OnWorker([&] { return CallError(status); });
    co_await Send(c, x, std::move(response), RequestInfo{}, false);
    co_await Linger(c);
    Log(x);
    co_return false;
  }

  auto& msg = parser.get();
  HttpRequest request;
  request.method = std::string(View(msg.method_string()));
  request.target = std::string(View(msg.target()));
  for (const auto& field : msg) {
    request.headers.push_back(
        {std::string(View(field.name_string())), std::string(View(field.value()))});
  }
  request.remote = remote;
  x.method = request.method;
  x.path = request.target.substr(0, request.target.find('?'));
  const RequestInfo info{.head_only = msg.method() == http::verb::head, .version = msg.version()};
  bool keep = msg.keep_alive();
  // Answered here rather than by the handler: without it curl stalls 1 s before every
  // upload. We only send it when we are going to read the body.
  const bool expect_continue =
      msg.version() >= 11 && EqualsIgnoreCase(View(msg[http::field::expect]), "100-continue");

  BodyPlan plan = co_await OnWorker([&] { return CallPlan(request); });
  HttpResponse response;
  if (plan.immediate) {
    response = std::move(*plan.immediate);
    if (!parser.is_done()) {
      // With Expect the client holds the body back until it sees 100 (which it will not);
      // whether it sends it anyway is up to the client, so the connection cannot be reused.
      const auto length = parser.content_length();
      if (expect_continue || (length && *length > kDrainLimit)) {
        keep = false;
      } else {
        uint64_t drained = 0;
        ec = co_await ReadBody(c, buffer, parser, [&](std::string_view chunk) {
          drained += chunk.size();
          return drained <= kDrainLimit;
        });
        if (ec || !parser.is_done()) keep = false;
      }
    }
  } else if (plan.sink) {
    if (expect_continue && !parser.is_done()) ec = co_await SendContinue(c);
    absl::Status status;
    if (!ec) {
      BodySink* sink = plan.sink.get();
      ec = co_await ReadBody(c, buffer, parser, [&](std::string_view chunk) {
        status = CallWrite(sink, chunk);
        return status.ok();
      });
    }
    if (ec) status = ReadError(ec);
    // The sink is destroyed on the worker too: its destructor may remove temp files.
    std::unique_ptr<BodySink> sink = std::move(plan.sink);
    if (status.ok()) {
      response = co_await OnWorker([&] {
        return Guard([&] {
          std::unique_ptr<BodySink> owned = std::move(sink);
          return owned->Finish();
        });
      });
    } else {
      keep = false;
      response = co_await OnWorker([&] {
        return Guard([&] {
          std::unique_ptr<BodySink> owned = std::move(sink);
          return owned->Fail(status);
        });
      });
    }
  } else {
    const uint64_t limit = plan.buffer_limit;
    const auto length = parser.content_length();
    bool too_large = length && *length > limit;
    if (!too_large && !parser.is_done()) {
      if (expect_continue) ec = co_await SendContinue(c);
      if (length) request.body.reserve(*length);
      if (!ec) {
        ec = co_await ReadBody(c, buffer, parser, [&](std::string_view chunk) {
          if (chunk.size() > limit - request.body.size()) {  // body.size() <= limit holds
            too_large = true;
            return false;
          }
          request.body.append(chunk);
          return true;
        });
      }
    }
    if (too_large || ec) {
      keep = false;
      const absl::Status status =
          too_large
              ? absl::InvalidArgumentError(absl::StrCat("request body exceeds ", limit, " bytes"))
              : ReadError(ec);
      response = co_await OnWorker([&] { return CallError(status); });
    } else {
      response =
          co_await OnWorker([&] { return Guard([&] { return handler_->Handle(request); }); });
    }
  }

  keep = co_await Send(c, x, std::move(response), info, keep);
  if (!keep && !parser.is_done()) co_await Linger(c);
  Log(x);
  co_return keep;
}

asio::awaitable<beast::error_code> ServerImpl::ReadBody(
    Connection& c, beast::flat_buffer& buffer, Parser& parser,
    const std::function<bool(std::string_view)>& consume) {
  std::unique_ptr<char[]> chunk(new char[kChunkSize]);
  // Beast reads the socket into `buffer` only as far as its free capacity (at least 512
  // bytes). Left at the size the headers needed, that is 512-byte reads: ~1,000 recvmsg,
  // timer and epoll calls per 512 KB instance. Room for a whole chunk makes reads large.
  buffer.reserve(kChunkSize);
  beast::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = kChunkSize;
    c.stream.expires_after(kIoTimeout);
    co_await http::async_read(c.stream, buffer, parser, Await(ec));
    // need_buffer only says our chunk buffer is full.
    if (ec == http::error::need_buffer) ec = {};
    if (ec) break;
    const size_t n = kChunkSize - parser.get().body().size;
    if (n > 0 && !consume(std::string_view(chunk.get(), n))) break;
  }
  co_return ec;
}

asio::awaitable<beast::error_code> ServerImpl::SendContinue(Connection& c) {
  http::response<http::empty_body> res{http::status::continue_, 11};
  beast::error_code ec;
  c.stream.expires_after(kIoTimeout);
  co_await http::async_write(c.stream, res, Await(ec));
  co_return ec;
}

asio::awaitable<bool> ServerImpl::Send(Connection& c, Exchange& x, HttpResponse response,
                                       RequestInfo info, bool keep) {
  const auto bodyless = [&](int status) {
    return info.head_only || status < 200 || status == 204 || status == 304;
  };
  const auto valid = [](int status) { return status >= 100 && status <= 999; };
  if (!valid(response.status)) {
    const absl::Status status =
        absl::InternalError(absl::StrCat("handler returned invalid HTTP status ", response.status));
    response = co_await OnWorker([&] { return CallError(status); });
    if (!valid(response.status)) response.status = 500;
  }

  // File ranges go from file to socket only where the body goes out as it is: with a declared
  // length (no chunk framing, not delimited by the close).
  const bool with_files = kSendfile && response.content_length.has_value();
  // Pull the first piece, and open its first file, before the head goes out: until then a
  // failing source can still become a proper error response instead of a truncated body.
  Batch batch;
  Fd first_file;
  if (response.source && !bodyless(response.status)) {
    BodySource* source = response.source.get();
    batch = co_await OnWorker([source, with_files] { return Pull(source, with_files); });
    absl::Status status = batch.status;
    if (status.ok() && !batch.files.empty()) {
      absl::StatusOr<Fd> file = OpenForReading(batch.files.front().second.path);
      if (file.ok()) first_file = *std::move(file);
      status = file.status();
    }
    if (!status.ok()) {
      response = co_await OnWorker([&] { return CallError(status); });
      response.source.reset();
      if (!valid(response.status)) response.status = 500;
    }
  }
  const bool streaming = response.source != nullptr;
  const bool no_body = bodyless(response.status);

  http::response<http::buffer_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(response.status));
  for (const HttpHeader& header : response.headers) {
    if (EqualsIgnoreCase(header.name, "Connection") && ContainsIgnoreCase(header.value, "close")) {
      keep = false;
    }
    if (IsForwardableHeader(header)) res.insert(header.name, header.value);
  }
  const bool status_has_body =
      !(response.status < 200 || response.status == 204 || response.status == 304);
  if (!streaming) {
    if (status_has_body) res.content_length(response.body.size());
  } else if (response.content_length) {
    res.content_length(*response.content_length);
  } else if (info.version >= 11) {
    res.chunked(true);
  } else {
    keep = false;  // HTTP/1.0 has no chunking: the body ends when the connection closes
  }
  if (stopping_.load()) keep = false;
  res.keep_alive(keep);
  if (keep && info.version < 11) res.set(http::field::connection, "keep-alive");

  x.status = response.status;
  http::response_serializer<http::buffer_body> sr(res);
  beast::error_code ec;
  c.stream.expires_after(kIoTimeout);
  if (no_body) {
    co_await http::async_write_header(c.stream, sr, Await(ec));
    co_return !ec && keep;
  }
  auto& body = res.body();
  if (!streaming) {
    body.data = response.body.empty() ? nullptr : response.body.data();
    body.size = response.body.size();
    body.more = false;
    co_await http::async_write(c.stream, sr, Await(ec));
    if (ec) co_return false;
    x.bytes = response.body.size();
    co_return keep;
  }

  BodySource* source = response.source.get();
  const std::optional<uint64_t> length = response.content_length;
  uint64_t run = 0;
  if (with_files) {
    // The serializer writes the head only; the body bytes go to the socket as they are.
    co_await http::async_write_header(c.stream, sr, Await(ec));
    if (ec) co_return false;
  }
  for (;;) {
    // A source that disagrees with its declared length would desynchronize the connection.
    if (length &&
        (batch.size > *length - x.bytes || (batch.end && x.bytes + batch.size != *length))) {
      co_return false;
    }
    if (with_files) {
      if (!co_await SendPieces(c, batch, std::move(first_file), &run)) co_return false;
    } else {
      body.data = batch.data.empty() ? nullptr : batch.data.data();
      body.size = batch.data.size();
      body.more = !batch.end;
      c.stream.expires_after(kIoTimeout);
      co_await http::async_write(c.stream, sr, Await(ec));
      if (ec == http::error::need_buffer) ec = {};  // the serializer wants the next piece
      if (ec) co_return false;
    }
    x.bytes += batch.size;
    if (batch.end) break;
    batch = co_await OnWorker([source, with_files] { return Pull(source, with_files); });
    if (!batch.status.ok()) co_return false;  // head is out: all we can do is abort
  }
  co_return keep;
}

asio::awaitable<bool> ServerImpl::SendPieces(Connection& c, const Batch& batch, Fd first,
                                             uint64_t* run) {
  tcp::socket& socket = c.stream.socket();
  beast::error_code ec;
  socket.native_non_blocking(true, ec);  // Asio's async operations already made it so
  if (ec) co_return false;
  const std::string_view data = batch.data;
  size_t at = 0;
  for (const auto& [end, range] : batch.files) {
    if (!co_await SendBytes(socket, data.substr(at, end - at), true, run)) co_return false;
    at = end;
    Fd file = std::move(first);  // only set for the body's first range
    if (file.get() < 0) {
      absl::StatusOr<Fd> opened = OpenForReading(range.path);
      if (!opened.ok()) co_return false;
      file = *std::move(opened);
    }
    const bool sent = co_await SendAll(socket, range.size, run, [&](uint64_t done) {
      return SendFileStep(socket.native_handle(), file.get(), range.offset + done,
                          range.size - done);
    });
    if (!sent) co_return false;
  }
  co_return co_await SendBytes(socket, data.substr(at), false, run);
}

asio::awaitable<void> ServerImpl::Linger(Connection& c) {
  beast::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::unique_ptr<char[]> scratch(new char[kChunkSize]);
  c.stream.expires_after(kLingerTimeout);  // one deadline for the whole linger
  uint64_t total = 0;
  while (total <= kLingerLimit) {
    const size_t n =
        co_await c.stream.async_read_some(asio::buffer(scratch.get(), kChunkSize), Await(ec));
    if (ec) break;
    total += n;
  }
}

BodyPlan ServerImpl::CallPlan(const HttpRequest& head) {
  absl::Status failure;
  try {
    return handler_->Plan(head);
  } catch (const std::exception& e) {
    failure = absl::InternalError(absl::StrCat("request handler failed: ", e.what()));
  } catch (...) {
    failure = absl::InternalError("request handler failed");
  }
  BodyPlan plan;
  plan.immediate = CallError(failure);
  return plan;
}

HttpResponse ServerImpl::CallError(const absl::Status& status) {
  try {
    return handler_->Error(status);
  } catch (...) {
    HttpResponse response;
    response.status = 500;
    response.headers.push_back({"Content-Type", "text/plain"});
    response.body = "internal error\n";
    return response;
  }
}

template <typename Fn>
HttpResponse ServerImpl::Guard(Fn&& fn) {
  absl::Status failure;
  try {
    return fn();
  } catch (const std::exception& e) {
    failure = absl::InternalError(absl::StrCat("request handler failed: ", e.what()));
  } catch (...) {
    failure = absl::InternalError("request handler failed");
  }
  return CallError(failure);
}

absl::Status ServerImpl::CallWrite(BodySink* sink, std::string_view chunk) {
  try {
    return sink->Write(chunk);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("body sink failed: ", e.what()));
  } catch (...) {
    return absl::InternalError("body sink failed");
  }
}

Batch ServerImpl::Pull(BodySource* source, bool with_files) {
  Batch batch;
  try {
    // Coalesce small pieces so that each pool hop and write carries a useful amount.
    if (!with_files) batch.data.reserve(kResponseBatch);
    while (batch.data.size() < kResponseBatch && batch.files.size() < kBatchFiles) {
      std::optional<FileRange> file;
      absl::StatusOr<bool> more =
          with_files ? source->NextPiece(&batch.data, &file) : source->Next(&batch.data);
      if (!more.ok()) {
        batch.status = more.status();
        break;
      }
      if (!*more) {
        batch.end = true;
        break;
      }
      if (file && file->size > 0) {
        batch.size += file->size;
        batch.files.emplace_back(batch.data.size(), *std::move(file));
      }
    }
    batch.size += batch.data.size();
  } catch (const std::exception& e) {
    batch.status = absl::InternalError(absl::StrCat("body source failed: ", e.what()));
  } catch (...) {
    batch.status = absl::InternalError("body source failed");
  }
  return batch;
}

void ServerImpl::CloseConnections(bool idle_only) {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(mu_);
    conns.assign(conns_.begin(), conns_.end());
  }
  for (auto& conn : conns) {
    // On the connection's strand, where `idle` and the socket may be touched.
    asio::post(conn->stream.get_executor(), [conn, idle_only] {
      if (idle_only && !conn->idle) return;  // busy ones close after their response
      beast::error_code ec;
      conn->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      conn->stream.socket().close(ec);
    });
  }
}

void ServerImpl::Unregister(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  conns_.erase(conn);
  cv_.notify_all();
}

void ServerImpl::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  // Set before closing idle connections: a connection that turns idle after that sees it.
  stopping_.store(true);
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  CloseConnections(/*idle_only=*/true);
  bool forced = false;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kShutdownGrace, [this] { return conns_.empty(); })) {
      forced = true;
      lock.unlock();
      CloseConnections(/*idle_only=*/false);
      lock.lock();
      cv_.wait_for(lock, kForcedCloseGrace, [this] { return conns_.empty(); });
    }
  }
  work_.reset();
  ioc_.stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
  // The close posted above may not have run before stop(): with the I/O threads gone, close
  // here so the port stops accepting now, not when the server object is destroyed.
  {
    beast::error_code ec;
    acceptor_.close(ec);
  }
  // A handler still running cannot be interrupted; join waits for it. Queued ones are
  // abandoned if we had to force the shutdown.
  if (forced) workers_.stop();
  workers_.join();
  // Suspended coroutines (forced case) are destroyed with the io_context; they must not find
  // their connections here afterwards.
  std::lock_guard lock(mu_);
  conns_.clear();
}

void ServerImpl::Log(const Exchange& x) const {
  if (!options_.access_log) return;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - x.start).count();
  char elapsed[32];
  std::snprintf(elapsed, sizeof(elapsed), "%.1f", ms);
  const std::string line = absl::StrCat(x.remote, " ", x.method, " ", x.path, " ", x.status, " ",
                                        x.bytes, " ", elapsed, "ms\n");
  // One write(2) per line: lines from different threads never interleave.
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler* handler) {
  if (handler == nullptr) return absl::InvalidArgumentError("HttpServer needs a handler");
  try {
    auto server = std::make_unique<ServerImpl>(options, handler);
    if (absl::Status status = server->Listen(); !status.ok()) return status;
    server->Run();
    return std::unique_ptr<HttpServer>(std::move(server));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot start HTTP server: ", e.what()));
  }
}

}  // namespace dicomstore::server
