// gMock matchers for absl::Status and absl::StatusOr<T>: EXPECT_THAT(x, IsOk()),
// EXPECT_THAT(x, StatusIs(absl::StatusCode::kNotFound)).
#ifndef DICOMSTORE_TESTS_TESTING_STATUS_MATCHERS_H_
#define DICOMSTORE_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace dicomstore::testing {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P(StatusIs, code, "") {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}
MATCHER(IsOk, "") {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

// INVALID_ARGUMENT whose message contains `substring`.
MATCHER_P(IsInvalidArgument, substring, "") {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == absl::StatusCode::kInvalidArgument &&
         std::string(status.message()).find(substring) != std::string::npos;
}

}  // namespace dicomstore::testing

#endif  // DICOMSTORE_TESTS_TESTING_STATUS_MATCHERS_H_
