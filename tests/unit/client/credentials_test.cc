// Parsing StackQL's --auth JSON into credentials. The service-account token exchange itself
// is in service_account_test.cc.
#include "client/credentials.h"

#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "unit/client/test_support.h"

namespace dicomstore::client {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::dicomstore::testing::IsOk;
using ::dicomstore::testing::StatusIs;
using ::testing::HasSubstr;

GetEnvFunction FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string KeyJson() {
  return Json{{"type", "service_account"},
              {"project_id", "p"},
              {"private_key_id", "key-1"},
              {"private_key", testing::TestRsaKey().private_pem},
              {"client_email", "sa@p.iam.gserviceaccount.com"},
              {"token_uri", "http://127.0.0.1:1/token"}}
      .dump();
}

// The header the credentials produce, or the error text.
std::string HeaderOf(std::string_view auth, GetEnvFunction env = FakeEnv({})) {
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      CredentialsFromAuthJson(auth, std::move(env));
  if (!credentials.ok()) return "error: " + credentials.status().ToString();
  if (*credentials == nullptr) return "error: null";
  absl::StatusOr<std::string> header = (*credentials)->AuthorizationHeader();
  return header.ok() ? *header : "error: " + header.status().ToString();
}

TEST(CredentialsFromAuthJsonTest, EmptyTextMeansNoCredentials) {
  EXPECT_EQ(HeaderOf(""), "");
  EXPECT_EQ(HeaderOf("  \n"), "");
}

TEST(CredentialsFromAuthJsonTest, NullAuthMeansNoCredentials) {
  EXPECT_EQ(HeaderOf(R"({"google":{"type":"null_auth"}})"), "");
}

TEST(CredentialsFromAuthJsonTest, BearerTokenFromTheEnvironment) {
  const char* auth = R"({"google":{"type":"bearer","credentialsenvvar":"GCP_ACCESS_TOKEN"}})";
  EXPECT_EQ(HeaderOf(auth, FakeEnv({{"GCP_ACCESS_TOKEN", "ya29.token\n"}})), "Bearer ya29.token");
  // Type names are case-insensitive, like StackQL's.
  EXPECT_EQ(
      HeaderOf(R"({"google":{"type":"BEARER","credentialsenvvar":"T"}})", FakeEnv({{"T", "t"}})),
      "Bearer t");
}

TEST(CredentialsFromAuthJsonTest, BearerNeedsItsVariable) {
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"type":"bearer","credentialsenvvar":"TOK"}})",
                                      FakeEnv({})),
              IsInvalidArgument("TOK"));
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"type":"bearer","credentialsenvvar":"TOK"}})",
                                      FakeEnv({{"TOK", " "}})),
              IsInvalidArgument("TOK"));
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"type":"bearer"}})", FakeEnv({})),
              IsInvalidArgument("credentialsenvvar"));
}

TEST(CredentialsFromAuthJsonTest, ServiceAccountKeyFromEachSource) {
  // Building the credentials parses the key but fetches no token.
  EXPECT_THAT(
      CredentialsFromAuthJson(R"({"google":{"type":"service_account","credentialsenvvar":"KEY"}})",
                              FakeEnv({{"KEY", KeyJson()}})),
      IsOk());

  dicomstore::testing::TempDir dir;
  const std::string path = dir.File("sa.json");
  std::ofstream(path) << KeyJson();
  Json by_path = {{"google", {{"type", "service_account"}, {"credentialsfilepath", path}}}};
  EXPECT_THAT(CredentialsFromAuthJson(by_path.dump(), FakeEnv({})), IsOk());
  EXPECT_THAT(CredentialsFromAuthJson(
                  R"({"google":{"type":"service_account","credentialsfilepathenvvar":"KEY_PATH"}})",
                  FakeEnv({{"KEY_PATH", path}})),
              IsOk());
  // No type but a key source: service_account.
  Json untyped = {{"google", {{"credentialsfilepath", path}}}};
  EXPECT_THAT(CredentialsFromAuthJson(untyped.dump(), FakeEnv({})), IsOk());
}

TEST(CredentialsFromAuthJsonTest, ProviderDefaultIsServiceAccountFromGoogleCredentials) {
  // --auth configures another provider only: google falls back to GOOGLE_CREDENTIALS.
  const char* auth = R"({"aws":{"type":"aws_signing_v4"}})";
  EXPECT_THAT(CredentialsFromAuthJson(auth, FakeEnv({{"GOOGLE_CREDENTIALS", KeyJson()}})), IsOk());
  EXPECT_THAT(CredentialsFromAuthJson(auth, FakeEnv({})), IsInvalidArgument("GOOGLE_CREDENTIALS"));
}

TEST(CredentialsFromAuthJsonTest, ServiceAccountConfigurationErrors) {
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"type":"service_account"}})", FakeEnv({})),
              IsInvalidArgument("credentialsfilepath"));
  EXPECT_THAT(
      CredentialsFromAuthJson(
          R"({"google":{"type":"service_account","credentialsfilepath":"/no/such/sa.json"}})",
          FakeEnv({})),
      IsInvalidArgument("/no/such/sa.json"));
  EXPECT_THAT(
      CredentialsFromAuthJson(
          R"({"google":{"type":"service_account","credentialsfilepathenvvar":"P"}})", FakeEnv({})),
      IsInvalidArgument("P"));

  auto with_key = [](const std::string& key) {
    return CredentialsFromAuthJson(R"({"google":{"credentialsenvvar":"KEY"}})",
                                   FakeEnv({{"KEY", key}}));
  };
  EXPECT_THAT(with_key("{not json"), IsInvalidArgument("not a JSON object"));
  EXPECT_THAT(with_key("{not json"), IsInvalidArgument("environment variable KEY"));
  Json key = Json::parse(KeyJson());
  key["type"] = "authorized_user";
  EXPECT_THAT(with_key(key.dump()), IsInvalidArgument("authorized_user"));
  key = Json::parse(KeyJson());
  key.erase("client_email");
  EXPECT_THAT(with_key(key.dump()), IsInvalidArgument("client_email"));
  key = Json::parse(KeyJson());
  key["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_THAT(with_key(key.dump()), IsInvalidArgument("private key"));
  key = Json::parse(KeyJson());
  key["token_uri"] = "ftp://example.com/token";
  EXPECT_THAT(with_key(key.dump()), IsInvalidArgument("token_uri"));
}

TEST(CredentialsFromAuthJsonTest, MalformedAuthJson) {
  EXPECT_THAT(CredentialsFromAuthJson("{google", FakeEnv({})), IsInvalidArgument("not valid JSON"));
  EXPECT_THAT(CredentialsFromAuthJson("[]", FakeEnv({})), IsInvalidArgument("JSON object"));
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":"bearer"})", FakeEnv({})),
              IsInvalidArgument("\"google\" is not an object"));
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"type":"kerberos"}})", FakeEnv({})),
              IsInvalidArgument("\"kerberos\""));
  EXPECT_THAT(
      CredentialsFromAuthJson(R"({"google":{"type":"bearer","credentialsenvvar":3}})", FakeEnv({})),
      IsInvalidArgument("google.credentialsenvvar"));
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{"credentialsenvvar":"K","scopes":[1]}})",
                                      FakeEnv({{"K", "{}"}})),
              IsInvalidArgument("google.scopes"));
}

TEST(CredentialsFromAuthJsonTest, InteractiveUsesGcloudLazily) {
  // Nothing runs until a header is asked for (gcloud is not needed to parse).
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      CredentialsFromAuthJson(R"({"google":{"type":"interactive"}})", FakeEnv({}));
  ASSERT_THAT(credentials, IsOk());
  EXPECT_NE(*credentials, nullptr);
  // No type and no key source: interactive, as in StackQL.
  EXPECT_THAT(CredentialsFromAuthJson(R"({"google":{}})", FakeEnv({})), IsOk());
}

TEST(CommandCredentialsTest, UsesTheFirstLineOfTheOutputAndCachesIt) {
  dicomstore::testing::TempDir dir;
  const std::string runs = dir.File("runs");
  std::shared_ptr<Credentials> credentials = NewCommandCredentials(
      "echo run >> '" + runs + "'; printf 'tok-a\\nignored\\n'", std::chrono::seconds(60));
  EXPECT_EQ(*credentials->AuthorizationHeader(), "Bearer tok-a");
  EXPECT_EQ(*credentials->AuthorizationHeader(), "Bearer tok-a");
  std::ifstream in(runs);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "run\n");  // ran once

  std::shared_ptr<Credentials> uncached =
      NewCommandCredentials("echo run >> '" + runs + "'; echo tok-b", std::chrono::seconds(0));
  EXPECT_EQ(*uncached->AuthorizationHeader(), "Bearer tok-b");
  EXPECT_EQ(*uncached->AuthorizationHeader(), "Bearer tok-b");
  std::ifstream again(runs);
  all.assign((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "run\nrun\nrun\n");
}

TEST(CommandCredentialsTest, FailuresAreUnauthenticated) {
  absl::StatusOr<std::string> header =
      NewCommandCredentials("exit 3", std::chrono::seconds(60))->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("status 3"));

  header = NewCommandCredentials("printf ''", std::chrono::seconds(60))->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("no access token"));

  header = NewCommandCredentials("no-such-command-dicomstore 2>/dev/null", std::chrono::seconds(60))
               ->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("not found"));
}

}  // namespace
}  // namespace dicomstore::client
