// List pagination (spec §1.4, §4, §5): pageSize parsing and opaque page tokens.
//
// A token encodes the list kind and the last key returned, so a token from one list cannot
// be replayed against another; anything that does not decode is INVALID_ARGUMENT
// ("invalid page token"). Tokens are URL-safe base64 without padding.
#ifndef DICOMSTORE_SERVICE_PAGE_TOKEN_H_
#define DICOMSTORE_SERVICE_PAGE_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore::service {

// `kind` identifies the collection, e.g. the parent name + "/dicomStores".
std::string EncodePageToken(std::string_view kind, std::string_view last_key);
// Returns the last key; empty `token` returns "" (first page).
absl::StatusOr<std::string> DecodePageToken(std::string_view kind, std::string_view token);

// Parses a pageSize query value: empty or "0" -> `default_size`; a non-integer, a negative
// value or a value over `max_size` -> INVALID_ARGUMENT.
absl::StatusOr<int> ParsePageSize(std::string_view value, int default_size, int max_size);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_PAGE_TOKEN_H_
