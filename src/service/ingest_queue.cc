#include "service/ingest_queue.h"

#include <utility>

namespace dicomstore::service {

IngestQueue::IngestQueue(index::InstanceIndex* index, blobs::BlobStore* blobs,
                         size_t max_batch_instances)
    : index_(index), blobs_(blobs), max_batch_(max_batch_instances), thread_([this] { Run(); }) {}

IngestQueue::~IngestQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

absl::StatusOr<std::vector<index::InsertOutcome>> IngestQueue::Commit(
    std::vector<PreparedInstance> items) {
  if (items.empty()) return std::vector<index::InsertOutcome>();
  Submission submission{std::move(items), {}};
  std::future<absl::StatusOr<std::vector<index::InsertOutcome>>> result =
      submission.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    queue_.push_back(&submission);
  }
  cv_.notify_one();
  return result.get();
}

void IngestQueue::Run() {
  while (true) {
    std::vector<Submission*> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      // Take whole submissions while the batch has room (always at least one).
      size_t count = 0;
      while (!queue_.empty() &&
             (batch.empty() || count + queue_.front()->items.size() <= max_batch_)) {
        count += queue_.front()->items.size();
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void IngestQueue::CommitBatch(std::vector<Submission*>& batch) {
  std::vector<blobs::PendingBlob> pending;
  std::vector<index::InstanceRecord> records;
  for (Submission* s : batch) {
    for (PreparedInstance& item : s->items) {
      pending.push_back(item.blob);
      records.push_back(std::move(item.record));
    }
  }
  auto fail_all = [&](const absl::Status& status) {
    for (const blobs::PendingBlob& blob : pending) {
      blobs_->Discard(blob);
      (void)blobs_->Remove(blob.store_id, blob.key);
    }
    for (Submission* s : batch) s->done.set_value(status);
  };

  // Blobs first, rows second: an index row never points at a missing file. A crash in
  // between leaves unreferenced files, which recovery removes.
  if (absl::Status s = blobs_->Publish(pending); !s.ok()) return fail_all(s);
  absl::StatusOr<std::vector<index::InsertOutcome>> outcomes = index_->InsertInstances(records);
  if (!outcomes.ok()) return fail_all(outcomes.status());

  size_t at = 0;
  for (Submission* s : batch) {
    std::vector<index::InsertOutcome> mine;
    for (size_t i = 0; i < s->items.size(); ++i, ++at) {
      index::InsertOutcome outcome = (*outcomes)[at];
      if (outcome != index::InsertOutcome::kStored) {
        (void)blobs_->Remove(pending[at].store_id, pending[at].key);
      }
      mine.push_back(outcome);
    }
    s->done.set_value(std::move(mine));
  }
}

}  // namespace dicomstore::service
