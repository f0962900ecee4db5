// Group commit for stored instances (DESIGN.md §5): requests hand over the index rows of
// instances whose bytes are already durable (their blob writer synced them), and rows that
// arrive while a commit is running are inserted together in the next transaction.
//
// There is no committing thread: the first waiting request leads (LevelDB's writer queue).
// It takes the rows of everyone queued behind it, commits them in one transaction, hands
// each follower its outcomes, and wakes the next leader. A request alone on an idle queue
// therefore commits on its own thread, without a thread switch; under load, many requests
// share one index commit.
#ifndef DICOMSTORE_SERVICE_INGEST_QUEUE_H_
#define DICOMSTORE_SERVICE_INGEST_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "index/instance_index.h"

namespace dicomstore::service {

class IngestQueue {
 public:
  // `index` must outlive the queue. `max_batch_instances` bounds one commit.
  explicit IngestQueue(index::InstanceIndex* index, size_t max_batch_instances = 512);

  // Blocks until the rows are committed or refused; one outcome per row, in order. The
  // caller frees the blobs of rows not stored (duplicates, locked studies, errors).
  absl::StatusOr<std::vector<index::InsertOutcome>> Commit(
      std::vector<index::InstanceRecord> records);

 private:
  struct Submission {
    std::vector<index::InstanceRecord> records;
    std::optional<absl::StatusOr<std::vector<index::InsertOutcome>>> result;  // set when done
    std::condition_variable cv;
  };
  // Inserts the rows of `batch` in one transaction (called without the lock; the rows
  // are moved out, their count stays).
  absl::StatusOr<std::vector<index::InsertOutcome>> CommitBatch(
      const std::vector<Submission*>& batch);

  index::InstanceIndex* index_;
  size_t max_batch_;
  std::mutex mu_;
  std::deque<Submission*> queue_;  // front = the leader, committing or about to
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_INGEST_QUEUE_H_
