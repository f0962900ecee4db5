// Tests of the DICOM rows of the SQLite index (InstanceIndex through SqliteIndex::instances()).
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "index/instance_index.h"
#include "index/sqlite_schema.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace dicomstore::index {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Whether some row has exactly this blob key (LastBlobKey with the whole key as prefix).
bool HasBlob(InstanceIndex* index, const std::string& key) {
  absl::StatusOr<std::optional<std::string>> last = index->LastBlobKey(key);
  EXPECT_TRUE(last.ok()) << last.status();
  return last.ok() && last->has_value() && **last == key;
}
using ::testing::UnorderedElementsAre;
using Level = SearchQuery::Level;
using enum InsertOutcome;

using dicomstore::testing::IsOk;
using dicomstore::testing::StatusIs;

const DatasetKey kDs{"proj", "us-central1", "ds"};
const DatasetKey kOtherDs{"proj", "us-central1", "other"};

using dicomstore::testing::TempDir;

// A complete record with distinct, predictable values; tests override what they look at.
InstanceRecord Rec(int64_t store, const std::string& study, const std::string& series,
                   const std::string& sop) {
  InstanceRecord r;
  r.store_id = store;
  r.study_uid = study;
  r.series_uid = series;
  r.sop_instance_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.patient_name = "Doe^John";
  r.patient_name_words = "DOE JOHN";
  r.patient_id = "PID";
  r.accession_number = "ACC";
  r.referring_physician_name = "House^Gregory";
  r.study_date = 20240102;
  r.modality = "CT";
  r.series_number = 1;
  r.instance_number = 1;
  r.number_of_frames = 1;
  r.rows = 512;
  r.columns = 256;
  r.bits_allocated = 16;
  r.study_json = absl::StrCat(R"({"study":")", study, R"("})");
  r.series_json = absl::StrCat(R"({"series":")", series, R"("})");
  r.instance_json = absl::StrCat(R"({"sop":")", sop, R"("})");
  r.blob_key = absl::StrCat(store, "/", study, "/", series, "/", sop);
  r.size_bytes = 1000;
  r.create_time_micros = 123456;
  return r;
}

int64_t Structured(const InstanceRecord& r) { return static_cast<int64_t>(r.instance_json.size()); }

std::vector<std::string> StudyUids(const std::vector<SearchRow>& rows) {
  std::vector<std::string> uids;
  for (const auto& row : rows) uids.push_back(row.study_uid);
  return uids;
}
std::vector<std::string> SeriesUids(const std::vector<SearchRow>& rows) {
  std::vector<std::string> uids;
  for (const auto& row : rows) uids.push_back(row.series_uid);
  return uids;
}
std::vector<std::string> SopUids(const std::vector<SearchRow>& rows) {
  std::vector<std::string> uids;
  for (const auto& row : rows) uids.push_back(row.sop_instance_uid);
  return uids;
}
std::vector<std::string> SopUids(const std::vector<InstanceRecord>& records) {
  std::vector<std::string> uids;
  for (const auto& r : records) uids.push_back(r.sop_instance_uid);
  return uids;
}

// Row counts straight from the file, bypassing the index (to see what cascades left behind).
int64_t RawCount(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  int64_t result = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = absl::StrCat("SELECT count(*) FROM ", table);
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  return result;
}

void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close_v2(db);
}

const char* const kDicomTables[] = {"studies",          "series",           "instances",
                                    "study_modalities", "study_name_words", "store_counts"};

// Every behavioural test runs against an in-memory and an on-disk database, with two stores
// (a, b) in one dataset and a third (c) in another dataset.
class InstanceIndexTest : public ::testing::TestWithParam<bool /*on_disk*/> {
 protected:
  void SetUp() override {
    path_ = GetParam() ? dir_.File("index.db") : ":memory:";
    auto index = OpenSqliteIndex(path_);
    ASSERT_THAT(index, IsOk());
    index_ = std::move(*index);
    ii_ = index_->instances();
    ASSERT_NE(ii_, nullptr);
    ASSERT_THAT(index_->CreateDataset({kDs, "", "", 1}), IsOk());
    ASSERT_THAT(index_->CreateDataset({kOtherDs, "", "", 1}), IsOk());
    a_ = CreateStore(kDs, "a");
    b_ = CreateStore(kDs, "b");
    c_ = CreateStore(kOtherDs, "c");
  }

  int64_t CreateStore(const DatasetKey& ds, const std::string& name) {
    auto store = index_->CreateStore({{ds, name}, 0, "{}", 1});
    EXPECT_THAT(store, IsOk());
    return store.ok() ? store->store_id : -1;
  }

  std::vector<InsertOutcome> Insert(const std::vector<InstanceRecord>& records) {
    auto outcomes = ii_->InsertInstances(records);
    EXPECT_THAT(outcomes, IsOk());
    return outcomes.ok() ? *outcomes : std::vector<InsertOutcome>{};
  }

  std::vector<SearchRow> Search(const SearchQuery& query) {
    auto rows = ii_->Search(query);
    EXPECT_THAT(rows, IsOk());
    return rows.ok() ? *rows : std::vector<SearchRow>{};
  }

  SearchQuery Query(Level level, int64_t store) {
    SearchQuery q;
    q.level = level;
    q.store_id = store;
    q.limit = 1000;
    return q;
  }

  Counts StoreCounts(int64_t store) {
    auto counts = ii_->StoreCounts(store);
    EXPECT_THAT(counts, IsOk());
    return counts.ok() ? *counts : Counts{-1, -1, -1, -1, -1};
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Index> index_;
  InstanceIndex* ii_ = nullptr;
  int64_t a_ = 0, b_ = 0, c_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, InstanceIndexTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "File" : "Memory"; });

void ExpectCounts(const Counts& c, int64_t studies, int64_t series, int64_t instances,
                  int64_t blob_bytes, int64_t structured_bytes) {
  EXPECT_EQ(c.studies, studies);
  EXPECT_EQ(c.series, series);
  EXPECT_EQ(c.instances, instances);
  EXPECT_EQ(c.blob_bytes, blob_bytes);
  EXPECT_EQ(c.structured_bytes, structured_bytes);
}

// ---------------------------------------------------------------------------------------------
// Insert and read back

TEST_P(InstanceIndexTest, InsertAndGetAcrossStores) {
  InstanceRecord full = Rec(a_, "1.1", "1.1.1", "1.1.1.1");
  full.number_of_frames = 7;
  full.instance_number = 12;
  full.series_number = 3;
  const std::vector<InstanceRecord> batch = {
      full, Rec(a_, "1.1", "1.1.1", "1.1.1.2"), Rec(a_, "1.1", "1.1.2", "1.1.2.1"),
      Rec(b_, "1.1", "1.1.1", "1.1.1.1")};  // same UIDs, other store: independent
  EXPECT_THAT(Insert(batch), ElementsAre(kStored, kStored, kStored, kStored));

  auto got = ii_->GetInstance(a_, "1.1", "1.1.1", "1.1.1.1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->store_id, a_);
  EXPECT_EQ(got->study_uid, "1.1");
  EXPECT_EQ(got->series_uid, "1.1.1");
  EXPECT_EQ(got->sop_instance_uid, "1.1.1.1");
  EXPECT_EQ(got->sop_class_uid, full.sop_class_uid);
  EXPECT_EQ(got->transfer_syntax_uid, full.transfer_syntax_uid);
  EXPECT_EQ(got->patient_name, "Doe^John");
  EXPECT_EQ(got->patient_name_words, "DOE JOHN");
  EXPECT_EQ(got->patient_id, "PID");
  EXPECT_EQ(got->accession_number, "ACC");
  EXPECT_EQ(got->referring_physician_name, "House^Gregory");
  EXPECT_EQ(got->study_date, 20240102);
  EXPECT_EQ(got->modality, "CT");
  EXPECT_EQ(got->series_number, 3);
  EXPECT_EQ(got->instance_number, 12);
  EXPECT_EQ(got->number_of_frames, 7);
  EXPECT_EQ(got->rows, 512);
  EXPECT_EQ(got->columns, 256);
  EXPECT_EQ(got->bits_allocated, 16);
  EXPECT_EQ(got->study_json, full.study_json);
  EXPECT_EQ(got->series_json, full.series_json);
  EXPECT_EQ(got->instance_json, full.instance_json);
  EXPECT_EQ(got->blob_key, full.blob_key);
  EXPECT_EQ(got->size_bytes, 1000);
  EXPECT_EQ(got->create_time_micros, 123456);

  auto other = ii_->GetInstance(b_, "1.1", "1.1.1", "1.1.1.1");
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->blob_key, batch[3].blob_key);

  EXPECT_THAT(ii_->GetInstance(c_, "1.1", "1.1.1", "1.1.1.1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->GetInstance(a_, "1.1", "1.1.2", "1.1.1.1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->GetInstance(a_, "1.9", "1.1.1", "1.1.1.1"),
              StatusIs(absl::StatusCode::kNotFound));

  ExpectCounts(StoreCounts(a_), 1, 2, 3, 3000,
               static_cast<int64_t>(full.study_json.size() + full.series_json.size() +
                                    batch[2].series_json.size()) +
                   Structured(batch[0]) + Structured(batch[1]) + Structured(batch[2]));
  ExpectCounts(StoreCounts(b_), 1, 1, 1, 1000,
               static_cast<int64_t>(batch[3].study_json.size() + batch[3].series_json.size()) +
                   Structured(batch[3]));
  ExpectCounts(StoreCounts(c_), 0, 0, 0, 0, 0);
  EXPECT_THAT(ii_->StoreCounts(9999), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(HasBlob(ii_, full.blob_key));
  EXPECT_FALSE(HasBlob(ii_, "no/such/blob"));
}

TEST_P(InstanceIndexTest, LastBlobKeyFindsTheGreatestKeyWithAPrefix) {
  // Segment-style keys: the last blob of segment "s1" is the one at the greatest offset,
  // whatever the insertion order, and neighbouring segments do not leak in.
  std::vector<InstanceRecord> records = {Rec(a_, "1", "1.1", "1.1.1"), Rec(a_, "1", "1.1", "1.1.2"),
                                         Rec(a_, "1", "1.1", "1.1.3"),
                                         Rec(b_, "2", "2.1", "2.1.1")};
  records[0].blob_key = "s1.000200.000010";
  records[1].blob_key = "s1.000100.000100";
  records[2].blob_key = "s0.000900.000001";
  records[3].blob_key = "s2.000000.000001";
  EXPECT_THAT(Insert(records), ElementsAre(kStored, kStored, kStored, kStored));
  EXPECT_EQ(ii_->LastBlobKey("s1.").value(), std::optional<std::string>("s1.000200.000010"));
  EXPECT_EQ(ii_->LastBlobKey("s0.").value(), std::optional<std::string>("s0.000900.000001"));
  EXPECT_EQ(ii_->LastBlobKey("s2.").value(), std::optional<std::string>("s2.000000.000001"));
  EXPECT_EQ(ii_->LastBlobKey("s3.").value(), std::nullopt);
  EXPECT_EQ(ii_->LastBlobKey("s").value(), std::optional<std::string>("s2.000000.000001"));
  EXPECT_FALSE(ii_->LastBlobKey("").ok());
}

TEST_P(InstanceIndexTest, ParentRowsComeFromTheFirstInstance) {
  InstanceRecord first = Rec(a_, "1.1", "1.1.1", "1.1.1.1");
  InstanceRecord second = Rec(a_, "1.1", "1.1.1", "1.1.1.2");
  second.patient_name = "Other^Name";
  second.patient_name_words = "OTHER NAME";
  second.patient_id = "PID2";
  second.modality = "MR";
  second.study_json = R"({"changed":true})";
  EXPECT_THAT(Insert({first, second}), ElementsAre(kStored, kStored));

  auto got = ii_->GetInstance(a_, "1.1", "1.1.1", "1.1.1.2");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->patient_name, "Doe^John");
  EXPECT_EQ(got->patient_id, "PID");
  EXPECT_EQ(got->modality, "CT");
  EXPECT_EQ(got->study_json, first.study_json);
  EXPECT_EQ(got->instance_json, second.instance_json);

  SearchQuery q = Query(Level::kStudy, a_);
  q.patient_id = "PID2";
  EXPECT_THAT(Search(q), IsEmpty());
  q = Query(Level::kStudy, a_);
  q.patient_name_prefixes = {"OTH"};
  EXPECT_THAT(Search(q), IsEmpty());
  auto rows = Search(Query(Level::kStudy, a_));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].modalities_in_study, ElementsAre("CT"));
}

TEST_P(InstanceIndexTest, DuplicatesAcrossBatches) {
  InstanceRecord r = Rec(a_, "1.1", "1.1.1", "1.1.1.1");
  EXPECT_THAT(Insert({r}), ElementsAre(kStored));

  InstanceRecord same = r;
  same.blob_key = "a/other-blob";
  InstanceRecord differs = r;
  differs.blob_key = "a/third-blob";
  // The same SOP UID under another series of the study is another instance.
  InstanceRecord elsewhere = Rec(a_, "1.1", "1.1.2", "1.1.1.1");
  // Whatever the bytes: the index has none to compare (the STOW service does).
  EXPECT_THAT(Insert({same}), ElementsAre(kDuplicate));
  EXPECT_THAT(Insert({differs}), ElementsAre(kDuplicate));
  EXPECT_THAT(Insert({elsewhere}), ElementsAre(kStored));

  EXPECT_FALSE(HasBlob(ii_, "a/other-blob"));
  EXPECT_FALSE(HasBlob(ii_, "a/third-blob"));
  EXPECT_EQ(ii_->GetInstance(a_, "1.1", "1.1.1", "1.1.1.1")->blob_key, r.blob_key);
  EXPECT_EQ(StoreCounts(a_).instances, 2);
  EXPECT_EQ(ii_->SeriesCounts(a_, "1.1", "1.1.1")->instances, 1);
}

TEST_P(InstanceIndexTest, DuplicatesWithinOneBatchBehaveLikeSequentialInserts) {
  InstanceRecord r = Rec(a_, "1.1", "1.1.1", "1.1.1.1");
  InstanceRecord same = r;
  same.blob_key = "a/dup-blob";
  InstanceRecord differs = r;
  differs.blob_key = "a/diff-blob";
  InstanceRecord next = Rec(a_, "1.1", "1.1.1", "1.1.1.2");
  EXPECT_THAT(Insert({r, same, differs, next, next}),
              ElementsAre(kStored, kDuplicate, kDuplicate, kStored, kDuplicate));
  EXPECT_FALSE(HasBlob(ii_, "a/dup-blob"));
  EXPECT_FALSE(HasBlob(ii_, "a/diff-blob"));
  ExpectCounts(*ii_->StudyCounts(a_, "1.1"), 1, 1, 2, 2000,
               static_cast<int64_t>(r.study_json.size() + r.series_json.size()) + Structured(r) +
                   Structured(next));
}

TEST_P(InstanceIndexTest, MissingStoreIsReportedPerRecord) {
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.1"), Rec(9999, "1.1", "1.1.1", "1.1.1.2"),
                      Rec(b_, "1.1", "1.1.1", "1.1.1.3")}),
              ElementsAre(kStored, kStoreMissing, kStored));
  ASSERT_THAT(index_->DeleteStore({kDs, "b"}), IsOk());
  EXPECT_THAT(Insert({Rec(b_, "1.2", "1.2.1", "1.2.1.1")}), ElementsAre(kStoreMissing));
  EXPECT_FALSE(HasBlob(ii_, Rec(9999, "1.1", "1.1.1", "1.1.1.2").blob_key));
}

TEST_P(InstanceIndexTest, ReusedBlobKeyFailsTheWholeBatch) {
  InstanceRecord first = Rec(a_, "1.1", "1.1.1", "1.1.1.1");
  ASSERT_THAT(Insert({first}), ElementsAre(kStored));
  InstanceRecord ok = Rec(a_, "1.2", "1.2.1", "1.2.1.1");
  InstanceRecord clash = Rec(a_, "1.2", "1.2.1", "1.2.1.2");
  clash.blob_key = first.blob_key;
  EXPECT_THAT(ii_->InsertInstances({ok, clash}), StatusIs(absl::StatusCode::kAlreadyExists));
  // Rolled back: not even the first record of the batch is there, counters untouched.
  EXPECT_THAT(ii_->GetInstance(a_, "1.2", "1.2.1", "1.2.1.1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(StoreCounts(a_).studies, 1);
  EXPECT_EQ(StoreCounts(a_).instances, 1);
  // And the index is usable afterwards.
  EXPECT_THAT(Insert({ok}), ElementsAre(kStored));
}

TEST_P(InstanceIndexTest, ValuesAreBoundNotInterpolated) {
  const std::string evil = "1.2'; DROP TABLE studies; --";
  InstanceRecord r = Rec(a_, evil, "1.1.1", "1.1.1.1");
  r.patient_id = "x' OR '1'='1";
  r.patient_name_words = "O'BRIEN %_";
  EXPECT_THAT(Insert({r}), ElementsAre(kStored));
  ASSERT_THAT(Insert({Rec(a_, "1.3", "1.3.1", "1.3.1.1")}), ElementsAre(kStored));
  SearchQuery q = Query(Level::kStudy, a_);
  q.study_uid = evil;
  EXPECT_THAT(StudyUids(Search(q)), ElementsAre(evil));
  q = Query(Level::kStudy, a_);
  q.patient_id = "x' OR '1'='1";
  EXPECT_THAT(StudyUids(Search(q)), ElementsAre(evil));
  q.patient_id = "' OR 1=1 --";
  EXPECT_THAT(Search(q), IsEmpty());
  q = Query(Level::kStudy, a_);
  q.patient_name_prefixes = {"O'B"};
  EXPECT_THAT(StudyUids(Search(q)), ElementsAre(evil));
  q.patient_name_prefixes = {"%"};  // no LIKE wildcards
  EXPECT_THAT(StudyUids(Search(q)), ElementsAre(evil));
  q.patient_name_prefixes = {"_"};
  EXPECT_THAT(Search(q), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Locks

TEST_P(InstanceIndexTest, LockedStudyRefusesInsertsUntilUnlocked) {
  ASSERT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.1"), Rec(a_, "1.2", "1.2.1", "1.2.1.1")}),
              ElementsAre(kStored, kStored));
  ASSERT_THAT(ii_->Lock(a_, "1.1", std::nullopt), IsOk());
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.2"),    // existing series
                      Rec(a_, "1.1", "1.1.9", "1.1.9.1"),    // new series
                      Rec(a_, "1.1", "1.1.1", "1.1.1.1"),    // even a duplicate
                      Rec(a_, "1.2", "1.2.1", "1.2.1.2"),    // other study: fine
                      Rec(b_, "1.1", "1.1.1", "1.1.1.2")}),  // other store: fine
              ElementsAre(kStudyLocked, kStudyLocked, kStudyLocked, kStored, kStored));
  EXPECT_EQ(ii_->StudyCounts(a_, "1.1")->instances, 1);
  ASSERT_THAT(ii_->Unlock(a_, "1.1", std::nullopt), IsOk());
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.2")}), ElementsAre(kStored));

  // A locked series refuses only itself.
  ASSERT_THAT(ii_->Lock(a_, "1.1", "1.1.1"), IsOk());
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.3"), Rec(a_, "1.1", "1.1.2", "1.1.2.1")}),
              ElementsAre(kStudyLocked, kStored));
  ASSERT_THAT(ii_->Unlock(a_, "1.1", "1.1.1"), IsOk());
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.3")}), ElementsAre(kStored));

  EXPECT_THAT(ii_->Lock(a_, "9.9", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->Lock(a_, "1.1", "9.9"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->Lock(c_, "1.1", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->Unlock(a_, "9.9", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->Unlock(a_, "1.1", "9.9"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(InstanceIndexTest, DeletingALockedStudyDropsTheLock) {
  ASSERT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.1")}), ElementsAre(kStored));
  ASSERT_THAT(ii_->Lock(a_, "1.1", std::nullopt), IsOk());
  ASSERT_THAT(ii_->DeleteStudy(a_, "1.1"), IsOk());
  EXPECT_THAT(Insert({Rec(a_, "1.1", "1.1.1", "1.1.1.1")}), ElementsAre(kStored));
}

// ---------------------------------------------------------------------------------------------
// Search

// Studies of store a with distinct keys (and decoys with the same keys in store b).
class SearchTest : public InstanceIndexTest {
 protected:
  void SetUp() override {
    InstanceIndexTest::SetUp();
    if (HasFatalFailure()) return;
    std::vector<InstanceRecord> batch;
    auto add = [&](const std::string& study, const std::string& name, const std::string& words,
                   const std::string& pid, const std::string& acc, const std::string& ref,
                   int32_t date, const std::vector<std::string>& modalities) {
      for (size_t s = 0; s < modalities.size(); ++s) {
        const std::string series = absl::StrCat(study, ".", s + 1);
        for (int i = 1; i <= 2; ++i) {
          for (int64_t store : {a_, b_}) {
            InstanceRecord r = Rec(store, study, series, absl::StrCat(series, ".", i));
            r.patient_name = name;
            r.patient_name_words = words;
            r.patient_id = pid;
            r.accession_number = acc;
            r.referring_physician_name = ref;
            r.study_date = date;
            r.modality = modalities[s];
            // Store b's copies are inserted too (decoys); a's come first per study.
            batch.push_back(r);
          }
        }
      }
    };
    add("1", "Doe^John", "DOE JOHN", "P1", "A1", "House^G", 20200115, {"CT", "MR"});
    add("2", "Doe^Jane", "DOE JANE", "P2", "A2", "Wilson^J", 20210620, {"MR"});
    add("3", "Smith^John^Paul", "SMITH JOHN PAUL", "P1", "A3", "House^G", 20221231, {"US"});
    add("4", "Jonas^Émile", "JONAS ÉMILE", "P4", "A4", "", 0, {"CT"});
    add("5", "Doe^John", "DOE JOHN", "P5", "A5", "Cuddy^L", 20230101, {"SR", ""});
    ASSERT_THAT(Insert(batch), ::testing::Each(kStored));
  }

  std::vector<std::string> Studies(const SearchQuery& q) { return StudyUids(Search(q)); }
};

INSTANTIATE_TEST_SUITE_P(Backends, SearchTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "File" : "Memory"; });

TEST_P(SearchTest, StudyLevelExactKeys) {
  SearchQuery q = Query(Level::kStudy, a_);
  EXPECT_THAT(Studies(q), ElementsAre("1", "2", "3", "4", "5"));

  q.study_uid = "3";
  EXPECT_THAT(Studies(q), ElementsAre("3"));
  q = Query(Level::kStudy, a_);
  q.patient_name = "Doe^John";
  EXPECT_THAT(Studies(q), ElementsAre("1", "5"));
  q.patient_name = "DOE^JOHN";  // exact means exact
  EXPECT_THAT(Studies(q), IsEmpty());
  q.patient_name = "Doe";
  EXPECT_THAT(Studies(q), IsEmpty());
  q = Query(Level::kStudy, a_);
  q.patient_id = "P1";
  EXPECT_THAT(Studies(q), ElementsAre("1", "3"));
  q = Query(Level::kStudy, a_);
  q.accession_number = "A4";
  EXPECT_THAT(Studies(q), ElementsAre("4"));
  q = Query(Level::kStudy, a_);
  q.referring_physician_name = "House^G";
  EXPECT_THAT(Studies(q), ElementsAre("1", "3"));
  // Constraints combine with AND.
  q.patient_id = "P1";
  q.accession_number = "A3";
  EXPECT_THAT(Studies(q), ElementsAre("3"));
  q.accession_number = "A2";
  EXPECT_THAT(Studies(q), IsEmpty());
  // Other stores never leak in, and an unknown store is simply empty.
  EXPECT_THAT(Studies(Query(Level::kStudy, c_)), IsEmpty());
  EXPECT_THAT(Studies(Query(Level::kStudy, 9999)), IsEmpty());
}

TEST_P(SearchTest, StudyDateRanges) {
  SearchQuery q = Query(Level::kStudy, a_);
  q.study_date_from = 20210620;
  q.study_date_to = 20221231;  // closed, inclusive at both ends
  EXPECT_THAT(Studies(q), ElementsAre("2", "3"));
  q.study_date_from = 20210621;
  EXPECT_THAT(Studies(q), ElementsAre("3"));
  q.study_date_from = 20200115;
  q.study_date_to = 20200115;  // one day
  EXPECT_THAT(Studies(q), ElementsAre("1"));
  q.study_date_from = 20220101;
  q.study_date_to.reset();  // open end
  EXPECT_THAT(Studies(q), ElementsAre("3", "5"));
  q.study_date_from.reset();
  q.study_date_to = 20210620;  // open start: the study without a date does not match
  EXPECT_THAT(Studies(q), ElementsAre("1", "2"));
  q.study_date_to = 0;
  EXPECT_THAT(Studies(q), IsEmpty());
  q.study_date_from = 20240101;
  q.study_date_to = 20230101;  // empty range
  EXPECT_THAT(Studies(q), IsEmpty());
}

TEST_P(SearchTest, FuzzyPatientName) {
  SearchQuery q = Query(Level::kStudy, a_);
  q.patient_name_prefixes = {"JO"};  // John, Jonas
  EXPECT_THAT(Studies(q), ElementsAre("1", "3", "4", "5"));
  q.patient_name_prefixes = {"JOHN"};
  EXPECT_THAT(Studies(q), ElementsAre("1", "3", "5"));
  q.patient_name_prefixes = {"DO"};
  EXPECT_THAT(Studies(q), ElementsAre("1", "2", "5"));
  q.patient_name_prefixes = {"OHN"};  // not a prefix of any word
  EXPECT_THAT(Studies(q), IsEmpty());
  q.patient_name_prefixes = {"JOHNNY"};  // longer than the stored word
  EXPECT_THAT(Studies(q), IsEmpty());
  q.patient_name_prefixes = {"PAUL"};  // any word, not only the first two
  EXPECT_THAT(Studies(q), ElementsAre("3"));
  // Several prefixes: any of them.
  q.patient_name_prefixes = {"JANE", "SMI"};
  EXPECT_THAT(Studies(q), ElementsAre("2", "3"));
  q.patient_name_prefixes = {"ZZZ", "PAU", "JAN"};  // three: padded internally
  EXPECT_THAT(Studies(q), ElementsAre("2", "3"));
  q.patient_name_prefixes = {"JOHN", "JO", "", "J"};  // redundant and empty ones
  EXPECT_THAT(Studies(q), ElementsAre("1", "2", "3", "4", "5"));
  q.patient_name_prefixes = {""};  // only empty: no constraint
  EXPECT_THAT(Studies(q), ElementsAre("1", "2", "3", "4", "5"));
  // UTF-8 words: byte-wise prefixes, multi-byte characters included.
  q.patient_name_prefixes = {"ÉM"};
  EXPECT_THAT(Studies(q), ElementsAre("4"));
  q.patient_name_prefixes = {"É"};
  EXPECT_THAT(Studies(q), ElementsAre("4"));
  q.patient_name_prefixes = {"E"};
  EXPECT_THAT(Studies(q), IsEmpty());
  // Fuzzy with an exact key (the statement takes another shape).
  q.patient_name_prefixes = {"JOHN"};
  q.patient_id = "P1";
  EXPECT_THAT(Studies(q), ElementsAre("1", "3"));
  q.patient_name_prefixes = {"JANE", "PAUL"};
  EXPECT_THAT(Studies(q), ElementsAre("3"));

  q = Query(Level::kStudy, a_);
  q.patient_name_prefixes.assign(65, "X");
  EXPECT_THAT(ii_->Search(q), StatusIs(absl::StatusCode::kInvalidArgument));
  q.patient_name_prefixes.assign(64, "X");
  q.patient_name_prefixes.push_back("JA");
  q.patient_name_prefixes.erase(q.patient_name_prefixes.begin());
  EXPECT_THAT(Studies(q), ElementsAre("2"));
}

TEST_P(SearchTest, StudyLevelComputedAttributes) {
  auto rows = Search(Query(Level::kStudy, a_));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].json, R"({"study":"1"})");
  EXPECT_EQ(rows[0].study_series_count, 2);
  EXPECT_EQ(rows[0].study_instance_count, 4);
  EXPECT_THAT(rows[0].modalities_in_study, ElementsAre("CT", "MR"));
  EXPECT_THAT(rows[1].modalities_in_study, ElementsAre("MR"));
  EXPECT_THAT(rows[4].modalities_in_study, ElementsAre("SR"));  // "" is no modality
  EXPECT_EQ(rows[4].study_series_count, 2);
}

TEST_P(SearchTest, LowerLevelConstraintsAtStudyLevel) {
  SearchQuery q = Query(Level::kStudy, a_);
  q.modality = "CT";
  EXPECT_THAT(Studies(q), ElementsAre("1", "4"));
  q.modality = "MR";
  EXPECT_THAT(Studies(q), ElementsAre("1", "2"));
  q.patient_id = "P1";  // with a driving key
  EXPECT_THAT(Studies(q), ElementsAre("1"));
  q.patient_id = "";
  q.patient_name_prefixes = {"JA"};
  EXPECT_THAT(Studies(q), ElementsAre("2"));
  q = Query(Level::kStudy, a_);
  q.series_uid = "3.1";
  EXPECT_THAT(Studies(q), ElementsAre("3"));
  q = Query(Level::kStudy, a_);
  q.sop_instance_uid = "5.2.1";
  EXPECT_THAT(Studies(q), ElementsAre("5"));
  q.sop_instance_uid = "5.9.1";
  EXPECT_THAT(Studies(q), IsEmpty());
}

TEST_P(SearchTest, SeriesLevel) {
  SearchQuery q = Query(Level::kSeries, a_);
  auto rows = Search(q);
  EXPECT_THAT(SeriesUids(rows), ElementsAre("1.1", "1.2", "2.1", "3.1", "4.1", "5.1", "5.2"));
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[1].study_uid, "1");
  EXPECT_EQ(rows[1].json, R"({"series":"1.2"})");
  EXPECT_EQ(rows[1].series_instance_count, 2);

  q.study_uid = "1";  // .../studies/1/series
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.1", "1.2"));
  q.modality = "MR";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.2"));
  q = Query(Level::kSeries, a_);
  q.modality = "MR";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.2", "2.1"));
  q = Query(Level::kSeries, a_);
  q.series_uid = "4.1";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("4.1"));
  q.study_uid = "3";  // series UID under another study
  EXPECT_THAT(Search(q), IsEmpty());
  // Study-level keys at series level.
  q = Query(Level::kSeries, a_);
  q.patient_id = "P1";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.1", "1.2", "3.1"));
  q.modality = "CT";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.1"));
  q = Query(Level::kSeries, a_);
  q.patient_name_prefixes = {"JOH"};
  q.modality = "SR";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("5.1"));
  q = Query(Level::kSeries, a_);
  q.study_date_from = 20220101;
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("3.1", "5.1", "5.2"));
  q = Query(Level::kSeries, a_);
  q.referring_physician_name = "Wilson^J";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("2.1"));
  q = Query(Level::kSeries, a_);
  q.sop_instance_uid = "1.2.2";
  EXPECT_THAT(SeriesUids(Search(q)), ElementsAre("1.2"));
}

TEST_P(SearchTest, InstanceLevel) {
  SearchQuery q = Query(Level::kInstance, a_);
  EXPECT_EQ(Search(q).size(), 14u);
  q.study_uid = "1";
  q.series_uid = "1.2";  // .../studies/1/series/1.2/instances
  auto rows = Search(q);
  EXPECT_THAT(SopUids(rows), ElementsAre("1.2.1", "1.2.2"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].study_uid, "1");
  EXPECT_EQ(rows[0].series_uid, "1.2");
  EXPECT_EQ(rows[0].json, R"({"sop":"1.2.1"})");
  q.sop_instance_uid = "1.2.2";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("1.2.2"));
  q.series_uid = "1.1";
  EXPECT_THAT(Search(q), IsEmpty());

  q = Query(Level::kInstance, a_);
  q.study_uid = "1";  // .../studies/1/instances
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("1.1.1", "1.1.2", "1.2.1", "1.2.2"));
  q = Query(Level::kInstance, a_);
  q.sop_instance_uid = "4.1.2";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("4.1.2"));
  q = Query(Level::kInstance, a_);
  q.modality = "CT";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("1.1.1", "1.1.2", "4.1.1", "4.1.2"));
  q.patient_name_prefixes = {"ÉMI"};
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("4.1.1", "4.1.2"));
  q = Query(Level::kInstance, a_);
  q.accession_number = "A2";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("2.1.1", "2.1.2"));
  q = Query(Level::kInstance, a_);
  q.patient_name = "Doe^Jane";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("2.1.1", "2.1.2"));
  q = Query(Level::kInstance, a_);
  q.study_date_from = 20230101;
  q.modality = "SR";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("5.1.1", "5.1.2"));
  q = Query(Level::kInstance, a_);
  q.series_uid = "3.1";
  EXPECT_THAT(SopUids(Search(q)), ElementsAre("3.1.1", "3.1.2"));
}

TEST_P(InstanceIndexTest, PagingIsStableInInsertionOrder) {
  std::vector<InstanceRecord> batch;
  std::vector<std::string> expected;
  // UIDs whose byte order differs from insertion order.
  for (int i = 0; i < 25; ++i) {
    const std::string study = absl::StrCat("2.", (i * 7) % 25);
    expected.push_back(study);
    batch.push_back(Rec(a_, study, study + ".1", study + ".1.1"));
  }
  ASSERT_THAT(Insert(batch), ::testing::Each(kStored));
  // A later instance of the first study does not move it.
  ASSERT_THAT(Insert({Rec(a_, expected[0], expected[0] + ".1", expected[0] + ".1.2")}),
              ElementsAre(kStored));

  for (Level level : {Level::kStudy, Level::kSeries}) {
    std::vector<std::string> paged;
    SearchQuery q = Query(level, a_);
    q.limit = 10;
    for (q.offset = 0; q.offset < 40; q.offset += 10) {
      auto page = StudyUids(Search(q));
      EXPECT_LE(page.size(), 10u);
      paged.insert(paged.end(), page.begin(), page.end());
      EXPECT_EQ(StudyUids(Search(q)), page) << "same page twice";
    }
    EXPECT_EQ(paged, expected);
  }
  SearchQuery q = Query(Level::kInstance, a_);
  q.limit = 3;
  q.offset = 24;
  EXPECT_THAT(SopUids(Search(q)), ElementsAre(expected[24] + ".1.1", expected[0] + ".1.2"));

  q = Query(Level::kStudy, a_);
  q.limit = 0;
  EXPECT_THAT(Search(q), IsEmpty());
  q.limit = 5;
  q.offset = -3;  // as 0
  EXPECT_EQ(StudyUids(Search(q)), std::vector<std::string>(expected.begin(), expected.begin() + 5));
  q.offset = 1000;
  EXPECT_THAT(Search(q), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// ListInstances

TEST_P(InstanceIndexTest, ListInstancesOrdering) {
  auto rec = [&](const std::string& series, int64_t series_number, const std::string& sop,
                 int64_t instance_number) {
    InstanceRecord r = Rec(a_, "1", series, sop);
    r.series_number = series_number;
    r.instance_number = instance_number;
    return r;
  };
  // Inserted out of order; ties on numbers are broken by UID.
  ASSERT_THAT(
      Insert({rec("1.9", 2, "s9.b", 1), rec("1.9", 2, "s9.a", 1), rec("1.5", 1, "s5.c", 3),
              rec("1.5", 1, "s5.a", 2), rec("1.7", 2, "s7.a", 0), rec("1.5", 1, "s5.b", 1)}),
      ::testing::Each(kStored));
  auto all = ii_->ListInstances(a_, "1", std::nullopt);
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(SopUids(*all), ElementsAre("s5.b", "s5.a", "s5.c", "s7.a", "s9.a", "s9.b"));
  EXPECT_EQ((*all)[0].blob_key, Rec(a_, "1", "1.5", "s5.b").blob_key);
  auto one = ii_->ListInstances(a_, "1", "1.9");
  ASSERT_THAT(one, IsOk());
  EXPECT_THAT(SopUids(*one), ElementsAre("s9.a", "s9.b"));

  EXPECT_THAT(ii_->ListInstances(a_, "2", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->ListInstances(a_, "1", "1.8"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->ListInstances(b_, "1", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------------------------
// Deletes, counters, modalities

TEST_P(InstanceIndexTest, CountersAndModalitiesFollowInsertsAndDeletes) {
  InstanceRecord ct = Rec(a_, "1", "1.1", "1.1.1");
  ct.size_bytes = 100;
  InstanceRecord mr1 = Rec(a_, "1", "1.2", "1.2.1");
  mr1.modality = "MR";
  mr1.size_bytes = 200;
  InstanceRecord mr2 = Rec(a_, "1", "1.2", "1.2.2");
  mr2.modality = "MR";
  mr2.size_bytes = 400;
  InstanceRecord us = Rec(a_, "1", "1.3", "1.3.1");
  us.modality = "US";
  us.size_bytes = 800;
  InstanceRecord us2 = Rec(a_, "1", "1.4", "1.4.1");  // a second US series
  us2.modality = "US";
  us2.size_bytes = 1600;
  InstanceRecord other = Rec(a_, "2", "2.1", "2.1.1");
  other.size_bytes = 3200;
  InstanceRecord in_b = Rec(b_, "1", "1.1", "1.1.1");
  in_b.size_bytes = 6400;
  ASSERT_THAT(Insert({ct, mr1, mr2, us, us2, other, in_b}), ::testing::Each(kStored));

  const auto size = [](const std::string& s) { return static_cast<int64_t>(s.size()); };
  const int64_t study1_json = size(ct.study_json);
  const int64_t series_json_12 = size(mr1.series_json);
  int64_t study1_structured = study1_json + size(ct.series_json) + size(mr1.series_json) +
                              size(us.series_json) + size(us2.series_json) + Structured(ct) +
                              Structured(mr1) + Structured(mr2) + Structured(us) + Structured(us2);
  const int64_t study2_structured =
      size(other.study_json) + size(other.series_json) + Structured(other);

  auto modalities = [&](const std::string& study) {
    SearchQuery q = Query(Level::kStudy, a_);
    q.study_uid = study;
    auto rows = Search(q);
    return rows.size() == 1 ? rows[0].modalities_in_study : std::vector<std::string>{"<none>"};
  };

  ExpectCounts(*ii_->StudyCounts(a_, "1"), 1, 4, 5, 3100, study1_structured);
  ExpectCounts(*ii_->SeriesCounts(a_, "1", "1.2"), 1, 1, 2, 600,
               series_json_12 + Structured(mr1) + Structured(mr2));
  ExpectCounts(StoreCounts(a_), 2, 5, 6, 6300, study1_structured + study2_structured);
  EXPECT_THAT(modalities("1"), ElementsAre("CT", "MR", "US"));

  // The only CT instance: CT leaves the study's modalities, with its series.
  auto freed = ii_->DeleteInstance(a_, "1", "1.1", "1.1.1");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(ct.blob_key));
  EXPECT_FALSE(HasBlob(ii_, ct.blob_key));
  EXPECT_TRUE(HasBlob(ii_, in_b.blob_key));  // same UIDs in store b untouched
  EXPECT_THAT(ii_->SeriesCounts(a_, "1", "1.1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(modalities("1"), ElementsAre("MR", "US"));
  study1_structured -= size(ct.series_json) + Structured(ct);
  ExpectCounts(*ii_->StudyCounts(a_, "1"), 1, 3, 4, 3000, study1_structured);
  ExpectCounts(StoreCounts(a_), 2, 4, 5, 6200, study1_structured + study2_structured);

  // One of two MR instances: the series and the modality stay.
  freed = ii_->DeleteInstance(a_, "1", "1.2", "1.2.1");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(mr1.blob_key));
  EXPECT_THAT(modalities("1"), ElementsAre("MR", "US"));
  ExpectCounts(*ii_->SeriesCounts(a_, "1", "1.2"), 1, 1, 1, 400, series_json_12 + Structured(mr2));
  study1_structured -= Structured(mr1);

  // One of two US series: US stays until the second goes.
  freed = ii_->DeleteSeries(a_, "1", "1.3");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(us.blob_key));
  EXPECT_THAT(modalities("1"), ElementsAre("MR", "US"));
  freed = ii_->DeleteSeries(a_, "1", "1.4");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(us2.blob_key));
  EXPECT_THAT(modalities("1"), ElementsAre("MR"));
  study1_structured -=
      size(us.series_json) + size(us2.series_json) + Structured(us) + Structured(us2);
  ExpectCounts(*ii_->StudyCounts(a_, "1"), 1, 1, 1, 400, study1_structured);
  ExpectCounts(StoreCounts(a_), 2, 2, 2, 3600, study1_structured + study2_structured);

  // Re-adding a CT series brings CT back.
  ASSERT_THAT(Insert({ct}), ElementsAre(kStored));
  EXPECT_THAT(modalities("1"), ElementsAre("CT", "MR"));
  ASSERT_THAT(ii_->DeleteSeries(a_, "1", "1.1"), IsOk());

  // The last instance of the last series: the study goes too.
  freed = ii_->DeleteInstance(a_, "1", "1.2", "1.2.2");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(mr2.blob_key));
  EXPECT_THAT(ii_->StudyCounts(a_, "1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(modalities("1"), ElementsAre("<none>"));
  EXPECT_THAT(ii_->ListInstances(a_, "1", std::nullopt), StatusIs(absl::StatusCode::kNotFound));
  ExpectCounts(StoreCounts(a_), 1, 1, 1, 3200, study2_structured);
  ExpectCounts(StoreCounts(b_), 1, 1, 1, 6400,
               size(in_b.study_json) + size(in_b.series_json) + Structured(in_b));
}

TEST_P(InstanceIndexTest, DeleteStudyAndSeriesFreeEveryBlob) {
  std::vector<InstanceRecord> batch;
  for (const char* series : {"1.1", "1.2"}) {
    for (int i = 1; i <= 3; ++i) {
      batch.push_back(Rec(a_, "1", series, absl::StrCat(series, ".", i)));
    }
  }
  batch.push_back(Rec(a_, "2", "2.1", "2.1.1"));
  ASSERT_THAT(Insert(batch), ::testing::Each(kStored));

  auto freed = ii_->DeleteSeries(a_, "1", "1.2");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed,
              UnorderedElementsAre(batch[3].blob_key, batch[4].blob_key, batch[5].blob_key));
  EXPECT_EQ(ii_->StudyCounts(a_, "1")->series, 1);  // the study keeps its other series

  // The last series of a study takes the study with it.
  freed = ii_->DeleteSeries(a_, "2", "2.1");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed, ElementsAre(batch[6].blob_key));
  EXPECT_THAT(ii_->StudyCounts(a_, "2"), StatusIs(absl::StatusCode::kNotFound));

  freed = ii_->DeleteStudy(a_, "1");
  ASSERT_THAT(freed, IsOk());
  EXPECT_THAT(*freed,
              UnorderedElementsAre(batch[0].blob_key, batch[1].blob_key, batch[2].blob_key));
  for (const auto& r : batch) EXPECT_FALSE(HasBlob(ii_, r.blob_key)) << r.blob_key;
  ExpectCounts(StoreCounts(a_), 0, 0, 0, 0, 0);
  EXPECT_THAT(Search(Query(Level::kStudy, a_)), IsEmpty());
  EXPECT_THAT(Search(Query(Level::kSeries, a_)), IsEmpty());
  EXPECT_THAT(Search(Query(Level::kInstance, a_)), IsEmpty());

  EXPECT_THAT(ii_->DeleteStudy(a_, "1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->DeleteSeries(a_, "1", "1.1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->DeleteInstance(a_, "1", "1.1", "1.1.1"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(Insert({Rec(a_, "3", "3.1", "3.1.1")}), ElementsAre(kStored));
  EXPECT_THAT(ii_->DeleteInstance(a_, "3", "3.1", "3.1.9"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->DeleteSeries(a_, "3", "3.9"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->DeleteStudy(b_, "3"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->StudyCounts(a_, "9"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ii_->SeriesCounts(a_, "3", "9"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(InstanceIndexTest, DeleteStoreAndDatasetCascade) {
  for (int64_t store : {a_, b_, c_}) {
    InstanceRecord r = Rec(store, "1", "1.1", "1.1.1");
    r.patient_name_words = "DOE JOHN";
    ASSERT_THAT(Insert({r, Rec(store, "1", "1.2", "1.2.1")}), ::testing::Each(kStored));
  }
  ASSERT_THAT(index_->DeleteStore({kDs, "a"}), IsOk());
  EXPECT_FALSE(HasBlob(ii_, Rec(a_, "1", "1.1", "1.1.1").blob_key));
  EXPECT_THAT(ii_->GetInstance(a_, "1", "1.1", "1.1.1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Search(Query(Level::kStudy, a_)), IsEmpty());
  EXPECT_THAT(ii_->StoreCounts(a_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(StoreCounts(b_).instances, 2);

  ASSERT_THAT(index_->DeleteDataset(kOtherDs), IsOk());
  EXPECT_FALSE(HasBlob(ii_, Rec(c_, "1", "1.1", "1.1.1").blob_key));
  EXPECT_THAT(ii_->StoreCounts(c_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(HasBlob(ii_, Rec(b_, "1", "1.1", "1.1.1").blob_key));
  EXPECT_THAT(StudyUids(Search(Query(Level::kStudy, b_))), ElementsAre("1"));

  if (GetParam()) {
    // Nothing of a or c is left in any table (only b's rows remain).
    EXPECT_EQ(RawCount(path_, "studies"), 1);
    EXPECT_EQ(RawCount(path_, "series"), 2);
    EXPECT_EQ(RawCount(path_, "instances"), 2);
    EXPECT_EQ(RawCount(path_, "study_modalities"), 1);
    EXPECT_EQ(RawCount(path_, "study_name_words"), 2);
    EXPECT_EQ(RawCount(path_, "store_counts"), 1);
  }
  // A re-created store has a new id and starts empty.
  const int64_t again = CreateStore(kDs, "a");
  EXPECT_NE(again, a_);
  ExpectCounts(StoreCounts(again), 0, 0, 0, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_P(InstanceIndexTest, ConcurrentInsertsKeepCountersExact) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 4;
  std::atomic<int> stored{0}, duplicates{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<InstanceRecord> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          // Threads share studies and series; SOP UIDs are unique per (thread, batch, i),
          // except that each batch repeats its first record (a duplicate).
          const std::string study = absl::StrCat("9.", (t + i) % 3);
          const std::string series = absl::StrCat(study, ".", b % 2);
          batch.push_back(Rec(a_, study, series, absl::StrCat(series, ".", t, ".", b, ".", i)));
        }
        batch.push_back(batch.front());
        auto outcomes = ii_->InsertInstances(batch);
        if (!outcomes.ok()) {
          ++failures;
          continue;
        }
        for (InsertOutcome o : *outcomes) {
          if (o == kStored) ++stored;
          if (o == kDuplicate) ++duplicates;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stored.load(), kThreads * kBatches * kPerBatch);
  EXPECT_EQ(duplicates.load(), kThreads * kBatches);

  const Counts store = StoreCounts(a_);
  EXPECT_EQ(store.studies, 3);
  EXPECT_EQ(store.series, 6);
  EXPECT_EQ(store.instances, kThreads * kBatches * kPerBatch);
  EXPECT_EQ(store.blob_bytes, 1000 * store.instances);
  int64_t instances = 0, series = 0, structured = 0;
  for (const SearchRow& row : Search(Query(Level::kStudy, a_))) {
    instances += row.study_instance_count;
    series += row.study_series_count;
    structured += ii_->StudyCounts(a_, row.study_uid)->structured_bytes;
  }
  EXPECT_EQ(instances, store.instances);
  EXPECT_EQ(series, store.series);
  EXPECT_EQ(structured, store.structured_bytes);
  SearchQuery all = Query(Level::kInstance, a_);
  all.limit = 100000;
  EXPECT_EQ(static_cast<int64_t>(Search(all).size()), store.instances);
}

// ---------------------------------------------------------------------------------------------
// On-disk specifics

class InstanceIndexFileTest : public ::testing::Test {
 protected:
  // Creates the index file with one dataset holding one store `name`; returns the store's id.
  int64_t CreateFileWithStore(const std::string& path, const std::string& name) {
    auto index = OpenSqliteIndex(path);
    EXPECT_THAT(index, IsOk());
    if (!index.ok()) return 0;
    EXPECT_THAT((*index)->CreateDataset({kDs, "", "", 1}), IsOk());
    auto store = (*index)->CreateStore({{kDs, name}, 0, "{}", 1});
    EXPECT_THAT(store, IsOk());
    return store.ok() ? store->store_id : 0;
  }

  TempDir dir_;
};

TEST_F(InstanceIndexFileTest, RowsCountersAndLocksSurviveReopen) {
  const std::string path = dir_.File("index.db");
  const int64_t store_id = CreateFileWithStore(path, "s");
  InstanceRecord r = Rec(store_id, "1", "1.1", "1.1.1");
  r.modality = "MR";
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
    auto outcomes = (*index)->instances()->InsertInstances({r, Rec(store_id, "2", "2.1", "2.1.1")});
    ASSERT_THAT(outcomes, IsOk());
    ASSERT_THAT((*index)->instances()->Lock(store_id, "2", std::nullopt), IsOk());
  }
  auto index = OpenSqliteIndex(path);
  ASSERT_THAT(index, IsOk());
  InstanceIndex* ii = (*index)->instances();
  auto got = ii->GetInstance(store_id, "1", "1.1", "1.1.1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->instance_json, r.instance_json);
  EXPECT_EQ(got->blob_key, r.blob_key);
  auto counts = ii->StoreCounts(store_id);
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->studies, 2);
  EXPECT_EQ(counts->instances, 2);
  EXPECT_EQ(counts->blob_bytes, 2000);
  SearchQuery q;
  q.store_id = store_id;
  q.patient_name_prefixes = {"DO"};
  auto rows = ii->Search(q);
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_THAT((*rows)[0].modalities_in_study, ElementsAre("MR"));
  auto outcomes = ii->InsertInstances({Rec(store_id, "2", "2.1", "2.1.2")});
  ASSERT_THAT(outcomes, IsOk());
  EXPECT_THAT(*outcomes, ElementsAre(kStudyLocked));
}

TEST_F(InstanceIndexFileTest, MigrationTwoGivesExistingStoresCounters) {
  const std::string path = dir_.File("index.db");
  const int64_t store_id = CreateFileWithStore(path, "old");
  // Turn the file back into a version 1 database holding that store.
  RawExec(path,
          "DROP TRIGGER dicom_stores_counts; DROP TABLE instances; DROP TABLE study_modalities; "
          "DROP TABLE series; DROP TABLE study_name_words; DROP TABLE studies; "
          "DROP TABLE store_counts; PRAGMA user_version = 1;");
  ASSERT_EQ(RawCount(path, "dicom_stores"), 1);
  for (const char* table : kDicomTables) EXPECT_EQ(RawCount(path, table), -1) << table;

  auto index = OpenSqliteIndex(path);
  ASSERT_THAT(index, IsOk());
  auto counts = (*index)->instances()->StoreCounts(store_id);
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->instances, 0);
  auto outcomes = (*index)->instances()->InsertInstances({Rec(store_id, "1", "1.1", "1.1.1")});
  ASSERT_THAT(outcomes, IsOk());
  EXPECT_THAT(*outcomes, ElementsAre(kStored));
  EXPECT_EQ((*index)->instances()->StoreCounts(store_id)->instances, 1);
}

TEST_F(InstanceIndexFileTest, MigrationThreeDropsTheHashColumnAndKeepsTheRows) {
  const std::string path = dir_.File("index.db");
  const int64_t store_id = CreateFileWithStore(path, "old");
  const InstanceRecord r = Rec(store_id, "1", "1.1", "1.1.1");
  {
    auto index = OpenSqliteIndex(path);
    ASSERT_THAT(index, IsOk());
    ASSERT_THAT((*index)->instances()->InsertInstances({r}), IsOk());
  }
  // Turn the file back into a version 2 database: its instances had a SHA-256 column.
  RawExec(path,
          "ALTER TABLE instances ADD COLUMN sha256_hex TEXT NOT NULL DEFAULT 'ab'; "
          "PRAGMA user_version = 2;");
  ASSERT_EQ(RawCount(path, "pragma_table_info('instances') WHERE name = 'sha256_hex'"), 1);

  auto index = OpenSqliteIndex(path);
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(RawCount(path, "pragma_table_info('instances') WHERE name = 'sha256_hex'"), 0);
  auto got = (*index)->instances()->GetInstance(store_id, "1", "1.1", "1.1.1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->blob_key, r.blob_key);
  EXPECT_THAT(*(*index)->instances()->InsertInstances({r, Rec(store_id, "1", "1.1", "1.1.2")}),
              ElementsAre(kDuplicate, kStored));
}

}  // namespace
}  // namespace dicomstore::index
