// DICOM tags written as 8 hexadecimal digits ("0020000D"), as in DICOM JSON keys and in
// request parameters.
#ifndef DICOMSTORE_COMMON_DICOM_TAG_H_
#define DICOMSTORE_COMMON_DICOM_TAG_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace dicomstore {

// "0020000d" / "0020000D" -> 0x0020000D; nullopt unless exactly 8 hex digits.
inline std::optional<uint32_t> ParseHexTag(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t tag = 0;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    tag = tag << 4 | static_cast<uint32_t>(v);
  }
  return tag;
}

// 0x0020000D -> "0020000D" (upper case, as DICOM JSON keys are written).
inline std::string HexTag(uint32_t tag) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", tag);
  return buf;
}

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_DICOM_TAG_H_
