// The mutable configuration of a DICOM store (spec §5.1): labels, notificationConfig,
// notificationConfigs and streamConfigs. Validates request bodies and produces the
// normalised proto3 JSON form (defaults omitted) that is stored and returned.
#ifndef DICOMSTORE_SERVICE_DICOM_STORE_CONFIG_H_
#define DICOMSTORE_SERVICE_DICOM_STORE_CONFIG_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "common/proto_json.h"

namespace dicomstore::service {

// The fields of a DicomStore that patch may change (camelCase).
const std::set<std::string>& DicomStoreMutableFields();

// Validates a DicomStore request body (`name` is accepted and ignored) and returns the
// normalised configuration: only the mutable fields, defaults omitted.
absl::StatusOr<Json> NormalizeDicomStoreConfig(const Json& body);

// Applies `fields` (from an update mask) of the normalised `patch` onto `current`: each
// masked field is replaced wholesale, or removed when absent from `patch`.
Json ApplyDicomStoreMask(const Json& current, const Json& patch,
                         const std::set<std::string>& fields);

// The DicomStore resource: {"name": ..., <config fields>}.
Json RenderDicomStore(const std::string& name, const Json& config);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_DICOM_STORE_CONFIG_H_
