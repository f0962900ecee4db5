// Credentials from a Google service-account key: OAuth2 access tokens obtained with the
// JWT bearer grant (RFC 7523), as golang.org/x/oauth2/google.JWTConfigFromJSON does.
//
// To get a token we sign a JWT {iss: client_email, scope, aud: token_uri, iat, exp: iat+1h,
// sub?} with the key's private key (kid = private_key_id) and POST it form-encoded to the
// key's token_uri. The token is kept until a minute before it expires; one caller fetches
// while the others wait, so concurrent requests do not stampede the endpoint.
#ifndef DICOMSTORE_CLIENT_SERVICE_ACCOUNT_H_
#define DICOMSTORE_CLIENT_SERVICE_ACCOUNT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "client/credentials.h"

namespace dicomstore::client {

inline constexpr char kCloudPlatformScope[] = "https://www.googleapis.com/auth/cloud-platform";
// Used when the key has no token_uri (as the Go library does).
inline constexpr char kGoogleTokenUri[] = "https://oauth2.googleapis.com/token";

struct ServiceAccountOptions {
  std::string scopes = kCloudPlatformScope;  // space-separated
  std::string subject;                       // "sub" claim; empty = none
  TokenEndpointOptions token_endpoint;
};

// `key_json` is the content of the key file. A key that is not JSON, whose "type" is present
// and not "service_account", or that lacks client_email / a parsable RSA private_key is
// INVALID_ARGUMENT. No token is fetched until the first AuthorizationHeader().
absl::StatusOr<std::shared_ptr<Credentials>> NewServiceAccountCredentials(
    std::string_view key_json, const ServiceAccountOptions& options);

}  // namespace dicomstore::client

#endif  // DICOMSTORE_CLIENT_SERVICE_ACCOUNT_H_
