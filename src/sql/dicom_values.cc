#include "sql/dicom_values.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "common/absl_view.h"

namespace dicomstore::sql {
namespace {

struct Keyword {
  uint32_t tag;
  std::string_view keyword;
};

// The keywords the SQL layer prints (table columns and common QIDO attributes).
constexpr Keyword kKeywords[] = {
    {0x00080005, "SpecificCharacterSet"},
    {0x00080016, "SOPClassUID"},
    {0x00080018, "SOPInstanceUID"},
    {0x00080020, "StudyDate"},
    {0x00080021, "SeriesDate"},
    {0x00080030, "StudyTime"},
    {0x00080031, "SeriesTime"},
    {0x00080050, "AccessionNumber"},
    {0x00080056, "InstanceAvailability"},
    {0x00080060, "Modality"},
    {0x00080061, "ModalitiesInStudy"},
    {0x00080080, "InstitutionName"},
    {0x00080090, "ReferringPhysicianName"},
    {0x00080201, "TimezoneOffsetFromUTC"},
    {0x00081030, "StudyDescription"},
    {0x0008103E, "SeriesDescription"},
    {0x00081190, "RetrieveURL"},
    {0x00081197, "FailureReason"},
    {0x00081198, "FailedSOPSequence"},
    {0x00081199, "ReferencedSOPSequence"},
    {0x00081150, "ReferencedSOPClassUID"},
    {0x00081155, "ReferencedSOPInstanceUID"},
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
    {0x00400244, "PerformedProcedureStepStartDate"},
    {0x00400245, "PerformedProcedureStepStartTime"},
    {0x00400275, "RequestAttributesSequence"},
};

// One value as text for joining.
std::string Text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return v.value("Alphabetic", std::string());  // PN
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace

std::string DicomTagKey(uint32_t tag) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", tag);
  return buf;
}

std::optional<uint32_t> ParseDicomTagKey(std::string_view key) {
  uint32_t tag = 0;
  if (key.size() != 8 || !absl::SimpleHexAtoi(Av(key), &tag)) return std::nullopt;
  return tag;
}

std::string_view DicomKeyword(uint32_t tag) {
  for (const Keyword& k : kKeywords) {
    if (k.tag == tag) return k.keyword;
  }
  return "";
}

Json DicomValue(const Json& dataset, uint32_t tag) {
  if (!dataset.is_object()) return nullptr;
  auto it = dataset.find(DicomTagKey(tag));
  if (it == dataset.end() || !it->is_object()) return nullptr;
  const Json& element = *it;
  auto values = element.find("Value");
  if (values == element.end() || !values->is_array() || values->empty()) return nullptr;
  if (element.value("vr", "") == "SQ") return *values;
  if (values->size() == 1) {
    const Json& v = values->front();
    if (v.is_number() || v.is_string()) return v;
    if (v.is_object()) return v.contains("Alphabetic") ? Json(Text(v)) : Json(nullptr);
    return nullptr;
  }
  std::string joined;
  for (size_t i = 0; i < values->size(); ++i) {
    if (i > 0) joined.push_back('\\');
    joined += Text((*values)[i]);
  }
  return joined;
}

}  // namespace dicomstore::sql
