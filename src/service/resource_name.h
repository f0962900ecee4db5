// Resource names of the Healthcare API (spec §2): parsing and formatting.
//
//   projects/{p}/locations/{l}
//   projects/{p}/locations/{l}/datasets/{d}
//   projects/{p}/locations/{l}/datasets/{d}/dicomStores/{s}
//   projects/{p}/locations/{l}/datasets/{d}/operations/{id}
//
// Parsing checks the shape only (fixed collection words, non-empty segments without '/');
// ID character rules live in resource_id.h. A malformed name is INVALID_ARGUMENT with a
// message that quotes the name.
#ifndef DICOMSTORE_SERVICE_RESOURCE_NAME_H_
#define DICOMSTORE_SERVICE_RESOURCE_NAME_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "index/index.h"

namespace dicomstore::service {

struct LocationName {
  std::string project;
  std::string location;
};

struct OperationName {
  index::DatasetKey dataset;
  std::string operation_id;
};

absl::StatusOr<LocationName> ParseLocationName(std::string_view name);
absl::StatusOr<index::DatasetKey> ParseDatasetName(std::string_view name);
absl::StatusOr<index::StoreKey> ParseStoreName(std::string_view name);
absl::StatusOr<OperationName> ParseOperationName(std::string_view name);

std::string FormatLocationName(const LocationName& name);
std::string FormatDatasetName(const index::DatasetKey& key);
std::string FormatStoreName(const index::StoreKey& key);
std::string FormatOperationName(const index::DatasetKey& dataset, std::string_view operation_id);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_RESOURCE_NAME_H_
