// Instance bytes on a file system (DESIGN.md §5), packed into append-only segment files.
//
// Each blob is the exact bytes received, stored contiguously in a segment file of its DICOM
// store; paths derive from the store's internal id and random segment names the blob store
// generates, never from a user string, so no path traversal is possible:
//   <root>/<store_id>/<segment: 16 hex digits>
// A blob's key names its place: "<segment>.<offset: 12 hex>.<size: 12 hex>". Deleting a
// whole DICOM store is one directory removal; deleting one blob frees its bytes (a hole
// punched in the segment).
//
// Why segments and not a file per instance: creating a file costs an inode allocation and a
// directory fsync per instance, which dominated ingest on ext4 (docs/PERFORMANCE.md). A
// segment is created once and then only appended to, so making a whole request durable is
// one fdatasync per segment it wrote.
//
// Write protocol: a BlobWriter owns one open segment at a time (no other writer appends to
// it until the writer is destroyed, which hands it back for reuse). It appends blobs one
// after another (BeginBlob, Append..., EndBlob); a blob's bytes are in the file
// once EndBlob returns, and Sync() fdatasyncs what it wrote. Only after Sync may the index commit
// rows pointing at the blobs, and the writer must live until that commit is done: then the bytes of
// a segment not referenced by the index after a crash are always at its end, and TrimSegments
// (recovery) cuts them off.
#ifndef DICOMSTORE_BLOBS_BLOB_STORE_H_
#define DICOMSTORE_BLOBS_BLOB_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blobs/env.h"

namespace dicomstore::blobs {

// Where a blob's bytes are: `size` bytes at `offset` in the file `path`.
struct BlobLocation {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// A blob a writer has finished (durable only after the writer's Sync).
struct BlobRef {
  int64_t store_id = 0;
  std::string key;
  BlobLocation location;
};

class BlobStore;
struct Segment;

// Appends the blobs of one DICOM store. Not thread-safe; one request uses one writer.
class BlobWriter {
 public:
  ~BlobWriter();  // drops an unfinished blob; hands the segment back for reuse
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  absl::Status BeginBlob();
  absl::Status Append(std::string_view data);
  uint64_t blob_size() const { return blob_size_; }  // of the blob being written
  absl::StatusOr<BlobRef> EndBlob();
  // Drops the bytes of the unfinished blob (e.g. the request was cut short).
  void AbandonBlob();
  // Makes every blob ended so far durable (one fdatasync per segment written since the
  // last Sync).
  absl::Status Sync();

 private:
  friend class BlobStore;
  BlobWriter(BlobStore* store, int64_t store_id);

  BlobStore* store_;
  int64_t store_id_;
  std::unique_ptr<Segment> segment_;            // being appended to
  std::vector<std::unique_ptr<Segment>> full_;  // rolled over, kept until Sync
  bool segment_dirty_ = false;                  // written since the last Sync
  bool in_blob_ = false;
  uint64_t blob_start_ = 0, blob_size_ = 0;
  // Bytes of the current blob not yet written: appends reach the file in pieces that end on
  // kWriteUnit boundaries of the segment, and at the blob's end (see Append).
  std::string pending_;
  absl::Status WritePending();
};

class BlobStore {
 public:
  struct Options {
    // A writer starts a new segment once its current one is this large (blobs are never
    // split, so a segment can end up larger).
    uint64_t segment_target_bytes = uint64_t{256} << 20;
  };
  // `env` must outlive the store; writers must not outlive it.
  BlobStore(Env* env, std::string root, Options options);
  BlobStore(Env* env, std::string root) : BlobStore(env, std::move(root), Options()) {}
  ~BlobStore();

  // Creates the root directory.
  absl::Status Open();

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter(int64_t store_id);

  // Where a blob is (INVALID_ARGUMENT for a malformed key; the file is not checked).
  absl::StatusOr<BlobLocation> Locate(int64_t store_id, std::string_view key) const;
  // The blob's bytes as a file of its own size (offsets relative to the blob).
  absl::StatusOr<std::unique_ptr<ReadableFile>> Read(int64_t store_id, std::string_view key);
  // Frees a blob's bytes (after its index row is gone, or when it was never indexed).
  absl::Status Remove(int64_t store_id, std::string_view key);
  // Removes every blob of a store (after its index rows are gone).
  absl::Status RemoveStore(int64_t store_id);

  // Recovery after an unclean stop: `last_indexed_key(prefix)` returns the greatest key
  // the index holds that starts with `prefix` (a segment's "<segment>."), if any. Bytes
  // after that blob's end were never acknowledged and are cut off; a segment with no
  // indexed blob is removed. Must run before any writer exists.
  using LastIndexedKey =
      std::function<absl::StatusOr<std::optional<std::string>>(const std::string& prefix)>;
  struct TrimReport {
    size_t segments = 0, trimmed = 0, removed = 0;
    uint64_t bytes_cut = 0;
  };
  absl::StatusOr<TrimReport> TrimSegments(const LastIndexedKey& last_indexed_key);

 private:
  friend class BlobWriter;
  std::string StoreDir(int64_t store_id) const;
  absl::StatusOr<std::unique_ptr<Segment>> AcquireSegment(int64_t store_id);
  absl::StatusOr<std::unique_ptr<Segment>> CreateSegment(int64_t store_id);
  void ReleaseSegment(std::unique_ptr<Segment> segment, bool reusable);

  Env* env_;
  std::string root_;
  Options options_;
  std::mutex mu_;
  std::map<int64_t, std::vector<std::unique_ptr<Segment>>> idle_;  // by store id
  std::set<int64_t> removed_stores_;                               // their segments are not reused
};

// True for a well-formed blob key ("<16 hex>.<12 hex>.<12 hex>", lower case).
bool IsBlobKey(std::string_view key);

}  // namespace dicomstore::blobs

#endif  // DICOMSTORE_BLOBS_BLOB_STORE_H_
