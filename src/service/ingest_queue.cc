#include "service/ingest_queue.h"

#include <utility>

namespace dicomstore::service {

IngestQueue::IngestQueue(index::InstanceIndex* index, size_t max_batch_instances)
    : index_(index), max_batch_(max_batch_instances) {}

absl::StatusOr<std::vector<index::InsertOutcome>> IngestQueue::Commit(
    std::vector<index::InstanceRecord> records) {
  if (records.empty()) return std::vector<index::InsertOutcome>();
  Submission self;
  self.records = std::move(records);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  // Followers sleep until a leader has committed their rows or they reach the front.
  self.cv.wait(lock, [&] { return self.result.has_value() || queue_.front() == &self; });
  if (self.result) return *std::move(self.result);

  // Leader: take whole submissions from the front while the batch has room (always itself).
  std::vector<Submission*> batch;
  size_t count = 0;
  for (Submission* s : queue_) {
    if (!batch.empty() && count + s->records.size() > max_batch_) break;
    count += s->records.size();
    batch.push_back(s);
  }
  lock.unlock();
  absl::StatusOr<std::vector<index::InsertOutcome>> outcomes = CommitBatch(batch);
  lock.lock();
  // Under the lock until the end: a follower returns (and its Submission dies) only after
  // it reacquires the lock, so nothing here touches a dead Submission.
  size_t at = 0;
  for (Submission* s : batch) {
    if (!outcomes.ok()) {
      s->result = outcomes.status();
      continue;
    }
    s->result = std::vector<index::InsertOutcome>(outcomes->begin() + at,
                                                  outcomes->begin() + at + s->records.size());
    at += s->records.size();
  }
  for (size_t i = 0; i < batch.size(); ++i) queue_.pop_front();
  for (size_t i = 1; i < batch.size(); ++i) batch[i]->cv.notify_one();
  if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
  return *std::move(self.result);
}

absl::StatusOr<std::vector<index::InsertOutcome>> IngestQueue::CommitBatch(
    const std::vector<Submission*>& batch) {
  std::vector<index::InstanceRecord> records;
  for (Submission* s : batch) {
    for (index::InstanceRecord& record : s->records) records.push_back(std::move(record));
  }
  return index_->InsertInstances(records);
}

}  // namespace dicomstore::service
