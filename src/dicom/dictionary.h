// The DICOM data dictionary (DCMTK's, as Debian installs it): keyword <-> tag lookups for
// attributes named in requests (includefield, match keys given by keyword).
#ifndef DICOMSTORE_DICOM_DICTIONARY_H_
#define DICOMSTORE_DICOM_DICTIONARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dicomstore::dicom {

// "PatientName" -> 0x00100010; an 8-hex-digit tag is accepted too. nullopt when unknown.
std::optional<uint32_t> TagForKeyword(std::string_view keyword);
// 0x00100010 -> "PatientName"; "" when the dictionary has no entry.
std::string KeywordForTag(uint32_t tag);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_DICTIONARY_H_
