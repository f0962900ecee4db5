// Group commit for stored instances (DESIGN.md §5): requests hand over the index rows of
// instances whose bytes are already durable (their blob writer synced them); one
// background thread inserts the rows of everything waiting in one transaction, then wakes
// each request with its outcomes. Under load, many requests share one index commit.
#ifndef DICOMSTORE_SERVICE_INGEST_QUEUE_H_
#define DICOMSTORE_SERVICE_INGEST_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "index/instance_index.h"

namespace dicomstore::service {

class IngestQueue {
 public:
  // `index` must outlive the queue. `max_batch_instances` bounds one commit.
  explicit IngestQueue(index::InstanceIndex* index, size_t max_batch_instances = 512);
  ~IngestQueue();  // commits what is queued, then stops

  // Blocks until the rows are committed or refused; one outcome per row, in order. The
  // caller frees the blobs of rows not stored (duplicates, locked studies, errors).
  absl::StatusOr<std::vector<index::InsertOutcome>> Commit(
      std::vector<index::InstanceRecord> records);

 private:
  struct Submission {
    std::vector<index::InstanceRecord> records;
    std::promise<absl::StatusOr<std::vector<index::InsertOutcome>>> done;
  };
  void Run();
  void CommitBatch(std::vector<Submission*>& batch);

  index::InstanceIndex* index_;
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Submission*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_INGEST_QUEUE_H_
