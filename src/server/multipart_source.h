// A streamed multipart/related response body (WADO-RS): each part is either a file read
// from disk in chunks or bytes produced on demand (e.g. a transcoded instance), so a whole
// study goes out with memory bounded by one chunk or one produced part.
#ifndef DICOMSTORE_SERVER_MULTIPART_SOURCE_H_
#define DICOMSTORE_SERVER_MULTIPART_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/http_server.h"

namespace dicomstore::server {

struct OutgoingPart {
  std::string content_type;
  std::string file_path;     // streamed from disk when non-empty: file_size bytes from
  uint64_t file_offset = 0;  // file_offset on
  uint64_t file_size = 0;
  std::function<absl::StatusOr<std::string>()> produce;  // used when file_path is empty
};

class MultipartSource : public BodySource {
 public:
  MultipartSource(std::string boundary, std::vector<OutgoingPart> parts);
  ~MultipartSource() override;
  absl::StatusOr<bool> Next(std::string* out) override;
  // The total length when every part is a file (sizes known up front).
  std::optional<uint64_t> KnownLength() const;

 private:
  std::string boundary_;
  std::vector<OutgoingPart> parts_;
  size_t next_part_ = 0;
  int fd_ = -1;  // file of the part being streamed
  uint64_t position_ = 0, remaining_ = 0;
  bool closed_ = false;
};

// A byte range of a file streamed as a whole response body, in chunks.
class FileSource : public BodySource {
 public:
  FileSource(std::string path, uint64_t offset, uint64_t size)
      : path_(std::move(path)), position_(offset), remaining_(size) {}
  ~FileSource() override;
  absl::StatusOr<bool> Next(std::string* out) override;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t position_;
  uint64_t remaining_;
};

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_MULTIPART_SOURCE_H_
