// Label rules for DICOM stores (spec §2.1):
//   key:   1-63 code points, <= 128 UTF-8 bytes, [\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}
//   value: 0-63 code points, <= 128 UTF-8 bytes, [\p{Ll}\p{Lo}\p{N}_-]{0,63}
//   at most 64 labels.
// Violations are INVALID_ARGUMENT naming the offending key.
#ifndef DICOMSTORE_SERVICE_LABELS_H_
#define DICOMSTORE_SERVICE_LABELS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/proto_json.h"

namespace dicomstore::service {

inline constexpr int kMaxLabels = 64;

using Labels = std::map<std::string, std::string>;

absl::Status ValidateLabelKey(const std::string& key);
absl::Status ValidateLabelValue(const std::string& key, const std::string& value);

// Checks a JSON `labels` member: an object of string values obeying the rules above
// (null, proto3's "default value", is an empty map).
absl::StatusOr<Labels> ParseLabels(const Json& labels);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_LABELS_H_
