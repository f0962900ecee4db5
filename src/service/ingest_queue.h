// Group commit for stored instances (DESIGN.md §5): requests hand over instances whose
// bytes are already synced to temporary files; one background thread publishes the blobs
// of everything waiting (renames + one fsync per directory) and inserts all their index
// rows in one transaction, then wakes each request with its outcomes. Under load, many
// requests share one round of directory fsyncs and one index commit.
#ifndef DICOMSTORE_SERVICE_INGEST_QUEUE_H_
#define DICOMSTORE_SERVICE_INGEST_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "blobs/blob_store.h"
#include "index/instance_index.h"

namespace dicomstore::service {

struct PreparedInstance {
  index::InstanceRecord record;  // record.blob_key etc. filled from `blob`
  blobs::PendingBlob blob;
};

class IngestQueue {
 public:
  // `index` and `blobs` must outlive the queue. `max_batch_instances` bounds one commit.
  IngestQueue(index::InstanceIndex* index, blobs::BlobStore* blobs,
              size_t max_batch_instances = 512);
  ~IngestQueue();  // commits what is queued, then stops

  // Blocks until the instances are durable or refused; one outcome per instance, in order.
  // Blobs of instances not stored (duplicates, locked studies) are removed.
  absl::StatusOr<std::vector<index::InsertOutcome>> Commit(std::vector<PreparedInstance> items);

 private:
  struct Submission {
    std::vector<PreparedInstance> items;
    std::promise<absl::StatusOr<std::vector<index::InsertOutcome>>> done;
  };
  void Run();
  void CommitBatch(std::vector<Submission*>& batch);

  index::InstanceIndex* index_;
  blobs::BlobStore* blobs_;
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Submission*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_INGEST_QUEUE_H_
