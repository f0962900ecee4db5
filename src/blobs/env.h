// The file-system operations the blob store needs, behind an interface so tests can inject
// faults (a failing fsync, a full disk, a crash between steps) — the LevelDB `Env` idea.
#ifndef DICOMSTORE_BLOBS_ENV_H_
#define DICOMSTORE_BLOBS_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dicomstore::blobs {

// A file written sequentially from a position the writer can move back (to drop bytes it
// appended last).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes at the current end (size()) and advances it.
  virtual absl::Status Append(std::string_view data) = 0;
  // Cuts the file to `size` (<= size()); later appends continue from there.
  virtual absl::Status Truncate(uint64_t size) = 0;
  virtual uint64_t size() const = 0;
  virtual absl::Status Sync() = 0;  // data and size durable (fdatasync)
  // Starts writing [offset, offset + size) to the device without waiting, so that a later
  // Sync has less left to do (a hint: durability still needs Sync).
  virtual void StartWriteback(uint64_t offset, uint64_t size) = 0;
  virtual absl::Status Close() = 0;
};

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at `offset` into `out` (resized to what was read; 0 = end).
  virtual absl::Status ReadAt(uint64_t offset, size_t n, std::string* out) = 0;
  virtual uint64_t size() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // Creates a new, empty file; ALREADY_EXISTS if `path` exists.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<ReadableFile>> NewReadableFile(
      const std::string& path) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;  // OK if already absent
  // Cuts an existing file to `size` bytes and makes the new size durable.
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Frees the bytes [offset, offset + size) of a file; they read as zeros afterwards and
  // the file keeps its size. OK if the file is absent.
  virtual absl::Status PunchHole(const std::string& path, uint64_t offset, uint64_t size) = 0;
  virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  // Creates `path` and any missing ancestors, durably: the parent of every directory it
  // creates is fsynced, so a file later made durable inside `path` cannot vanish with a
  // directory entry lost in a crash.
  virtual absl::Status CreateDirs(const std::string& path) = 0;
  virtual absl::Status RemoveTree(const std::string& path) = 0;  // OK if already absent
  virtual absl::Status SyncDir(const std::string& path) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
};

// The real POSIX file system. Thread-safe; lives for the whole process.
Env* DefaultEnv();

}  // namespace dicomstore::blobs

#endif  // DICOMSTORE_BLOBS_ENV_H_
