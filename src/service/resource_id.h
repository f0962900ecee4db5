// Rules for user-chosen resource IDs (spec §2): datasetId and dicomStoreId must match
// [\p{L}\p{N}_\-\.]{1,256} (Unicode letters and digits, '_', '-', '.'), counted in code
// points of valid UTF-8. Anything else is INVALID_ARGUMENT naming the parameter.
#ifndef DICOMSTORE_SERVICE_RESOURCE_ID_H_
#define DICOMSTORE_SERVICE_RESOURCE_ID_H_

#include <string_view>

#include "absl/status/status.h"

namespace dicomstore::service {

inline constexpr int kMaxResourceIdLength = 256;

// `parameter` names the field in the error message, e.g. "datasetId".
absl::Status ValidateResourceId(std::string_view id, std::string_view parameter);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_RESOURCE_ID_H_
