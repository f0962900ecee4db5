// The index: every piece of state other than instance bytes (datasets, DICOM stores,
// long-running operations, IAM policies, and the DICOM study/series/instance rows).
//
// This header is the whole contract. Backends (SQLite now, PostgreSQL later) implement
// `Index`; nothing above this layer sees SQL. Records are plain values; the service layer
// owns their meaning (validation, JSON shape). Every call is atomic on its own and safe to
// call from several threads at once.
//
// Errors: NOT_FOUND when the addressed row (or its parent) is missing, ALREADY_EXISTS on a
// duplicate key, INTERNAL for backend failures. Nothing else.
#ifndef DICOMSTORE_INDEX_INDEX_H_
#define DICOMSTORE_INDEX_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/instance_index.h"

namespace dicomstore::index {

// projects/{project}/locations/{location}/datasets/{dataset}
struct DatasetKey {
  std::string project;
  std::string location;
  std::string dataset;
  bool operator==(const DatasetKey&) const = default;
};

struct DatasetRecord {
  DatasetKey key;
  std::string time_zone;   // empty = UTC
  std::string extra_json;  // other accepted Dataset fields, as a JSON object ("" = none)
  int64_t create_time_micros = 0;
};

// .../datasets/{dataset}/dicomStores/{store}
struct StoreKey {
  DatasetKey dataset;
  std::string store;
  bool operator==(const StoreKey&) const = default;
};

struct StoreRecord {
  StoreKey key;
  int64_t store_id = 0;     // internal id, assigned by the index on create; never reused
  std::string config_json;  // the DicomStore resource without `name`, as a JSON object
  int64_t create_time_micros = 0;
};

// A long-running operation, stored under a dataset.
struct OperationRecord {
  DatasetKey dataset;
  std::string operation_id;  // decimal string, unique within the index
  std::string api_method_name;
  int64_t create_time_micros = 0;
  int64_t end_time_micros = 0;  // 0 while running
  bool done = false;
  bool cancel_requested = false;
  int64_t success = 0, failure = 0, pending = 0;
  std::string response_json;  // set when done without error ("" otherwise)
  std::string error_json;     // google.rpc.Status JSON when done with error ("" otherwise)
  std::string extra_json;     // anything else a job wants to persist (its request, progress)
};

// An IAM policy attached to a resource name (dataset or store).
struct PolicyRecord {
  std::string resource;     // full resource name
  std::string policy_json;  // the stored Policy without etag
  std::string etag;         // changes on every successful set
};

class Index {
 public:
  virtual ~Index() = default;

  // Datasets. List returns datasets of (project, location) whose id is > `after`, in id
  // order, at most `limit` rows.
  virtual absl::Status CreateDataset(const DatasetRecord& record) = 0;
  virtual absl::StatusOr<DatasetRecord> GetDataset(const DatasetKey& key) = 0;
  virtual absl::StatusOr<std::vector<DatasetRecord>> ListDatasets(const std::string& project,
                                                                  const std::string& location,
                                                                  const std::string& after,
                                                                  int limit) = 0;
  virtual absl::Status UpdateDataset(const DatasetRecord& record) = 0;
  // Removes the dataset, its stores (and everything they hold), operations and policies.
  virtual absl::Status DeleteDataset(const DatasetKey& key) = 0;

  // DICOM stores. Create fills `store_id`. NOT_FOUND if the dataset is missing.
  virtual absl::StatusOr<StoreRecord> CreateStore(const StoreRecord& record) = 0;
  virtual absl::StatusOr<StoreRecord> GetStore(const StoreKey& key) = 0;
  virtual absl::StatusOr<std::vector<StoreRecord>> ListStores(const DatasetKey& dataset,
                                                              const std::string& after,
                                                              int limit) = 0;
  virtual absl::Status UpdateStoreConfig(const StoreKey& key, const std::string& config_json) = 0;
  // Removes the store and its policy (and its instance rows).
  virtual absl::Status DeleteStore(const StoreKey& key) = 0;

  // Operations. List returns operations of the dataset with id > `after` in id order;
  // `done_filter` restricts to done / not done operations when set.
  virtual absl::Status CreateOperation(const OperationRecord& record) = 0;
  virtual absl::StatusOr<OperationRecord> GetOperation(const DatasetKey& dataset,
                                                       const std::string& operation_id) = 0;
  virtual absl::StatusOr<std::vector<OperationRecord>> ListOperations(
      const DatasetKey& dataset, std::optional<bool> done_filter, const std::string& after,
      int limit) = 0;
  virtual absl::Status UpdateOperation(const OperationRecord& record) = 0;

  // IAM policies. Get returns NOT_FOUND when no policy was ever set. Set stores the policy
  // with `new_etag` only if the current etag equals `expected_etag` (when given; an absent
  // policy has etag ""), else ABORTED.
  virtual absl::StatusOr<PolicyRecord> GetPolicy(const std::string& resource) = 0;
  virtual absl::Status SetPolicy(const PolicyRecord& record,
                                 const std::optional<std::string>& expected_etag) = 0;

  // The DICOM rows (studies, series, instances) of every store. Deleting a store or a
  // dataset removes its rows too (blob files are the caller's: they live under the store's
  // own directory, see blobs/blob_store.h).
  // Never null; owned by (and valid as long as) this Index.
  virtual InstanceIndex* instances() = 0;
};

// Opens (creating if needed) the embedded SQLite index at `path` (a file; ":memory:" for
// tests). Applies schema migrations.
absl::StatusOr<std::unique_ptr<Index>> OpenSqliteIndex(const std::string& path);

}  // namespace dicomstore::index

#endif  // DICOMSTORE_INDEX_INDEX_H_
