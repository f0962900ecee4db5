#include "service/resource_name.h"

#include <initializer_list>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::service {
namespace {

constexpr absl::string_view kLocationPattern = "projects/{project}/locations/{location}";
constexpr absl::string_view kDatasetPattern =
    "projects/{project}/locations/{location}/datasets/{dataset}";
constexpr absl::string_view kStorePattern =
    "projects/{project}/locations/{location}/datasets/{dataset}/dicomStores/{dicomStore}";
constexpr absl::string_view kOperationPattern =
    "projects/{project}/locations/{location}/datasets/{dataset}/operations/{operation}";

absl::Status Malformed(std::string_view name, absl::string_view kind, absl::string_view pattern) {
  return absl::InvalidArgumentError(absl::StrCat("Invalid ", kind, " name ", QuoteForMessage(name),
                                                 ": expected the form ", pattern));
}

// Splits `name` into alternating collection words and IDs and checks the words against
// `words`. Returns the IDs in order, or nullopt when the shape differs in any way
// (wrong word, wrong number of segments, an empty segment).
std::optional<std::vector<std::string>> SplitName(std::string_view name,
                                                  std::initializer_list<std::string_view> words) {
  std::vector<absl::string_view> segments = absl::StrSplit(Av(name), '/');
  if (segments.size() != 2 * words.size()) return std::nullopt;
  std::vector<std::string> ids;
  size_t i = 0;
  for (std::string_view word : words) {
    absl::string_view id = segments[i + 1];
    if (Sv(segments[i]) != word || id.empty()) return std::nullopt;
    ids.emplace_back(id);
    i += 2;
  }
  return ids;
}

}  // namespace

absl::StatusOr<LocationName> ParseLocationName(std::string_view name) {
  auto ids = SplitName(name, {"projects", "locations"});
  if (!ids) return Malformed(name, "location", kLocationPattern);
  return LocationName{(*ids)[0], (*ids)[1]};
}

absl::StatusOr<index::DatasetKey> ParseDatasetName(std::string_view name) {
  auto ids = SplitName(name, {"projects", "locations", "datasets"});
  if (!ids) return Malformed(name, "dataset", kDatasetPattern);
  return index::DatasetKey{(*ids)[0], (*ids)[1], (*ids)[2]};
}

absl::StatusOr<index::StoreKey> ParseStoreName(std::string_view name) {
  auto ids = SplitName(name, {"projects", "locations", "datasets", "dicomStores"});
  if (!ids) return Malformed(name, "DICOM store", kStorePattern);
  return index::StoreKey{{(*ids)[0], (*ids)[1], (*ids)[2]}, (*ids)[3]};
}

absl::StatusOr<OperationName> ParseOperationName(std::string_view name) {
  auto ids = SplitName(name, {"projects", "locations", "datasets", "operations"});
  if (!ids) return Malformed(name, "operation", kOperationPattern);
  return OperationName{{(*ids)[0], (*ids)[1], (*ids)[2]}, (*ids)[3]};
}

std::string FormatLocationName(const LocationName& name) {
  return absl::StrCat("projects/", name.project, "/locations/", name.location);
}

std::string FormatDatasetName(const index::DatasetKey& key) {
  return absl::StrCat("projects/", key.project, "/locations/", key.location, "/datasets/",
                      key.dataset);
}

std::string FormatStoreName(const index::StoreKey& key) {
  return absl::StrCat(FormatDatasetName(key.dataset), "/dicomStores/", key.store);
}

std::string FormatOperationName(const index::DatasetKey& dataset, std::string_view operation_id) {
  return absl::StrCat(FormatDatasetName(dataset), "/operations/", Av(operation_id));
}

}  // namespace dicomstore::service
