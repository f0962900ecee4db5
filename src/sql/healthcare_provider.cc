// google.healthcare as the SQL layer sees it: the datasets, DICOM stores and DICOMweb
// resources of the current google provider (spec/stackql.md §1.8), plus the SELECT
// methods this project adds so studies, series and instances are queryable tables
// (DESIGN.md §8): `search_for_studies` on `studies`, `search_for_series` on `series`,
// `search_for_instances` on `instances` (QIDO-RS, match keys pushed down), in place of the
// provider's binary `retrieve_series` / `retrieve_instance` selects, which stay EXEC-able.
#include "sql/provider.h"

// The tables name only the fields that differ from the defaults (designated initializers);
// the others keep the defaults declared in provider.h on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace dicomstore::sql {
namespace {

#define DS_LOCATION "/v1/projects/{projectsId}/locations/{locationsId}"
#define DS_DATASET DS_LOCATION "/datasets/{datasetsId}"
#define DS_STORE DS_DATASET "/dicomStores/{dicomStoresId}"
#define DS_STUDY DS_STORE "/dicomWeb/studies/{studiesId}"
#define DS_SERIES DS_STUDY "/series/{seriesId}"
#define DS_INSTANCE DS_SERIES "/instances/{instancesId}"

using V = SqlVerb;
using S = ResponseShape;

// DICOM attributes used as columns.
constexpr FieldSpec kStudyInstanceUID{"StudyInstanceUID", "string", "(0020,000D) UI", 0x0020000D};
constexpr FieldSpec kSeriesInstanceUID{"SeriesInstanceUID", "string", "(0020,000E) UI", 0x0020000E};
constexpr FieldSpec kSOPInstanceUID{"SOPInstanceUID", "string", "(0008,0018) UI", 0x00080018};
constexpr FieldSpec kSOPClassUID{"SOPClassUID", "string", "(0008,0016) UI", 0x00080016};
constexpr FieldSpec kPatientName{"PatientName", "string",
                                 "(0010,0010) PN, the Alphabetic component group", 0x00100010};
constexpr FieldSpec kPatientID{"PatientID", "string", "(0010,0020) LO", 0x00100020};
constexpr FieldSpec kPatientBirthDate{"PatientBirthDate", "string", "(0010,0030) DA", 0x00100030};
constexpr FieldSpec kPatientSex{"PatientSex", "string", "(0010,0040) CS", 0x00100040};
constexpr FieldSpec kStudyDate{"StudyDate", "string", "(0008,0020) DA, YYYYMMDD", 0x00080020};
constexpr FieldSpec kStudyTime{"StudyTime", "string", "(0008,0030) TM", 0x00080030};
constexpr FieldSpec kAccessionNumber{"AccessionNumber", "string", "(0008,0050) SH", 0x00080050};
constexpr FieldSpec kReferringPhysicianName{"ReferringPhysicianName", "string", "(0008,0090) PN",
                                            0x00080090};
constexpr FieldSpec kStudyID{"StudyID", "string", "(0020,0010) SH", 0x00200010};
constexpr FieldSpec kStudyDescription{"StudyDescription", "string", "(0008,1030) LO", 0x00081030};
constexpr FieldSpec kModalitiesInStudy{"ModalitiesInStudy", "string",
                                       "(0008,0061) CS, values joined with \\", 0x00080061};
constexpr FieldSpec kNumberOfStudyRelatedSeries{"NumberOfStudyRelatedSeries", "integer",
                                                "(0020,1206) IS", 0x00201206};
constexpr FieldSpec kNumberOfStudyRelatedInstances{"NumberOfStudyRelatedInstances", "integer",
                                                   "(0020,1208) IS", 0x00201208};
constexpr FieldSpec kModality{"Modality", "string", "(0008,0060) CS", 0x00080060};
constexpr FieldSpec kSeriesNumber{"SeriesNumber", "integer", "(0020,0011) IS", 0x00200011};
constexpr FieldSpec kSeriesDescription{"SeriesDescription", "string", "(0008,103E) LO", 0x0008103E};
constexpr FieldSpec kSeriesDate{"SeriesDate", "string", "(0008,0021) DA", 0x00080021};
constexpr FieldSpec kNumberOfSeriesRelatedInstances{"NumberOfSeriesRelatedInstances", "integer",
                                                    "(0020,1209) IS", 0x00201209};
constexpr FieldSpec kInstanceNumber{"InstanceNumber", "integer", "(0020,0013) IS", 0x00200013};
constexpr FieldSpec kNumberOfFrames{"NumberOfFrames", "integer", "(0028,0008) IS", 0x00280008};
constexpr FieldSpec kRows{"Rows", "integer", "(0028,0010) US", 0x00280010};
constexpr FieldSpec kColumns{"Columns", "integer", "(0028,0011) US", 0x00280011};
constexpr FieldSpec kBitsAllocated{"BitsAllocated", "integer", "(0028,0100) US", 0x00280100};
constexpr FieldSpec kMetadata{
    "metadata", "object", "The instance's whole DICOM JSON (PS3.18 Annex F), for json_extract", 0};

std::vector<FieldSpec> StudyColumns() {
  return {kStudyInstanceUID,
          kPatientName,
          kPatientID,
          kPatientBirthDate,
          kPatientSex,
          kStudyDate,
          kStudyTime,
          kAccessionNumber,
          kReferringPhysicianName,
          kStudyID,
          kStudyDescription,
          kModalitiesInStudy,
          kNumberOfStudyRelatedSeries,
          kNumberOfStudyRelatedInstances};
}

std::vector<FieldSpec> SeriesColumns() {
  return {kStudyInstanceUID,
          kSeriesInstanceUID,
          kModality,
          kSeriesNumber,
          kSeriesDescription,
          kSeriesDate,
          kNumberOfSeriesRelatedInstances};
}

std::vector<FieldSpec> InstanceColumns() {
  return {kStudyInstanceUID, kSeriesInstanceUID, kSOPInstanceUID, kSOPClassUID,
          kInstanceNumber,   kPatientID,         kPatientName,    kStudyDate,
          kAccessionNumber,  kModality,          kNumberOfFrames, kRows,
          kColumns,          kBitsAllocated};
}

std::vector<FieldSpec> MetadataColumns() {
  return {kStudyInstanceUID,
          kSeriesInstanceUID,
          kSOPInstanceUID,
          kSOPClassUID,
          kPatientID,
          kPatientName,
          kStudyDate,
          kAccessionNumber,
          kModality,
          kSeriesNumber,
          kInstanceNumber,
          kNumberOfFrames,
          kRows,
          kColumns,
          kMetadata};
}

constexpr std::string_view kQidoDescription =
    "QIDO-RS search; match keys (PatientID, StudyDate, ...), limit, offset, includefield "
    "and fuzzymatching are accepted as arguments";

ServiceSpec Build() {
  ServiceSpec s;
  s.provider = "google";
  s.name = "healthcare";
  s.title = "Cloud Healthcare API";
  s.description = "Manage, store, and access healthcare data in Google Cloud Platform.";
  s.version = "v00.00.00000";

  // --- datasets ------------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "datasets",
      .description = "Healthcare datasets",
      .rows = RowSource::kJson,
      .fields = {{"name", "string", "Identifier. Resource name of the dataset."},
                 {"timeZone", "string", "The default timezone used by this dataset."},
                 {"encryptionSpec", "object", "Customer-managed encryption keys settings."}},
      .methods = {
          {.name = "get",
           .id = "projects.locations.datasets.get",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_DATASET,
           .response = "Dataset",
           .description = "Gets any metadata associated with a dataset."},
          {.name = "list",
           .id = "projects.locations.datasets.list",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_LOCATION "/datasets",
           .query = {"pageSize", "pageToken"},
           .response = "ListDatasetsResponse",
           .items_key = "datasets",
           .paging = Paging::kPageToken,
           .description = "Lists the health datasets in the current project."},
          {.name = "create",
           .id = "projects.locations.datasets.create",
           .verb = V::kInsert,
           .http_method = "POST",
           .path = DS_LOCATION "/datasets",
           .query = {"datasetId"},
           .body_fields = {"name", "timeZone", "encryptionSpec"},
           .request = "Dataset",
           .response = "Operation",
           .description = "Creates a new health dataset (a long-running operation)."},
          {.name = "delete",
           .id = "projects.locations.datasets.delete",
           .verb = V::kDelete,
           .http_method = "DELETE",
           .path = DS_DATASET,
           .response = "Empty",
           .description = "Deletes the specified health dataset and all data contained in it."},
          {.name = "patch",
           .id = "projects.locations.datasets.patch",
           .verb = V::kUpdate,
           .http_method = "PATCH",
           .path = DS_DATASET,
           .query = {"updateMask"},
           .body_fields = {"name", "timeZone", "encryptionSpec"},
           .request = "Dataset",
           .response = "Dataset",
           .description = "Updates dataset metadata."},
          {.name = "deidentify",
           .id = "projects.locations.datasets.deidentify",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_DATASET ":deidentify",
           .body_fields = {"destinationDataset", "config", "gcsConfigUri"},
           .request = "DeidentifyDatasetRequest",
           .response = "Operation",
           .description = "Creates a new dataset containing de-identified data from the source "
                          "dataset."},
      }});

  // --- datasets_iam_policies -----------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "datasets_iam_policies",
      .description = "IAM policy of a dataset (rows are its bindings)",
      .rows = RowSource::kJson,
      .fields = {{"role", "string", "Role that is assigned to the list of members."},
                 {"members", "array", "The principals requesting access."},
                 {"condition", "object", "The condition associated with this binding."}},
      .methods = {
          {.name = "get_iam_policy",
           .id = "projects.locations.datasets.getIamPolicy",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_DATASET ":getIamPolicy",
           .query = {"options.requestedPolicyVersion"},
           .response = "Policy",
           .items_key = "bindings",
           .description = "Gets the access control policy for a resource."},
          {.name = "set_iam_policy",
           .id = "projects.locations.datasets.setIamPolicy",
           .verb = V::kReplace,
           .http_method = "POST",
           .path = DS_DATASET ":setIamPolicy",
           .body_fields = {"policy", "updateMask"},
           .request = "SetIamPolicyRequest",
           .response = "Policy",
           .description = "Sets the access control policy on the specified resource."},
          {.name = "test_iam_permissions",
           .id = "projects.locations.datasets.testIamPermissions",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_DATASET ":testIamPermissions",
           .body_fields = {"permissions"},
           .request = "TestIamPermissionsRequest",
           .response = "TestIamPermissionsResponse",
           .description = "Returns permissions that a caller has on the specified resource."},
      }});

  // --- dicom_stores --------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "dicom_stores",
      .description = "DICOM stores",
      .rows = RowSource::kJson,
      .fields =
          {{"name", "string", "Identifier. Resource name of the DICOM store."},
           {"labels", "object", "User-supplied key-value pairs used to organize DICOM stores."},
           {"notificationConfig", "object",
            "Specifies where to send notifications upon changes to a data store."},
           {"notificationConfigs", "array",
            "Specifies where and whether to send notifications upon changes to a DICOM store."},
           {"streamConfigs", "array",
            "A list of streaming configs used to configure the destination of streaming "
            "exports for every DICOM instance insertion in this DICOM store."}},
      .methods = {
          {.name = "get",
           .id = "projects.locations.datasets.dicomStores.get",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE,
           .response = "DicomStore",
           .description = "Gets the specified DICOM store."},
          {.name = "list",
           .id = "projects.locations.datasets.dicomStores.list",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_DATASET "/dicomStores",
           .query = {"filter", "pageSize", "pageToken"},
           .response = "ListDicomStoresResponse",
           .items_key = "dicomStores",
           .paging = Paging::kPageToken,
           .description = "Lists the DICOM stores in the given dataset."},
          {.name = "create",
           .id = "projects.locations.datasets.dicomStores.create",
           .verb = V::kInsert,
           .http_method = "POST",
           .path = DS_DATASET "/dicomStores",
           .query = {"dicomStoreId"},
           .body_fields = {"name", "labels", "notificationConfig", "notificationConfigs",
                           "streamConfigs"},
           .request = "DicomStore",
           .response = "DicomStore",
           .description = "Creates a new DICOM store within the parent dataset."},
          {.name = "delete",
           .id = "projects.locations.datasets.dicomStores.delete",
           .verb = V::kDelete,
           .http_method = "DELETE",
           .path = DS_STORE,
           .response = "Empty",
           .description = "Deletes the specified DICOM store and removes all images that are "
                          "contained within it."},
          {.name = "patch",
           .id = "projects.locations.datasets.dicomStores.patch",
           .verb = V::kUpdate,
           .http_method = "PATCH",
           .path = DS_STORE,
           .query = {"updateMask"},
           .body_fields = {"name", "labels", "notificationConfig", "notificationConfigs",
                           "streamConfigs"},
           .request = "DicomStore",
           .response = "DicomStore",
           .description = "Updates the specified DICOM store."},
          {.name = "deidentify",
           .id = "projects.locations.datasets.dicomStores.deidentify",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE ":deidentify",
           .body_fields = {"destinationStore", "config", "gcsConfigUri", "filterConfig"},
           .request = "DeidentifyDicomStoreRequest",
           .response = "Operation",
           .description = "De-identifies data from the source store and writes it to the "
                          "destination store."},
          {.name = "export",
           .id = "projects.locations.datasets.dicomStores.export",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE ":export",
           .body_fields = {"gcsDestination", "bigqueryDestination"},
           .request = "ExportDicomDataRequest",
           .response = "Operation",
           .description = "Exports data to the specified destination."},
          {.name = "import",
           .id = "projects.locations.datasets.dicomStores.import",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE ":import",
           .body_fields = {"gcsSource", "blobStorageSettings"},
           .request = "ImportDicomDataRequest",
           .response = "Operation",
           .description = "Imports data into the DICOM store by copying it from the specified "
                          "source."},
          {.name = "retrieve_bulkdata",
           .id = "projects.locations.datasets.dicomStores.studies.series.instances.bulkdata."
                 "retrieveBulkdata",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_INSTANCE "/bulkdata/{bulkdataId}/{bulkdataId1}",
           .response = "HttpBody",
           .shape = S::kBinary,
           .description = "Returns uncompressed, unencoded bytes representing the referenced "
                          "bulkdata tag from an instance."},
          {.name = "retrieve_frames",
           .id = "projects.locations.datasets.dicomStores.studies.series.instances.frames."
                 "retrieveFrames",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_INSTANCE "/frames/{framesId}",
           .response = "HttpBody",
           .shape = S::kBinary,
           .description = "Returns uncompressed frames of an instance."},
          {.name = "retrieve_rendered",
           .id = "projects.locations.datasets.dicomStores.studies.series.instances.frames."
                 "retrieveRendered",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_INSTANCE "/frames/{framesId}/rendered",
           .query = {"viewport"},
           .response = "HttpBody",
           .shape = S::kBinary,
           .description = "Returns a rendered frame of an instance (image/jpeg)."},
          {.name = "search_for_instances",
           .id = "projects.locations.datasets.dicomStores.searchForInstances",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/instances",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "search_for_series",
           .id = "projects.locations.datasets.dicomStores.searchForSeries",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/series",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "search_for_studies",
           .id = "projects.locations.datasets.dicomStores.searchForStudies",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/studies",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "set_blob_storage_settings",
           .id = "projects.locations.datasets.dicomStores.setBlobStorageSettings",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE ":setBlobStorageSettings",
           .body_fields = {"filterConfig", "blobStorageSettings"},
           .request = "SetBlobStorageSettingsRequest",
           .response = "Operation",
           .description = "Sets the blob storage settings of the specified resources."},
          {.name = "store_instances",
           .id = "projects.locations.datasets.dicomStores.storeInstances",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE "/dicomWeb/studies",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .description = "Stores DICOM instances (STOW-RS); @file='PATH' uploads a file or "
                          "every file below a folder"},
      }});

  // --- dicom_stores_iam_policies -------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "dicom_stores_iam_policies",
      .description = "IAM policy of a DICOM store (rows are its bindings)",
      .rows = RowSource::kJson,
      .fields = {{"role", "string", "Role that is assigned to the list of members."},
                 {"members", "array", "The principals requesting access."},
                 {"condition", "object", "The condition associated with this binding."}},
      .methods = {
          {.name = "get_iam_policy",
           .id = "projects.locations.datasets.dicomStores.getIamPolicy",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE ":getIamPolicy",
           .query = {"options.requestedPolicyVersion"},
           .response = "Policy",
           .items_key = "bindings",
           .description = "Gets the access control policy for a resource."},
          {.name = "set_iam_policy",
           .id = "projects.locations.datasets.dicomStores.setIamPolicy",
           .verb = V::kReplace,
           .http_method = "POST",
           .path = DS_STORE ":setIamPolicy",
           .body_fields = {"policy", "updateMask"},
           .request = "SetIamPolicyRequest",
           .response = "Policy",
           .description = "Sets the access control policy on the specified resource."},
          {.name = "test_iam_permissions",
           .id = "projects.locations.datasets.dicomStores.testIamPermissions",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STORE ":testIamPermissions",
           .body_fields = {"permissions"},
           .request = "TestIamPermissionsRequest",
           .response = "TestIamPermissionsResponse",
           .description = "Returns permissions that a caller has on the specified resource."},
      }});

  // --- dicom_store_metrics -------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "dicom_store_metrics",
      .description = "Counts and sizes of a DICOM store",
      .rows = RowSource::kJson,
      .fields = {{"name", "string", "Resource name of the DICOM store."},
                 {"studyCount", "string", "Number of studies in the store."},
                 {"seriesCount", "string", "Number of series in the store."},
                 {"instanceCount", "string", "Number of instances in the store."},
                 {"structuredStorageSizeBytes", "string", "Total structured storage bytes."},
                 {"blobStorageSizeBytes", "string", "Total blob storage bytes."}},
      .methods = {
          {.name = "get_dicomstore_metrics",
           .id = "projects.locations.datasets.dicomStores.getDICOMStoreMetrics",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE ":getDICOMStoreMetrics",
           .response = "DicomStoreMetrics",
           .description = "Gets metrics associated with the DICOM store."},
      }});

  // --- studies -------------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "studies",
      .description = "Studies of a DICOM store (QIDO-RS study level; columns are DICOM keywords)",
      .rows = RowSource::kDicom,
      .fields = StudyColumns(),
      .methods = {
          {.name = "search_for_studies",
           .id = "projects.locations.datasets.dicomStores.searchForStudies",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/studies",
           .query = {"StudyInstanceUID", "PatientID", "AccessionNumber", "StudyDate"},
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "delete",
           .id = "projects.locations.datasets.dicomStores.studies.delete",
           .verb = V::kDelete,
           .http_method = "DELETE",
           .path = DS_STUDY,
           .response = "Operation",
           .description = "Deletes a study (a long-running operation)."},
          {.name = "search_for_instances",
           .id = "projects.locations.datasets.dicomStores.studies.searchForInstances",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_STUDY "/instances",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "search_for_series",
           .id = "projects.locations.datasets.dicomStores.studies.searchForSeries",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_STUDY "/series",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "set_blob_storage_settings",
           .id = "projects.locations.datasets.dicomStores.studies.setBlobStorageSettings",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STUDY ":setBlobStorageSettings",
           .body_fields = {"filterConfig", "blobStorageSettings"},
           .request = "SetBlobStorageSettingsRequest",
           .response = "Operation",
           .description = "Sets the blob storage settings of the specified resources."},
          {.name = "store_instances",
           .id = "projects.locations.datasets.dicomStores.studies.storeInstances",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_STUDY,
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .description = "Stores DICOM instances of one study (STOW-RS); @file='PATH'"},
      }});

  s.resources.push_back(ResourceSpec{
      .name = "studies_study",
      .description = "A whole study as DICOM bytes (binary: one row with its content type and "
                     "size)",
      .rows = RowSource::kJson,
      .fields = {{"contentType", "string", "Media type of the response."},
                 {"size", "integer", "Response size in bytes."}},
      .methods = {{.name = "retrieve_study",
                   .id = "projects.locations.datasets.dicomStores.studies.retrieveStudy",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_STUDY,
                   .response = "HttpBody",
                   .shape = S::kBinary,
                   .description = "Retrieves all instances within the given study."}}});

  s.resources.push_back(ResourceSpec{
      .name = "studies_metadata",
      .description = "Metadata of the instances of a study (one row per instance)",
      .rows = RowSource::kDicom,
      .fields = MetadataColumns(),
      .methods = {{.name = "retrieve_metadata",
                   .id = "projects.locations.datasets.dicomStores.studies.retrieveMetadata",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_STUDY "/metadata",
                   .response = "HttpBody",
                   .shape = S::kDicomJson,
                   .description = "Retrieves all instance metadata of the study."}}});

  s.resources.push_back(ResourceSpec{
      .name = "study_metrics",
      .description = "Counts and sizes of a study",
      .rows = RowSource::kJson,
      .fields = {{"study", "string", "The study resource path."},
                 {"seriesCount", "string", "Number of series in the study."},
                 {"instanceCount", "string", "Number of instances in the study."},
                 {"structuredStorageSizeBytes", "string", "Total structured storage bytes."},
                 {"blobStorageSizeBytes", "string", "Total blob storage bytes."}},
      .methods = {{.name = "get_study_metrics",
                   .id = "projects.locations.datasets.dicomStores.dicomWeb.studies."
                         "getStudyMetrics",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_STUDY ":getStudyMetrics",
                   .response = "StudyMetrics",
                   .description = "Gets metrics associated with the study."}}});

  // --- series --------------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "series",
      .description = "Series of a DICOM store (QIDO-RS series level; columns are DICOM keywords)",
      .rows = RowSource::kDicom,
      .fields = SeriesColumns(),
      .methods = {
          {.name = "search_for_series",
           .id = "projects.locations.datasets.dicomStores.searchForSeries",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/series",
           .query = {"StudyInstanceUID", "SeriesInstanceUID", "Modality"},
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "delete",
           .id = "projects.locations.datasets.dicomStores.studies.series.delete",
           .verb = V::kDelete,
           .http_method = "DELETE",
           .path = DS_SERIES,
           .response = "Operation",
           .description = "Deletes a series (a long-running operation)."},
          {.name = "retrieve_series",
           .id = "projects.locations.datasets.dicomStores.studies.series.retrieveSeries",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_SERIES,
           .response = "HttpBody",
           .shape = S::kBinary,
           .description = "Retrieves all instances within the given study and series."},
          {.name = "search_for_instances",
           .id = "projects.locations.datasets.dicomStores.studies.series.searchForInstances",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_SERIES "/instances",
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
      }});

  s.resources.push_back(
      ResourceSpec{.name = "series_metadata",
                   .description = "Metadata of the instances of a series (one row per instance)",
                   .rows = RowSource::kDicom,
                   .fields = MetadataColumns(),
                   .methods = {{.name = "retrieve_metadata",
                                .id = "projects.locations.datasets.dicomStores.studies.series."
                                      "retrieveMetadata",
                                .verb = V::kSelect,
                                .http_method = "GET",
                                .path = DS_SERIES "/metadata",
                                .response = "HttpBody",
                                .shape = S::kDicomJson,
                                .description = "Retrieves all instance metadata of the series."}}});

  s.resources.push_back(ResourceSpec{
      .name = "series_metrics",
      .description = "Counts and sizes of a series",
      .rows = RowSource::kJson,
      .fields = {{"series", "string", "The series resource path."},
                 {"instanceCount", "string", "Number of instances in the series."},
                 {"structuredStorageSizeBytes", "string", "Total structured storage bytes."},
                 {"blobStorageSizeBytes", "string", "Total blob storage bytes."}},
      .methods = {{.name = "get_series_metrics",
                   .id = "projects.locations.datasets.dicomStores.dicomWeb.studies.series."
                         "getSeriesMetrics",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_SERIES ":getSeriesMetrics",
                   .response = "SeriesMetrics",
                   .description = "Gets metrics associated with the series."}}});

  // --- instances -----------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "instances",
      .description =
          "Instances of a DICOM store (QIDO-RS instance level; columns are DICOM keywords)",
      .rows = RowSource::kDicom,
      .fields = InstanceColumns(),
      .methods = {
          {.name = "search_for_instances",
           .id = "projects.locations.datasets.dicomStores.searchForInstances",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_STORE "/dicomWeb/instances",
           .query = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"},
           .response = "HttpBody",
           .shape = S::kDicomJson,
           .paging = Paging::kQidoOffset,
           .description = kQidoDescription},
          {.name = "delete",
           .id = "projects.locations.datasets.dicomStores.studies.series.instances.delete",
           .verb = V::kDelete,
           .http_method = "DELETE",
           .path = DS_INSTANCE,
           .response = "Empty",
           .description = "Deletes an instance."},
          {.name = "retrieve_instance",
           .id = "projects.locations.datasets.dicomStores.studies.series.instances."
                 "retrieveInstance",
           .verb = V::kExec,
           .http_method = "GET",
           .path = DS_INSTANCE,
           .response = "HttpBody",
           .shape = S::kBinary,
           .description = "Retrieves an instance (application/dicom)."},
      }});

  s.resources.push_back(ResourceSpec{
      .name = "instances_metadata",
      .description = "Metadata of one instance",
      .rows = RowSource::kDicom,
      .fields = MetadataColumns(),
      .methods = {{.name = "retrieve_metadata",
                   .id = "projects.locations.datasets.dicomStores.studies.series.instances."
                         "retrieveMetadata",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_INSTANCE "/metadata",
                   .response = "HttpBody",
                   .shape = S::kDicomJson,
                   .description = "Retrieves instance metadata."}}});

  s.resources.push_back(ResourceSpec{
      .name = "instances_rendered",
      .description = "An instance rendered as an image (binary: one row with its content type "
                     "and size)",
      .rows = RowSource::kJson,
      .fields = {{"contentType", "string", "Media type of the response."},
                 {"size", "integer", "Response size in bytes."}},
      .methods = {{.name = "retrieve_rendered",
                   .id = "projects.locations.datasets.dicomStores.studies.series.instances."
                         "retrieveRendered",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_INSTANCE "/rendered",
                   .query = {"viewport"},
                   .response = "HttpBody",
                   .shape = S::kBinary,
                   .description = "Returns a rendered instance (image/jpeg)."}}});

  s.resources.push_back(ResourceSpec{
      .name = "instances_storage_info",
      .description = "Storage information of an instance",
      .rows = RowSource::kJson,
      .fields = {{"referencedResource", "string", "The instance resource path."},
                 {"structuredStorageInfo", "object", "Structured storage (sizeBytes)."},
                 {"blobStorageInfo", "object", "Blob storage (sizeBytes, storageClass)."}},
      .methods = {{.name = "get_storage_info",
                   .id = "projects.locations.datasets.dicomStores.dicomWeb.studies.series."
                         "instances.getStorageInfo",
                   .verb = V::kSelect,
                   .http_method = "GET",
                   .path = DS_INSTANCE ":getStorageInfo",
                   .response = "StorageInfo",
                   .description = "Gets metrics associated with the instance."}}});

  // --- operations ----------------------------------------------------------------------
  s.resources.push_back(ResourceSpec{
      .name = "operations",
      .description = "Long-running operations of a dataset",
      .rows = RowSource::kJson,
      .fields = {{"name", "string", "The server-assigned name of the operation."},
                 {"metadata", "object", "OperationMetadata: apiMethodName, times, counter."},
                 {"done", "boolean", "Whether the operation has finished."},
                 {"error", "object", "The error result of a failed operation."},
                 {"response", "object", "The result of a successful operation."}},
      .methods = {
          {.name = "get",
           .id = "projects.locations.datasets.operations.get",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_DATASET "/operations/{operationsId}",
           .response = "Operation",
           .description = "Gets the latest state of a long-running operation."},
          {.name = "list",
           .id = "projects.locations.datasets.operations.list",
           .verb = V::kSelect,
           .http_method = "GET",
           .path = DS_DATASET "/operations",
           .query = {"filter", "pageSize", "pageToken"},
           .response = "ListOperationsResponse",
           .items_key = "operations",
           .paging = Paging::kPageToken,
           .description = "Lists operations that match the specified filter in the request."},
          {.name = "cancel",
           .id = "projects.locations.datasets.operations.cancel",
           .verb = V::kExec,
           .http_method = "POST",
           .path = DS_DATASET "/operations/{operationsId}:cancel",
           .request = "CancelOperationRequest",
           .response = "Empty",
           .description = "Starts asynchronous cancellation on a long-running operation."},
      }});
  return s;
}

}  // namespace

const ServiceSpec& HealthcareService() {
  static const ServiceSpec* const kService = new ServiceSpec(Build());
  return *kService;
}

}  // namespace dicomstore::sql
