// How the SQL front end reaches the Healthcare API: one HTTP exchange at a time.
//
// The engine speaks the API's REST surface (the same paths, query parameters and JSON
// bodies the official clients send), so it behaves identically against a remote endpoint
// (client/curl_transport.h, libcurl) and in-process (server/local_transport.h, which calls
// the server's request handler without a socket).
#ifndef DICOMSTORE_CLIENT_TRANSPORT_H_
#define DICOMSTORE_CLIENT_TRANSPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dicomstore::client {

struct HttpField {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string target;              // path and query, e.g. "/v1/projects/p/locations/l/datasets"
  std::vector<HttpField> headers;  // e.g. Content-Type, Accept (no Authorization: the
                                   // transport adds credentials)
  std::string body;
};

struct Response {
  int status = 0;
  std::vector<HttpField> headers;
  std::string body;

  // Case-insensitive lookup of the first header named `name`; empty when absent.
  std::string_view FindHeader(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and returns the whole response. An HTTP error status is a Response,
  // not an error: a non-OK status means no response was obtained (UNAVAILABLE: cannot
  // connect or the connection broke; DEADLINE_EXCEEDED: timed out; UNAUTHENTICATED: no
  // access token could be obtained).
  virtual absl::StatusOr<Response> Send(const Request& request) = 0;
};

// OK for a 2xx response. Otherwise the API's own error: the message and code of the
// `{"error": {"code", "message", "status"}}` envelope when the body is one, else the HTTP
// status mapped to a code with the body (trimmed, bounded) as the message.
absl::Status StatusFromResponse(const Response& response);

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view text);

}  // namespace dicomstore::client

#endif  // DICOMSTORE_CLIENT_TRANSPORT_H_
