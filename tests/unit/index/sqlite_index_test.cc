#include "index/sqlite_index.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "index/sqlite_schema.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace dicomstore::index {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using dicomstore::testing::IsOk;
using dicomstore::testing::StatusIs;

const DatasetKey kDs{"proj", "us-central1", "ds"};

DatasetRecord Dataset(const DatasetKey& key, std::string time_zone = "",
                      int64_t create_time = 1000) {
  return DatasetRecord{key, std::move(time_zone), "", create_time};
}

StoreRecord Store(const DatasetKey& dataset, const std::string& store, std::string config = "{}") {
  return StoreRecord{StoreKey{dataset, store}, 0, std::move(config), 2000};
}

OperationRecord Operation(const DatasetKey& dataset, const std::string& id, bool done = false) {
  OperationRecord op;
  op.dataset = dataset;
  op.operation_id = id;
  op.api_method_name = "google.cloud.healthcare.v1.dicom.DicomService.ImportDicomData";
  op.create_time_micros = 3000;
  op.done = done;
  return op;
}

std::string DatasetName(const DatasetKey& key) {
  return absl::StrCat("projects/", key.project, "/locations/", key.location, "/datasets/",
                      key.dataset);
}
std::string StoreName(const DatasetKey& key, const std::string& store) {
  return absl::StrCat(DatasetName(key), "/dicomStores/", store);
}

std::vector<std::string> DatasetIds(const std::vector<DatasetRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.key.dataset);
  return ids;
}
std::vector<std::string> StoreIds(const std::vector<StoreRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.key.store);
  return ids;
}
std::vector<std::string> OperationIds(const std::vector<OperationRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.operation_id);
  return ids;
}

using dicomstore::testing::TempDir;

// Every behavioural test runs against an in-memory and an on-disk database.
class SqliteIndexTest : public ::testing::TestWithParam<bool /*on_disk*/> {
 protected:
  void SetUp() override {
    path_ = GetParam() ? dir_.File("index.db") : ":memory:";
    auto index = OpenSqliteIndex(path_);
    ASSERT_THAT(index, IsOk());
    index_ = std::move(*index);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Index> index_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SqliteIndexTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "File" : "Memory"; });

// ---------------------------------------------------------------------------------------------
// Datasets

TEST_P(SqliteIndexTest, DatasetCreateGetUpdateDelete) {
  DatasetRecord record = Dataset(kDs, "Europe/Paris", 42);
  record.extra_json = R"({"labels":{"a":"b"}})";
  ASSERT_THAT(index_->CreateDataset(record), IsOk());

  auto got = index_->GetDataset(kDs);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key, kDs);
  EXPECT_EQ(got->time_zone, "Europe/Paris");
  EXPECT_EQ(got->extra_json, R"({"labels":{"a":"b"}})");
  EXPECT_EQ(got->create_time_micros, 42);

  DatasetRecord update = record;
  update.time_zone = "UTC";
  update.extra_json = "";
  update.create_time_micros = 99;  // immutable: must be ignored
  ASSERT_THAT(index_->UpdateDataset(update), IsOk());
  got = index_->GetDataset(kDs);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->time_zone, "UTC");
  EXPECT_EQ(got->extra_json, "");
  EXPECT_EQ(got->create_time_micros, 42);

  ASSERT_THAT(index_->DeleteDataset(kDs), IsOk());
  EXPECT_THAT(index_->GetDataset(kDs), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->DeleteDataset(kDs), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SqliteIndexTest, DatasetErrors) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  EXPECT_THAT(index_->CreateDataset(Dataset(kDs, "UTC")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // The failed create left the original intact.
  EXPECT_EQ(index_->GetDataset(kDs)->time_zone, "");

  DatasetKey other{"proj", "us-central1", "other"};
  EXPECT_THAT(index_->GetDataset(other), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->UpdateDataset(Dataset(other)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->DeleteDataset(other), StatusIs(absl::StatusCode::kNotFound));
  // Same id under another project or location is a different dataset.
  EXPECT_THAT(index_->CreateDataset(Dataset({"proj2", "us-central1", "ds"})), IsOk());
  EXPECT_THAT(index_->CreateDataset(Dataset({"proj", "europe-west4", "ds"})), IsOk());
}

TEST_P(SqliteIndexTest, ListDatasetsIsByteOrderedAndPaginated) {
  // Inserted out of order; byte order puts upper case first and '-' (0x2d) before '_' (0x5f).
  for (const char* id : {"ab", "a_1", "B", "a", "a-1"}) {
    ASSERT_THAT(index_->CreateDataset(Dataset({"proj", "loc", id})), IsOk());
  }
  ASSERT_THAT(index_->CreateDataset(Dataset({"proj", "other-loc", "a0"})), IsOk());
  ASSERT_THAT(index_->CreateDataset(Dataset({"other-proj", "loc", "a0"})), IsOk());

  auto all = index_->ListDatasets("proj", "loc", "", 100);
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(DatasetIds(*all), ElementsAre("B", "a", "a-1", "a_1", "ab"));
  EXPECT_EQ((*all)[0].key.project, "proj");
  EXPECT_EQ((*all)[0].key.location, "loc");

  auto page1 = index_->ListDatasets("proj", "loc", "", 2);
  ASSERT_THAT(page1, IsOk());
  EXPECT_THAT(DatasetIds(*page1), ElementsAre("B", "a"));
  auto page2 = index_->ListDatasets("proj", "loc", page1->back().key.dataset, 2);
  ASSERT_THAT(page2, IsOk());
  EXPECT_THAT(DatasetIds(*page2), ElementsAre("a-1", "a_1"));
  auto page3 = index_->ListDatasets("proj", "loc", page2->back().key.dataset, 2);
  ASSERT_THAT(page3, IsOk());
  EXPECT_THAT(DatasetIds(*page3), ElementsAre("ab"));
  auto page4 = index_->ListDatasets("proj", "loc", "ab", 2);
  ASSERT_THAT(page4, IsOk());
  EXPECT_THAT(*page4, IsEmpty());

  // `after` need not be an existing id.
  auto from_middle = index_->ListDatasets("proj", "loc", "a0", 10);
  ASSERT_THAT(from_middle, IsOk());
  EXPECT_THAT(DatasetIds(*from_middle), ElementsAre("a_1", "ab"));

  EXPECT_THAT(*index_->ListDatasets("proj", "loc", "", 0), IsEmpty());
  EXPECT_THAT(*index_->ListDatasets("nobody", "loc", "", 10), IsEmpty());
}

TEST_P(SqliteIndexTest, ValuesAreBoundNotInterpolated) {
  DatasetKey key{"p'; DROP TABLE datasets; --", "loc\"", "ds%_"};
  ASSERT_THAT(index_->CreateDataset(Dataset(key, "it's")), IsOk());
  auto got = index_->GetDataset(key);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->time_zone, "it's");
  // '%' and '_' are not wildcards anywhere.
  EXPECT_THAT(index_->GetDataset({key.project, key.location, "dsxy"}),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------------------------
// DICOM stores

TEST_P(SqliteIndexTest, StoreCreateGetUpdateDelete) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  auto created = index_->CreateStore(Store(kDs, "s1", R"({"labels":{"x":"y"}})"));
  ASSERT_THAT(created, IsOk());
  EXPECT_GT(created->store_id, 0);
  EXPECT_EQ(created->key, (StoreKey{kDs, "s1"}));

  auto got = index_->GetStore({kDs, "s1"});
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->store_id, created->store_id);
  EXPECT_EQ(got->config_json, R"({"labels":{"x":"y"}})");
  EXPECT_EQ(got->create_time_micros, 2000);

  ASSERT_THAT(index_->UpdateStoreConfig({kDs, "s1"}, R"({"labels":{}})"), IsOk());
  got = index_->GetStore({kDs, "s1"});
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->config_json, R"({"labels":{}})");
  EXPECT_EQ(got->store_id, created->store_id);

  ASSERT_THAT(index_->DeleteStore({kDs, "s1"}), IsOk());
  EXPECT_THAT(index_->GetStore({kDs, "s1"}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->DeleteStore({kDs, "s1"}), StatusIs(absl::StatusCode::kNotFound));
  // The dataset itself is untouched.
  EXPECT_THAT(index_->GetDataset(kDs), IsOk());
}

TEST_P(SqliteIndexTest, StoreErrors) {
  DatasetKey missing{"proj", "us-central1", "missing"};
  EXPECT_THAT(index_->CreateStore(Store(missing, "s")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetStore({missing, "s"}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->ListStores(missing, "", 10), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  ASSERT_THAT(index_->CreateStore(Store(kDs, "s")), IsOk());
  EXPECT_THAT(index_->CreateStore(Store(kDs, "s", R"({"other":1})")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(index_->GetStore({kDs, "s"})->config_json, "{}");
  EXPECT_THAT(index_->UpdateStoreConfig({kDs, "nope"}, "{}"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->UpdateStoreConfig({missing, "s"}, "{}"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->DeleteStore({kDs, "nope"}), StatusIs(absl::StatusCode::kNotFound));

  // The same store id in another dataset is another store.
  DatasetKey ds2{"proj", "us-central1", "ds2"};
  ASSERT_THAT(index_->CreateDataset(Dataset(ds2)), IsOk());
  auto other = index_->CreateStore(Store(ds2, "s"));
  ASSERT_THAT(other, IsOk());
  EXPECT_NE(other->store_id, index_->GetStore({kDs, "s"})->store_id);
  ASSERT_THAT(index_->DeleteStore({ds2, "s"}), IsOk());
  EXPECT_THAT(index_->GetStore({kDs, "s"}), IsOk());
}

TEST_P(SqliteIndexTest, StoreIdsAreNeverReused) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  auto a = index_->CreateStore(Store(kDs, "a"));
  auto b = index_->CreateStore(Store(kDs, "b"));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_GT(b->store_id, a->store_id);
  // Deleting the highest id is what makes a plain rowid table hand it out again.
  ASSERT_THAT(index_->DeleteStore({kDs, "b"}), IsOk());
  auto b_again = index_->CreateStore(Store(kDs, "b"));
  ASSERT_THAT(b_again, IsOk());
  EXPECT_GT(b_again->store_id, b->store_id);

  // Also across a dataset delete.
  ASSERT_THAT(index_->DeleteDataset(kDs), IsOk());
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  auto c = index_->CreateStore(Store(kDs, "b"));
  ASSERT_THAT(c, IsOk());
  EXPECT_GT(c->store_id, b_again->store_id);
}

TEST_P(SqliteIndexTest, ListStoresPaginates) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  DatasetKey ds2{"proj", "us-central1", "ds2"};
  ASSERT_THAT(index_->CreateDataset(Dataset(ds2)), IsOk());
  for (const char* id : {"s3", "S9", "s1", "s10", "s2"}) {
    ASSERT_THAT(index_->CreateStore(Store(kDs, id)), IsOk());
  }
  ASSERT_THAT(index_->CreateStore(Store(ds2, "s0")), IsOk());

  auto page1 = index_->ListStores(kDs, "", 3);
  ASSERT_THAT(page1, IsOk());
  EXPECT_THAT(StoreIds(*page1), ElementsAre("S9", "s1", "s10"));
  EXPECT_EQ((*page1)[1].key.dataset, kDs);
  EXPECT_EQ((*page1)[1].store_id, index_->GetStore({kDs, "s1"})->store_id);
  auto page2 = index_->ListStores(kDs, "s10", 3);
  ASSERT_THAT(page2, IsOk());
  EXPECT_THAT(StoreIds(*page2), ElementsAre("s2", "s3"));
  EXPECT_THAT(*index_->ListStores(kDs, "s3", 3), IsEmpty());
  EXPECT_THAT(*index_->ListStores(kDs, "", 0), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Operations

TEST_P(SqliteIndexTest, OperationCreateGetUpdate) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  OperationRecord op = Operation(kDs, "123");
  op.pending = 7;
  op.extra_json = R"({"request":{"gcsSource":{"uri":"gs://b/*"}}})";
  ASSERT_THAT(index_->CreateOperation(op), IsOk());

  auto got = index_->GetOperation(kDs, "123");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->dataset, kDs);
  EXPECT_EQ(got->operation_id, "123");
  EXPECT_EQ(got->api_method_name, op.api_method_name);
  EXPECT_EQ(got->create_time_micros, 3000);
  EXPECT_EQ(got->end_time_micros, 0);
  EXPECT_FALSE(got->done);
  EXPECT_FALSE(got->cancel_requested);
  EXPECT_EQ(got->pending, 7);
  EXPECT_EQ(got->extra_json, op.extra_json);
  EXPECT_EQ(got->response_json, "");
  EXPECT_EQ(got->error_json, "");

  OperationRecord update = *got;
  update.create_time_micros = 1;  // immutable: ignored
  update.end_time_micros = 5000;
  update.done = true;
  update.cancel_requested = true;
  update.success = INT64_C(9000000000);  // beyond 32 bits
  update.failure = 2;
  update.pending = 0;
  update.response_json = R"({"@type":"x"})";
  update.error_json = R"({"code":1})";
  update.extra_json = "{}";
  ASSERT_THAT(index_->UpdateOperation(update), IsOk());
  got = index_->GetOperation(kDs, "123");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->create_time_micros, 3000);
  EXPECT_EQ(got->end_time_micros, 5000);
  EXPECT_TRUE(got->done);
  EXPECT_TRUE(got->cancel_requested);
  EXPECT_EQ(got->success, INT64_C(9000000000));
  EXPECT_EQ(got->failure, 2);
  EXPECT_EQ(got->pending, 0);
  EXPECT_EQ(got->response_json, R"({"@type":"x"})");
  EXPECT_EQ(got->error_json, R"({"code":1})");
  EXPECT_EQ(got->extra_json, "{}");
}

TEST_P(SqliteIndexTest, OperationErrors) {
  DatasetKey missing{"proj", "us-central1", "missing"};
  EXPECT_THAT(index_->CreateOperation(Operation(missing, "1")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->ListOperations(missing, std::nullopt, "", 10),
              StatusIs(absl::StatusCode::kNotFound));

  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  DatasetKey ds2{"proj", "us-central1", "ds2"};
  ASSERT_THAT(index_->CreateDataset(Dataset(ds2)), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "1")), IsOk());
  EXPECT_THAT(index_->CreateOperation(Operation(kDs, "1")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Operation ids are unique across the whole index.
  EXPECT_THAT(index_->CreateOperation(Operation(ds2, "1")),
              StatusIs(absl::StatusCode::kAlreadyExists));

  EXPECT_THAT(index_->GetOperation(kDs, "2"), StatusIs(absl::StatusCode::kNotFound));
  // Addressed under the wrong dataset: not found, and not updatable there.
  EXPECT_THAT(index_->GetOperation(ds2, "1"), StatusIs(absl::StatusCode::kNotFound));
  OperationRecord wrong = Operation(ds2, "1", /*done=*/true);
  EXPECT_THAT(index_->UpdateOperation(wrong), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(index_->GetOperation(kDs, "1")->done);
  EXPECT_THAT(index_->UpdateOperation(Operation(kDs, "2")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SqliteIndexTest, ListOperationsFiltersAndPaginates) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  DatasetKey ds2{"proj", "us-central1", "ds2"};
  ASSERT_THAT(index_->CreateDataset(Dataset(ds2)), IsOk());
  // Byte order of the decimal strings, not numeric order.
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "9", /*done=*/true)), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "10", /*done=*/false)), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "11", /*done=*/true)), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "2", /*done=*/false)), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(ds2, "3", /*done=*/true)), IsOk());

  auto all = index_->ListOperations(kDs, std::nullopt, "", 10);
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(OperationIds(*all), ElementsAre("10", "11", "2", "9"));
  EXPECT_EQ((*all)[0].dataset, kDs);

  auto done = index_->ListOperations(kDs, true, "", 10);
  ASSERT_THAT(done, IsOk());
  EXPECT_THAT(OperationIds(*done), ElementsAre("11", "9"));
  auto running = index_->ListOperations(kDs, false, "", 10);
  ASSERT_THAT(running, IsOk());
  EXPECT_THAT(OperationIds(*running), ElementsAre("10", "2"));

  auto page1 = index_->ListOperations(kDs, std::nullopt, "", 3);
  ASSERT_THAT(page1, IsOk());
  EXPECT_THAT(OperationIds(*page1), ElementsAre("10", "11", "2"));
  auto page2 = index_->ListOperations(kDs, std::nullopt, "2", 3);
  ASSERT_THAT(page2, IsOk());
  EXPECT_THAT(OperationIds(*page2), ElementsAre("9"));
  auto done_after = index_->ListOperations(kDs, true, "11", 1);
  ASSERT_THAT(done_after, IsOk());
  EXPECT_THAT(OperationIds(*done_after), ElementsAre("9"));

  // Completing an operation moves it between the filtered lists.
  OperationRecord op = *index_->GetOperation(kDs, "2");
  op.done = true;
  ASSERT_THAT(index_->UpdateOperation(op), IsOk());
  EXPECT_THAT(OperationIds(*index_->ListOperations(kDs, false, "", 10)), ElementsAre("10"));
  EXPECT_THAT(*index_->ListOperations(kDs, std::nullopt, "", 0), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// IAM policies

TEST_P(SqliteIndexTest, PolicyCompareAndSet) {
  const std::string resource = DatasetName(kDs);
  EXPECT_THAT(index_->GetPolicy(resource), StatusIs(absl::StatusCode::kNotFound));

  // An absent policy has etag "": any other expectation fails.
  EXPECT_THAT(index_->SetPolicy({resource, R"({"bindings":[]})", "e1"}, "e0"),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(index_->GetPolicy(resource), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(index_->SetPolicy({resource, R"({"bindings":[]})", "e1"}, ""), IsOk());
  auto got = index_->GetPolicy(resource);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->resource, resource);
  EXPECT_EQ(got->policy_json, R"({"bindings":[]})");
  EXPECT_EQ(got->etag, "e1");

  // Stale etag (including "" once a policy exists): rejected, nothing changes.
  EXPECT_THAT(index_->SetPolicy({resource, R"({"v":2})", "e2"}, ""),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(index_->SetPolicy({resource, R"({"v":2})", "e2"}, "e0"),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(index_->GetPolicy(resource)->etag, "e1");

  ASSERT_THAT(index_->SetPolicy({resource, R"({"v":2})", "e2"}, "e1"), IsOk());
  EXPECT_EQ(index_->GetPolicy(resource)->policy_json, R"({"v":2})");
  EXPECT_EQ(index_->GetPolicy(resource)->etag, "e2");

  // No expectation: unconditional overwrite.
  ASSERT_THAT(index_->SetPolicy({resource, R"({"v":3})", "e3"}, std::nullopt), IsOk());
  EXPECT_EQ(index_->GetPolicy(resource)->etag, "e3");
  ASSERT_THAT(index_->SetPolicy({"other", "{}", "x"}, std::nullopt), IsOk());
  EXPECT_EQ(index_->GetPolicy(resource)->etag, "e3");
}

// ---------------------------------------------------------------------------------------------
// Cascades

TEST_P(SqliteIndexTest, DeleteDatasetCascades) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  auto s1 = index_->CreateStore(Store(kDs, "s1"));
  ASSERT_THAT(s1, IsOk());
  ASSERT_THAT(index_->CreateStore(Store(kDs, "s2")), IsOk());
  ASSERT_THAT(index_->CreateOperation(Operation(kDs, "1")), IsOk());
  ASSERT_THAT(index_->SetPolicy({DatasetName(kDs), "{}", "d"}, std::nullopt), IsOk());
  ASSERT_THAT(index_->SetPolicy({StoreName(kDs, "s1"), "{}", "s"}, std::nullopt), IsOk());

  // Neighbours whose names share a prefix with the dataset's, or sort right next to the range
  // of its children ('.' < '/' < '0'): they must survive.
  std::vector<DatasetKey> neighbours = {{kDs.project, kDs.location, kDs.dataset + "0"},
                                        {kDs.project, kDs.location, kDs.dataset + "."},
                                        {kDs.project, kDs.location, kDs.dataset + "x"},
                                        {kDs.project, kDs.location, kDs.dataset + "-1"}};
  for (const DatasetKey& n : neighbours) {
    ASSERT_THAT(index_->CreateDataset(Dataset(n)), IsOk());
    ASSERT_THAT(index_->CreateStore(Store(n, "s1")), IsOk());
    ASSERT_THAT(index_->SetPolicy({DatasetName(n), "{}", "n"}, std::nullopt), IsOk());
    ASSERT_THAT(index_->SetPolicy({StoreName(n, "s1"), "{}", "n"}, std::nullopt), IsOk());
  }
  ASSERT_THAT(index_->CreateOperation(Operation(neighbours[0], "2")), IsOk());

  ASSERT_THAT(index_->DeleteDataset(kDs), IsOk());
  EXPECT_THAT(index_->GetStore({kDs, "s1"}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetOperation(kDs, "1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetPolicy(DatasetName(kDs)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s1")), StatusIs(absl::StatusCode::kNotFound));
  for (const DatasetKey& n : neighbours) {
    SCOPED_TRACE(n.dataset);
    EXPECT_THAT(index_->GetStore({n, "s1"}), IsOk());
    EXPECT_THAT(index_->GetPolicy(DatasetName(n)), IsOk());
    EXPECT_THAT(index_->GetPolicy(StoreName(n, "s1")), IsOk());
  }
  EXPECT_THAT(index_->GetOperation(neighbours[0], "2"), IsOk());
  // The operation id is free again.
  EXPECT_THAT(index_->CreateOperation(Operation(neighbours[1], "1")), IsOk());

  // A same-named dataset created later starts empty.
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  EXPECT_THAT(*index_->ListStores(kDs, "", 10), IsEmpty());
  EXPECT_THAT(*index_->ListOperations(kDs, std::nullopt, "", 10), IsEmpty());
  EXPECT_THAT(index_->GetStore({kDs, "s1"}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetPolicy(DatasetName(kDs)), StatusIs(absl::StatusCode::kNotFound));
  auto s1_again = index_->CreateStore(Store(kDs, "s1"));
  ASSERT_THAT(s1_again, IsOk());
  EXPECT_NE(s1_again->store_id, s1->store_id);
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s1")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SqliteIndexTest, DeleteStoreRemovesOnlyItsPolicy) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  for (const char* id : {"s", "s2", "s.x"}) {
    ASSERT_THAT(index_->CreateStore(Store(kDs, id)), IsOk());
    ASSERT_THAT(index_->SetPolicy({StoreName(kDs, id), "{}", "e"}, std::nullopt), IsOk());
  }
  ASSERT_THAT(index_->SetPolicy({DatasetName(kDs), "{}", "e"}, std::nullopt), IsOk());

  ASSERT_THAT(index_->DeleteStore({kDs, "s"}), IsOk());
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s2")), IsOk());
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s.x")), IsOk());
  EXPECT_THAT(index_->GetPolicy(DatasetName(kDs)), IsOk());
}

TEST_P(SqliteIndexTest, CreateDropsPoliciesLeftUnderTheName) {
  // E.g. a policy set by a request that raced with the resource's deletion.
  ASSERT_THAT(index_->SetPolicy({DatasetName(kDs), "{}", "old"}, std::nullopt), IsOk());
  ASSERT_THAT(index_->SetPolicy({StoreName(kDs, "s"), "{}", "old"}, std::nullopt), IsOk());
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  EXPECT_THAT(index_->GetPolicy(DatasetName(kDs)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "s")), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_THAT(index_->SetPolicy({StoreName(kDs, "t"), "{}", "old"}, std::nullopt), IsOk());
  ASSERT_THAT(index_->SetPolicy({DatasetName(kDs), "{}", "keep"}, std::nullopt), IsOk());
  ASSERT_THAT(index_->CreateStore(Store(kDs, "t")), IsOk());
  EXPECT_THAT(index_->GetPolicy(StoreName(kDs, "t")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(index_->GetPolicy(DatasetName(kDs))->etag, "keep");
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_P(SqliteIndexTest, ConcurrentStoreCreates) {
  ASSERT_THAT(index_->CreateDataset(Dataset(kDs)), IsOk());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto created = index_->CreateStore(Store(kDs, absl::StrCat("t", t, "-", i)));
        if (!created.ok()) {
          ++failures;
          continue;
        }
        ids[t].push_back(created->store_id);
        // Interleave reads with the writes of other threads.
        if (!index_->GetStore(created->key).ok()) ++failures;
        if (!index_->ListStores(kDs, "", 5).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  std::set<int64_t> distinct;
  for (const auto& per_thread : ids) distinct.insert(per_thread.begin(), per_thread.end());
  EXPECT_THAT(distinct, SizeIs(kThreads * kPerThread));
  auto listed = index_->ListStores(kDs, "", 1000);
  ASSERT_THAT(listed, IsOk());
  EXPECT_THAT(*listed, SizeIs(kThreads * kPerThread));
}

TEST_P(SqliteIndexTest, ConcurrentPolicyReadModifyWriteLosesNoUpdate) {
  // Each thread increments a counter stored in the policy through compare-and-set, retrying
  // on ABORTED: the final value counts every increment exactly once.
  const std::string resource = DatasetName(kDs);
  ASSERT_THAT(index_->SetPolicy({resource, "0", "etag-0"}, std::nullopt), IsOk());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements;) {
        auto current = index_->GetPolicy(resource);
        if (!current.ok()) {
          ++unexpected;
          return;
        }
        int value = std::stoi(current->policy_json) + 1;
        absl::Status status = index_->SetPolicy(
            {resource, std::to_string(value), absl::StrCat("etag-", t, "-", i)}, current->etag);
        if (status.ok()) {
          ++i;
        } else if (status.code() != absl::StatusCode::kAborted) {
          ++unexpected;
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(index_->GetPolicy(resource)->policy_json, std::to_string(kThreads * kIncrements));
}

// ---------------------------------------------------------------------------------------------
// On-disk specifics

class SqliteIndexFileTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(SqliteIndexFileTest, EverythingSurvivesReopen) {
  const std::string path = dir_.File("index.db");
  int64_t deleted_store_id = 0;
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
    DatasetRecord ds = Dataset(kDs, "Asia/Tokyo", 77);
    ds.extra_json = R"({"labels":{"k":"v"}})";
    ASSERT_THAT((*index)->CreateDataset(ds), IsOk());
    ASSERT_THAT((*index)->CreateStore(Store(kDs, "keep", R"({"a":1})")), IsOk());
    auto gone = (*index)->CreateStore(Store(kDs, "gone"));
    ASSERT_THAT(gone, IsOk());
    deleted_store_id = gone->store_id;
    ASSERT_THAT((*index)->DeleteStore({kDs, "gone"}), IsOk());
    OperationRecord op = Operation(kDs, "42", /*done=*/true);
    op.success = 5;
    op.response_json = R"({"r":1})";
    ASSERT_THAT((*index)->CreateOperation(op), IsOk());
    ASSERT_THAT((*index)->SetPolicy({DatasetName(kDs), R"({"b":[]})", "e1"}, ""), IsOk());
  }
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
    auto ds = (*index)->GetDataset(kDs);
    ASSERT_THAT(ds, IsOk());
    EXPECT_EQ(ds->time_zone, "Asia/Tokyo");
    EXPECT_EQ(ds->extra_json, R"({"labels":{"k":"v"}})");
    EXPECT_EQ(ds->create_time_micros, 77);

    auto stores = (*index)->ListStores(kDs, "", 10);
    ASSERT_THAT(stores, IsOk());
    EXPECT_THAT(StoreIds(*stores), ElementsAre("keep"));
    EXPECT_EQ((*stores)[0].config_json, R"({"a":1})");

    auto op = (*index)->GetOperation(kDs, "42");
    ASSERT_THAT(op, IsOk());
    EXPECT_TRUE(op->done);
    EXPECT_EQ(op->success, 5);
    EXPECT_EQ(op->response_json, R"({"r":1})");

    auto policy = (*index)->GetPolicy(DatasetName(kDs));
    ASSERT_THAT(policy, IsOk());
    EXPECT_EQ(policy->etag, "e1");
    EXPECT_EQ(policy->policy_json, R"({"b":[]})");

    // The id high-water mark is persistent too.
    auto next = (*index)->CreateStore(Store(kDs, "next"));
    ASSERT_THAT(next, IsOk());
    EXPECT_GT(next->store_id, deleted_store_id);
  }
}

// Reads one integer/text pragma straight from the file, bypassing the index.
std::string RawPragma(const std::string& path, const std::string& pragma) {
  sqlite3* db = nullptr;
  std::string result;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, pragma.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  return result;
}

TEST_F(SqliteIndexFileTest, FileIsWalAndVersioned) {
  const std::string path = dir_.File("index.db");
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
  }
  EXPECT_EQ(RawPragma(path, "PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_EQ(RawPragma(path, "PRAGMA user_version"), std::to_string(sqlite::LatestSchemaVersion()));
  // Reopening an up-to-date file is a no-op migration.
  EXPECT_THAT(OpenSqliteIndex(path), IsOk());
}

TEST_F(SqliteIndexFileTest, RefusesNewerSchema) {
  const std::string path = dir_.File("index.db");
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
  }
  RawPragma(path, absl::StrCat("PRAGMA user_version = ", sqlite::LatestSchemaVersion() + 1));
  EXPECT_THAT(OpenSqliteIndex(path), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteIndexFileTest, OpenFailsOnUnusablePath) {
  EXPECT_THAT(OpenSqliteIndex(dir_.File("no/such/dir/index.db")),
              StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace dicomstore::index
