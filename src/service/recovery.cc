#include "service/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

namespace dicomstore::service {
namespace {
constexpr char kMarkerName[] = "clean-shutdown";
constexpr char kIndexName[] = "index.sqlite";
}  // namespace

CleanShutdownMarker::CleanShutdownMarker(const std::string& data_dir)
    : path_((std::filesystem::path(data_dir) / kMarkerName).string()) {
  std::error_code ec;
  // A data directory without an index yet has nothing to recover.
  bool fresh = !std::filesystem::exists(std::filesystem::path(data_dir) / kIndexName, ec) ||
               !std::filesystem::exists(std::filesystem::path(data_dir) / "blobs", ec);
  was_clean_ = fresh || std::filesystem::exists(path_, ec);
}

void CleanShutdownMarker::MarkRunning() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void CleanShutdownMarker::MarkClean() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

absl::Status RemoveUnreferencedBlobs(index::Index* index, blobs::BlobStore* blobs) {
  absl::StatusOr<blobs::BlobStore::TrimReport> report = blobs->TrimSegments(
      [index](const std::string& prefix) { return index->instances()->LastBlobKey(prefix); });
  if (!report.ok()) return report.status();
  std::cerr << "dicomstore: recovery after an unclean stop checked " << report->segments
            << " segments: " << report->trimmed << " trimmed, " << report->removed << " removed, "
            << report->bytes_cut << " unacknowledged bytes dropped\n";
  return absl::OkStatus();
}

}  // namespace dicomstore::service
