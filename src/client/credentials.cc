#include "client/credentials.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "client/service_account.h"
#include "common/absl_view.h"
#include "common/proto_json.h"
#include "common/status_macros.h"

namespace dicomstore::client {
namespace {

// gcloud refreshes its cached token when less than ~4 minutes remain, so a token it prints
// is good for at least that long.
constexpr std::chrono::seconds kGcloudTokenReuse{180};
constexpr char kGcloudCommand[] = "gcloud auth print-access-token";
constexpr size_t kMaxKeyFileBytes = 1 << 20;
constexpr size_t kMaxCommandOutput = 64 << 10;

std::string Trim(std::string_view text) {
  return std::string(Sv(absl::StripAsciiWhitespace(Av(text))));
}

class StaticCredentials : public Credentials {
 public:
  explicit StaticCredentials(std::string header) : header_(std::move(header)) {}
  absl::StatusOr<std::string> AuthorizationHeader() override { return header_; }

 private:
  const std::string header_;
};

class CommandCredentials : public Credentials {
 public:
  CommandCredentials(std::string command, std::chrono::seconds cache_for)
      : command_(std::move(command)), cache_for_(cache_for) {}

  absl::StatusOr<std::string> AuthorizationHeader() override {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!header_.empty() && now < expiry_) return header_;
    DS_ASSIGN_OR_RETURN(std::string token, Run());
    header_ = "Bearer " + token;
    expiry_ = now + cache_for_;
    return header_;
  }

 private:
  // The first line of the command's standard output. Its standard error is not captured:
  // it goes to ours, where the user sees e.g. gcloud's "please run gcloud auth login".
  absl::StatusOr<std::string> Run() {
    FILE* pipe = popen(command_.c_str(), "r");
    if (pipe == nullptr) {
      return absl::UnauthenticatedError(
          Av("cannot run `" + command_ + "`: " + std::string(std::strerror(errno))));
    }
    std::string output;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      if (output.size() < kMaxCommandOutput) output.append(buffer, n);
    }
    int status = pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string why = "failed (see its message above)";
      if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        why = "was not found (is it installed and on PATH?)";
      } else if (status != -1 && WIFEXITED(status)) {
        why = "exited with status " + std::to_string(WEXITSTATUS(status)) +
              " (see its message above)";
      }
      return absl::UnauthenticatedError(Av("`" + command_ + "` " + why));
    }
    std::string token = Trim(output.substr(0, output.find('\n')));
    if (token.empty()) {
      return absl::UnauthenticatedError(Av("`" + command_ + "` printed no access token"));
    }
    return token;
  }

  const std::string command_;
  const std::chrono::seconds cache_for_;
  std::mutex mu_;
  std::string header_;                            // guarded by mu_
  std::chrono::steady_clock::time_point expiry_;  // guarded by mu_
};

// The fields of the "google" auth config we use. Others (StackQL has many, for other
// providers' schemes) are ignored.
struct AuthConfig {
  std::string type;
  std::string credentialsenvvar;
  std::string credentialsfilepathenvvar;
  std::string credentialsfilepath;
  std::string sub;
  std::vector<std::string> scopes;
};

absl::StatusOr<AuthConfig> ParseAuthConfig(const Json& google) {
  if (!google.is_object()) return absl::InvalidArgumentError("--auth: \"google\" is not an object");
  AuthConfig config;
  using Field = std::pair<const char*, std::string*>;
  for (auto [field, out] : std::initializer_list<Field>{
           {"type", &config.type},
           {"credentialsenvvar", &config.credentialsenvvar},
           {"credentialsfilepathenvvar", &config.credentialsfilepathenvvar},
           {"credentialsfilepath", &config.credentialsfilepath},
           {"sub", &config.sub}}) {
    auto it = google.find(field);
    if (it == google.end() || it->is_null()) continue;
    if (!it->is_string()) {
      return absl::InvalidArgumentError(
          Av(std::string("--auth: google.") + field + " must be a string"));
    }
    *out = it->get<std::string>();
  }
  // A list, as StackQL documents it; a space-separated string is accepted too.
  if (auto it = google.find("scopes"); it != google.end() && !it->is_null()) {
    if (it->is_string()) {
      config.scopes.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const Json& scope : *it) {
        if (!scope.is_string()) {
          return absl::InvalidArgumentError("--auth: google.scopes must be a list of strings");
        }
        config.scopes.push_back(scope.get<std::string>());
      }
    } else {
      return absl::InvalidArgumentError("--auth: google.scopes must be a list of strings");
    }
  }
  config.type = absl::AsciiStrToLower(config.type);
  return config;
}

absl::StatusOr<std::string> RequireEnv(const GetEnvFunction& getenv, const std::string& name,
                                       std::string_view field) {
  std::optional<std::string> value = getenv(name);
  if (!value.has_value() || Trim(*value).empty()) {
    return absl::InvalidArgumentError(Av("--auth: environment variable " + name + " (google." +
                                         std::string(field) + ") is not set or empty"));
  }
  return *std::move(value);
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        Av("cannot read service account key file " + path + ": " + std::strerror(errno)));
  }
  std::string content(kMaxKeyFileBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) {
    return absl::InvalidArgumentError(Av("cannot read service account key file " + path));
  }
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kMaxKeyFileBytes) {
    return absl::InvalidArgumentError(
        Av("service account key file " + path + " is too large to be a key"));
  }
  return content;
}

absl::StatusOr<std::shared_ptr<Credentials>> ServiceAccountFromConfig(
    const AuthConfig& config, const GetEnvFunction& getenv, const TokenEndpointOptions& token) {
  // StackQL's precedence (any-sdk AuthCtx.GetCredentialsBytes).
  std::string key_json;
  std::string source;
  if (!config.credentialsenvvar.empty()) {
    DS_ASSIGN_OR_RETURN(key_json,
                        RequireEnv(getenv, config.credentialsenvvar, "credentialsenvvar"));
    source = "environment variable " + config.credentialsenvvar;
  } else if (!config.credentialsfilepathenvvar.empty()) {
    DS_ASSIGN_OR_RETURN(std::string path, RequireEnv(getenv, config.credentialsfilepathenvvar,
                                                     "credentialsfilepathenvvar"));
    DS_ASSIGN_OR_RETURN(key_json, ReadKeyFile(Trim(path)));
    source = "file " + Trim(path);
  } else if (!config.credentialsfilepath.empty()) {
    DS_ASSIGN_OR_RETURN(key_json, ReadKeyFile(config.credentialsfilepath));
    source = "file " + config.credentialsfilepath;
  } else {
    return absl::InvalidArgumentError(
        "--auth: google type service_account needs credentialsenvvar, "
        "credentialsfilepathenvvar or credentialsfilepath");
  }
  ServiceAccountOptions options;
  if (!config.scopes.empty()) {
    options.scopes.clear();
    for (const std::string& scope : config.scopes) {
      options.scopes += (options.scopes.empty() ? "" : " ") + scope;
    }
  }
  options.subject = config.sub;
  options.token_endpoint = token;
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      NewServiceAccountCredentials(key_json, options);
  if (!credentials.ok()) {
    return absl::Status(credentials.status().code(),
                        Av(std::string(credentials.status().message()) + " (from " + source + ")"));
  }
  return credentials;
}

}  // namespace

std::optional<std::string> RealGetEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::shared_ptr<Credentials> NewStaticCredentials(std::string authorization_header) {
  return std::make_shared<StaticCredentials>(std::move(authorization_header));
}

std::shared_ptr<Credentials> NewCommandCredentials(std::string shell_command,
                                                   std::chrono::seconds cache_for) {
  return std::make_shared<CommandCredentials>(std::move(shell_command), cache_for);
}

absl::StatusOr<std::shared_ptr<Credentials>> CredentialsFromAuthJson(
    std::string_view auth_json, GetEnvFunction getenv, const TokenEndpointOptions& token_options) {
  if (Trim(auth_json).empty()) return NewStaticCredentials("");
  Json auth;
  try {
    auth = Json::parse(auth_json);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(Av(std::string("--auth is not valid JSON: ") + e.what()));
  }
  if (!auth.is_object()) {
    return absl::InvalidArgumentError("--auth must be a JSON object mapping provider to config");
  }
  // The google provider's default (provider.yaml) when --auth does not configure it.
  Json google = {{"type", "service_account"}, {"credentialsenvvar", "GOOGLE_CREDENTIALS"}};
  if (auto it = auth.find("google"); it != auth.end()) google = *it;
  DS_ASSIGN_OR_RETURN(AuthConfig config, ParseAuthConfig(google));
  if (config.type.empty()) {
    bool has_key = !config.credentialsenvvar.empty() || !config.credentialsfilepathenvvar.empty() ||
                   !config.credentialsfilepath.empty();
    config.type = has_key ? "service_account" : "interactive";
  }
  if (config.type == "service_account") {
    return ServiceAccountFromConfig(config, getenv, token_options);
  }
  if (config.type == "bearer") {
    if (config.credentialsenvvar.empty()) {
      return absl::InvalidArgumentError(
          "--auth: google type bearer needs credentialsenvvar (the variable holding the token)");
    }
    DS_ASSIGN_OR_RETURN(std::string token,
                        RequireEnv(getenv, config.credentialsenvvar, "credentialsenvvar"));
    return NewStaticCredentials("Bearer " + Trim(token));
  }
  if (config.type == "interactive") return NewCommandCredentials(kGcloudCommand, kGcloudTokenReuse);
  if (config.type == "null_auth") return NewStaticCredentials("");
  return absl::InvalidArgumentError(
      Av("--auth: unsupported google auth type \"" + config.type +
         "\" (supported: service_account, bearer, interactive, null_auth)"));
}

}  // namespace dicomstore::client
