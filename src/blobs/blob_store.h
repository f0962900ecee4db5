// Instance bytes on a file system (DESIGN.md §5). Each blob is the exact bytes received,
// in a file whose path derives from the store's internal id and a random key the blob
// store generates — never from a user string, so no path traversal is possible:
//   <root>/<store_id>/<k[0:2]>/<key>
// Deleting a whole DICOM store is then one directory removal.
//
// Write protocol: Create() streams into <root>/tmp/<key>.tmp while hashing; Finish()
// fdatasyncs it; Publish() renames a batch of finished blobs into place and fsyncs the
// directories once per batch (group commit). Only after Publish may the index commit the
// rows that point at them. At start, Open() removes leftover temp files.
#ifndef DICOMSTORE_BLOBS_BLOB_STORE_H_
#define DICOMSTORE_BLOBS_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blobs/env.h"

namespace dicomstore::blobs {

// A blob written and synced to its temporary file, not yet published.
struct PendingBlob {
  int64_t store_id = 0;
  std::string key;  // 32 lower-case hex digits
  std::string temp_path;
  uint64_t size = 0;
  std::string sha256_hex;  // of the bytes
};

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  virtual uint64_t size() const = 0;
  // Closes and syncs the temporary file. The writer is unusable afterwards.
  virtual absl::StatusOr<PendingBlob> Finish() = 0;
  // The temporary file the bytes go to (readable after Finish, until Publish/Discard).
  virtual const std::string& temp_path() const = 0;
};

class BlobStore {
 public:
  // `env` must outlive the store.
  BlobStore(Env* env, std::string root);

  // Creates the directories and removes temporary files left by a crash.
  absl::Status Open();

  absl::StatusOr<std::unique_ptr<BlobWriter>> Create(int64_t store_id);
  // Moves finished blobs to their final paths; durable when it returns OK.
  absl::Status Publish(const std::vector<PendingBlob>& blobs);
  // Drops a blob that was never published (e.g. its instance was refused).
  void Discard(const PendingBlob& blob);

  absl::StatusOr<std::unique_ptr<ReadableFile>> Read(int64_t store_id, std::string_view key);
  absl::Status Remove(int64_t store_id, std::string_view key);
  // Removes every blob of a store (after its index rows are gone).
  absl::Status RemoveStore(int64_t store_id);
  std::string PathOf(int64_t store_id, std::string_view key) const;

  // Every published (store_id, key) (a full scan: for recovery after a crash only).
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListKeys();

 private:
  Env* env_;
  std::string root_;
};

// True for a well-formed blob key (32 lower-case hex digits).
bool IsBlobKey(std::string_view key);

}  // namespace dicomstore::blobs

#endif  // DICOMSTORE_BLOBS_BLOB_STORE_H_
