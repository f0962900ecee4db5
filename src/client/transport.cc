#include "client/transport.h"

#include <cctype>
#include <string>

#include "absl/strings/match.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::client {
namespace {

// The canonical code names of google.rpc.Code, as the error envelope's "status" spells them.
absl::StatusCode CodeFromName(std::string_view name) {
  for (int c = 1; c <= 16; ++c) {
    auto code = static_cast<absl::StatusCode>(c);
    std::string spelled = absl::StatusCodeToString(code);  // "INVALID_ARGUMENT", ...
    if (spelled == name) return code;
  }
  return absl::StatusCode::kUnknown;
}

// google.rpc HTTP mapping (the inverse the server applies when answering).
absl::StatusCode CodeFromHttpStatus(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 406:
      return absl::StatusCode::kInvalidArgument;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 413:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 499:
      return absl::StatusCode::kCancelled;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 503:
      return absl::StatusCode::kUnavailable;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kUnknown;
  }
}

constexpr size_t kMaxPlainMessage = 2000;

}  // namespace

std::string_view Response::FindHeader(std::string_view name) const {
  for (const HttpField& field : headers) {
    if (absl::EqualsIgnoreCase(Av(field.name), Av(name))) return field.value;
  }
  return {};
}

absl::Status StatusFromResponse(const Response& response) {
  if (response.status >= 200 && response.status < 300) return absl::OkStatus();
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const Json& error = body["error"];
    std::string message = error.value("message", std::string());
    absl::StatusCode code = CodeFromHttpStatus(response.status);
    if (error.contains("status") && error["status"].is_string()) {
      absl::StatusCode named = CodeFromName(error["status"].get<std::string>());
      if (named != absl::StatusCode::kUnknown) code = named;
    }
    if (message.empty()) message = "HTTP " + std::to_string(response.status);
    return absl::Status(code, Av(message));
  }
  std::string text = response.body.substr(0, kMaxPlainMessage);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::string message = "HTTP " + std::to_string(response.status);
  if (!text.empty()) message += ": " + text;
  return absl::Status(CodeFromHttpStatus(response.status), Av(message));
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace dicomstore::client
