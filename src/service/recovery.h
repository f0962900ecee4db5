// Start-up recovery (DESIGN.md §5). A marker file tells whether the last run ended
// cleanly; only after an unclean end are the blob segments checked for bytes written but
// never indexed (a crash before a request's index commit): one index lookup per segment,
// not per instance.
#ifndef DICOMSTORE_SERVICE_RECOVERY_H_
#define DICOMSTORE_SERVICE_RECOVERY_H_

#include <string>

#include "absl/status/status.h"
#include "blobs/blob_store.h"
#include "index/index.h"

namespace dicomstore::service {

class CleanShutdownMarker {
 public:
  explicit CleanShutdownMarker(const std::string& data_dir);
  // True when the data directory is new or the previous run called MarkClean.
  bool WasClean() const { return was_clean_; }
  void MarkRunning();  // removes the marker (a crash from now on is detected)
  void MarkClean();    // writes the marker durably

 private:
  std::string path_;
  bool was_clean_;
};

// Cuts off the bytes at the end of each segment that no instance row refers to, and removes
// segments no row refers to (BlobStore::TrimSegments).
absl::Status RemoveUnreferencedBlobs(index::Index* index, blobs::BlobStore* blobs);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_RECOVERY_H_
