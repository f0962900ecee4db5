// A streamed multipart/related response body (WADO-RS): each part is either a byte range of a
// stored file or bytes produced on demand (e.g. a transcoded instance), so a whole study goes
// out with memory bounded by one chunk or one produced part. File parts are read in chunks
// (Next) or left to the transport as file ranges (NextPiece), which sends them with sendfile.
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
  std::string file_path;  // streamed from disk when non-empty: file_size bytes at file_offset
  uint64_t file_offset = 0;
  uint64_t file_size = 0;
  std::function<absl::StatusOr<std::string>()> produce;  // used when file_path is empty
};

class MultipartSource : public BodySource {
 public:
  MultipartSource(std::string boundary, std::vector<OutgoingPart> parts);
  ~MultipartSource() override;
  absl::StatusOr<bool> Next(std::string* out) override;
  absl::StatusOr<bool> NextPiece(std::string* out, std::optional<FileRange>* file) override;
  // The total length when every part is a file (sizes known up front).
  std::optional<uint64_t> KnownLength() const;

 private:
  // Next when `file` is null, else NextPiece.
  absl::StatusOr<bool> Step(std::string* out, std::optional<FileRange>* file);

  std::string boundary_;
  std::vector<OutgoingPart> parts_;
  size_t next_part_ = 0;
  int fd_ = -1;             // file of the part being read (Next)
  uint64_t offset_ = 0;     // where the next read of it starts
  uint64_t remaining_ = 0;  // bytes of it still to read
  bool crlf_due_ = false;   // a part handed out as a file range still needs its closing CRLF
  bool closed_ = false;
};

// A byte range of one file as a whole response body: read in chunks (Next), or handed to the
// transport as one file range (NextPiece).
class FileSource : public BodySource {
 public:
  FileSource(std::string path, uint64_t offset, uint64_t size)
      : path_(std::move(path)), offset_(offset), remaining_(size) {}
  ~FileSource() override;
  absl::StatusOr<bool> Next(std::string* out) override;
  absl::StatusOr<bool> NextPiece(std::string* out, std::optional<FileRange>* file) override;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t offset_;
  uint64_t remaining_;
};

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_MULTIPART_SOURCE_H_
