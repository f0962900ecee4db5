// Transport to a remote endpoint over HTTP(S) with libcurl.
//
// One curl easy handle per transport, so the connection (and TLS session) is kept alive
// between requests; Send is thread-safe but serialised on that handle. Each request carries
// the credentials' Authorization header (fetched before the handle is taken, so a token
// refresh does not hold up other requests' turn) and `User-Agent: dicomstore-sql/<version>`.
// Redirects are not followed: the API does not use them, and a 3xx is returned as is.
// Headers are reported as received; the body is never decoded (no Accept-Encoding is sent).
#ifndef DICOMSTORE_CLIENT_CURL_TRANSPORT_H_
#define DICOMSTORE_CLIENT_CURL_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/credentials.h"
#include "client/transport.h"

namespace dicomstore::client {

struct CurlTransportOptions {
  // scheme://host[:port][/prefix], e.g. "http://127.0.0.1:8080" or
  // "https://healthcare.googleapis.com"; Request.target ("/v1/…") is appended. http and
  // https only; a trailing '/' is dropped.
  std::string endpoint;
  std::shared_ptr<Credentials> credentials;  // may be null: no Authorization header
  long timeout_seconds = 300;                // NOLINT(runtime/int): whole exchange
  std::string ca_bundle;                     // PEM file of trusted CAs; empty = system default
  bool insecure_tls = false;                 // skip certificate and host name verification
  // A response body over this is RESOURCE_EXHAUSTED (DICOM retrieves can be large, but a
  // runaway body should fail cleanly rather than exhaust memory).
  uint64_t max_response_bytes = uint64_t{4} << 30;
};

// INVALID_ARGUMENT for an endpoint that is not an http(s) URL of the shape above.
//
// Send's errors: UNAVAILABLE (cannot resolve/connect, TLS failure, connection lost; the
// message names the URL and carries curl's explanation), DEADLINE_EXCEEDED (timeout),
// INVALID_ARGUMENT (a header containing CR/LF, a malformed target), RESOURCE_EXHAUSTED
// (body over max_response_bytes), and whatever the credentials return.
absl::StatusOr<std::unique_ptr<Transport>> NewCurlTransport(CurlTransportOptions options);

}  // namespace dicomstore::client

#endif  // DICOMSTORE_CLIENT_CURL_TRANSPORT_H_
