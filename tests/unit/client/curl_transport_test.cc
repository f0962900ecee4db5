// CurlTransport against a real HttpServer on loopback. Every exchange is bounded by a short
// timeout so a regression fails instead of hanging.
#include "client/curl_transport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "unit/client/test_support.h"

namespace dicomstore::client {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::dicomstore::testing::IsOk;
using ::dicomstore::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TestServer;

// Echoes what it received: method, target and selected headers as X- headers, the body as
// the body. "/status/<n>" answers with status n; "/big/<n>" with n bytes; "/slow" waits for
// Release().
class EchoServer {
 public:
  EchoServer() : server_([this](const server::HttpRequest& r) { return Handle(r); }) {}
  ~EchoServer() { Release(); }

  absl::Status Start() { return server_.Start(); }
  std::string endpoint() const { return server_.endpoint(); }

  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  server::HttpResponse Handle(const server::HttpRequest& request) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path.starts_with("/status/")) {
      return TestServer::Reply(std::stoi(path.substr(8)), "status body");
    }
    if (path.starts_with("/big/")) {
      return TestServer::Reply(200, std::string(std::stoul(path.substr(5)), 'b'));
    }
    if (path == "/slow") {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
      return TestServer::Reply(200, "late");
    }
    server::HttpResponse response = TestServer::Reply(200, request.body);
    response.headers.push_back({"X-Method", request.method});
    response.headers.push_back({"X-Target", request.target});
    for (const char* name :
         {"Content-Type", "Authorization", "User-Agent", "X-Custom", "X-Empty", "Expect"}) {
      response.headers.push_back({std::string("X-Got-") + name, std::string(request.Header(name))});
    }
    response.headers.push_back(
        {"X-Has-Empty",
         request.Header("X-Empty").empty() &&
                 std::any_of(request.headers.begin(), request.headers.end(),
                             [](const server::HttpHeader& h) { return h.name == "X-Empty"; })
             ? "yes"
             : "no"});
    return response;
  }

  TestServer server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class CurlTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(server_.Start(), IsOk()); }

  std::unique_ptr<Transport> Connect(std::shared_ptr<Credentials> credentials = nullptr,
                                     std::string suffix = "") {
    CurlTransportOptions options;
    options.endpoint = server_.endpoint() + suffix;
    options.credentials = std::move(credentials);
    options.timeout_seconds = 10;
    absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(std::move(options));
    EXPECT_THAT(transport, IsOk());
    return transport.ok() ? *std::move(transport) : nullptr;
  }

  static Request Make(std::string method, std::string target, std::string body = "",
                      std::vector<HttpField> headers = {}) {
    Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return request;
  }

  EchoServer server_;
};

TEST_F(CurlTransportTest, GetReturnsStatusHeadersAndBody) {
  std::unique_ptr<Transport> transport = Connect();
  absl::StatusOr<Response> response = transport->Send(Make("GET", "/v1/projects/p?pageSize=2"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(response->FindHeader("x-method"), "GET");
  EXPECT_EQ(response->FindHeader("x-target"), "/v1/projects/p?pageSize=2");
  EXPECT_THAT(std::string(response->FindHeader("x-got-user-agent")), StartsWith("dicomstore-sql/"));
  EXPECT_EQ(response->FindHeader("x-got-authorization"), "");
  EXPECT_EQ(response->FindHeader("content-type"), "text/plain");
}

TEST_F(CurlTransportTest, SendsEachMethodWithItsBody) {
  std::unique_ptr<Transport> transport = Connect();
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    absl::StatusOr<Response> response =
        transport->Send(Make(method, "/v1/x", std::string("body of ") + method,
                             {{"Content-Type", "application/json"}, {"X-Custom", "v"}}));
    ASSERT_THAT(response, IsOk()) << method;
    EXPECT_EQ(response->FindHeader("x-method"), method);
    EXPECT_EQ(response->body, std::string("body of ") + method);
    EXPECT_EQ(response->FindHeader("x-got-content-type"), "application/json");
    EXPECT_EQ(response->FindHeader("x-got-x-custom"), "v");
    EXPECT_EQ(response->FindHeader("x-got-expect"), "");  // no 100-continue round trip
  }
  absl::StatusOr<Response> deleted = transport->Send(Make("DELETE", "/v1/x"));
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(deleted->FindHeader("x-method"), "DELETE");
}

TEST_F(CurlTransportTest, BodyWithoutContentTypeIsNotLabelledAsAForm) {
  std::unique_ptr<Transport> transport = Connect();
  absl::StatusOr<Response> response = transport->Send(Make("POST", "/v1/x", "raw"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->body, "raw");
  EXPECT_EQ(response->FindHeader("x-got-content-type"), "");
}

TEST_F(CurlTransportTest, HeaderWithEmptyValueIsSent) {
  std::unique_ptr<Transport> transport = Connect();
  absl::StatusOr<Response> response = transport->Send(Make("GET", "/x", "", {{"X-Empty", ""}}));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->FindHeader("x-has-empty"), "yes");
}

TEST_F(CurlTransportTest, HeadHasNoBody) {
  std::unique_ptr<Transport> transport = Connect();
  absl::StatusOr<Response> response = transport->Send(Make("HEAD", "/big/100"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  // The connection stays usable after a HEAD.
  response = transport->Send(Make("GET", "/big/10"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->body, std::string(10, 'b'));
}

TEST_F(CurlTransportTest, HttpErrorStatusIsAResponseNotAnError) {
  std::unique_ptr<Transport> transport = Connect();
  absl::StatusOr<Response> response = transport->Send(Make("GET", "/status/404"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, "status body");
  EXPECT_THAT(StatusFromResponse(*response), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CurlTransportTest, EndpointPrefixIsPrependedAndTrailingSlashDropped) {
  std::unique_ptr<Transport> transport = Connect(nullptr, "/prefix/");
  absl::StatusOr<Response> response = transport->Send(Make("GET", "/v1/x"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->FindHeader("x-target"), "/prefix/v1/x");
}

TEST_F(CurlTransportTest, LargeBodiesRoundTrip) {
  std::unique_ptr<Transport> transport = Connect();
  std::string body(8 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + (i >> 12));
  absl::StatusOr<Response> response =
      transport->Send(Make("POST", "/echo", body, {{"Content-Type", "application/dicom"}}));
  ASSERT_THAT(response, IsOk());
  EXPECT_TRUE(response->body == body);
}

TEST_F(CurlTransportTest, ResponseOverTheLimitIsResourceExhausted) {
  CurlTransportOptions options;
  options.endpoint = server_.endpoint();
  options.timeout_seconds = 10;
  options.max_response_bytes = 1000;
  absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(options);
  ASSERT_THAT(transport, IsOk());
  EXPECT_THAT((*transport)->Send(Make("GET", "/big/1000")), IsOk());
  absl::StatusOr<Response> response = (*transport)->Send(Make("GET", "/big/5000"));
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("1000 bytes"));
  // The transport recovers.
  EXPECT_THAT((*transport)->Send(Make("GET", "/big/10")), IsOk());
}

TEST_F(CurlTransportTest, AddsTheCredentialsAuthorization) {
  std::unique_ptr<Transport> transport = Connect(NewStaticCredentials("Bearer xyz"));
  absl::StatusOr<Response> response =
      transport->Send(Make("GET", "/v1/x", "", {{"Authorization", "Bearer caller"}}));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->FindHeader("x-got-authorization"), "Bearer xyz");

  // Credentials that provide none leave the header out.
  transport = Connect(NewStaticCredentials(""));
  response = transport->Send(Make("GET", "/v1/x"));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->FindHeader("x-got-authorization"), "");
}

class FailingCredentials : public Credentials {
 public:
  absl::StatusOr<std::string> AuthorizationHeader() override {
    return absl::UnauthenticatedError("no token for you");
  }
};

TEST_F(CurlTransportTest, CredentialsErrorIsReturned) {
  std::unique_ptr<Transport> transport = Connect(std::make_shared<FailingCredentials>());
  EXPECT_THAT(transport->Send(Make("GET", "/v1/x")), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CurlTransportTest, TimeoutIsDeadlineExceeded) {
  CurlTransportOptions options;
  options.endpoint = server_.endpoint();
  options.timeout_seconds = 1;
  absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(options);
  ASSERT_THAT(transport, IsOk());
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Response> response = (*transport)->Send(Make("GET", "/slow"));
  server_.Release();
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(CurlTransportTest, ConnectionRefusedIsUnavailable) {
  const std::string endpoint = testing::ClosedPortEndpoint();
  CurlTransportOptions options;
  options.endpoint = endpoint;
  options.timeout_seconds = 5;
  absl::StatusOr<std::unique_ptr<Transport>> transport = NewCurlTransport(options);
  ASSERT_THAT(transport, IsOk());
  absl::StatusOr<Response> response = (*transport)->Send(Make("GET", "/v1/x"));
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(response.status().message()), HasSubstr(endpoint + "/v1/x"));
}

TEST_F(CurlTransportTest, ConcurrentSendsAreSerialisedSafely) {
  std::unique_ptr<Transport> transport = Connect();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string body = std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<Response> response = transport->Send(Make("POST", "/echo", body));
        if (response.ok() && response->body == body) ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST_F(CurlTransportTest, RejectsHeaderInjectionAndBadRequests) {
  std::unique_ptr<Transport> transport = Connect();
  EXPECT_THAT(transport->Send(Make("GET", "/x", "", {{"X-A", "v\r\nX-Injected: 1"}})),
              IsInvalidArgument("header"));
  EXPECT_THAT(transport->Send(Make("GET", "/x", "", {{"Bad Name", "v"}})),
              IsInvalidArgument("header"));
  EXPECT_THAT(transport->Send(Make("GE T", "/x")), IsInvalidArgument("method"));
  EXPECT_THAT(transport->Send(Make("GET", "/a b")), IsInvalidArgument("target"));
  EXPECT_THAT(transport->Send(Make("GET", "x")), IsInvalidArgument("target"));
}

TEST(CurlTransportOptionsTest, ValidatesTheEndpoint) {
  for (const char* bad :
       {"", "ftp://example.com", "127.0.0.1:8080", "http://", "http:///v1", "http://host/p?q=1",
        "http://host/#f", "http://user:pw@host", "http://ho st", "http://host:99999"}) {
    CurlTransportOptions options;
    options.endpoint = bad;
    EXPECT_THAT(NewCurlTransport(options), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  for (const char* good : {"https://healthcare.googleapis.com", "http://127.0.0.1:8080/",
                           "HTTP://localhost:1/prefix", "http://[::1]:8080"}) {
    CurlTransportOptions options;
    options.endpoint = good;
    EXPECT_THAT(NewCurlTransport(options), IsOk()) << good;
  }
  CurlTransportOptions options;
  options.endpoint = "http://localhost";
  options.timeout_seconds = 0;
  EXPECT_THAT(NewCurlTransport(options), IsInvalidArgument("timeout"));
}

}  // namespace
}  // namespace dicomstore::client
