// The attribute sets of QIDO-RS as Google defines them (spec §10.3): which attributes a
// search returns by default at each level, which `includefield=all` adds, which may be
// used as match keys, and the computed attributes. Tags are 32-bit (group << 16 | element).
#ifndef DICOMSTORE_SERVICE_QIDO_ATTRIBUTES_H_
#define DICOMSTORE_SERVICE_QIDO_ATTRIBUTES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <vector>
#include "common/dicom_keywords.h"

namespace dicomstore::service {

enum class QidoLevel { kStudy, kSeries, kInstance };

namespace tags {
inline constexpr uint32_t kSpecificCharacterSet = 0x00080005;
inline constexpr uint32_t kStudyDate = 0x00080020;
inline constexpr uint32_t kSOPClassUID = 0x00080016;
inline constexpr uint32_t kSOPInstanceUID = 0x00080018;
inline constexpr uint32_t kAccessionNumber = 0x00080050;
inline constexpr uint32_t kModality = 0x00080060;
inline constexpr uint32_t kModalitiesInStudy = 0x00080061;
inline constexpr uint32_t kReferringPhysicianName = 0x00080090;
inline constexpr uint32_t kFailureReason = 0x00081197;
inline constexpr uint32_t kFailedSOPSequence = 0x00081198;
inline constexpr uint32_t kReferencedSOPSequence = 0x00081199;
inline constexpr uint32_t kReferencedSOPClassUID = 0x00081150;
inline constexpr uint32_t kReferencedSOPInstanceUID = 0x00081155;
inline constexpr uint32_t kRetrieveURL = 0x00081190;
inline constexpr uint32_t kPatientName = 0x00100010;
inline constexpr uint32_t kPatientID = 0x00100020;
inline constexpr uint32_t kStudyInstanceUID = 0x0020000D;
inline constexpr uint32_t kSeriesInstanceUID = 0x0020000E;
inline constexpr uint32_t kNumberOfStudyRelatedSeries = 0x00201206;
inline constexpr uint32_t kNumberOfStudyRelatedInstances = 0x00201208;
inline constexpr uint32_t kNumberOfSeriesRelatedInstances = 0x00201209;
}  // namespace tags

// "0020000D" for a tag.
std::string TagKey(uint32_t tag);

// Keyword or 8-hex-digit tag -> tag, for the attributes of common/dicom_keywords.h (the
// QIDO sets and the STOW response attributes). Other keywords come from the DICOM dictionary.
std::optional<uint32_t> KnownAttribute(std::string_view keyword_or_tag);

// Attributes returned by default at `level`.
const std::vector<uint32_t>& DefaultAttributes(QidoLevel level);
// Attributes `includefield=all` adds at the study and series levels (the instance level
// adds every attribute of the instance).
const std::vector<uint32_t>& ExtendedAttributes(QidoLevel level);
// Attributes a search at `level` may match on.
const std::vector<uint32_t>& MatchKeys(QidoLevel level);
// Computed attributes available at `level` through includefield.
const std::vector<uint32_t>& ComputedAttributes(QidoLevel level);

// Study- and series-level attributes kept in the index for each level (default + extended),
// used to cut the level's JSON out of an instance's JSON.
const std::vector<uint32_t>& StoredLevelAttributes(QidoLevel level);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_QIDO_ATTRIBUTES_H_
