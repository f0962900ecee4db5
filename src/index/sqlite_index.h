// The embedded SQLite backend of the index (index.h).
//
// Semantics beyond index.h, which callers may rely on:
//  - UpdateDataset replaces time_zone and extra_json; UpdateOperation replaces every field but
//    the key (dataset, operation_id) and create_time_micros. Keys and create times never change.
//  - List* return an empty page for limit <= 0, and NOT_FOUND when the parent dataset of
//    ListStores / ListOperations is missing.
//  - Policies are removed with their resource: DeleteDataset removes the dataset's policy and
//    every policy named under it (its stores'), DeleteStore the store's. CreateDataset and
//    CreateStore also drop any policy left under their name, so a re-created resource never
//    inherits a predecessor's access rules.
#ifndef DICOMSTORE_INDEX_SQLITE_INDEX_H_
#define DICOMSTORE_INDEX_SQLITE_INDEX_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/index.h"

namespace dicomstore::index {

namespace sqlite {
class Db;
class WalCheckpointer;
}  // namespace sqlite
class SqliteInstanceIndex;

class SqliteIndex final : public Index {
 public:
  // See OpenSqliteIndex (index.h).
  static absl::StatusOr<std::unique_ptr<SqliteIndex>> Open(const std::string& path);

  ~SqliteIndex() override;

  absl::Status CreateDataset(const DatasetRecord& record) override;
  absl::StatusOr<DatasetRecord> GetDataset(const DatasetKey& key) override;
  absl::StatusOr<std::vector<DatasetRecord>> ListDatasets(const std::string& project,
                                                          const std::string& location,
                                                          const std::string& after,
                                                          int limit) override;
  absl::Status UpdateDataset(const DatasetRecord& record) override;
  absl::Status DeleteDataset(const DatasetKey& key) override;

  absl::StatusOr<StoreRecord> CreateStore(const StoreRecord& record) override;
  absl::StatusOr<StoreRecord> GetStore(const StoreKey& key) override;
  absl::StatusOr<std::vector<StoreRecord>> ListStores(const DatasetKey& dataset,
                                                      const std::string& after, int limit) override;
  absl::Status UpdateStoreConfig(const StoreKey& key, const std::string& config_json) override;
  absl::Status DeleteStore(const StoreKey& key) override;

  absl::Status CreateOperation(const OperationRecord& record) override;
  absl::StatusOr<OperationRecord> GetOperation(const DatasetKey& dataset,
                                               const std::string& operation_id) override;
  absl::StatusOr<std::vector<OperationRecord>> ListOperations(const DatasetKey& dataset,
                                                              std::optional<bool> done_filter,
                                                              const std::string& after,
                                                              int limit) override;
  absl::Status UpdateOperation(const OperationRecord& record) override;

  absl::StatusOr<PolicyRecord> GetPolicy(const std::string& resource) override;
  absl::Status SetPolicy(const PolicyRecord& record,
                         const std::optional<std::string>& expected_etag) override;

  InstanceIndex* instances() override;

 private:
  SqliteIndex(std::unique_ptr<sqlite::Db> db,
              std::unique_ptr<sqlite::WalCheckpointer> checkpointer);

  // Helpers below run with mu_ held.
  absl::StatusOr<int64_t> FindDatasetId(const DatasetKey& key);
  // Deletes the policy of `resource` and of every resource named under it.
  absl::Status DeletePoliciesUnder(const std::string& resource);

  // Concurrency: one connection behind one mutex, so every method runs alone. That is simple
  // and correct (SQLite has a single writer anyway, and with synchronous=FULL each commit costs
  // an fsync). Its price is that reads wait behind writes; when that matters, add a pool of
  // read-only connections (WAL lets readers run beside the writer) and a group-committing
  // writer (DESIGN.md §5).
  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
  // Checkpoints db_'s WAL off the commit path (absent for an in-memory database); declared
  // after db_ so it is stopped before db_ closes.
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;
  // The DICOM rows (sqlite_instance_index.h), sharing db_ and mu_; declared last so it is
  // destroyed first.
  std::unique_ptr<SqliteInstanceIndex> instances_;
};

}  // namespace dicomstore::index

#endif  // DICOMSTORE_INDEX_SQLITE_INDEX_H_
