// JSON Web Tokens signed with RS256 (RFC 7515/7519), as Google's OAuth2 JWT bearer grant
// (RFC 7523) wants them for service-account keys.
//
// Only what that grant needs: base64url without padding, an RSA private key parsed from
// the key file's PEM, and compact serialisation `header.claims.signature`. Verification is
// the token endpoint's business (and the tests').
#ifndef DICOMSTORE_CLIENT_JWT_H_
#define DICOMSTORE_CLIENT_JWT_H_

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/proto_json.h"

namespace dicomstore::client {

// RFC 4648 §5 alphabet, no '=' padding.
std::string Base64UrlEncode(std::string_view data);
// Accepts input with or without padding; anything outside the alphabet is INVALID_ARGUMENT.
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

// An RSA private key. Copies share the parsed key (it is immutable after parsing).
class RsaPrivateKey {
 public:
  // PKCS#8 ("BEGIN PRIVATE KEY", Google's key files) or PKCS#1 ("BEGIN RSA PRIVATE KEY").
  // Unparsable text or a non-RSA key is INVALID_ARGUMENT.
  static absl::StatusOr<RsaPrivateKey> FromPem(std::string_view pem);

  // RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
  absl::StatusOr<std::string> SignSha256(std::string_view data) const;

 private:
  explicit RsaPrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

// `base64url(header) "." base64url(claims) "." base64url(RS256 signature)`, with the header
// {"alg":"RS256","typ":"JWT"} plus "kid" when `key_id` is not empty.
absl::StatusOr<std::string> SignJwtRs256(const Json& claims, std::string_view key_id,
                                         const RsaPrivateKey& key);

}  // namespace dicomstore::client

#endif  // DICOMSTORE_CLIENT_JWT_H_
