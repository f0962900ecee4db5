// What a request to Google's API is authorised with: the value of its Authorization header.
//
// Configured the way StackQL configures its google provider (spec/stackql.md §3.4): the
// `--auth` JSON maps a provider name to an auth config, and we read the "google" entry:
//
//   {"google": {"type": "service_account", "credentialsfilepath": "/path/key.json"}}
//
//   type               what the Authorization header carries
//   service_account    an OAuth2 access token obtained with the key's JWT bearer grant
//                      (client/service_account.h). The key JSON comes from, in this order,
//                      `credentialsenvvar` (a variable holding the key's content),
//                      `credentialsfilepathenvvar` (a variable holding the key's path) or
//                      `credentialsfilepath`; `scopes` (list) defaults to cloud-platform;
//                      `sub` is the domain-wide-delegation subject.
//   bearer             the token in the variable named by `credentialsenvvar`
//   interactive        `gcloud auth print-access-token` (gcloud must be installed, logged in)
//   null_auth          nothing (e.g. an emulator that ignores auth)
//
// A missing "type" is service_account when a key source is given, else interactive; a
// missing "google" entry is the provider's default, service_account from the variable
// GOOGLE_CREDENTIALS. Empty `--auth` text means no credentials (a local endpoint).
// Configuration problems (bad JSON, unknown type, unset variable, unreadable or invalid key)
// are INVALID_ARGUMENT when parsing, not errors at the first request. The result is never
// null: "no credentials" is an object whose AuthorizationHeader() is "".
#ifndef DICOMSTORE_CLIENT_CREDENTIALS_H_
#define DICOMSTORE_CLIENT_CREDENTIALS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore::client {

class Credentials {
 public:
  virtual ~Credentials() = default;
  // The Authorization header value ("Bearer …"), or "" for none. Thread-safe; caches a
  // token until shortly before it expires. UNAUTHENTICATED when no token could be obtained
  // (the token endpoint refused; gcloud failed); UNAVAILABLE / DEADLINE_EXCEEDED when the
  // token endpoint could not be reached.
  virtual absl::StatusOr<std::string> AuthorizationHeader() = 0;
};

// Looks up an environment variable; nullopt when unset.
using GetEnvFunction = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> RealGetEnv(const std::string& name);

// How the token endpoint of a service-account key is reached (StackQL applies its
// --tls.* flags to it too: its own mocks serve the token endpoint over self-signed TLS).
struct TokenEndpointOptions {
  long timeout_seconds = 60;  // NOLINT(runtime/int): libcurl's type
  std::string ca_bundle;      // PEM file of trusted CAs; empty = system default
  bool insecure_tls = false;  // skip certificate and host name verification
};

absl::StatusOr<std::shared_ptr<Credentials>> CredentialsFromAuthJson(
    std::string_view auth_json, GetEnvFunction getenv = RealGetEnv,
    const TokenEndpointOptions& token_options = {});

// Always the same header value, e.g. "Bearer <token>" ("" = no Authorization header).
std::shared_ptr<Credentials> NewStaticCredentials(std::string authorization_header);

// "Bearer " + the first line `shell_command` prints, run again once `cache_for` has passed
// since the last run. A command that fails or prints nothing is UNAUTHENTICATED (with its
// output). The interactive type is this with `gcloud auth print-access-token`.
std::shared_ptr<Credentials> NewCommandCredentials(std::string shell_command,
                                                   std::chrono::seconds cache_for);

}  // namespace dicomstore::client

#endif  // DICOMSTORE_CLIENT_CREDENTIALS_H_
