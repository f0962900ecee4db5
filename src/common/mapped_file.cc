#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dicomstore {
namespace {

absl::Status Errno(const char* what, const std::string& path, int err) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  return Map(path, 0, std::nullopt);
}

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path,
                                                             uint64_t offset, uint64_t size) {
  return Map(path, offset, size);
}

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Map(const std::string& path,
                                                            uint64_t offset,
                                                            std::optional<uint64_t> size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Errno("stat", path, err);
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  const uint64_t length = size.value_or(file_size - std::min(offset, file_size));
  if (offset > file_size || length > file_size - offset) {
    ::close(fd);
    return absl::OutOfRangeError(absl::StrCat(length, " bytes at offset ", offset, " of ", path,
                                              " go beyond its end (", file_size, " bytes)"));
  }
  // mmap wants a page-aligned file offset: map from the start of the range's first page.
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t lead = offset % page;
  void* mapping = nullptr;
  if (length > 0) {
    mapping = ::mmap(nullptr, static_cast<size_t>(lead + length), PROT_READ, MAP_PRIVATE, fd,
                     static_cast<off_t>(offset - lead));
    if (mapping == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return Errno("mmap", path, err);
    }
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  if (mapping == nullptr) return std::unique_ptr<MappedFile>(new MappedFile(nullptr, 0, {}));
  std::string_view view(static_cast<const char*>(mapping) + lead, static_cast<size_t>(length));
  return std::unique_ptr<MappedFile>(
      new MappedFile(mapping, static_cast<size_t>(lead + length), view));
}

MappedFile::~MappedFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

}  // namespace dicomstore
