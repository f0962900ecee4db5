#include "common/dicom_keywords.h"

namespace dicomstore {
namespace {

struct Entry {
  uint32_t tag;
  std::string_view keyword;
};

// Sorted by tag.
constexpr Entry kEntries[] = {
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

}  // namespace

std::string_view KnownKeyword(uint32_t tag) {
  for (const Entry& e : kEntries) {
    if (e.tag == tag) return e.keyword;
  }
  return "";
}

std::optional<uint32_t> KnownKeywordTag(std::string_view keyword) {
  for (const Entry& e : kEntries) {
    if (e.keyword == keyword) return e.tag;
  }
  return std::nullopt;
}

}  // namespace dicomstore
