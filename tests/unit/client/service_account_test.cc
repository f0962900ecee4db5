// The service-account flow end to end: a loopback server plays both Google's token endpoint
// (checking the JWT bearer grant and the assertion's signature with the public key) and the
// API (recording the Authorization header it is called with).
#include "client/service_account.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/credentials.h"
#include "client/curl_transport.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "unit/client/test_support.h"

namespace dicomstore::client {
namespace {

using ::dicomstore::testing::IsOk;
using ::dicomstore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestServer;

constexpr char kEmail[] = "sa@p.iam.gserviceaccount.com";

class ServiceAccountTest : public ::testing::Test {
 protected:
  ServiceAccountTest() : server_([this](const server::HttpRequest& r) { return Handle(r); }) {}

  void SetUp() override { ASSERT_THAT(server_.Start(), IsOk()); }
  void TearDown() override { server_.Stop(); }

  std::string TokenUri() const { return server_.endpoint() + "/token"; }

  std::string KeyJson() const {
    return Json{{"type", "service_account"}, {"project_id", "p"},
                {"private_key_id", "key-1"}, {"private_key", testing::TestRsaKey().private_pem},
                {"client_email", kEmail},    {"token_uri", TokenUri()}}
        .dump();
  }

  absl::StatusOr<std::shared_ptr<Credentials>> FromAuth(const Json& google) {
    const std::string key = KeyJson();
    TokenEndpointOptions token;
    token.timeout_seconds = 10;
    return CredentialsFromAuthJson(
        Json{{"google", google}}.dump(),
        [key](const std::string& name) -> std::optional<std::string> {
          if (name == "SA_KEY") return key;
          return std::nullopt;
        },
        token);
  }

  std::unique_ptr<Transport> Api(std::shared_ptr<Credentials> credentials) {
    CurlTransportOptions options;
    options.endpoint = server_.endpoint();
    options.credentials = std::move(credentials);
    options.timeout_seconds = 10;
    absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(std::move(options));
    EXPECT_THAT(transport, IsOk());
    return transport.ok() ? *std::move(transport) : nullptr;
  }

  static Request ListDatasets() {
    Request request;
    request.target = "/v1/projects/p/locations/l/datasets";
    return request;
  }

  // What the token endpoint answers once the grant checks out.
  void SetTokenResponse(int status, Json body) {
    std::lock_guard lock(mu_);
    token_status_ = status;
    token_body_ = std::move(body);
  }
  Json LastClaims() {
    std::lock_guard lock(mu_);
    return last_claims_;
  }
  std::vector<std::string> ApiAuthorizations() {
    std::lock_guard lock(mu_);
    return api_authorizations_;
  }

  std::atomic<int> token_requests_{0};
  TestServer server_;

 private:
  server::HttpResponse Refuse(const std::string& why) {
    return TestServer::ReplyJson(400, {{"error", "invalid_request"}, {"error_description", why}});
  }

  server::HttpResponse Handle(const server::HttpRequest& request) {
    if (request.target == "/token") return Token(request);
    std::lock_guard lock(mu_);
    api_authorizations_.emplace_back(request.Header("Authorization"));
    return TestServer::ReplyJson(200, {{"datasets", Json::array()}});
  }

  // Checks the request the way Google's endpoint would, then answers as configured.
  server::HttpResponse Token(const server::HttpRequest& request) {
    ++token_requests_;
    if (request.method != "POST") return Refuse("method " + request.method);
    if (request.Header("Content-Type") != "application/x-www-form-urlencoded") {
      return Refuse("content type " + std::string(request.Header("Content-Type")));
    }
    std::map<std::string, std::string> form = testing::ParseForm(request.body);
    if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return Refuse("grant_type " + form["grant_type"]);
    }
    absl::StatusOr<testing::DecodedJwt> jwt =
        testing::DecodeAndVerifyJwt(form["assertion"], testing::TestRsaKey().public_key.get());
    if (!jwt.ok()) return Refuse(std::string(jwt.status().message()));
    if (jwt->header != Json({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "key-1"}})) {
      return Refuse("header " + jwt->header.dump());
    }
    const Json& claims = jwt->claims;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (claims.value("iss", "") != kEmail || claims.value("aud", "") != TokenUri() ||
        !claims["iat"].is_number_integer() || !claims["exp"].is_number_integer() ||
        claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>() != 3600 ||
        std::abs(claims["iat"].get<int64_t>() - now) > 60) {
      return Refuse("claims " + claims.dump());
    }
    std::lock_guard lock(mu_);
    last_claims_ = claims;
    return TestServer::ReplyJson(token_status_, token_body_);
  }

  std::mutex mu_;
  int token_status_ = 200;
  Json token_body_ = {{"access_token", "tok-1"}, {"expires_in", 3600}, {"token_type", "Bearer"}};
  Json last_claims_;
  std::vector<std::string> api_authorizations_;
};

TEST_F(ServiceAccountTest, TokenIsFetchedOnceAndSentWithEachApiCall) {
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"type", "service_account"}, {"credentialsenvvar", "SA_KEY"}});
  ASSERT_THAT(credentials, IsOk());
  EXPECT_EQ(token_requests_.load(), 0);  // nothing fetched until needed

  std::unique_ptr<Transport> api = Api(*credentials);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Response> response = api->Send(ListDatasets());
    ASSERT_THAT(response, IsOk());
    EXPECT_EQ(response->status, 200) << response->body;
  }
  EXPECT_THAT(ApiAuthorizations(), ElementsAre("Bearer tok-1", "Bearer tok-1"));
  EXPECT_EQ(token_requests_.load(), 1);
  Json claims = LastClaims();
  EXPECT_EQ(claims["scope"], kCloudPlatformScope);
  EXPECT_FALSE(claims.contains("sub"));
}

TEST_F(ServiceAccountTest, ScopesAndSubjectGoIntoTheAssertion) {
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"credentialsenvvar", "SA_KEY"},
                {"scopes", {"https://www.googleapis.com/auth/cloud-healthcare", "openid"}},
                {"sub", "user@example.com"}});
  ASSERT_THAT(credentials, IsOk());
  EXPECT_EQ(*(*credentials)->AuthorizationHeader(), "Bearer tok-1");
  Json claims = LastClaims();
  EXPECT_EQ(claims["scope"], "https://www.googleapis.com/auth/cloud-healthcare openid");
  EXPECT_EQ(claims["sub"], "user@example.com");
}

TEST_F(ServiceAccountTest, ConcurrentCallersShareOneTokenRequest) {
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"credentialsenvvar", "SA_KEY"}});
  ASSERT_THAT(credentials, IsOk());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::string> header = (*credentials)->AuthorizationHeader();
      if (header.ok() && *header == "Bearer tok-1") ++ok;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(token_requests_.load(), 1);
}

TEST_F(ServiceAccountTest, TokenNearExpiryIsReplaced) {
  // expires_in (as a string, which some servers send) inside the refresh margin.
  SetTokenResponse(200,
                   {{"access_token", "short"}, {"expires_in", "30"}, {"token_type", "bearer"}});
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"credentialsenvvar", "SA_KEY"}});
  ASSERT_THAT(credentials, IsOk());
  EXPECT_EQ(*(*credentials)->AuthorizationHeader(), "Bearer short");  // type canonicalised
  EXPECT_EQ(*(*credentials)->AuthorizationHeader(), "Bearer short");
  EXPECT_EQ(token_requests_.load(), 2);
}

TEST_F(ServiceAccountTest, TokenEndpointRefusalIsUnauthenticatedWithItsReason) {
  SetTokenResponse(400,
                   {{"error", "invalid_grant"}, {"error_description", "Invalid JWT Signature."}});
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"credentialsenvvar", "SA_KEY"}});
  ASSERT_THAT(credentials, IsOk());
  absl::StatusOr<std::string> header = (*credentials)->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(header.status().message()),
              HasSubstr("invalid_grant: Invalid JWT Signature."));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr(kEmail));

  // Through the transport: the API is never called.
  std::unique_ptr<Transport> api = Api(*credentials);
  EXPECT_THAT(api->Send(ListDatasets()), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_TRUE(ApiAuthorizations().empty());
  // A failure is not cached: the next call asks again.
  EXPECT_EQ(token_requests_.load(), 2);
}

TEST_F(ServiceAccountTest, ResponseWithoutAccessTokenIsUnauthenticated) {
  SetTokenResponse(200, {{"token_type", "Bearer"}});
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      FromAuth({{"credentialsenvvar", "SA_KEY"}});
  ASSERT_THAT(credentials, IsOk());
  absl::StatusOr<std::string> header = (*credentials)->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("access_token"));
}

TEST_F(ServiceAccountTest, UnreachableTokenEndpointIsUnavailable) {
  Json key = Json::parse(KeyJson());
  key["token_uri"] = testing::ClosedPortEndpoint() + "/token";
  ServiceAccountOptions options;
  options.token_endpoint.timeout_seconds = 5;
  absl::StatusOr<std::shared_ptr<Credentials>> credentials =
      NewServiceAccountCredentials(key.dump(), options);
  ASSERT_THAT(credentials, IsOk());
  absl::StatusOr<std::string> header = (*credentials)->AuthorizationHeader();
  EXPECT_THAT(header, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("access token"));
}

}  // namespace
}  // namespace dicomstore::client
