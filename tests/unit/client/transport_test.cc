#include "client/transport.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::client {
namespace {

using ::dicomstore::testing::IsOk;
using ::dicomstore::testing::StatusIs;

Response Make(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

TEST(StatusFromResponseTest, SuccessIsOk) {
  EXPECT_THAT(StatusFromResponse(Make(200, "{}")), IsOk());
  EXPECT_THAT(StatusFromResponse(Make(204, "")), IsOk());
}

TEST(StatusFromResponseTest, ErrorEnvelopeGivesItsStatusAndMessage) {
  absl::Status status = StatusFromResponse(Make(
      404, R"({"error":{"code":404,"message":"dataset \"d\" not found","status":"NOT_FOUND"}})"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(status.message(), "dataset \"d\" not found");

  // The envelope's status name wins over the HTTP status.
  status = StatusFromResponse(
      Make(400, R"({"error":{"code":400,"message":"not empty","status":"FAILED_PRECONDITION"}})"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));

  // No status name: mapped from the HTTP status; no message: the HTTP status.
  status = StatusFromResponse(Make(409, R"({"error":{"code":409}})"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(status.message(), "HTTP 409");
}

TEST(StatusFromResponseTest, PlainTextErrorIsMappedFromTheHttpStatus) {
  absl::Status status = StatusFromResponse(Make(502, "Bad Gateway\r\n"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(status.message(), "HTTP 502: Bad Gateway");

  EXPECT_THAT(StatusFromResponse(Make(503, "try later")), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromResponse(Make(401, "")), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(StatusFromResponse(Make(403, "no")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(StatusFromResponse(Make(429, "")), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(StatusFromResponse(Make(500, "")).message(), "HTTP 500");
}

TEST(StatusFromResponseTest, LongPlainBodyIsBounded) {
  absl::Status status = StatusFromResponse(Make(500, std::string(100000, 'x')));
  EXPECT_LT(status.message().size(), 2100u);
}

TEST(ResponseTest, FindHeaderIsCaseInsensitiveAndFirstWins) {
  Response response;
  response.headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(response.FindHeader("content-type"), "application/json");
  EXPECT_EQ(response.FindHeader("X-A"), "1");
  EXPECT_EQ(response.FindHeader("missing"), "");
}

TEST(UrlEncodeTest, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UrlEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(UrlEncode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");  // é in UTF-8
  EXPECT_EQ(UrlEncode("100%+"), "100%25%2B");
  EXPECT_EQ(UrlEncode(std::string_view("\0", 1)), "%00");
  EXPECT_EQ(UrlEncode(""), "");
}

}  // namespace
}  // namespace dicomstore::client
