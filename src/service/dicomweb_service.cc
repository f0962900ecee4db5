#include "service/dicomweb_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "service/operation_json.h"
#include "service/resource_name.h"

namespace dicomstore::service {
namespace {

absl::Status InstanceNotFound(const absl::Status& s, std::string_view what) {
  if (absl::IsNotFound(s))
    return absl::NotFoundError(absl::StrCat(std::string(what), " not found"));
  return s;
}

void SetCount(Json& out, const char* field, int64_t v) {
  if (v != 0) out[field] = Int64Json(v);
}

}  // namespace

DicomWebService::DicomWebService(index::Index* index, blobs::BlobStore* blobs, int workers)
    : index_(index), blobs_(blobs), workers_(workers), ingest_(index->instances()) {}

DicomWebService::~DicomWebService() = default;

std::string DicomWebService::DicomWebUrl(const std::string& base_url,
                                         const std::string& store_name) {
  return absl::StrCat(base_url, "/v1/", store_name, "/dicomWeb");
}

absl::StatusOr<StoreRef> DicomWebService::ResolveStore(std::string_view store_name) {
  absl::StatusOr<index::StoreKey> key = ParseStoreName(store_name);
  if (!key.ok()) return key.status();
  absl::StatusOr<index::StoreRecord> record = index_->GetStore(*key);
  if (!record.ok()) {
    if (absl::IsNotFound(record.status()))
      return absl::NotFoundError(absl::StrCat("DICOM store not found: ", std::string(store_name)));
    return record.status();
  }
  return StoreRef{*key, record->store_id, FormatStoreName(*key)};
}

absl::StatusOr<std::unique_ptr<StowRequest>> DicomWebService::BeginStow(
    std::string_view store_name, std::optional<std::string> study, std::string base_url) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StowRequest>(
      new StowRequest(this, *std::move(store), std::move(study), std::move(base_url)));
}

absl::StatusOr<std::vector<InstanceToSend>> DicomWebService::Instances(
    std::string_view store_name, const std::string& study, const std::optional<std::string>& series,
    const std::optional<std::string>& sop) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  std::vector<index::InstanceRecord> records;
  if (sop) {
    absl::StatusOr<index::InstanceRecord> one =
        index_->instances()->GetInstance(store->store_id, study, series.value_or(""), *sop);
    if (!one.ok()) return InstanceNotFound(one.status(), "instance");
    records.push_back(*std::move(one));
  } else {
    absl::StatusOr<std::vector<index::InstanceRecord>> all =
        index_->instances()->ListInstances(store->store_id, study, series);
    if (!all.ok()) return InstanceNotFound(all.status(), series ? "series" : "study");
    records = *std::move(all);
  }
  std::vector<InstanceToSend> out;
  out.reserve(records.size());
  for (index::InstanceRecord& r : records) {
    absl::StatusOr<blobs::BlobLocation> where = blobs_->Locate(store->store_id, r.blob_key);
    if (!where.ok()) return where.status();
    out.push_back({std::move(r), std::move(where->path), where->offset});
  }
  return out;
}

absl::StatusOr<std::string> DicomWebService::Metadata(std::string_view store_name,
                                                      const std::string& study,
                                                      const std::optional<std::string>& series,
                                                      const std::optional<std::string>& sop,
                                                      const std::string& base_url) {
  absl::StatusOr<std::vector<InstanceToSend>> instances = Instances(store_name, study, series, sop);
  if (!instances.ok()) return instances.status();
  const std::string studies_url =
      absl::StrCat(DicomWebUrl(base_url, std::string(store_name)), "/studies/");
  std::string out = "[";
  for (size_t i = 0; i < instances->size(); ++i) {
    const index::InstanceRecord& r = (*instances)[i].record;
    if (i > 0) out.push_back(',');
    // The stored JSON is compact, so relative BulkDataURIs appear in exactly this form.
    std::string prefix =
        absl::StrCat("\"BulkDataURI\":\"", studies_url, r.study_uid, "/series/", r.series_uid,
                     "/instances/", r.sop_instance_uid, "/bulkdata/");
    out += absl::StrReplaceAll(r.instance_json, {{"\"BulkDataURI\":\"bulkdata/", prefix}});
  }
  out.push_back(']');
  return out;
}

absl::Status DicomWebService::DeleteInstance(std::string_view store_name, const std::string& study,
                                             const std::string& series, const std::string& sop) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::vector<std::string>> freed =
      index_->instances()->DeleteInstance(store->store_id, study, series, sop);
  if (!freed.ok()) return InstanceNotFound(freed.status(), "instance");
  for (const std::string& key : *freed) (void)blobs_->Remove(store->store_id, key);
  return absl::OkStatus();
}

absl::StatusOr<Json> DicomWebService::DeleteStudyOrSeries(
    std::string_view store_name, const std::string& study,
    const std::optional<std::string>& series) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  index::InstanceIndex* idx = index_->instances();
  // The lock refuses new instances for the study/series while the deletion runs.
  if (absl::Status s = idx->Lock(store->store_id, study, series); !s.ok())
    return InstanceNotFound(s, series ? "series" : "study");
  index::OperationRecord op;
  op.dataset = store->key.dataset;
  op.operation_id = NewOperationId();
  op.api_method_name = series ? "google.cloud.healthcare.v1.dicomweb.DicomWebService.DeleteSeries"
                              : "google.cloud.healthcare.v1.dicomweb.DicomWebService.DeleteStudy";
  op.create_time_micros = NowMicros();
  absl::StatusOr<std::vector<std::string>> freed =
      series ? idx->DeleteSeries(store->store_id, study, *series)
             : idx->DeleteStudy(store->store_id, study);
  (void)idx->Unlock(store->store_id, study, series);  // gone with its rows on success
  if (!freed.ok()) return freed.status();
  for (const std::string& key : *freed) (void)blobs_->Remove(store->store_id, key);
  op.done = true;
  op.end_time_micros = NowMicros();
  op.success = static_cast<int64_t>(freed->size());
  op.response_json = AnyJson("google.protobuf.Empty", Json::object()).dump();
  if (absl::Status s = index_->CreateOperation(op); !s.ok()) return s;
  return RenderOperation(op);
}

absl::StatusOr<Json> DicomWebService::StudyMetrics(std::string_view store_name,
                                                   const std::string& study) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<index::Counts> c = index_->instances()->StudyCounts(store->store_id, study);
  if (!c.ok()) return InstanceNotFound(c.status(), "study");
  Json out = Json::object();
  out["study"] = absl::StrCat(store->name, "/dicomWeb/studies/", study);
  SetCount(out, "seriesCount", c->series);
  SetCount(out, "instanceCount", c->instances);
  SetCount(out, "structuredStorageSizeBytes", c->structured_bytes);
  SetCount(out, "blobStorageSizeBytes", c->blob_bytes);
  return out;
}

absl::StatusOr<Json> DicomWebService::SeriesMetrics(std::string_view store_name,
                                                    const std::string& study,
                                                    const std::string& series) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<index::Counts> c =
      index_->instances()->SeriesCounts(store->store_id, study, series);
  if (!c.ok()) return InstanceNotFound(c.status(), "series");
  Json out = Json::object();
  out["series"] = absl::StrCat(store->name, "/dicomWeb/studies/", study, "/series/", series);
  SetCount(out, "instanceCount", c->instances);
  SetCount(out, "structuredStorageSizeBytes", c->structured_bytes);
  SetCount(out, "blobStorageSizeBytes", c->blob_bytes);
  return out;
}

absl::StatusOr<Json> DicomWebService::InstanceStorageInfo(std::string_view store_name,
                                                          const std::string& study,
                                                          const std::string& series,
                                                          const std::string& sop) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<index::InstanceRecord> r =
      index_->instances()->GetInstance(store->store_id, study, series, sop);
  if (!r.ok()) return InstanceNotFound(r.status(), "instance");
  Json out = Json::object();
  out["referencedResource"] = absl::StrCat(store->name, "/dicomWeb/studies/", study, "/series/",
                                           series, "/instances/", sop);
  out["structuredStorageInfo"] =
      Json{{"sizeBytes", Int64Json(static_cast<int64_t>(r->instance_json.size()))}};
  out["blobStorageInfo"] =
      Json{{"sizeBytes", Int64Json(r->size_bytes)}, {"storageClass", "STANDARD"}};
  return out;
}

absl::StatusOr<Json> DicomWebService::StoreMetrics(std::string_view store_name) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<index::Counts> c = index_->instances()->StoreCounts(store->store_id);
  if (!c.ok()) return c.status();
  Json out = Json::object();
  out["name"] = store->name;
  SetCount(out, "studyCount", c->studies);
  SetCount(out, "seriesCount", c->series);
  SetCount(out, "instanceCount", c->instances);
  SetCount(out, "structuredStorageSizeBytes", c->structured_bytes);
  SetCount(out, "blobStorageSizeBytes", c->blob_bytes);
  return out;
}

}  // namespace dicomstore::service
