#include "index/sqlite_index.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "index/sqlite_checkpointer.h"
#include "index/sqlite_db.h"
#include "index/sqlite_instance_index.h"
#include "index/sqlite_schema.h"

namespace dicomstore::index {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

std::string DatasetName(const DatasetKey& key) {
  return absl::StrCat("projects/", key.project, "/locations/", key.location, "/datasets/",
                      key.dataset);
}

std::string StoreName(const StoreKey& key) {
  return absl::StrCat(DatasetName(key.dataset), "/dicomStores/", key.store);
}

absl::Status DatasetNotFound(const DatasetKey& key) {
  return absl::NotFoundError(absl::StrCat("dataset not found: ", DatasetName(key)));
}

absl::Status StoreNotFound(const StoreKey& key) {
  return absl::NotFoundError(absl::StrCat("DICOM store not found: ", StoreName(key)));
}

absl::Status OperationNotFound(const DatasetKey& key, const std::string& operation_id) {
  return absl::NotFoundError(
      absl::StrCat("operation not found: ", DatasetName(key), "/operations/", operation_id));
}

// Binds a dataset key to parameters ?1 ?2 ?3 (the convention of every statement below that
// addresses a dataset by name).
void BindDatasetKey(Statement& stmt, const DatasetKey& key) {
  stmt.BindText(1, key.project).BindText(2, key.location).BindText(3, key.dataset);
}

// Operation columns, in the order ReadOperation expects them.
#define OPERATION_COLUMNS                                                                \
  "o.operation_id, o.api_method_name, o.create_time_micros, o.end_time_micros, o.done, " \
  "o.cancel_requested, o.success_count, o.failure_count, o.pending_count, "              \
  "o.response_json, o.error_json, o.extra_json"

OperationRecord ReadOperation(const Statement& stmt, const DatasetKey& dataset) {
  OperationRecord record;
  record.dataset = dataset;
  record.operation_id = stmt.ColumnText(0);
  record.api_method_name = stmt.ColumnText(1);
  record.create_time_micros = stmt.ColumnInt(2);
  record.end_time_micros = stmt.ColumnInt(3);
  record.done = stmt.ColumnBool(4);
  record.cancel_requested = stmt.ColumnBool(5);
  record.success = stmt.ColumnInt(6);
  record.failure = stmt.ColumnInt(7);
  record.pending = stmt.ColumnInt(8);
  record.response_json = stmt.ColumnText(9);
  record.error_json = stmt.ColumnText(10);
  record.extra_json = stmt.ColumnText(11);
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteIndex>> SqliteIndex::Open(const std::string& path) {
  DS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db, sqlite::Db::Open(path));
  DS_RETURN_IF_ERROR(sqlite::MigrateSchema(*db));
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer;
  if (path != ":memory:") {
    DS_ASSIGN_OR_RETURN(checkpointer, sqlite::WalCheckpointer::Start(path, db.get()));
  }
  return std::unique_ptr<SqliteIndex>(new SqliteIndex(std::move(db), std::move(checkpointer)));
}

absl::StatusOr<std::unique_ptr<Index>> OpenSqliteIndex(const std::string& path) {
  DS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteIndex> index, SqliteIndex::Open(path));
  return std::unique_ptr<Index>(std::move(index));
}

SqliteIndex::SqliteIndex(std::unique_ptr<sqlite::Db> db,
                         std::unique_ptr<sqlite::WalCheckpointer> checkpointer)
    : db_(std::move(db)),
      checkpointer_(std::move(checkpointer)),
      instances_(std::make_unique<SqliteInstanceIndex>(*db_, mu_)) {}

SqliteIndex::~SqliteIndex() = default;

InstanceIndex* SqliteIndex::instances() { return instances_.get(); }

absl::StatusOr<int64_t> SqliteIndex::FindDatasetId(const DatasetKey& key) {
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT dataset_id FROM datasets "
                                   "WHERE project = ?1 AND location = ?2 AND dataset = ?3"));
  BindDatasetKey(stmt, key);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return DatasetNotFound(key);
  return stmt.ColumnInt(0);
}

absl::Status SqliteIndex::DeletePoliciesUnder(const std::string& resource) {
  // Descendants are the names starting with "<resource>/". Under BINARY collation they are
  // exactly the range ["<resource>/", "<resource>0"), '0' being the byte after '/'. A range
  // (unlike LIKE, where '_' and '%' in ids would be wildcards) is exact and uses the key index.
  DS_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("DELETE FROM iam_policies WHERE resource = ?1 "
                                                   "OR (resource >= ?2 AND resource < ?3)"));
  stmt.BindText(1, resource)
      .BindText(2, absl::StrCat(resource, "/"))
      .BindText(3, absl::StrCat(resource, "0"));
  return stmt.Run();
}

// ---------------------------------------------------------------------------------------------
// Datasets

absl::Status SqliteIndex::CreateDataset(const DatasetRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(*db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  {
    DS_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("INSERT INTO datasets (project, location, "
                                                     "dataset, time_zone, extra_json, "
                                                     "create_time_micros) "
                                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    BindDatasetKey(stmt, record.key);
    stmt.BindText(4, record.time_zone)
        .BindText(5, record.extra_json)
        .BindInt(6, record.create_time_micros);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  DS_RETURN_IF_ERROR(DeletePoliciesUnder(DatasetName(record.key)));
  return txn.Commit();
}

absl::StatusOr<DatasetRecord> SqliteIndex::GetDataset(const DatasetKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT time_zone, extra_json, create_time_micros FROM datasets "
                                   "WHERE project = ?1 AND location = ?2 AND dataset = ?3"));
  BindDatasetKey(stmt, key);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return DatasetNotFound(key);
  DatasetRecord record;
  record.key = key;
  record.time_zone = stmt.ColumnText(0);
  record.extra_json = stmt.ColumnText(1);
  record.create_time_micros = stmt.ColumnInt(2);
  return record;
}

absl::StatusOr<std::vector<DatasetRecord>> SqliteIndex::ListDatasets(const std::string& project,
                                                                     const std::string& location,
                                                                     const std::string& after,
                                                                     int limit) {
  std::vector<DatasetRecord> records;
  if (limit <= 0) return records;
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT dataset, time_zone, extra_json, create_time_micros "
                                   "FROM datasets WHERE project = ?1 AND location = ?2 "
                                   "AND dataset > ?3 ORDER BY dataset LIMIT ?4"));
  stmt.BindText(1, project).BindText(2, location).BindText(3, after).BindInt(4, limit);
  while (true) {
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    DatasetRecord& record = records.emplace_back();
    record.key = DatasetKey{project, location, stmt.ColumnText(0)};
    record.time_zone = stmt.ColumnText(1);
    record.extra_json = stmt.ColumnText(2);
    record.create_time_micros = stmt.ColumnInt(3);
  }
  return records;
}

absl::Status SqliteIndex::UpdateDataset(const DatasetRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("UPDATE datasets SET time_zone = ?4, extra_json = ?5 "
                                   "WHERE project = ?1 AND location = ?2 AND dataset = ?3"));
  BindDatasetKey(stmt, record.key);
  stmt.BindText(4, record.time_zone).BindText(5, record.extra_json);
  DS_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return DatasetNotFound(record.key);
  return absl::OkStatus();
}

absl::Status SqliteIndex::DeleteDataset(const DatasetKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(*db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  DS_ASSIGN_OR_RETURN(int64_t dataset_id, FindDatasetId(key));
  DS_RETURN_IF_ERROR(DeletePoliciesUnder(DatasetName(key)));
  {
    // Stores, operations and everything stores hold go by ON DELETE CASCADE.
    DS_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("DELETE FROM datasets WHERE dataset_id = ?1"));
    stmt.BindInt(1, dataset_id);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  return txn.Commit();
}

// ---------------------------------------------------------------------------------------------
// DICOM stores

absl::StatusOr<StoreRecord> SqliteIndex::CreateStore(const StoreRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(*db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  DS_ASSIGN_OR_RETURN(int64_t dataset_id, FindDatasetId(record.key.dataset));
  StoreRecord created = record;
  {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("INSERT INTO dicom_stores (dataset_id, store, config_json, "
                                     "create_time_micros) VALUES (?1, ?2, ?3, ?4)"));
    stmt.BindInt(1, dataset_id)
        .BindText(2, record.key.store)
        .BindText(3, record.config_json)
        .BindInt(4, record.create_time_micros);
    DS_RETURN_IF_ERROR(stmt.Run());
    // Reliable here: mu_ guarantees no other insert ran on this connection in between.
    created.store_id = db_->LastInsertRowid();
  }
  DS_RETURN_IF_ERROR(DeletePoliciesUnder(StoreName(record.key)));
  DS_RETURN_IF_ERROR(txn.Commit());
  return created;
}

absl::StatusOr<StoreRecord> SqliteIndex::GetStore(const StoreKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT s.store_id, s.config_json, s.create_time_micros "
                                   "FROM dicom_stores AS s "
                                   "JOIN datasets AS d ON d.dataset_id = s.dataset_id "
                                   "WHERE d.project = ?1 AND d.location = ?2 AND d.dataset = ?3 "
                                   "AND s.store = ?4"));
  BindDatasetKey(stmt, key.dataset);
  stmt.BindText(4, key.store);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return StoreNotFound(key);
  StoreRecord record;
  record.key = key;
  record.store_id = stmt.ColumnInt(0);
  record.config_json = stmt.ColumnText(1);
  record.create_time_micros = stmt.ColumnInt(2);
  return record;
}

absl::StatusOr<std::vector<StoreRecord>> SqliteIndex::ListStores(const DatasetKey& dataset,
                                                                 const std::string& after,
                                                                 int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(int64_t dataset_id, FindDatasetId(dataset));
  std::vector<StoreRecord> records;
  if (limit <= 0) return records;
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT store, store_id, config_json, create_time_micros "
                                   "FROM dicom_stores WHERE dataset_id = ?1 AND store > ?2 "
                                   "ORDER BY store LIMIT ?3"));
  stmt.BindInt(1, dataset_id).BindText(2, after).BindInt(3, limit);
  while (true) {
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    StoreRecord& record = records.emplace_back();
    record.key = StoreKey{dataset, stmt.ColumnText(0)};
    record.store_id = stmt.ColumnInt(1);
    record.config_json = stmt.ColumnText(2);
    record.create_time_micros = stmt.ColumnInt(3);
  }
  return records;
}

absl::Status SqliteIndex::UpdateStoreConfig(const StoreKey& key, const std::string& config_json) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("UPDATE dicom_stores SET config_json = ?5 "
                   "WHERE store = ?4 AND dataset_id = (SELECT dataset_id FROM "
                   "datasets WHERE project = ?1 AND location = ?2 AND dataset = ?3)"));
  BindDatasetKey(stmt, key.dataset);
  stmt.BindText(4, key.store).BindText(5, config_json);
  DS_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return StoreNotFound(key);
  return absl::OkStatus();
}

absl::Status SqliteIndex::DeleteStore(const StoreKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(*db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("DELETE FROM dicom_stores WHERE store = ?4 AND dataset_id = "
                                     "(SELECT dataset_id FROM datasets "
                                     "WHERE project = ?1 AND location = ?2 AND dataset = ?3)"));
    BindDatasetKey(stmt, key.dataset);
    stmt.BindText(4, key.store);
    DS_RETURN_IF_ERROR(stmt.Run());
    if (db_->Changes() == 0) return StoreNotFound(key);
  }
  DS_RETURN_IF_ERROR(DeletePoliciesUnder(StoreName(key)));
  return txn.Commit();
}

// ---------------------------------------------------------------------------------------------
// Operations

absl::Status SqliteIndex::CreateOperation(const OperationRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  // INSERT ... SELECT resolves the dataset and inserts in one atomic statement: no row
  // inserted means the dataset is missing.
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("INSERT INTO operations (operation_id, dataset_id, api_method_name, "
                   "create_time_micros, end_time_micros, done, cancel_requested, success_count, "
                   "failure_count, pending_count, response_json, error_json, extra_json) "
                   "SELECT ?4, dataset_id, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15 "
                   "FROM datasets WHERE project = ?1 AND location = ?2 AND dataset = ?3"));
  BindDatasetKey(stmt, record.dataset);
  stmt.BindText(4, record.operation_id)
      .BindText(5, record.api_method_name)
      .BindInt(6, record.create_time_micros)
      .BindInt(7, record.end_time_micros)
      .BindBool(8, record.done)
      .BindBool(9, record.cancel_requested)
      .BindInt(10, record.success)
      .BindInt(11, record.failure)
      .BindInt(12, record.pending)
      .BindText(13, record.response_json)
      .BindText(14, record.error_json)
      .BindText(15, record.extra_json);
  DS_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return DatasetNotFound(record.dataset);
  return absl::OkStatus();
}

absl::StatusOr<OperationRecord> SqliteIndex::GetOperation(const DatasetKey& dataset,
                                                          const std::string& operation_id) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT " OPERATION_COLUMNS " FROM operations AS o "
                                   "JOIN datasets AS d ON d.dataset_id = o.dataset_id "
                                   "WHERE d.project = ?1 AND d.location = ?2 AND d.dataset = ?3 "
                                   "AND o.operation_id = ?4"));
  BindDatasetKey(stmt, dataset);
  stmt.BindText(4, operation_id);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return OperationNotFound(dataset, operation_id);
  return ReadOperation(stmt, dataset);
}

absl::StatusOr<std::vector<OperationRecord>> SqliteIndex::ListOperations(
    const DatasetKey& dataset, std::optional<bool> done_filter, const std::string& after,
    int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(int64_t dataset_id, FindDatasetId(dataset));
  std::vector<OperationRecord> records;
  if (limit <= 0) return records;
  // One statement for both cases: a NULL ?3 disables the done filter.
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("SELECT " OPERATION_COLUMNS " FROM operations AS o WHERE o.dataset_id = ?1 "
                   "AND o.operation_id > ?2 AND (?3 IS NULL OR o.done = ?3) "
                   "ORDER BY o.operation_id LIMIT ?4"));
  stmt.BindInt(1, dataset_id).BindText(2, after).BindInt(4, limit);
  if (done_filter.has_value()) {
    stmt.BindBool(3, *done_filter);
  } else {
    stmt.BindNull(3);
  }
  while (true) {
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    records.push_back(ReadOperation(stmt, dataset));
  }
  return records;
}

absl::Status SqliteIndex::UpdateOperation(const OperationRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("UPDATE operations SET api_method_name = ?5, end_time_micros = ?6, done = ?7, "
                   "cancel_requested = ?8, success_count = ?9, failure_count = ?10, "
                   "pending_count = ?11, response_json = ?12, error_json = ?13, extra_json = ?14 "
                   "WHERE operation_id = ?4 AND dataset_id = (SELECT dataset_id FROM datasets "
                   "WHERE project = ?1 AND location = ?2 AND dataset = ?3)"));
  BindDatasetKey(stmt, record.dataset);
  stmt.BindText(4, record.operation_id)
      .BindText(5, record.api_method_name)
      .BindInt(6, record.end_time_micros)
      .BindBool(7, record.done)
      .BindBool(8, record.cancel_requested)
      .BindInt(9, record.success)
      .BindInt(10, record.failure)
      .BindInt(11, record.pending)
      .BindText(12, record.response_json)
      .BindText(13, record.error_json)
      .BindText(14, record.extra_json);
  DS_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return OperationNotFound(record.dataset, record.operation_id);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// IAM policies

absl::StatusOr<PolicyRecord> SqliteIndex::GetPolicy(const std::string& resource) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("SELECT policy_json, etag FROM iam_policies "
                                                   "WHERE resource = ?1"));
  stmt.BindText(1, resource);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no IAM policy set on ", resource));
  return PolicyRecord{resource, stmt.ColumnText(0), stmt.ColumnText(1)};
}

absl::Status SqliteIndex::SetPolicy(const PolicyRecord& record,
                                    const std::optional<std::string>& expected_etag) {
  std::lock_guard<std::mutex> lock(mu_);
  // Read-compare-write in one IMMEDIATE transaction: the etag check holds against other
  // processes writing the same file too, not only against threads behind mu_.
  Transaction txn(*db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  if (expected_etag.has_value()) {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("SELECT etag FROM iam_policies WHERE resource = ?1"));
    stmt.BindText(1, record.resource);
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::string current = row ? stmt.ColumnText(0) : "";
    if (current != *expected_etag) {
      return absl::AbortedError(
          absl::StrCat("etag mismatch for the IAM policy of ", record.resource));
    }
  }
  {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("INSERT INTO iam_policies (resource, policy_json, etag) "
                                     "VALUES (?1, ?2, ?3) ON CONFLICT (resource) DO UPDATE SET "
                                     "policy_json = excluded.policy_json, etag = excluded.etag"));
    stmt.BindText(1, record.resource).BindText(2, record.policy_json).BindText(3, record.etag);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  return txn.Commit();
}

#undef OPERATION_COLUMNS

}  // namespace dicomstore::index
