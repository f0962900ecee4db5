// A read-only memory mapping of a file or of a byte range of one (POSIX mmap), so a stored
// instance or a freshly written upload can be parsed without copying it into the heap. An
// empty file or range maps to an empty view.
#ifndef DICOMSTORE_COMMON_MAPPED_FILE_H_
#define DICOMSTORE_COMMON_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore {

class MappedFile {
 public:
  // The whole file.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // `size` bytes from `offset` (any offset, not only page-aligned ones), e.g. one blob of a
  // segment file. A range that does not lie within the file is refused with OUT_OF_RANGE.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path, uint64_t offset,
                                                          uint64_t size);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const { return view_; }

 private:
  // Both Opens: `size` empty = to the end of the file.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Map(const std::string& path, uint64_t offset,
                                                         std::optional<uint64_t> size);
  MappedFile(void* mapping, size_t mapping_size, std::string_view view)
      : mapping_(mapping), mapping_size_(mapping_size), view_(view) {}
  void* mapping_;  // null for an empty view
  size_t mapping_size_;
  std::string_view view_;  // inside the mapping: it starts at a page boundary, the view need not
};

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_MAPPED_FILE_H_
