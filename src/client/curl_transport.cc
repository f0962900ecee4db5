#include "client/curl_transport.h"

#include <curl/curl.h>

#include <cctype>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "common/absl_view.h"
#include "common/status_macros.h"

#ifndef DICOMSTORE_VERSION
#define DICOMSTORE_VERSION "dev"
#endif

namespace dicomstore::client {
namespace {

constexpr char kUserAgent[] = "dicomstore-sql/" DICOMSTORE_VERSION;

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// Bytes that never belong in a URL or a header line.
bool HasControlOrSpace(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

absl::StatusOr<std::string> ValidateEndpoint(std::string endpoint) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(Av("endpoint \"" + endpoint + "\" " + std::string(why)));
  };
  size_t scheme_end;
  if (StartsWithIgnoreCase(endpoint, "http://")) {
    scheme_end = 7;
  } else if (StartsWithIgnoreCase(endpoint, "https://")) {
    scheme_end = 8;
  } else {
    return invalid("is not an http:// or https:// URL");
  }
  if (HasControlOrSpace(endpoint)) return invalid("contains spaces or control characters");
  if (endpoint.find_first_of("?#") != std::string::npos) {
    return invalid("has a query or fragment (only scheme://host[:port][/prefix] is allowed)");
  }
  std::string_view authority = std::string_view(endpoint).substr(scheme_end);
  authority = authority.substr(0, authority.find('/'));
  if (authority.empty()) return invalid("has no host");
  if (authority.find('@') != std::string_view::npos) {
    return invalid("has user information (pass credentials through --auth instead)");
  }
  // libcurl's own parser is the authority on the rest (ports, IPv6 literals, ...).
  CURLU* url = curl_url();
  if (url == nullptr) return absl::ResourceExhaustedError("cannot allocate a CURLU");
  CURLUcode parsed = curl_url_set(url, CURLUPART_URL, endpoint.c_str(), 0);
  curl_url_cleanup(url);
  if (parsed != CURLUE_OK)
    return invalid(std::string("is malformed: ") + curl_url_strerror(parsed));
  while (endpoint.size() > scheme_end + authority.size() && endpoint.back() == '/') {
    endpoint.pop_back();
  }
  return endpoint;
}

// RFC 9110 token characters, for method and header names.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

absl::Status Append(Slist& list, const std::string& line) {
  // On failure curl_slist_append returns null and leaves the list as it was.
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return absl::ResourceExhaustedError("cannot allocate a header list");
  list.release();
  list.reset(grown);
  return absl::OkStatus();
}

// What the callbacks fill in during one exchange.
struct Exchange {
  CURL* handle = nullptr;
  uint64_t limit = 0;
  Response response;
  bool too_large = false;
  bool out_of_memory = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  std::string& body = exchange->response.body;
  try {
    if (body.empty()) {
      // Reserve the announced length once, so a large retrieve is not copied while growing.
      curl_off_t length = -1;
      curl_easy_getinfo(exchange->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length > 0 && static_cast<uint64_t>(length) > exchange->limit) {
        exchange->too_large = true;
        return 0;
      }
      if (length > 0) body.reserve(static_cast<size_t>(length));
    }
    if (bytes > exchange->limit - body.size()) {
      exchange->too_large = true;
      return 0;
    }
    body.append(data, bytes);
  } catch (const std::bad_alloc&) {
    exchange->out_of_memory = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  std::string_view line = TrimSpace(std::string_view(data, bytes));
  try {
    if (line.starts_with("HTTP/")) {
      exchange->response.headers.clear();  // a new head (the previous one was a 1xx)
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      exchange->response.headers.push_back({std::string(TrimSpace(line.substr(0, colon))),
                                            std::string(TrimSpace(line.substr(colon + 1)))});
    }
  } catch (const std::bad_alloc&) {
    exchange->out_of_memory = true;
    return 0;
  }
  return bytes;
}

absl::Status StatusFromCurl(CURLcode code, const char* detail, const std::string& what) {
  std::string message = what + ": " + (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(Av(message));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(Av(message));
    case CURLE_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(Av(message));
    default:
      // Resolution, connection, TLS, send/receive and protocol failures: no response was
      // obtained from the endpoint, which a caller may retry.
      return absl::UnavailableError(Av(message));
  }
}

class CurlTransport : public Transport {
 public:
  CurlTransport(CurlTransportOptions options, CURL* handle)
      : options_(std::move(options)), handle_(handle) {}
  ~CurlTransport() override { curl_easy_cleanup(handle_); }

  absl::StatusOr<Response> Send(const Request& request) override;

 private:
  void SetMethodAndBody(const Request& request);

  const CurlTransportOptions options_;
  std::mutex mu_;
  CURL* const handle_;  // guarded by mu_
};

void CurlTransport::SetMethodAndBody(const Request& request) {
  const std::string& method = request.method;
  if (method == "GET" && request.body.empty()) {
    curl_easy_setopt(handle_, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(handle_, CURLOPT_NOBODY, 1L);
  } else if (method == "DELETE" && request.body.empty()) {
    curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else {
    // Any method with a body (or POST/PUT/PATCH without one, which still send
    // Content-Length: 0) goes out as curl's POST with the verb overridden.
    curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    if (method != "POST") curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

absl::StatusOr<Response> CurlTransport::Send(const Request& request) {
  if (!IsToken(request.method)) {
    return absl::InvalidArgumentError(Av("invalid HTTP method \"" + request.method + "\""));
  }
  if (HasControlOrSpace(request.target) ||
      (!request.target.empty() && request.target[0] != '/' && request.target[0] != '?')) {
    return absl::InvalidArgumentError(Av("invalid request target \"" + request.target + "\""));
  }
  const std::string url = options_.endpoint + request.target;
  const std::string what = request.method + " " + url;

  Slist headers;
  std::string authorization;
  if (options_.credentials != nullptr) {
    DS_ASSIGN_OR_RETURN(authorization, options_.credentials->AuthorizationHeader());
  }
  bool has_content_type = false;
  for (const HttpField& field : request.headers) {
    if (!IsToken(field.name) ||
        field.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(Av("invalid request header \"" + field.name + "\""));
    }
    if (StartsWithIgnoreCase(field.name, "content-type") && field.name.size() == 12) {
      has_content_type = true;
    }
    if (!authorization.empty() && StartsWithIgnoreCase(field.name, "authorization") &&
        field.name.size() == 13) {
      continue;  // the credentials' header wins
    }
    // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
    DS_RETURN_IF_ERROR(
        Append(headers, field.value.empty() ? field.name + ";" : field.name + ": " + field.value));
  }
  if (!authorization.empty()) {
    DS_RETURN_IF_ERROR(Append(headers, "Authorization: " + authorization));
  }
  // curl would otherwise label a body application/x-www-form-urlencoded, and ask for
  // 100-continue (a round trip) before large bodies.
  if (!has_content_type) DS_RETURN_IF_ERROR(Append(headers, "Content-Type:"));
  DS_RETURN_IF_ERROR(Append(headers, "Expect:"));

  std::lock_guard lock(mu_);
  // Reset drops the previous request's options (including pointers into that request's
  // headers and body, dead by now) but keeps the live connection.
  curl_easy_reset(handle_);
  Exchange exchange;
  exchange.handle = handle_;
  exchange.limit = options_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);  // we are multithreaded
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(handle_, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle_, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &exchange);
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(handle_, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }
  if (options_.insecure_tls) {
    curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  SetMethodAndBody(request);

  CURLcode code = curl_easy_perform(handle_);
  // The error buffer lives on this stack frame: the handle must not keep pointing at it.
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, nullptr);
  if (exchange.too_large) {
    return absl::ResourceExhaustedError(Av(what + ": response body exceeds " +
                                           std::to_string(options_.max_response_bytes) + " bytes"));
  }
  if (exchange.out_of_memory) {
    return absl::ResourceExhaustedError(Av(what + ": out of memory while receiving the response"));
  }
  if (code != CURLE_OK) return StatusFromCurl(code, error, what);
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status);
  exchange.response.status = static_cast<int>(status);
  return std::move(exchange.response);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> NewCurlTransport(CurlTransportOptions options) {
  static std::once_flag init_once;
  static CURLcode init_result = CURLE_OK;
  std::call_once(init_once, [] { init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_result != CURLE_OK) {
    return absl::InternalError(
        Av(std::string("curl_global_init failed: ") + curl_easy_strerror(init_result)));
  }
  DS_ASSIGN_OR_RETURN(options.endpoint, ValidateEndpoint(std::move(options.endpoint)));
  if (options.timeout_seconds <= 0) {
    return absl::InvalidArgumentError("timeout_seconds must be positive");
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  return std::unique_ptr<Transport>(new CurlTransport(std::move(options), handle));
}

}  // namespace dicomstore::client
