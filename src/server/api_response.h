// Building HTTP responses from service results: JSON bodies, and the one place where an
// absl::Status becomes an HTTP status and the Google error envelope (spec §3.1):
//   {"error": {"code": <http>, "message": "...", "status": "NOT_FOUND"}}
#ifndef DICOMSTORE_SERVER_API_RESPONSE_H_
#define DICOMSTORE_SERVER_API_RESPONSE_H_

#include "absl/status/status.h"
#include "common/proto_json.h"
#include "server/http_server.h"

namespace dicomstore::server {

// HTTP status for a google.rpc.Code (the standard mapping of google/rpc/code.proto).
int HttpStatusForCode(absl::StatusCode code);

// Marks `status` to be answered with `http_status` instead of its code's usual mapping —
// for answers such as 406 Not Acceptable that have no google.rpc.Code of their own. The
// envelope's `code` is then `http_status` too.
absl::Status WithHttpStatus(absl::Status status, int http_status);

HttpResponse ErrorResponse(const absl::Status& status);
HttpResponse JsonResponse(const Json& body, int http_status = 200);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_API_RESPONSE_H_
