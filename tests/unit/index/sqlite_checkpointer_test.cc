#include "index/sqlite_checkpointer.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "index/sqlite_db.h"
#include "testing/temp_dir.h"

namespace dicomstore::index::sqlite {
namespace {

// Commits `count` transactions of one ~4 KB row each (two or more WAL frames apiece).
void CommitRows(Db& db, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    Transaction tx(db);
    ASSERT_TRUE(tx.Begin().ok());
    auto stmt = db.Prepare("INSERT INTO t (id, payload) VALUES (?1, ?2)");
    ASSERT_TRUE(stmt.ok()) << stmt.status();
    ASSERT_TRUE(stmt->BindInt(1, i).BindText(2, std::string(4000, 'a' + i % 26)).Run().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
}

int64_t CountRows(Db& db) {
  auto stmt = db.Prepare("SELECT count(*) FROM t");
  EXPECT_TRUE(stmt.ok());
  auto row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row);
  return stmt->ColumnInt(0);
}

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_.File("index.sqlite"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)").ok());
  }
  uintmax_t WalBytes() const { return std::filesystem::file_size(dir_.File("index.sqlite-wal")); }

  dicomstore::testing::TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(WalCheckpointerTest, TheThreadCheckpointsAndTheWalIsReused) {
  auto checkpointer =
      WalCheckpointer::Start(dir_.File("index.sqlite"), db_.get(),
                             {.background_frames = 40, .foreground_frames = 1 << 30});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  // Without checkpoints the WAL would hold every frame: 400 commits of >= 2 frames, > 3 MB.
  for (int round = 0; round < 20; ++round) {
    const int64_t before = (*checkpointer)->background_checkpoints();
    CommitRows(*db_, round * 20, 20);
    // Wait for the thread's checkpoint (bounded; it runs beside the commits).
    for (int wait = 0; wait < 400 && (*checkpointer)->background_checkpoints() == before; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  EXPECT_GE((*checkpointer)->background_checkpoints(), 10);
  // Commits after the thread's checkpoints completed them, so the WAL was restarted.
  EXPECT_GE((*checkpointer)->finishing_checkpoints(), 10);
  EXPECT_EQ((*checkpointer)->foreground_checkpoints(), 0);
  EXPECT_LT(WalBytes(), 1u << 20);
  checkpointer->reset();
  // Every committed row is there, for this connection and a new one.
  EXPECT_EQ(CountRows(*db_), 400);
  db_.reset();
  auto reopened = Db::Open(dir_.File("index.sqlite"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(CountRows(**reopened), 400);
}

TEST_F(WalCheckpointerTest, CommittersCheckpointWhenTheWalOutgrowsTheSafetyNet) {
  // The thread is never asked (threshold out of reach): only the committers' net bounds
  // the WAL.
  auto checkpointer =
      WalCheckpointer::Start(dir_.File("index.sqlite"), db_.get(),
                             {.background_frames = 1 << 30, .foreground_frames = 30});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  CommitRows(*db_, 0, 300);
  EXPECT_EQ((*checkpointer)->background_checkpoints(), 0);
  EXPECT_GE((*checkpointer)->foreground_checkpoints(), 5);
  EXPECT_LT(WalBytes(), 1u << 20);
  EXPECT_EQ(CountRows(*db_), 300);
}

}  // namespace
}  // namespace dicomstore::index::sqlite
