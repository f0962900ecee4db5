// Which elements are bulk data (Google's definition, spec healthcare-api.md §10.4):
//   - any Pixel Data: (7FE0,0008) Float, (7FE0,0009) Double Float, (7FE0,0010);
//   - any OB, OW or UN value;
//   - OD, OF, OL, OV values longer than 2 KiB;
//   - AT, FD, FL, UL, US, SV, UV values with VM > 512.
// Everything else is inlined in the DICOM JSON ("Value" or, for small OD/OF/OL/OV,
// "InlineBinary"). The "legacy instance" thresholds of the spec are not applied.
#ifndef DICOMSTORE_DICOM_BULKDATA_RULES_H_
#define DICOMSTORE_DICOM_BULKDATA_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomstore::dicom {

inline constexpr uint64_t kMaxInlineBinaryBytes = 2048;
inline constexpr uint64_t kMaxInlineNumericValues = 512;

// `tag` = (group << 16) | element; `vr` is the VR written in the JSON; `length` is the
// value length in bytes; `vm` the number of values (for numeric VRs).
bool IsBulkData(uint32_t tag, std::string_view vr, uint64_t length, uint64_t vm);

// "bulkdata/<path>": `path` is the tag path, e.g. "7FE00010" or "00880200/0/7FE00010".
std::string BulkDataUri(std::string_view path);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_BULKDATA_RULES_H_
