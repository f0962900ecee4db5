// FieldMask handling for patch methods (spec §1.4, §5): `updateMask` is a comma-separated
// list of field paths, camelCase or snake_case. Paths are normalised to camelCase and
// checked against the fields the method allows to change.
#ifndef DICOMSTORE_SERVICE_UPDATE_MASK_H_
#define DICOMSTORE_SERVICE_UPDATE_MASK_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dicomstore::service {

// "notification_config" -> "notificationConfig"; camelCase input is returned unchanged.
std::string SnakeToCamel(std::string_view path);

// Returns the set of camelCase paths in `mask`. Empty mask (after trimming) or an empty path
// between commas, or a path not in `allowed` (camelCase) -> INVALID_ARGUMENT naming it.
absl::StatusOr<std::set<std::string>> ParseUpdateMask(std::string_view mask,
                                                      const std::set<std::string>& allowed);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_UPDATE_MASK_H_
