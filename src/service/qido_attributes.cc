#include "service/qido_attributes.h"

#include <algorithm>
#include <cstdio>

#include "common/dicom_tag.h"

namespace dicomstore::service {
namespace {

struct Attribute {
  uint32_t tag;
  std::string_view keyword;
};

// Every attribute this module names, with its PS3.6 keyword.
constexpr Attribute kAttributes[] = {
    {0x00080005, "SpecificCharacterSet"},
    {0x00080016, "SOPClassUID"},
    {0x00080018, "SOPInstanceUID"},
    {0x00080020, "StudyDate"},
    {0x00080021, "SeriesDate"},
    {0x00080030, "StudyTime"},
    {0x00080031, "SeriesTime"},
    {0x00080050, "AccessionNumber"},
    {0x00080051, "IssuerOfAccessionNumberSequence"},
    {0x00080056, "InstanceAvailability"},
    {0x00080060, "Modality"},
    {0x00080061, "ModalitiesInStudy"},
    {0x00080080, "InstitutionName"},
    {0x00080081, "InstitutionAddress"},
    {0x00080082, "InstitutionCodeSequence"},
    {0x00080090, "ReferringPhysicianName"},
    {0x00080096, "ReferringPhysicianIdentificationSequence"},
    {0x0008009C, "ConsultingPhysicianName"},
    {0x0008009D, "ConsultingPhysicianIdentificationSequence"},
    {0x00080201, "TimezoneOffsetFromUTC"},
    {0x00081030, "StudyDescription"},
    {0x00081032, "ProcedureCodeSequence"},
    {0x0008103E, "SeriesDescription"},
    {0x00081048, "PhysiciansOfRecord"},
    {0x00081049, "PhysiciansOfRecordIdentificationSequence"},
    {0x00081060, "NameOfPhysiciansReadingStudy"},
    {0x00081062, "PhysiciansReadingStudyIdentificationSequence"},
    {0x00081110, "ReferencedStudySequence"},
    {0x00081150, "ReferencedSOPClassUID"},
    {0x00081155, "ReferencedSOPInstanceUID"},
    {0x00081190, "RetrieveURL"},
    {0x00081197, "FailureReason"},
    {0x00081198, "FailedSOPSequence"},
    {0x00081199, "ReferencedSOPSequence"},
    {0x00100010, "PatientName"},
    {0x00100020, "PatientID"},
    {0x00100030, "PatientBirthDate"},
    {0x00100040, "PatientSex"},
    {0x0020000D, "StudyInstanceUID"},
    {0x0020000E, "SeriesInstanceUID"},
    {0x00200010, "StudyID"},
    {0x00200011, "SeriesNumber"},
    {0x00200013, "InstanceNumber"},
    {0x00200060, "Laterality"},
    {0x00201206, "NumberOfStudyRelatedSeries"},
    {0x00201208, "NumberOfStudyRelatedInstances"},
    {0x00201209, "NumberOfSeriesRelatedInstances"},
    {0x00280008, "NumberOfFrames"},
    {0x00280010, "Rows"},
    {0x00280011, "Columns"},
    {0x00280100, "BitsAllocated"},
    {0x00321034, "RequestingServiceCodeSequence"},
    {0x00400031, "LocalNamespaceEntityID"},
    {0x00400032, "UniversalEntityID"},
    {0x00400033, "UniversalEntityIDType"},
    {0x00400244, "PerformedProcedureStepStartDate"},
    {0x00400245, "PerformedProcedureStepStartTime"},
    {0x00400275, "RequestAttributesSequence"},
    {0x00401012, "ReasonForPerformedProcedureCodeSequence"},
    {0x00401101, "PersonIdentificationCodeSequence"},
    {0x00401102, "PersonAddress"},
    {0x00401103, "PersonTelephoneNumbers"},
    {0x00401104, "PersonTelecomInformation"},
};

std::vector<uint32_t> Union(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out = a;
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string TagKey(uint32_t tag) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", tag);
  return buf;
}

std::optional<uint32_t> KnownAttribute(std::string_view keyword_or_tag) {
  if (std::optional<uint32_t> tag = ParseHexTag(keyword_or_tag)) return tag;
  for (const Attribute& a : kAttributes) {
    if (a.keyword == keyword_or_tag) return a.tag;
  }
  return std::nullopt;
}

std::string_view KnownKeyword(uint32_t tag) {
  for (const Attribute& a : kAttributes) {
    if (a.tag == tag) return a.keyword;
  }
  return "";
}

namespace {

// Every attribute set of one search level, built once.
struct LevelSets {
  std::vector<uint32_t> defaults, extended, match_keys, computed, stored;
};

std::vector<LevelSets> BuildLevelSets() {
  std::vector<LevelSets> sets(3);
  LevelSets& study = sets[static_cast<int>(QidoLevel::kStudy)];
  LevelSets& series = sets[static_cast<int>(QidoLevel::kSeries)];
  LevelSets& instance = sets[static_cast<int>(QidoLevel::kInstance)];

  study.defaults = {0x00080005, 0x00080020, 0x00080030, 0x00080050, 0x00080056,
                    0x00080090, 0x00080201, 0x00100010, 0x00100020, 0x00100030,
                    0x00100040, 0x0020000D, 0x00200010};
  // StudyInstanceUID is added to lower levels so a result always names its parents.
  series.defaults = {0x00080005, 0x00080060, 0x00080201, 0x0008103E, 0x0020000D,
                     0x0020000E, 0x00400244, 0x00400245, 0x00400275};
  instance.defaults = {0x00080005, 0x00080016, 0x00080018, 0x00080056, 0x00080201, 0x0020000D,
                       0x0020000E, 0x00200013, 0x00280008, 0x00280010, 0x00280011, 0x00280100};

  study.extended = {0x00401101, 0x00401102, 0x00401103, 0x00401104, 0x00080080, 0x00080081,
                    0x00080082, 0x00080096, 0x0008009C, 0x0008009D, 0x00080051, 0x00400031,
                    0x00400032, 0x00400033, 0x00081030, 0x00081048, 0x00081049, 0x00081060,
                    0x00081062, 0x00321034, 0x00081110, 0x00081032, 0x00401012};
  series.extended = {0x00200011, 0x00200060, 0x00080021, 0x00080031};

  study.match_keys = {0x0020000D, 0x00100010, 0x00100020, 0x00080050, 0x00080090, 0x00080020};
  series.match_keys = Union(study.match_keys, {0x0020000E, 0x00080060});
  instance.match_keys = Union(series.match_keys, {0x00080018});

  study.computed = {tags::kModalitiesInStudy, tags::kNumberOfStudyRelatedSeries,
                    tags::kNumberOfStudyRelatedInstances};
  series.computed = {tags::kNumberOfSeriesRelatedInstances};

  for (LevelSets& level : sets) level.stored = Union(level.defaults, level.extended);
  return sets;
}

const LevelSets& SetsOf(QidoLevel level) {
  static const std::vector<LevelSets> kSets = BuildLevelSets();
  return kSets[static_cast<int>(level)];
}

}  // namespace

const std::vector<uint32_t>& DefaultAttributes(QidoLevel level) { return SetsOf(level).defaults; }
const std::vector<uint32_t>& ExtendedAttributes(QidoLevel level) { return SetsOf(level).extended; }
const std::vector<uint32_t>& MatchKeys(QidoLevel level) { return SetsOf(level).match_keys; }
const std::vector<uint32_t>& ComputedAttributes(QidoLevel level) { return SetsOf(level).computed; }
const std::vector<uint32_t>& StoredLevelAttributes(QidoLevel level) { return SetsOf(level).stored; }

}  // namespace dicomstore::service
