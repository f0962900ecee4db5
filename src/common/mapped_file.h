// A read-only memory mapping of a whole file or of a byte range of one (POSIX mmap), so a
// stored instance can be parsed without copying it into the heap. An empty file or range
// maps to an empty view.
#ifndef DICOMSTORE_COMMON_MAPPED_FILE_H_
#define DICOMSTORE_COMMON_MAPPED_FILE_H_

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore {

class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError("open " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError("stat " + path + ": " + std::strerror(err));
    }
    size_t size = static_cast<size_t>(st.st_size);
    void* data = nullptr;
    if (size > 0) {
      data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        return absl::InternalError("mmap " + path + ": " + std::strerror(err));
      }
    }
    ::close(fd);  // the mapping stays valid without the descriptor
    return std::unique_ptr<MappedFile>(new MappedFile(data, size));
  }
  // `size` bytes at `offset` (any offset: the mapping starts at the page below it). A range
  // past the end of the file is refused.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path, uint64_t offset,
                                                          uint64_t size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError("open " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError("stat " + path + ": " + std::strerror(err));
    }
    if (offset > static_cast<uint64_t>(st.st_size) ||
        size > static_cast<uint64_t>(st.st_size) - offset) {
      ::close(fd);
      return absl::DataLossError("range past the end of " + path);
    }
    if (size == 0) {
      ::close(fd);
      return std::unique_ptr<MappedFile>(new MappedFile(nullptr, 0));
    }
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t start = offset - offset % page;
    const size_t length = static_cast<size_t>(offset - start + size);
    void* data = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(start));
    int err = errno;
    ::close(fd);
    if (data == MAP_FAILED) return absl::InternalError("mmap " + path + ": " + std::strerror(err));
    return std::unique_ptr<MappedFile>(new MappedFile(data, length, offset - start));
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const {
    return data_ ? std::string_view(static_cast<const char*>(data_) + skip_, size_ - skip_)
                 : std::string_view();
  }

 private:
  MappedFile(void* data, size_t size, size_t skip = 0) : data_(data), size_(size), skip_(skip) {}
  void* data_;
  size_t size_;  // of the mapping
  size_t skip_;  // bytes before the view (offset within the first page)
};

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_MAPPED_FILE_H_
