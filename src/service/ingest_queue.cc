#include "service/ingest_queue.h"

#include <utility>

namespace dicomstore::service {

IngestQueue::IngestQueue(index::InstanceIndex* index, size_t max_batch_instances)
    : index_(index), max_batch_(max_batch_instances), thread_([this] { Run(); }) {}

IngestQueue::~IngestQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

absl::StatusOr<std::vector<index::InsertOutcome>> IngestQueue::Commit(
    std::vector<index::InstanceRecord> records) {
  if (records.empty()) return std::vector<index::InsertOutcome>();
  Submission submission{std::move(records), {}};
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
             (batch.empty() || count + queue_.front()->records.size() <= max_batch_)) {
        count += queue_.front()->records.size();
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void IngestQueue::CommitBatch(std::vector<Submission*>& batch) {
  std::vector<index::InstanceRecord> records;
  for (Submission* s : batch) {
    for (index::InstanceRecord& record : s->records) records.push_back(std::move(record));
  }
  absl::StatusOr<std::vector<index::InsertOutcome>> outcomes = index_->InsertInstances(records);
  if (!outcomes.ok()) {
    for (Submission* s : batch) s->done.set_value(outcomes.status());
    return;
  }
  size_t at = 0;
  for (Submission* s : batch) {
    std::vector<index::InsertOutcome> mine(outcomes->begin() + at,
                                           outcomes->begin() + at + s->records.size());
    at += s->records.size();
    s->done.set_value(std::move(mine));
  }
}

}  // namespace dicomstore::service
