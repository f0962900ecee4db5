// The in-process transport: one HTTP exchange with an `HttpHandler` (the API server's
// request handler) without a socket.
//
// It follows the handler contract of server/http_server.h the way the HTTP server does:
// Plan() sees the head; an immediate response is returned as is; a body sink receives the
// body in chunks and produces the response with Finish() (or Fail() after a refused
// chunk); otherwise the body is buffered up to the plan's limit and given to Handle(), and
// a larger body gets Error(). A streamed response body is drained into the response. So
// `dicomstore sql --data DIR` runs exactly the code a remote client would reach.
#ifndef DICOMSTORE_SERVER_LOCAL_TRANSPORT_H_
#define DICOMSTORE_SERVER_LOCAL_TRANSPORT_H_

#include <cstddef>

#include "client/transport.h"
#include "server/http_server.h"

namespace dicomstore::server {

class LocalTransport : public client::Transport {
 public:
  // `handler` must outlive the transport. Send may be called from several threads when the
  // handler allows it (ApiHandler does).
  explicit LocalTransport(HttpHandler* handler);

  // Never fails with a status except UNAVAILABLE when a streamed response body breaks
  // after its first chunk (a socket would have been closed mid-body).
  absl::StatusOr<client::Response> Send(const client::Request& request) override;

  // Size of the chunks a streamed request body is written in (tests use small ones).
  void set_chunk_size(size_t bytes) { chunk_size_ = bytes == 0 ? 1 : bytes; }

 private:
  HttpHandler* handler_;
  size_t chunk_size_ = 256 << 10;
};

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_LOCAL_TRANSPORT_H_
