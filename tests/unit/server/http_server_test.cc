// HttpServer over real loopback sockets, driven by Beast's synchronous client and raw writes.
#include "server/http_server.h"

// Must precede Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gtest/gtest.h"
#include "server/multipart_source.h"
#include "testing/temp_dir.h"

namespace dicomstore::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

uint64_t Fnv(std::string_view data, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : data) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

// Deterministic, position-dependent bytes so that reordering or loss shows in a checksum.
// Built from a precomputed cycle: per-byte arithmetic makes 20 MB uploads slow in Debug.
std::string Pattern(size_t size, size_t offset = 0) {
  constexpr size_t kCycle = 251;
  static const std::string cycle = [] {
    std::string bytes(kCycle, '\0');
    for (size_t i = 0; i < kCycle; ++i) bytes[i] = static_cast<char>((i * 131 + 7) % kCycle);
    return bytes;
  }();
  std::string out;
  out.reserve(size);
  for (size_t pos = offset % kCycle; out.size() < size; pos = 0) {
    out.append(cycle, pos, std::min(kCycle - pos, size - out.size()));
  }
  return out;
}

std::string Digest(uint64_t bytes, uint64_t hash) {
  return "bytes=" + std::to_string(bytes) + " hash=" + std::to_string(hash);
}

HttpResponse Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/plain"});
  response.body = std::move(body);
  return response;
}

class ChecksumSink : public BodySink {
 public:
  ChecksumSink(std::atomic<int>* chunks, std::atomic<int>* fails, uint64_t fail_after)
      : chunks_(chunks), fails_(fails), fail_after_(fail_after) {}

  absl::Status Write(std::string_view chunk) override {
    ++*chunks_;
    bytes_ += chunk.size();
    hash_ = Fnv(chunk, hash_);
    if (fail_after_ > 0 && bytes_ > fail_after_) return absl::ResourceExhaustedError("disk full");
    return absl::OkStatus();
  }
  HttpResponse Finish() override { return Text(200, Digest(bytes_, hash_)); }
  HttpResponse Fail(const absl::Status& status) override {
    ++*fails_;
    return Text(507, std::string(status.message()));
  }

 private:
  std::atomic<int>* chunks_;
  std::atomic<int>* fails_;
  uint64_t fail_after_;
  uint64_t bytes_ = 0;
  uint64_t hash_ = 1469598103934665603ull;
};

class PatternSource : public BodySource {
 public:
  PatternSource(int chunks, size_t chunk_size, bool fail_first = false)
      : chunks_(chunks), chunk_size_(chunk_size), fail_first_(fail_first) {}
  absl::StatusOr<bool> Next(std::string* out) override {
    if (fail_first_) return absl::NotFoundError("blob is gone");
    if (produced_ == chunks_) return false;
    out->append(Pattern(chunk_size_, produced_ * chunk_size_));
    ++produced_;
    return true;
  }

 private:
  int chunks_;
  size_t chunk_size_;
  bool fail_first_;
  int produced_ = 0;
};

constexpr int kStreamChunks = 1000;
constexpr size_t kStreamChunkSize = 1000;

class TestHandler : public HttpHandler {
 public:
  BodyPlan Plan(const HttpRequest& head) override {
    BodyPlan plan;
    const std::string path = head.target.substr(0, head.target.find('?'));
    if (path == "/upload") {
      plan.sink = std::make_unique<ChecksumSink>(&sink_chunks, &sink_fails, 0);
    } else if (path == "/upload-fail") {
      plan.sink = std::make_unique<ChecksumSink>(&sink_chunks, &sink_fails, 1 << 20);
    } else if (path == "/immediate") {
      plan.immediate = Text(404, "no such route");
    } else if (path == "/small-limit") {
      plan.buffer_limit = 1024;
    }
    return plan;
  }

  HttpResponse Handle(const HttpRequest& request) override {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path == "/hello") return Text(200, "hello");
    if (path == "/echo" || path == "/small-limit") {
      HttpResponse response = Text(200, request.body);
      response.headers.push_back({"X-Method", request.method});
      response.headers.push_back({"X-Test", std::string(request.Header("x-TEST"))});
      return response;
    }
    if (path == "/stream" || path == "/stream-length" || path == "/stream-fail") {
      HttpResponse response;
      response.source =
          std::make_unique<PatternSource>(kStreamChunks, kStreamChunkSize, path == "/stream-fail");
      if (path == "/stream-length") response.content_length = kStreamChunks * kStreamChunkSize;
      return response;
    }
    if (path == "/slow") {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
      return Text(200, "slow done");
    }
    if (path == "/throw") throw std::runtime_error("boom");
    if (path == "/custom" && custom) return custom();
    return Text(404, "not found");
  }

  HttpResponse Error(const absl::Status& status) override {
    ++error_calls;
    {
      std::lock_guard lock(mu_);
      last_error_ = std::string(status.message());
    }
    return Text(status.code() == absl::StatusCode::kInvalidArgument ? 400 : 500,
                std::string(status.message()));
  }

  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::string last_error() {
    std::lock_guard lock(mu_);
    return last_error_;
  }

  std::function<HttpResponse()> custom;  // answers /custom; set before the requests
  std::atomic<int> sink_chunks{0};
  std::atomic<int> sink_fails{0};
  std::atomic<int> error_calls{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
  std::string last_error_;
};

// A blocking client on one connection.
class Client {
 public:
  // A small `receive_buffer` keeps the server's socket buffer full while it sends.
  explicit Client(uint16_t port, int receive_buffer = 0) : socket_(ioc_) {
    socket_.open(tcp::v4());
    if (receive_buffer > 0)
      socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  }

  void Write(std::string_view data) {
    asio::write(socket_, asio::buffer(data.data(), data.size()));
  }

  void Send(http::verb method, const std::string& target, std::string body = {},
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "localhost");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    if (method != http::verb::get && method != http::verb::head) request.prepare_payload();
    http::write(socket_, request);
  }

  // Reads one response; `head` for responses to HEAD (no body follows).
  Response Read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  void ReadSome(char* data, size_t size) { socket_.read_some(asio::buffer(data, size)); }

  // Reads one response that the server breaks off; returns how far it got.
  beast::error_code ReadBroken(uint64_t* body_bytes) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    *body_bytes = parser.get().body().size();
    return ec;
  }

  Response Request(http::verb method, const std::string& target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    Send(method, target, std::move(body), std::move(headers));
    return Read(method == http::verb::head);
  }

  // True when the server has closed the connection (no further bytes).
  bool ClosedByServer() {
    if (buffer_.size() > 0) return false;
    char byte;
    beast::error_code ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(false); }
  void TearDown() override { server_.reset(); }

  void Start(bool access_log) {
    server_.reset();
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.worker_threads = 4;
    options.access_log = access_log;
    auto server = HttpServer::Start(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_NE(server_->port(), 0);
  }

  uint16_t port() const { return server_->port(); }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, SimpleGet) {
  Client client(port());
  Response response = client.Request(http::verb::get, "/hello");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response[http::field::content_length], "5");
  EXPECT_EQ(response[http::field::content_type], "text/plain");
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsThenHonoursClose) {
  Client client(port());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
  EXPECT_EQ(client.Request(http::verb::post, "/echo", "abc").body(), "abc");
  Response last = client.Request(http::verb::get, "/hello", {}, {{"Connection", "close"}});
  EXPECT_EQ(last.body(), "hello");
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Client client(port());
  client.Write(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz");
  EXPECT_EQ(client.Read().body(), "hello");
  EXPECT_EQ(client.Read().body(), "xyz");
}

TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  Client client(port());
  client.Write("GET /hello HTTP/1.0\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.body(), "hello");
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, PostBufferedBodyAndHeaders) {
  Client client(port());
  const std::string body = Pattern(300000);
  Response response = client.Request(http::verb::post, "/echo?x=1", body, {{"X-Test", "v"}});
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), body);
  EXPECT_EQ(response["X-Method"], "POST");
  EXPECT_EQ(response["X-Test"], "v");
}

TEST_F(HttpServerTest, HeadHasHeadersButNoBody) {
  Client client(port());
  Response head = client.Request(http::verb::head, "/hello");
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], "5");
  EXPECT_TRUE(head.body().empty());
  // A stray body would be read as the start of the next response.
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, ExpectContinue) {
  Client client(port());
  client.Write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  Response interim = client.Read();
  EXPECT_EQ(interim.result_int(), 100);
  client.Write("12345");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "12345");
}

TEST_F(HttpServerTest, BufferedBodyOverLimitUsesErrorResponse) {
  Client client(port());
  Response response = client.Request(http::verb::post, "/small-limit", Pattern(200000));
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(response.body(), "request body exceeds 1024 bytes");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(handler_.error_calls.load(), 1);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitUsesErrorResponse) {
  Client client(port());
  client.Write("POST /small-limit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 20; ++i) client.Write("2710\r\n" + Pattern(10000) + "\r\n");
  client.Write("0\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(response.body(), "request body exceeds 1024 bytes");
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, BodyWithinLimitIsAccepted) {
  Client client(port());
  Response response = client.Request(http::verb::post, "/small-limit", Pattern(1024));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), Pattern(1024));
}

constexpr size_t kUploadSize = 20 << 20;

TEST_F(HttpServerTest, StreamedUploadWithContentLength) {
  Client client(port());
  client.Write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
               std::to_string(kUploadSize) + "\r\n\r\n");
  uint64_t hash = Fnv("");
  for (size_t sent = 0; sent < kUploadSize; sent += 1 << 20) {
    const std::string piece = Pattern(1 << 20, sent);
    hash = Fnv(piece, hash);
    client.Write(piece);
  }
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), Digest(kUploadSize, hash));
  EXPECT_GT(handler_.sink_chunks.load(), 1);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, StreamedUploadChunked) {
  Client client(port());
  client.Write(
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 100);
  uint64_t hash = Fnv("");
  size_t sent = 0;
  // Uneven chunk sizes, so chunk boundaries do not line up with the server's buffer.
  for (size_t size = 1; sent < kUploadSize; size = size * 3 % 700001 + 1) {
    size = std::min(size, kUploadSize - sent);
    const std::string piece = Pattern(size, sent);
    hash = Fnv(piece, hash);
    char line[32];
    std::snprintf(line, sizeof(line), "%zx\r\n", size);
    client.Write(line + piece + "\r\n");
    sent += size;
  }
  client.Write("0\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), Digest(kUploadSize, hash));
  EXPECT_GT(handler_.sink_chunks.load(), 1);
}

TEST_F(HttpServerTest, SinkWriteErrorUsesFailResponse) {
  Client client(port());
  client.Write("POST /upload-fail HTTP/1.1\r\nHost: x\r\nContent-Length: " +
               std::to_string(kUploadSize) + "\r\n\r\n");
  // The server stops consuming after the error but discards the rest, so this completes.
  for (size_t sent = 0; sent < kUploadSize; sent += 1 << 20) client.Write(Pattern(1 << 20));
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 507);
  EXPECT_EQ(response.body(), "disk full");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(handler_.sink_fails.load(), 1);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, ImmediateResponseDrainsSmallBody) {
  Client client(port());
  Response response = client.Request(http::verb::post, "/immediate", Pattern(5000));
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response.body(), "no such route");
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, ImmediateResponseWithExpectSkipsBodyAndCloses) {
  Client client(port());
  client.Write(
      "PUT /immediate HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
      "Expect: 100-continue\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, StreamedResponseChunked) {
  Client client(port());
  Response response = client.Request(http::verb::get, "/stream");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response.body().size(), kStreamChunks * kStreamChunkSize);
  EXPECT_TRUE(response.body() == Pattern(kStreamChunks * kStreamChunkSize));
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, StreamedResponseWithContentLength) {
  Client client(port());
  Response response = client.Request(http::verb::get, "/stream-length");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.chunked());
  EXPECT_EQ(response[http::field::content_length],
            std::to_string(kStreamChunks * kStreamChunkSize));
  EXPECT_TRUE(response.body() == Pattern(kStreamChunks * kStreamChunkSize));
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, StreamedResponseToHttp10IsCloseDelimited) {
  Client client(port());
  client.Write("GET /stream HTTP/1.0\r\n\r\n");
  Response response = client.Read();
  EXPECT_FALSE(response.chunked());
  EXPECT_TRUE(response.body() == Pattern(kStreamChunks * kStreamChunkSize));
}

TEST_F(HttpServerTest, SourceFailingBeforeHeadBecomesErrorResponse) {
  Client client(port());
  Response response = client.Request(http::verb::get, "/stream-fail");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(response.body(), "blob is gone");
}

TEST_F(HttpServerTest, HandlerExceptionBecomesErrorResponse) {
  Client client(port());
  Response response = client.Request(http::verb::get, "/throw");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(HttpServerTest, MalformedRequestLineGets400) {
  Client client(port());
  client.Write("THIS IS NOT HTTP\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(handler_.error_calls.load(), 1);
  EXPECT_NE(handler_.last_error().find("malformed HTTP request"), std::string::npos);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, MalformedChunkedBodyGets400) {
  Client client(port());
  client.Write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, OversizedHeaderGets400) {
  Client client(port());
  client.Write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpServerTest, ManyConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client client(port());
      for (int i = 0; i < 20; ++i) {
        const std::string body = Pattern(1000 + t * 100 + i, t);
        if (client.Request(http::verb::post, "/echo", body).body() == body) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 8 * 20);
}

TEST_F(HttpServerTest, ShutdownLetsInFlightRequestFinish) {
  Response response;
  std::thread client_thread([&] {
    Client client(port());
    response = client.Request(http::verb::get, "/slow");
  });
  handler_.WaitEntered();
  const uint16_t server_port = port();
  std::thread stopper([&] { server_->Shutdown(); });
  // Shutdown has begun once the listener is gone; the handler is still blocked.
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    asio::io_context ioc;
    tcp::socket probe(ioc);
    beast::error_code ec;
    probe.connect(tcp::endpoint(asio::ip::address_v4::loopback(), server_port), ec);
    refused = static_cast<bool>(ec);
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  handler_.Release();
  stopper.join();
  client_thread.join();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "slow done");
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(HttpServerTest, ShutdownClosesIdleKeepAliveConnections) {
  Client client(port());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
  server_->Shutdown();
  EXPECT_TRUE(client.ClosedByServer());
  server_->Shutdown();  // idempotent
}

TEST_F(HttpServerTest, StartFailsWhenPortIsTaken) {
  HttpServerOptions options;
  options.port = port();
  options.access_log = false;
  auto second = HttpServer::Start(options, &handler_);
  EXPECT_FALSE(second.ok());
}

TEST_F(HttpServerTest, StartFailsForUnknownHost) {
  HttpServerOptions options;
  options.host = "no-such-host.invalid";
  options.port = 0;
  EXPECT_FALSE(HttpServer::Start(options, &handler_).ok());
}

TEST_F(HttpServerTest, AccessLogWritesOneLinePerRequest) {
  Start(/*access_log=*/true);
  ::testing::internal::CaptureStderr();
  {
    Client client(port());
    EXPECT_EQ(client.Request(http::verb::get, "/hello?secret=1").body(), "hello");
    EXPECT_EQ(client.Request(http::verb::post, "/immediate", "x").result_int(), 404);
  }
  server_->Shutdown();  // the log line is written after the response; wait for it
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(^127\.0\.0\.1 GET /hello 200 5 \d+\.\dms\n)")))
      << log;
  EXPECT_TRUE(
      std::regex_search(log, std::regex(R"(\n127\.0\.0\.1 POST /immediate 404 13 \d+\.\dms\n$)")))
      << log;
}

// A range of a file in the test's directory.
struct Range {
  uint64_t offset;
  uint64_t size;
  std::string file = "segment";
};

// Bodies with file ranges (stored instances): sent from the file with sendfile when the length
// is declared, read through BodySource::Next otherwise.
class FileBodyTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    segment_ = WriteFile("segment", 1 << 20);
  }

  // A file of `size` bytes that repeat nowhere (a misplaced range cannot match by chance).
  std::string WriteFile(const std::string& name, size_t size) {
    std::string content(size, '\0');
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < size; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      content[i] = static_cast<char>(x);
    }
    std::ofstream(dir_.File(name), std::ios::binary) << content;
    return content;
  }

  std::vector<OutgoingPart> Parts(const std::vector<Range>& ranges) {
    std::vector<OutgoingPart> parts;
    for (const Range& range : ranges) {
      OutgoingPart part;
      part.content_type = "application/dicom";
      part.file_path = dir_.File(range.file);
      part.file_offset = range.offset;
      part.file_size = range.size;
      parts.push_back(std::move(part));
    }
    return parts;
  }

  static HttpResponse Multipart(std::vector<OutgoingPart> parts, bool declare_length) {
    auto source = std::make_unique<MultipartSource>("BND", std::move(parts));
    HttpResponse response;
    response.headers.push_back({"Content-Type", "multipart/related; boundary=BND"});
    if (declare_length) response.content_length = source->KnownLength();
    response.source = std::move(source);
    return response;
  }

  // Serves the ranges of `content` (the file's bytes) as a multipart body on /custom.
  std::string Serve(const std::vector<Range>& ranges, const std::string& content,
                    bool declare_length) {
    handler_.custom = [this, ranges, declare_length] {
      return Multipart(Parts(ranges), declare_length);
    };
    std::string expected;
    for (const Range& range : ranges) {
      expected += "--BND\r\nContent-Type: application/dicom\r\n\r\n" +
                  content.substr(range.offset, range.size) + "\r\n";
    }
    return expected + "--BND--\r\n";
  }

  testing::TempDir dir_;
  std::string segment_;
};

// Several ranges of one file, unaligned, one of them twice, one empty.
std::vector<Range> SomeRanges() {
  return {{4097, 100}, {1, 5000}, {300001, 250000}, {700000, 0}, {4097, 100}};
}

TEST_F(FileBodyTest, RangesAtOffsetsInOneFileAreByteExact) {
  const std::string expected = Serve(SomeRanges(), segment_, true);
  Client client(port());
  Response response = client.Request(http::verb::get, "/custom");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.chunked());
  EXPECT_EQ(response[http::field::content_length], std::to_string(expected.size()));
  EXPECT_TRUE(response.body() == expected);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
  EXPECT_TRUE(client.Request(http::verb::get, "/custom").body() == expected);
}

TEST_F(FileBodyTest, LargeRangeFillsTheSocketBuffer) {
  // Far more than the socket buffers hold: the server has to wait for room, several times.
  const std::string big = WriteFile("big", 24 << 20);
  const std::string expected =
      Serve({{12345, (24 << 20) - 12350, "big"}, {3, 10, "big"}}, big, true);
  Client client(port(), 16 << 10);
  Response response = client.Request(http::verb::get, "/custom");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body().size(), expected.size());
  EXPECT_TRUE(response.body() == expected);
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, WholeFileSourceWithOffset) {
  handler_.custom = [this] {
    HttpResponse response;
    response.content_length = 70000;
    response.source = std::make_unique<FileSource>(dir_.File("segment"), 5, 70000);
    return response;
  };
  Client client(port());
  EXPECT_TRUE(client.Request(http::verb::get, "/custom").body() == segment_.substr(5, 70000));
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, WithoutDeclaredLengthTheBodyIsChunked) {
  const std::string expected = Serve(SomeRanges(), segment_, false);
  Client client(port());
  Response response = client.Request(http::verb::get, "/custom");
  EXPECT_TRUE(response.chunked());
  EXPECT_TRUE(response.body() == expected);
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, Http10WithoutDeclaredLengthIsCloseDelimited) {
  const std::string expected = Serve(SomeRanges(), segment_, false);
  Client client(port());
  client.Write("GET /custom HTTP/1.0\r\n\r\n");
  Response response = client.Read();
  EXPECT_FALSE(response.chunked());
  EXPECT_TRUE(response.body() == expected);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(FileBodyTest, Http10WithDeclaredLength) {
  const std::string expected = Serve(SomeRanges(), segment_, true);
  Client client(port());
  client.Write("GET /custom HTTP/1.0\r\n\r\n");
  Response response = client.Read();
  EXPECT_EQ(response[http::field::content_length], std::to_string(expected.size()));
  EXPECT_TRUE(response.body() == expected);
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(FileBodyTest, HeadSendsNoFileBytes) {
  const std::string expected = Serve(SomeRanges(), segment_, true);
  Client client(port());
  Response head = client.Request(http::verb::head, "/custom");
  EXPECT_EQ(head[http::field::content_length], std::to_string(expected.size()));
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, MissingFirstFileBecomesErrorResponse) {
  Serve({{0, 10, "gone"}, {0, 10}}, segment_, true);
  Client client(port());
  Response response = client.Request(http::verb::get, "/custom");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_NE(response.body().find("cannot be opened"), std::string::npos) << response.body();
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, MissingLaterFileAbortsTheConnection) {
  const std::string expected = Serve({{0, 10}, {0, 10, "gone"}}, segment_, true);
  Client client(port());
  client.Send(http::verb::get, "/custom");
  uint64_t received = 0;
  EXPECT_TRUE(static_cast<bool>(client.ReadBroken(&received)));
  EXPECT_LT(received, expected.size());
  Client next(port());
  EXPECT_EQ(next.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, FileTruncatedUnderTheServerAbortsTheConnection) {
  // The index says 300,000 bytes at 200,000; by the time they are sent the file has less.
  handler_.custom = [this] {
    HttpResponse response = Multipart(Parts({{10, 1000}, {200000, 300000}}), true);
    std::filesystem::resize_file(dir_.File("segment"), 250000);
    return response;
  };
  Client client(port());
  client.Send(http::verb::get, "/custom");
  uint64_t received = 0;
  EXPECT_TRUE(static_cast<bool>(client.ReadBroken(&received)));
  EXPECT_LT(received, 1000u + 300000u);
  Client next(port());
  EXPECT_EQ(next.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, ClientGoneMidFileDoesNotStopTheServer) {
  WriteFile("big", 24 << 20);
  handler_.custom = [this] { return Multipart(Parts({{0, 24 << 20, "big"}}), true); };
  {
    Client client(port(), 16 << 10);
    client.Send(http::verb::get, "/custom");
    char some[1000];
    client.ReadSome(some, sizeof(some));
  }  // closed with most of the body unread
  Client next(port());
  EXPECT_EQ(next.Request(http::verb::get, "/hello").body(), "hello");
}

TEST_F(FileBodyTest, FileTheKernelCannotSpliceIsCopied) {
  // sendfile(2) refuses (EINVAL) to read most /proc files; this process's command line is
  // one whose content the test knows.
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline{std::istreambuf_iterator<char>(in), {}};
  ASSERT_GT(cmdline.size(), 1u);
  handler_.custom = [&] {
    HttpResponse response;
    response.content_length = cmdline.size() - 1;
    response.source = std::make_unique<FileSource>("/proc/self/cmdline", 1, cmdline.size() - 1);
    return response;
  };
  Client client(port());
  EXPECT_EQ(client.Request(http::verb::get, "/custom").body(), cmdline.substr(1));
  EXPECT_EQ(client.Request(http::verb::get, "/hello").body(), "hello");
}

}  // namespace
}  // namespace dicomstore::server
