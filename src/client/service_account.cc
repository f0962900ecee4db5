#include "client/service_account.h"

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "client/curl_transport.h"
#include "client/jwt.h"
#include "client/transport.h"
#include "common/absl_view.h"
#include "common/proto_json.h"
#include "common/status_macros.h"

namespace dicomstore::client {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kJwtBearerGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// Google accepts assertions valid for at most an hour.
constexpr int64_t kAssertionLifetimeSeconds = 3600;
// Backdating iat tolerates a local clock slightly ahead of Google's (the Go library does it).
constexpr int64_t kClockSkewSeconds = 10;
// A token this close to expiry is replaced, so it cannot expire while a request is in flight.
constexpr std::chrono::seconds kExpiryMargin{60};
constexpr int64_t kDefaultTokenLifetimeSeconds = 3600;

struct Token {
  std::string header;  // "Bearer <access_token>"
  std::chrono::seconds lifetime;
};

// expires_in is a number, though some token servers send it as a string.
int64_t ExpiresIn(const Json& response) {
  auto it = response.find("expires_in");
  if (it == response.end()) return kDefaultTokenLifetimeSeconds;
  if (it->is_number()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return kDefaultTokenLifetimeSeconds;
}

std::string StringField(const Json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class ServiceAccountCredentials : public Credentials {
 public:
  ServiceAccountCredentials(std::string email, std::string key_id, RsaPrivateKey key,
                            std::string token_uri, ServiceAccountOptions options,
                            std::unique_ptr<Transport> token_endpoint)
      : email_(std::move(email)),
        key_id_(std::move(key_id)),
        key_(std::move(key)),
        token_uri_(std::move(token_uri)),
        options_(std::move(options)),
        token_endpoint_(std::move(token_endpoint)) {}

  absl::StatusOr<std::string> AuthorizationHeader() override {
    // Held across the fetch: concurrent callers wait for one token instead of each
    // fetching their own.
    std::lock_guard lock(mu_);
    const Clock::time_point now = Clock::now();
    if (!header_.empty() && now + kExpiryMargin < expiry_) return header_;
    DS_ASSIGN_OR_RETURN(Token token, FetchToken());
    header_ = std::move(token.header);
    expiry_ = now + token.lifetime;  // measured from before the request: errs early
    return header_;
  }

 private:
  absl::StatusOr<Token> FetchToken();

  const std::string email_;
  const std::string key_id_;
  const RsaPrivateKey key_;
  const std::string token_uri_;
  const ServiceAccountOptions options_;

  std::mutex mu_;
  std::unique_ptr<Transport> token_endpoint_;  // guarded by mu_
  std::string header_;                         // guarded by mu_; empty = none yet
  Clock::time_point expiry_;                   // guarded by mu_
};

absl::StatusOr<Token> ServiceAccountCredentials::FetchToken() {
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      kClockSkewSeconds;
  Json claims = {{"iss", email_},
                 {"scope", options_.scopes},
                 {"aud", token_uri_},
                 {"exp", iat + kAssertionLifetimeSeconds},
                 {"iat", iat}};
  if (!options_.subject.empty()) claims["sub"] = options_.subject;
  DS_ASSIGN_OR_RETURN(std::string assertion, SignJwtRs256(claims, key_id_, key_));

  Request request;
  request.method = "POST";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = "grant_type=" + UrlEncode(kJwtBearerGrant) + "&assertion=" + UrlEncode(assertion);
  absl::StatusOr<Response> response = token_endpoint_->Send(request);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        Av("cannot obtain an access token for " + email_ + ": " +
                           std::string(response.status().message())));
  }
  Json body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  const std::string refused = "token endpoint " + token_uri_ + " refused service account " +
                              email_ + " (HTTP " + std::to_string(response->status) + ")";
  if (response->status < 200 || response->status >= 300) {
    std::string reason = StringField(body, "error");
    std::string description = StringField(body, "error_description");
    if (!description.empty()) reason += (reason.empty() ? "" : ": ") + description;
    if (reason.empty() && !body.is_object()) reason = response->body.substr(0, 500);
    return absl::UnauthenticatedError(Av(refused + (reason.empty() ? "" : ": " + reason)));
  }
  std::string access_token = StringField(body, "access_token");
  if (!body.is_object() || access_token.empty()) {
    return absl::UnauthenticatedError(
        Av("token endpoint " + token_uri_ + " answered without an access_token"));
  }
  std::string type = StringField(body, "token_type");
  // OAuth2 token types are case-insensitive; Google's APIs want the canonical "Bearer".
  if (type.empty() || absl::AsciiStrToLower(type) == "bearer") type = "Bearer";
  return Token{type + " " + access_token, std::chrono::seconds(ExpiresIn(body))};
}

}  // namespace

absl::StatusOr<std::shared_ptr<Credentials>> NewServiceAccountCredentials(
    std::string_view key_json, const ServiceAccountOptions& options) {
  Json key = Json::parse(key_json, nullptr, /*allow_exceptions=*/false);
  if (!key.is_object()) {
    return absl::InvalidArgumentError("service account key is not a JSON object");
  }
  std::string type = StringField(key, "type");
  if (!type.empty() && type != "service_account") {
    return absl::InvalidArgumentError(Av("service account key has type \"" + type +
                                         "\"; only \"service_account\" keys are supported"));
  }
  std::string email = StringField(key, "client_email");
  if (email.empty()) return absl::InvalidArgumentError("service account key has no client_email");
  std::string pem = StringField(key, "private_key");
  if (pem.empty()) return absl::InvalidArgumentError("service account key has no private_key");
  absl::StatusOr<RsaPrivateKey> private_key = RsaPrivateKey::FromPem(pem);
  if (!private_key.ok()) {
    return absl::InvalidArgumentError(
        Av("service account key: " + std::string(private_key.status().message())));
  }
  std::string token_uri = StringField(key, "token_uri");
  if (token_uri.empty()) token_uri = kGoogleTokenUri;

  CurlTransportOptions endpoint;
  endpoint.endpoint = token_uri;
  endpoint.timeout_seconds = options.token_endpoint.timeout_seconds;
  endpoint.ca_bundle = options.token_endpoint.ca_bundle;
  endpoint.insecure_tls = options.token_endpoint.insecure_tls;
  endpoint.max_response_bytes = 1 << 20;  // a token response is a few hundred bytes
  absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(std::move(endpoint));
  if (!transport.ok()) {
    return absl::InvalidArgumentError(
        Av("service account key token_uri: " + std::string(transport.status().message())));
  }
  return std::make_shared<ServiceAccountCredentials>(
      std::move(email), StringField(key, "private_key_id"), *std::move(private_key),
      std::move(token_uri), options, *std::move(transport));
}

}  // namespace dicomstore::client
