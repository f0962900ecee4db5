#include "index/sqlite_checkpointer.h"

#include <iostream>
#include <utility>

#include "common/status_macros.h"

namespace dicomstore::index::sqlite {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                        Db* writer,
                                                                        Options options) {
  DS_ASSIGN_OR_RETURN(std::unique_ptr<Db> own, Db::Open(path));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(own), writer, options));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Db> own, Db* writer, Options options)
    : own_(std::move(own)), writer_(writer), options_(options) {
  thread_ = std::thread([this] { Run(); });
  writer_->SetWalHook([this](int frames) { OnCommit(frames); });
}

WalCheckpointer::~WalCheckpointer() {
  writer_->SetWalHook(nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WalCheckpointer::OnCommit(int frames) {
  if (frames >= options_.foreground_frames) {
    if (writer_->CheckpointPassive().ok()) ++foreground_done_;
    return;
  }
  if (backfilled_.exchange(false)) {
    if (writer_->CheckpointPassive().ok()) ++finishing_done_;
    return;
  }
  if (frames < options_.background_frames) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_) return;
    requested_ = true;
  }
  wake_.notify_one();
}

void WalCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    lock.unlock();
    // A failure (e.g. a full disk) leaves the frames in the WAL, where they are safe; the
    // next commit over the threshold asks again, and the committer's safety net bounds the
    // WAL meanwhile.
    if (absl::Status s = own_->CheckpointPassive(); s.ok()) {
      ++background_done_;
      backfilled_ = true;
    } else if (!absl::IsUnavailable(s)) {
      std::cerr << "dicomstore: background WAL checkpoint failed: " << s << "\n";
    }
    lock.lock();
    // Requests that arrived while checkpointing are served by the next round only if a
    // later commit asks again: the frames they saw were just copied.
    requested_ = false;
  }
}

}  // namespace dicomstore::index::sqlite
