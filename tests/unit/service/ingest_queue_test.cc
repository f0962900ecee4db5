#include "service/ingest_queue.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "testing/temp_dir.h"

namespace dicomstore::service {
namespace {

using index::InsertOutcome;
using ::testing::ElementsAre;

index::InstanceRecord Rec(int64_t store, int study, int sop, const std::string& blob = "blob") {
  index::InstanceRecord r;
  r.store_id = store;
  r.study_uid = absl::StrCat("1.2.", study);
  r.series_uid = absl::StrCat("1.2.", study, ".1");
  r.sop_instance_uid = absl::StrCat("1.2.", study, ".1.", sop);
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.study_json = r.series_json = r.instance_json = "{}";
  r.blob_key = absl::StrCat(store, "/", r.sop_instance_uid, "/", blob);
  return r;
}

class IngestQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = index::OpenSqliteIndex(dir_.File("index.sqlite"));
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    const index::DatasetKey ds{"p", "l", "d"};
    ASSERT_TRUE(index_->CreateDataset({ds, "", "", 1}).ok());
    auto store = index_->CreateStore({{ds, "s"}, 0, "{}", 1});
    ASSERT_TRUE(store.ok());
    store_ = store->store_id;
  }
  int64_t Instances() { return index_->instances()->StoreCounts(store_)->instances; }

  testing::TempDir dir_;
  std::unique_ptr<index::Index> index_;
  int64_t store_ = 0;
};

TEST_F(IngestQueueTest, OutcomesComeBackInOrderPerSubmission) {
  IngestQueue queue(index_->instances());
  auto first = queue.Commit({Rec(store_, 1, 1), Rec(store_, 1, 2)});
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(*first, ElementsAre(InsertOutcome::kStored, InsertOutcome::kStored));
  auto second = queue.Commit({Rec(store_, 1, 3), Rec(store_, 1, 1), Rec(store_, 1, 2, "other")});
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(*second, ElementsAre(InsertOutcome::kStored, InsertOutcome::kDuplicate,
                                   InsertOutcome::kDuplicate));
  auto missing = queue.Commit({Rec(store_ + 100, 1, 1)});
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, ElementsAre(InsertOutcome::kStoreMissing));
  EXPECT_TRUE(queue.Commit({})->empty());
  EXPECT_EQ(Instances(), 3);
}

TEST_F(IngestQueueTest, ConcurrentRequestsAllGetTheirOwnOutcomes) {
  // Leaders and followers change hands many times; a batch bound of 5 rows forces
  // submissions to be split across commits.
  IngestQueue queue(index_->instances(), /*max_batch_instances=*/5);
  constexpr int kThreads = 8, kCommits = 40;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCommits; ++c) {
        std::vector<index::InstanceRecord> records;
        const int n = 1 + (t + c) % 3;
        for (int k = 0; k < n; ++k) records.push_back(Rec(store_, t, c * 10 + k));
        // Every third submission repeats its first instance: a duplicate within the batch.
        if (c % 3 == 0) records.push_back(Rec(store_, t, c * 10));
        auto outcomes = queue.Commit(records);
        if (!outcomes.ok() || outcomes->size() != records.size()) {
          ++wrong;
          continue;
        }
        for (int k = 0; k < n; ++k) {
          if ((*outcomes)[k] != InsertOutcome::kStored) ++wrong;
        }
        if (c % 3 == 0 && outcomes->back() != InsertOutcome::kDuplicate) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  int64_t expected = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kCommits; ++c) expected += 1 + (t + c) % 3;
  }
  EXPECT_EQ(Instances(), expected);
}

}  // namespace
}  // namespace dicomstore::service
