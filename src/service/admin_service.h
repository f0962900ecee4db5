// The administrative surface of the Healthcare API v1 for DICOM (spec §4, §5, §7, §9):
// datasets, DICOM stores, long-running operations and IAM policies.
//
// This class holds the rules (names, validation, defaults, pagination, error codes); it
// knows nothing of HTTP. Requests and responses are proto3 JSON objects exactly as the
// REST API carries them, so the HTTP server and the SQL front end share one code path.
// Every method returns an absl::Status whose code is the API's google.rpc.Code.
#ifndef DICOMSTORE_SERVICE_ADMIN_SERVICE_H_
#define DICOMSTORE_SERVICE_ADMIN_SERVICE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "blobs/blob_store.h"
#include "common/proto_json.h"
#include "index/index.h"

namespace dicomstore::service {

// Raw list parameters as received (validated by the service).
struct ListRequest {
  std::string page_size;   // "" = default
  std::string page_token;  // "" = first page
  std::string filter;      // "" = no filter
};

class AdminService {
 public:
  // `index` (and `blobs`, when given) must outlive the service. Without a blob store,
  // deleting a store or dataset leaves instance files behind (tests of the admin surface).
  explicit AdminService(index::Index* index, blobs::BlobStore* blobs = nullptr);

  // Datasets (parent = projects/{p}/locations/{l}). Create returns a finished Operation.
  absl::StatusOr<Json> CreateDataset(std::string_view parent, std::string_view dataset_id,
                                     const Json& body);
  absl::StatusOr<Json> GetDataset(std::string_view name);
  absl::StatusOr<Json> ListDatasets(std::string_view parent, const ListRequest& request);
  absl::StatusOr<Json> PatchDataset(std::string_view name, std::string_view update_mask,
                                    const Json& body);
  absl::StatusOr<Json> DeleteDataset(std::string_view name);

  // DICOM stores (parent = a dataset name).
  absl::StatusOr<Json> CreateDicomStore(std::string_view parent, std::string_view store_id,
                                        const Json& body);
  absl::StatusOr<Json> GetDicomStore(std::string_view name);
  absl::StatusOr<Json> ListDicomStores(std::string_view parent, const ListRequest& request);
  absl::StatusOr<Json> PatchDicomStore(std::string_view name, std::string_view update_mask,
                                       const Json& body);
  absl::StatusOr<Json> DeleteDicomStore(std::string_view name);

  // Operations (name = .../datasets/{d}/operations/{id}; list takes the dataset name).
  absl::StatusOr<Json> GetOperation(std::string_view name);
  absl::StatusOr<Json> ListOperations(std::string_view dataset, const ListRequest& request);
  absl::StatusOr<Json> CancelOperation(std::string_view name);

  // IAM on datasets and DICOM stores. `requested_version` is the raw
  // options.requestedPolicyVersion query value ("" = unset).
  absl::StatusOr<Json> GetIamPolicy(std::string_view resource, std::string_view requested_version);
  absl::StatusOr<Json> SetIamPolicy(std::string_view resource, const Json& body);
  absl::StatusOr<Json> TestIamPermissions(std::string_view resource, const Json& body);

 private:
  index::Index* index_;
  blobs::BlobStore* blobs_;
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_ADMIN_SERVICE_H_
