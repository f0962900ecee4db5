#include "dicom/dictionary.h"

#include <string>

#include "common/dicom_tag.h"

#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcdict.h"

namespace dicomstore::dicom {

std::optional<uint32_t> TagForKeyword(std::string_view keyword) {
  if (std::optional<uint32_t> tag = ParseHexTag(keyword)) return tag;
  if (keyword.empty() || keyword.size() > 128) return std::nullopt;
  std::string name(keyword);
  const DcmDataDictionary& dict = dcmDataDict.rdlock();
  const DcmDictEntry* entry = dict.findEntry(name.c_str());
  std::optional<uint32_t> result;
  // Repeating-group entries (e.g. overlays) have no single tag.
  if (entry != nullptr && entry->getGroupRangeRestriction() == DcmDictRange_Unspecified &&
      entry->getElementRangeRestriction() == DcmDictRange_Unspecified) {
    result = static_cast<uint32_t>(entry->getGroup()) << 16 | entry->getElement();
  }
  dcmDataDict.rdunlock();
  return result;
}

std::string KeywordForTag(uint32_t tag) {
  DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xffff));
  const DcmDataDictionary& dict = dcmDataDict.rdlock();
  const DcmDictEntry* entry = dict.findEntry(key, nullptr);
  std::string result = entry != nullptr && entry->getTagName() ? entry->getTagName() : "";
  dcmDataDict.rdunlock();
  return result;
}

}  // namespace dicomstore::dicom
