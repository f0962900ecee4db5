// An Env for tests: delegates to the real file system but fails chosen operations on
// demand (fdatasync, appends that half-land as on a full disk, directory fsync), and counts
// files created and syncs, and records where each append landed.
#ifndef DICOMSTORE_TESTS_UNIT_BLOBS_FAULTY_ENV_H_
#define DICOMSTORE_TESTS_UNIT_BLOBS_FAULTY_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "blobs/env.h"

namespace dicomstore::blobs::testing {

// A file whose Append/Sync can be made to fail.
class FaultyFile final : public WritableFile {
 public:
  // An append of `size` bytes ending at file offset `end`.
  struct Write {
    uint64_t end, size;
  };
  FaultyFile(std::unique_ptr<WritableFile> file, const bool* fail_append, const bool* fail_sync,
             int* syncs, std::vector<Write>* writes)
      : file_(std::move(file)),
        fail_append_(fail_append),
        fail_sync_(fail_sync),
        syncs_(syncs),
        writes_(writes) {}
  absl::Status Append(std::string_view data) override {
    writes_->push_back(Write{file_->size() + data.size(), data.size()});
    if (*fail_append_) {
      // Half the bytes land, as with a disk filling up mid-write.
      (void)file_->Append(data.substr(0, data.size() / 2));
      return absl::ResourceExhaustedError("injected: no space left");
    }
    return file_->Append(data);
  }
  absl::Status Truncate(uint64_t size) override { return file_->Truncate(size); }
  uint64_t size() const override { return file_->size(); }
  absl::Status Sync() override {
    ++*syncs_;
    if (*fail_sync_) return absl::InternalError("injected fdatasync failure");
    return file_->Sync();
  }
  void StartWriteback(uint64_t offset, uint64_t size) override {
    file_->StartWriteback(offset, size);
  }
  absl::Status Close() override { return file_->Close(); }

 private:
  std::unique_ptr<WritableFile> file_;
  const bool* fail_append_;
  const bool* fail_sync_;
  int* syncs_;
  std::vector<Write>* writes_;
};

// An Env that delegates to the real one but can fail chosen operations.
class FaultyEnv final : public Env {
 public:
  bool fail_append = false;
  bool fail_sync = false;
  bool fail_sync_dir = false;
  int syncs = 0;
  int files_created = 0;
  std::vector<FaultyFile::Write> writes;  // of every file, in order
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    auto file = DefaultEnv()->NewWritableFile(p);
    if (!file.ok()) return file.status();
    ++files_created;
    return std::unique_ptr<WritableFile>(
        std::make_unique<FaultyFile>(*std::move(file), &fail_append, &fail_sync, &syncs, &writes));
  }
  absl::StatusOr<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& p) override {
    return DefaultEnv()->NewReadableFile(p);
  }
  absl::Status Remove(const std::string& p) override { return DefaultEnv()->Remove(p); }
  absl::Status TruncateFile(const std::string& p, uint64_t size) override {
    return DefaultEnv()->TruncateFile(p, size);
  }
  absl::Status PunchHole(const std::string& p, uint64_t offset, uint64_t size) override {
    return DefaultEnv()->PunchHole(p, offset, size);
  }
  absl::StatusOr<uint64_t> FileSize(const std::string& p) override {
    return DefaultEnv()->FileSize(p);
  }
  absl::Status CreateDirs(const std::string& p) override { return DefaultEnv()->CreateDirs(p); }
  absl::Status RemoveTree(const std::string& p) override { return DefaultEnv()->RemoveTree(p); }
  absl::Status SyncDir(const std::string& p) override {
    if (fail_sync_dir) return absl::InternalError("injected fsync failure");
    return DefaultEnv()->SyncDir(p);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& p) override {
    return DefaultEnv()->ListDir(p);
  }
};

}  // namespace dicomstore::blobs::testing

#endif  // DICOMSTORE_TESTS_UNIT_BLOBS_FAULTY_ENV_H_
