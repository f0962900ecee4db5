#include "server/multipart_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace dicomstore::server {
namespace {

// One read per chunk; the transport batches chunks up to ~1 MB per socket write.
constexpr size_t kChunk = 1 << 20;

std::string PartHeader(const std::string& boundary, const std::string& content_type) {
  return absl::StrCat("--", boundary, "\r\nContent-Type: ", content_type, "\r\n\r\n");
}

// Appends up to one chunk of `fd` from `*position` to `out`, moving `position` on and
// counting the bytes off `remaining`.
absl::Status ReadChunk(int fd, uint64_t* position, uint64_t* remaining, std::string* out) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(*remaining, kChunk));
  size_t old = out->size();
  out->resize(old + want);
  size_t got = 0;
  while (got < want) {
    ssize_t n =
        ::pread(fd, out->data() + old + got, want - got, static_cast<off_t>(*position + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->resize(old + got);
      return absl::InternalError(
          absl::StrCat("reading a stored instance failed: ",
                       n == 0 ? "file shorter than indexed" : std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  *remaining -= want;
  *position += want;
  return absl::OkStatus();
}

}  // namespace

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<bool> FileSource::Next(std::string* out) {
  if (remaining_ == 0) return false;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return absl::InternalError(
          absl::StrCat("a stored instance cannot be opened: ", std::strerror(errno)));
    }
  }
  if (absl::Status s = ReadChunk(fd_, &position_, &remaining_, out); !s.ok()) return s;
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

absl::StatusOr<bool> MultipartSource::Next(std::string* out) {
  if (fd_ >= 0) {
    if (absl::Status s = ReadChunk(fd_, &position_, &remaining_, out); !s.ok()) return s;
    if (remaining_ == 0) {
      ::close(fd_);
      fd_ = -1;
      out->append("\r\n");
    }
    return true;
  }
  if (next_part_ < parts_.size()) {
    OutgoingPart& part = parts_[next_part_++];
    out->append(PartHeader(boundary_, part.content_type));
    if (!part.file_path.empty()) {
      fd_ = ::open(part.file_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        return absl::InternalError(
            absl::StrCat("a stored instance cannot be opened: ", std::strerror(errno)));
      }
      position_ = part.file_offset;
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
