// Media types as they appear in Content-Type and Accept headers (RFC 9110 §8.3.1, §12.5.1):
//   type/subtype *( ";" name "=" (token | quoted-string) )
// Type, subtype and parameter names are case-insensitive and returned lower-cased;
// parameter values keep their case, with quotes and backslash escapes removed.
#ifndef DICOMSTORE_SERVER_MEDIA_TYPE_H_
#define DICOMSTORE_SERVER_MEDIA_TYPE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace dicomstore::server {

struct MediaType {
  std::string type;                                         // "multipart"
  std::string subtype;                                      // "related"
  std::vector<std::pair<std::string, std::string>> params;  // in order

  std::string Essence() const { return type + "/" + subtype; }
  // The value of parameter `name` (lower-case), or "" when absent.
  std::string Param(std::string_view name) const;
  bool HasParam(std::string_view name) const;
};

// INVALID_ARGUMENT on a missing '/', empty type or subtype, or a malformed parameter.
absl::StatusOr<MediaType> ParseMediaType(std::string_view text);

// An Accept header: comma-separated media ranges, each with an optional q parameter
// (removed from `params`). Entries with q=0 are dropped. Sorted by q descending, stable.
struct MediaRange {
  MediaType type;
  double q = 1.0;
};
absl::StatusOr<std::vector<MediaRange>> ParseAccept(std::string_view header);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_MEDIA_TYPE_H_
