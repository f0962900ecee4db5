#include "server/multipart_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace dicomstore::server {
namespace {

// One read per chunk; the transport batches chunks up to ~1 MB per socket write.
constexpr size_t kChunk = 1 << 20;

std::string PartHeader(const std::string& boundary, const std::string& content_type) {
  return absl::StrCat("--", boundary, "\r\nContent-Type: ", content_type, "\r\n\r\n");
}

absl::StatusOr<int> OpenStored(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("a stored instance cannot be opened: ", std::strerror(errno)));
  }
  return fd;
}

// Appends up to one chunk of `fd` from `*offset` to `out`, counting it off `remaining`.
absl::Status ReadChunk(int fd, uint64_t* offset, uint64_t* remaining, std::string* out) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(*remaining, kChunk));
  size_t old = out->size();
  out->resize(old + want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, out->data() + old + got, want - got, static_cast<off_t>(*offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->resize(old + got);
      return absl::InternalError(
          absl::StrCat("reading a stored instance failed: ",
                       n == 0 ? "file shorter than indexed" : std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  *offset += want;
  *remaining -= want;
  return absl::OkStatus();
}

}  // namespace

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<bool> FileSource::Next(std::string* out) {
  if (remaining_ == 0) return false;
  if (fd_ < 0) {
    absl::StatusOr<int> fd = OpenStored(path_);
    if (!fd.ok()) return fd.status();
    fd_ = *fd;
  }
  if (absl::Status s = ReadChunk(fd_, &offset_, &remaining_, out); !s.ok()) return s;
  return true;
}

absl::StatusOr<bool> FileSource::NextPiece(std::string* /*out*/, std::optional<FileRange>* file) {
  if (remaining_ == 0) return false;
  *file = FileRange{path_, offset_, remaining_};
  remaining_ = 0;
  return true;
}

MultipartSource::MultipartSource(std::string boundary, std::vector<OutgoingPart> parts)
    : boundary_(std::move(boundary)), parts_(std::move(parts)) {}

MultipartSource::~MultipartSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint64_t> MultipartSource::KnownLength() const {
  uint64_t total = 0;
  for (const OutgoingPart& p : parts_) {
    if (p.file_path.empty()) return std::nullopt;
    total += PartHeader(boundary_, p.content_type).size() + p.file_size + 2;  // + CRLF
  }
  return total + boundary_.size() + 6;  // "--" boundary "--" CRLF
}

absl::StatusOr<bool> MultipartSource::Next(std::string* out) { return Step(out, nullptr); }

absl::StatusOr<bool> MultipartSource::NextPiece(std::string* out, std::optional<FileRange>* file) {
  return Step(out, file);
}

absl::StatusOr<bool> MultipartSource::Step(std::string* out, std::optional<FileRange>* file) {
  if (fd_ >= 0) {
    if (absl::Status s = ReadChunk(fd_, &offset_, &remaining_, out); !s.ok()) return s;
    if (remaining_ == 0) {
      ::close(fd_);
      fd_ = -1;
      out->append("\r\n");
    }
    return true;
  }
  // After a file range, its CRLF goes out with whatever follows.
  if (std::exchange(crlf_due_, false)) out->append("\r\n");
  if (next_part_ < parts_.size()) {
    OutgoingPart& part = parts_[next_part_++];
    out->append(PartHeader(boundary_, part.content_type));
    if (!part.file_path.empty()) {
      if (file != nullptr) {
        *file = FileRange{part.file_path, part.file_offset, part.file_size};
        crlf_due_ = true;
        return true;
      }
      absl::StatusOr<int> fd = OpenStored(part.file_path);
      if (!fd.ok()) return fd.status();
      fd_ = *fd;
      offset_ = part.file_offset;
      remaining_ = part.file_size;
      if (remaining_ == 0) {
        ::close(fd_);
        fd_ = -1;
        out->append("\r\n");
      }
      return true;
    }
    absl::StatusOr<std::string> bytes = part.produce();
    if (!bytes.ok()) return bytes.status();
    out->append(*bytes);
    out->append("\r\n");
    return true;
  }
  if (!closed_) {
    closed_ = true;
    out->append(absl::StrCat("--", boundary_, "--\r\n"));
    return true;
  }
  return false;
}

}  // namespace dicomstore::server
