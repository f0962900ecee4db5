// WAL checkpoints of the SQLite index, off the commit path. Private to the SQLite backend.
//
// Why: SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so
// that commit waits while a few MB of pages are copied into the database file and fsync'd,
// and behind the index mutex every other request waits with it. With STOW batches of 20
// instances that happened every few commits. Durability does not change: a commit is
// durable once its WAL frames are synced, before any checkpoint.
//
// How: past `background_frames`, the commit only signals a thread, which copies the frames
// with its own connection (a PASSIVE checkpoint never blocks the writer). Commits made
// meanwhile append to the WAL, and SQLite restarts the WAL from its beginning only when a
// write begins with every frame copied, which under steady load never happens by itself. So
// the first commit after the thread finished checkpoints the few frames added since, on its
// own thread with no other writer possible, which completes the WAL (cheap: most pages
// were copied already) and lets the next write restart it.
//
// Safety net: if the WAL still grows past `foreground_frames` (the thread cannot keep up, or
// its checkpoints fail), the committing thread checkpoints everything itself, as SQLite would.
#ifndef DICOMSTORE_INDEX_SQLITE_CHECKPOINTER_H_
#define DICOMSTORE_INDEX_SQLITE_CHECKPOINTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "index/sqlite_db.h"

namespace dicomstore::index::sqlite {

class WalCheckpointer {
 public:
  struct Options {
    int background_frames = 1000;   // signal the thread from this WAL size on (SQLite's default)
    int foreground_frames = 16000;  // the committer checkpoints itself from here on (~64 MB)
  };

  // Opens a second connection to the database at `path` and hooks `writer`'s commits.
  // `writer` must outlive the checkpointer.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path, Db* writer,
                                                                Options options);
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                                Db* writer) {
    return Start(path, writer, Options());
  }
  // Unhooks the writer (restoring SQLite's automatic checkpoint), stops the thread and
  // closes its connection.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints completed by the thread, by committers finishing after it, and by
  // committers past the safety net (for tests and diagnostics).
  int64_t background_checkpoints() const { return background_done_.load(); }
  int64_t finishing_checkpoints() const { return finishing_done_.load(); }
  int64_t foreground_checkpoints() const { return foreground_done_.load(); }

 private:
  WalCheckpointer(std::unique_ptr<Db> own, Db* writer, Options options);
  void OnCommit(int frames);  // on the committing thread
  void Run();

  std::unique_ptr<Db> own_;  // used by the thread only
  Db* writer_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;               // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::atomic<bool> backfilled_{false};  // the thread finished; the next commit completes
  std::atomic<int64_t> background_done_{0}, finishing_done_{0}, foreground_done_{0};
  std::thread thread_;
};

}  // namespace dicomstore::index::sqlite

#endif  // DICOMSTORE_INDEX_SQLITE_CHECKPOINTER_H_
