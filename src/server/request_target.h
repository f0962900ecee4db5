// Splits a request target into decoded path segments and query parameters (spec §1.1,
// §1.2). Percent-escapes are decoded (%2C, %3A, ...); '+' in the query is a space. The
// system parameters every Google API accepts ($.xgafv, alt, prettyPrint, ...) are removed
// here, before any method sees the query, so they never reach DICOM matching.
#ifndef DICOMSTORE_SERVER_REQUEST_TARGET_H_
#define DICOMSTORE_SERVER_REQUEST_TARGET_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace dicomstore::server {

inline constexpr size_t kMaxTargetLength = 64 * 1024;

struct QueryParam {
  std::string name;
  std::string value;
};

struct RequestTarget {
  std::string path;                   // decoded path, e.g. "/v1/projects/p/..."
  std::vector<std::string> segments;  // decoded, split on '/', empty segments dropped
  std::vector<QueryParam> query;      // in order, system parameters removed

  // The first value of `name`, or "" when absent.
  std::string Param(std::string_view name) const;
  bool Has(std::string_view name) const;
};

// INVALID_ARGUMENT on a bad percent-escape, a target over kMaxTargetLength or a path that
// does not start with '/'.
absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target);

bool IsSystemParameter(std::string_view name);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_REQUEST_TARGET_H_
