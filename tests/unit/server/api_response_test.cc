#include "server/api_response.h"

#include "gtest/gtest.h"

namespace dicomstore::server {
namespace {

TEST(ApiResponseTest, ErrorEnvelopeUsesGoogleNames) {
  HttpResponse r = ErrorResponse(absl::NotFoundError("dataset not found: x"));
  EXPECT_EQ(r.status, 404);
  Json body = Json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], 404);
  EXPECT_EQ(body["error"]["status"], "NOT_FOUND");
  EXPECT_EQ(body["error"]["message"], "dataset not found: x");

  EXPECT_EQ(Json::parse(ErrorResponse(absl::InvalidArgumentError("m")).body)["error"]["status"],
            "INVALID_ARGUMENT");
  EXPECT_EQ(Json::parse(ErrorResponse(absl::AbortedError("m")).body)["error"]["code"], 409);
  EXPECT_EQ(Json::parse(ErrorResponse(absl::FailedPreconditionError("m")).body)["error"]["status"],
            "FAILED_PRECONDITION");
}

TEST(ApiResponseTest, HttpStatusOverride) {
  HttpResponse r =
      ErrorResponse(WithHttpStatus(absl::FailedPreconditionError("cannot convert"), 406));
  EXPECT_EQ(r.status, 406);
  Json body = Json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], 406);
  EXPECT_EQ(body["error"]["status"], "FAILED_PRECONDITION");
}

TEST(ApiResponseTest, StatusMapping) {
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kResourceExhausted), 429);
}

}  // namespace
}  // namespace dicomstore::server
