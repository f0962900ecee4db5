#include "dicom/dictionary.h"

#include <string>

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"

namespace dicomstore::dicom {
namespace {

std::optional<uint32_t> ParseHexTag(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t tag = 0;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    tag = tag << 4 | static_cast<uint32_t>(v);
  }
  return tag;
}

}  // namespace

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
