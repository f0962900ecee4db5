// proto3 JSON conventions used by every API object (spec §1.4) and the checks applied to
// request bodies.
//
//  - int64 values are JSON strings; defaults (0, "", false, empty list/map) are omitted;
//  - timestamps are RFC 3339 UTC with microseconds and a trailing Z;
//  - request bodies: malformed JSON, a non-object top level, nesting deeper than
//    kMaxJsonDepth, unknown fields and wrong types are INVALID_ARGUMENT.
#ifndef DICOMSTORE_COMMON_PROTO_JSON_H_
#define DICOMSTORE_COMMON_PROTO_JSON_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace dicomstore {

using Json = nlohmann::ordered_json;

inline constexpr int kMaxJsonDepth = 64;

// Parses a request body. An empty body is `{}`. Top level must be an object.
absl::StatusOr<Json> ParseJsonBody(std::string_view body);

// INVALID_ARGUMENT unless `value` is an object whose keys are all in `allowed`.
// `type_name` appears in the message, e.g. "DicomStore".
absl::Status CheckObjectFields(const Json& value, std::initializer_list<std::string_view> allowed,
                               std::string_view type_name);

// Typed member access for validation: absent -> ok with no change; present but of the
// wrong type -> INVALID_ARGUMENT naming `type_name.field`.
absl::Status ReadString(const Json& object, std::string_view field, std::string_view type_name,
                        std::string* out);
absl::Status ReadBool(const Json& object, std::string_view field, std::string_view type_name,
                      bool* out);
// Accepts a JSON number or a decimal string (proto3 int32/int64 rule).
absl::Status ReadInt64(const Json& object, std::string_view field, std::string_view type_name,
                       int64_t* out);

// RFC 3339, e.g. "2024-05-01T12:34:56.123456Z".
std::string FormatTimestamp(int64_t unix_micros);
int64_t NowMicros();

// `text` as a double-quoted JSON string for error messages: control characters are escaped
// and invalid UTF-8 is replaced by U+FFFD, so a message quoting user input can always be
// serialised into the error envelope.
std::string QuoteForMessage(std::string_view text);

// int64 as proto3 JSON (a string).
inline Json Int64Json(int64_t v) { return std::to_string(v); }

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_PROTO_JSON_H_
