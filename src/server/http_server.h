// HTTP/1.1 transport: accepts connections, parses requests, writes responses.
//
// This is the only place that includes Boost.Beast/Asio (they cost ~25 s of compile time
// per translation unit). It knows nothing of the API: it hands each request to an
// `HttpHandler` and writes back what the handler returns.
//
// Request bodies are either buffered (up to the limit the handler chooses after seeing the
// head) or streamed into a `BodySink` the handler provides; response bodies are either a
// string or pulled chunk by chunk from a `BodySource`, whose file ranges may go from the file
// to the socket without passing through user space. Handlers run on a worker pool, never on
// the I/O threads, so a slow handler does not stall other connections.
#ifndef DICOMSTORE_SERVER_HTTP_SERVER_H_
#define DICOMSTORE_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dicomstore::server {

struct HttpHeader {
  std::string name;  // as received / to send
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/v1/projects/p?x=1"
  std::vector<HttpHeader> headers;
  std::string body;    // filled when the body is buffered
  std::string remote;  // peer address, for logs

  // Case-insensitive header lookup; empty when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse;

// Receives a streamed request body. Write is called for each chunk in order; Finish once
// after the last chunk and produces the response. A non-OK Write stops the upload: the
// remaining body is discarded and `Fail` produces the response instead. `Fail` is also called
// (with InvalidArgument, Unavailable or DeadlineExceeded) when reading the body fails, e.g.
// bad chunked framing or a lost connection. Write runs on an I/O thread (keep it cheap);
// Finish, Fail and the destructor run on a worker thread.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual absl::Status Write(std::string_view chunk) = 0;
  virtual HttpResponse Finish() = 0;
  virtual HttpResponse Fail(const absl::Status& status) = 0;
};

// A byte range of a file, as a piece of a response body.
struct FileRange {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// Produces a response body chunk by chunk. Next appends the next chunk to `out` and returns
// true, or returns false at the end. The transport pulls the first chunk(s) before sending
// the head, so an error there becomes `HttpHandler::Error(status)`'s response; an error after
// the head was sent aborts the connection (the client sees a truncated body). A source that
// produces more or less than a declared `content_length` also aborts the connection.
//
// A source whose body is mostly stored files can leave their bytes to the transport:
// NextPiece is Next where a piece may end in a file range (`*file`, after the bytes appended
// to `out`) that the transport sends itself, from the file to the socket with sendfile(2),
// instead of the source reading it into `out`. The transport uses NextPiece only for bodies
// with a declared `content_length` (Next otherwise, never both on one source). It opens the
// files one at a time, when their turn comes; a file that cannot be opened or is shorter than
// its range fails like a source error (the first piece's file is opened before the head).
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual absl::StatusOr<bool> Next(std::string* out) = 0;
  virtual absl::StatusOr<bool> NextPiece(std::string* out, std::optional<FileRange>* /*file*/) {
    return Next(out);
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<HttpHeader> headers;         // Content-Length is set by the transport
  std::string body;                        // used when `source` is null
  std::unique_ptr<BodySource> source;      // streamed when set
  std::optional<uint64_t> content_length;  // of `source`; unknown = chunked (1.0: till close)
};

// What to do with a request body, decided from the head alone.
struct BodyPlan {
  uint64_t buffer_limit = 10 << 20;  // buffered body limit; over it -> Error()
  std::unique_ptr<BodySink> sink;    // stream into this instead of buffering
  // Set when the request is refused before reading the body (e.g. route not found);
  // the body is then drained (bounded) or the connection closed.
  std::optional<HttpResponse> immediate;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called with the head (body empty). Runs on a worker thread.
  virtual BodyPlan Plan(const HttpRequest& head) = 0;
  // Called with the buffered body when Plan returned no sink and no immediate response.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  // Response for a buffered body over `buffer_limit` or a malformed request (InvalidArgument),
  // and for a BodySource failing before the head was sent or a handler method throwing
  // (Internal). Runs on a worker thread.
  virtual HttpResponse Error(const absl::Status& status) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port (see HttpServer::port())
  int io_threads = 2;
  int worker_threads = 8;
  bool access_log = true;  // one line per request on stderr
};

class HttpServer {
 public:
  // Binds and starts serving in background threads. `handler` must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler* handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  // Stops accepting, closes idle keep-alive connections, lets in-flight requests finish
  // (their responses carry `Connection: close`), then joins all threads. After ~10 s the
  // remaining connections are closed; a handler call that is still running is waited for.
  // Idempotent; the destructor calls it. Must not be called from a handler (it would wait
  // for itself).
  virtual void Shutdown() = 0;
};

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_HTTP_SERVER_H_
