#include "server/api_response.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace dicomstore::server {
namespace {
constexpr char kHttpStatusPayload[] = "type.dicomstore/http-status";
}  // namespace

absl::Status WithHttpStatus(absl::Status status, int http_status) {
  status.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(http_status)));
  return status;
}

int HttpStatusForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnknown:
      return 500;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kInternal:
      return 500;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDataLoss:
      return 500;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

HttpResponse JsonResponse(const Json& body, int http_status) {
  HttpResponse response;
  response.status = http_status;
  response.headers.push_back({"Content-Type", "application/json; charset=UTF-8"});
  // Replace invalid UTF-8 rather than throw: stored strings were validated on the way in,
  // but a response must never fail to serialise.
  response.body = body.dump(2, ' ', false, Json::error_handler_t::replace);
  response.body.push_back('\n');
  return response;
}

HttpResponse ErrorResponse(const absl::Status& status) {
  Json error = Json::object();
  int http = HttpStatusForCode(status.code());
  if (absl::optional<absl::Cord> override_status = status.GetPayload(kHttpStatusPayload)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*override_status), &value)) http = value;
  }
  error["code"] = http;
  error["message"] = std::string(status.message());
  // absl's code names are the google.rpc.Code names in CamelCase; the envelope wants
  // UPPER_SNAKE (NOT_FOUND, INVALID_ARGUMENT ...).
  std::string name = absl::StatusCodeToString(status.code());
  for (char& c : name) c = c == ' ' ? '_' : absl::ascii_toupper(c);
  error["status"] = name;
  return JsonResponse(Json{{"error", error}}, http);
}

}  // namespace dicomstore::server
