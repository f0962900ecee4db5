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

HttpResponse ErrorResponse(const absl::Status& status);
HttpResponse JsonResponse(const Json& body, int http_status = 200);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_API_RESPONSE_H_
