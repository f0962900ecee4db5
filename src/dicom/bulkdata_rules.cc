#include "dicom/bulkdata_rules.h"

#include <string>
#include <string_view>

namespace dicomstore::dicom {

bool IsBulkData(uint32_t tag, std::string_view vr, uint64_t length, uint64_t vm) {
  if (tag == 0x7FE00008 || tag == 0x7FE00009 || tag == 0x7FE00010) return true;
  if (vr == "OB" || vr == "OW" || vr == "UN") return true;
  if (vr == "OD" || vr == "OF" || vr == "OL" || vr == "OV") return length > kMaxInlineBinaryBytes;
  if (vr == "AT" || vr == "FD" || vr == "FL" || vr == "UL" || vr == "US" || vr == "SV" ||
      vr == "UV") {
    return vm > kMaxInlineNumericValues;
  }
  return false;
}

std::string BulkDataUri(std::string_view path) {
  std::string uri = "bulkdata/";
  uri.append(path);
  return uri;
}

}  // namespace dicomstore::dicom
