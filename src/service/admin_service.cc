#include "service/admin_service.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/absl_view.h"
#include "service/dicom_store_config.h"
#include "service/iam_policy.h"
#include "service/label_filter.h"
#include "service/operation_json.h"
#include "service/page_token.h"
#include "service/resource_id.h"
#include "service/resource_name.h"
#include "service/update_mask.h"

namespace dicomstore::service {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// Replaces NOT_FOUND from the index with a message naming the resource the user asked for.
absl::Status NotFound(const absl::Status& status, std::string_view what, std::string_view name) {
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(Av(what), " not found: ", Av(name)));
  }
  return status;
}

// --- datasets ---------------------------------------------------------------------------

struct DatasetFields {
  std::string time_zone;
  std::string extra_json;  // encryptionSpec, when given
};

absl::StatusOr<DatasetFields> ParseDatasetBody(const Json& body) {
  constexpr std::string_view kType = "Dataset";
  if (absl::Status s = CheckObjectFields(body, {"name", "timeZone", "encryptionSpec"}, kType);
      !s.ok())
    return s;
  std::string ignored_name;
  if (absl::Status s = ReadString(body, "name", kType, &ignored_name); !s.ok()) return s;
  DatasetFields fields;
  if (absl::Status s = ReadString(body, "timeZone", kType, &fields.time_zone); !s.ok()) return s;
  if (!fields.time_zone.empty()) {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(fields.time_zone, &tz)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid Dataset.timeZone \"", fields.time_zone, "\": not an IANA time zone"));
    }
  }
  if (body.contains("encryptionSpec")) {
    const Json& spec = body["encryptionSpec"];
    if (absl::Status s = CheckObjectFields(spec, {"kmsKeyName"}, "EncryptionSpec"); !s.ok())
      return s;
    std::string key;
    if (absl::Status s = ReadString(spec, "kmsKeyName", "EncryptionSpec", &key); !s.ok()) return s;
    if (!key.empty()) fields.extra_json = Json{{"encryptionSpec", {{"kmsKeyName", key}}}}.dump();
  }
  return fields;
}

Json RenderDataset(const index::DatasetRecord& record) {
  Json out = Json::object();
  out["name"] = FormatDatasetName(record.key);
  if (!record.time_zone.empty()) out["timeZone"] = record.time_zone;
  if (!record.extra_json.empty()) {
    Json extra = Json::parse(record.extra_json, nullptr, false);
    if (extra.is_object()) {
      for (auto it = extra.begin(); it != extra.end(); ++it) out[it.key()] = it.value();
    }
  }
  return out;
}

// --- operations -------------------------------------------------------------------------

// The operations.list filter: empty, "done=true" or "done=false" (spaces allowed).
absl::StatusOr<std::optional<bool>> ParseOperationFilter(std::string_view filter) {
  std::string compact = absl::StrReplaceAll(Av(filter), {{" ", ""}, {"\t", ""}});
  if (compact.empty()) return std::optional<bool>();
  if (compact == "done=true") return std::optional<bool>(true);
  if (compact == "done=false") return std::optional<bool>(false);
  return absl::InvalidArgumentError(
      absl::StrCat("invalid filter \"", Av(filter),
                   "\": operations can be filtered by done=true or done=false"));
}

}  // namespace

AdminService::AdminService(index::Index* index, blobs::BlobStore* blobs)
    : index_(index), blobs_(blobs) {}

// ---------------------------------------------------------------------------------------
// Datasets

absl::StatusOr<Json> AdminService::CreateDataset(std::string_view parent,
                                                 std::string_view dataset_id, const Json& body) {
  absl::StatusOr<LocationName> location = ParseLocationName(parent);
  if (!location.ok()) return location.status();
  if (absl::Status s = ValidateResourceId(dataset_id, "datasetId"); !s.ok()) return s;
  absl::StatusOr<DatasetFields> fields = ParseDatasetBody(body);
  if (!fields.ok()) return fields.status();

  index::DatasetRecord record;
  record.key = {location->project, location->location, std::string(dataset_id)};
  record.time_zone = fields->time_zone;
  record.extra_json = fields->extra_json;
  record.create_time_micros = NowMicros();
  if (absl::Status s = index_->CreateDataset(record); !s.ok()) {
    if (absl::IsAlreadyExists(s)) {
      return absl::AlreadyExistsError(
          absl::StrCat("dataset already exists: ", FormatDatasetName(record.key)));
    }
    return s;
  }

  // Creation is immediate, so the operation is born finished (spec §4).
  index::OperationRecord op;
  op.dataset = record.key;
  op.operation_id = NewOperationId();
  op.api_method_name = "google.cloud.healthcare.v1.dataset.DatasetService.CreateDataset";
  op.create_time_micros = record.create_time_micros;
  op.end_time_micros = NowMicros();
  op.done = true;
  op.response_json =
      AnyJson("google.cloud.healthcare.v1.dataset.Dataset", RenderDataset(record)).dump();
  if (absl::Status s = index_->CreateOperation(op); !s.ok()) return s;
  return RenderOperation(op);
}

absl::StatusOr<Json> AdminService::GetDataset(std::string_view name) {
  absl::StatusOr<index::DatasetKey> key = ParseDatasetName(name);
  if (!key.ok()) return key.status();
  absl::StatusOr<index::DatasetRecord> record = index_->GetDataset(*key);
  if (!record.ok()) return NotFound(record.status(), "dataset", name);
  return RenderDataset(*record);
}

absl::StatusOr<Json> AdminService::ListDatasets(std::string_view parent,
                                                const ListRequest& request) {
  absl::StatusOr<LocationName> location = ParseLocationName(parent);
  if (!location.ok()) return location.status();
  if (!request.filter.empty())
    return absl::InvalidArgumentError("datasets.list does not support a filter");
  absl::StatusOr<int> page_size = ParsePageSize(request.page_size, kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::string kind = absl::StrCat(FormatLocationName(*location), "/datasets");
  absl::StatusOr<std::string> after = DecodePageToken(kind, request.page_token);
  if (!after.ok()) return after.status();

  // One extra row tells whether another page exists without a second query.
  absl::StatusOr<std::vector<index::DatasetRecord>> rows =
      index_->ListDatasets(location->project, location->location, *after, *page_size + 1);
  if (!rows.ok()) return rows.status();
  Json out = Json::object();
  Json items = Json::array();
  for (int i = 0; i < static_cast<int>(rows->size()) && i < *page_size; ++i) {
    items.push_back(RenderDataset((*rows)[i]));
  }
  if (!items.empty()) out["datasets"] = items;
  if (static_cast<int>(rows->size()) > *page_size) {
    out["nextPageToken"] = EncodePageToken(kind, (*rows)[*page_size - 1].key.dataset);
  }
  return out;
}

absl::StatusOr<Json> AdminService::PatchDataset(std::string_view name, std::string_view update_mask,
                                                const Json& body) {
  absl::StatusOr<index::DatasetKey> key = ParseDatasetName(name);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::set<std::string>> mask = ParseUpdateMask(update_mask, {"timeZone"});
  if (!mask.ok()) return mask.status();
  absl::StatusOr<DatasetFields> fields = ParseDatasetBody(body);
  if (!fields.ok()) return fields.status();
  absl::StatusOr<index::DatasetRecord> record = index_->GetDataset(*key);
  if (!record.ok()) return NotFound(record.status(), "dataset", name);
  record->time_zone = fields->time_zone;
  if (absl::Status s = index_->UpdateDataset(*record); !s.ok()) return NotFound(s, "dataset", name);
  return RenderDataset(*record);
}

absl::StatusOr<Json> AdminService::DeleteDataset(std::string_view name) {
  absl::StatusOr<index::DatasetKey> key = ParseDatasetName(name);
  if (!key.ok()) return key.status();
  // Collect the stores' ids first: their instance files go once the rows are gone.
  std::vector<int64_t> store_ids;
  std::string after;
  while (true) {
    absl::StatusOr<std::vector<index::StoreRecord>> page =
        index_->ListStores(*key, after, kMaxPageSize);
    if (!page.ok()) return NotFound(page.status(), "dataset", name);
    for (const index::StoreRecord& r : *page) store_ids.push_back(r.store_id);
    if (static_cast<int>(page->size()) < kMaxPageSize) break;
    after = page->back().key.store;
  }
  if (absl::Status s = index_->DeleteDataset(*key); !s.ok()) return NotFound(s, "dataset", name);
  if (blobs_ != nullptr) {
    for (int64_t id : store_ids) (void)blobs_->RemoveStore(id);
  }
  return Json::object();
}

// ---------------------------------------------------------------------------------------
// DICOM stores

absl::StatusOr<Json> AdminService::CreateDicomStore(std::string_view parent,
                                                    std::string_view store_id, const Json& body) {
  absl::StatusOr<index::DatasetKey> dataset = ParseDatasetName(parent);
  if (!dataset.ok()) return dataset.status();
  if (absl::Status s = ValidateResourceId(store_id, "dicomStoreId"); !s.ok()) return s;
  absl::StatusOr<Json> config = NormalizeDicomStoreConfig(body);
  if (!config.ok()) return config.status();

  index::StoreRecord record;
  record.key = {*dataset, std::string(store_id)};
  record.config_json = config->dump();
  record.create_time_micros = NowMicros();
  absl::StatusOr<index::StoreRecord> created = index_->CreateStore(record);
  if (!created.ok()) {
    if (absl::IsAlreadyExists(created.status())) {
      return absl::AlreadyExistsError(
          absl::StrCat("DICOM store already exists: ", FormatStoreName(record.key)));
    }
    return NotFound(created.status(), "dataset", parent);
  }
  return RenderDicomStore(FormatStoreName(record.key), *config);
}

absl::StatusOr<Json> AdminService::GetDicomStore(std::string_view name) {
  absl::StatusOr<index::StoreKey> key = ParseStoreName(name);
  if (!key.ok()) return key.status();
  absl::StatusOr<index::StoreRecord> record = index_->GetStore(*key);
  if (!record.ok()) return NotFound(record.status(), "DICOM store", name);
  return RenderDicomStore(FormatStoreName(record->key),
                          Json::parse(record->config_json, nullptr, false));
}

absl::StatusOr<Json> AdminService::ListDicomStores(std::string_view parent,
                                                   const ListRequest& request) {
  absl::StatusOr<index::DatasetKey> dataset = ParseDatasetName(parent);
  if (!dataset.ok()) return dataset.status();
  absl::StatusOr<int> page_size = ParsePageSize(request.page_size, kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<LabelFilter> filter = LabelFilter::Parse(request.filter);
  if (!filter.ok()) return filter.status();
  // The filter is part of the kind: a token is only valid for the same filter.
  const std::string kind =
      absl::StrCat(FormatDatasetName(*dataset), "/dicomStores?", request.filter);
  absl::StatusOr<std::string> after = DecodePageToken(kind, request.page_token);
  if (!after.ok()) return after.status();
  if (request.page_token.empty()) {
    // Listing a missing dataset is NOT_FOUND rather than an empty list.
    absl::StatusOr<index::DatasetRecord> d = index_->GetDataset(*dataset);
    if (!d.ok()) return NotFound(d.status(), "dataset", parent);
  }

  // Labels are filtered here, so scan in batches until a page is full.
  Json items = Json::array();
  std::string cursor = *after;
  std::string last_returned;
  bool more = false;
  const int batch = *page_size + 1;
  while (true) {
    absl::StatusOr<std::vector<index::StoreRecord>> rows =
        index_->ListStores(*dataset, cursor, batch);
    if (!rows.ok()) return rows.status();
    for (const index::StoreRecord& row : *rows) {
      cursor = row.key.store;
      Json config = Json::parse(row.config_json, nullptr, false);
      Labels labels;
      if (config.is_object() && config.contains("labels")) {
        labels = config["labels"].get<Labels>();
      }
      if (!filter->Matches(labels)) continue;
      if (static_cast<int>(items.size()) == *page_size) {
        more = true;
        break;
      }
      items.push_back(RenderDicomStore(FormatStoreName(row.key), config));
      last_returned = row.key.store;
    }
    if (more || static_cast<int>(rows->size()) < batch) break;
  }
  Json out = Json::object();
  if (!items.empty()) out["dicomStores"] = items;
  if (more) out["nextPageToken"] = EncodePageToken(kind, last_returned);
  return out;
}

absl::StatusOr<Json> AdminService::PatchDicomStore(std::string_view name,
                                                   std::string_view update_mask, const Json& body) {
  absl::StatusOr<index::StoreKey> key = ParseStoreName(name);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::set<std::string>> mask =
      ParseUpdateMask(update_mask, DicomStoreMutableFields());
  if (!mask.ok()) return mask.status();
  absl::StatusOr<Json> patch = NormalizeDicomStoreConfig(body);
  if (!patch.ok()) return patch.status();
  absl::StatusOr<index::StoreRecord> record = index_->GetStore(*key);
  if (!record.ok()) return NotFound(record.status(), "DICOM store", name);
  Json updated =
      ApplyDicomStoreMask(Json::parse(record->config_json, nullptr, false), *patch, *mask);
  if (absl::Status s = index_->UpdateStoreConfig(*key, updated.dump()); !s.ok())
    return NotFound(s, "DICOM store", name);
  return RenderDicomStore(FormatStoreName(*key), updated);
}

absl::StatusOr<Json> AdminService::DeleteDicomStore(std::string_view name) {
  absl::StatusOr<index::StoreKey> key = ParseStoreName(name);
  if (!key.ok()) return key.status();
  absl::StatusOr<index::StoreRecord> record = index_->GetStore(*key);
  if (!record.ok()) return NotFound(record.status(), "DICOM store", name);
  if (absl::Status s = index_->DeleteStore(*key); !s.ok()) return NotFound(s, "DICOM store", name);
  // Rows first, files second: a crash in between leaves only unreferenced files, which
  // recovery removes.
  if (blobs_ != nullptr) (void)blobs_->RemoveStore(record->store_id);
  return Json::object();
}

// ---------------------------------------------------------------------------------------
// Operations

absl::StatusOr<Json> AdminService::GetOperation(std::string_view name) {
  absl::StatusOr<OperationName> op = ParseOperationName(name);
  if (!op.ok()) return op.status();
  absl::StatusOr<index::OperationRecord> record =
      index_->GetOperation(op->dataset, op->operation_id);
  if (!record.ok()) return NotFound(record.status(), "operation", name);
  return RenderOperation(*record);
}

absl::StatusOr<Json> AdminService::ListOperations(std::string_view dataset,
                                                  const ListRequest& request) {
  absl::StatusOr<index::DatasetKey> key = ParseDatasetName(dataset);
  if (!key.ok()) return key.status();
  absl::StatusOr<int> page_size = ParsePageSize(request.page_size, kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<std::optional<bool>> done = ParseOperationFilter(request.filter);
  if (!done.ok()) return done.status();
  const std::string kind = absl::StrCat(FormatDatasetName(*key), "/operations?", request.filter);
  absl::StatusOr<std::string> after = DecodePageToken(kind, request.page_token);
  if (!after.ok()) return after.status();
  absl::StatusOr<index::DatasetRecord> d = index_->GetDataset(*key);
  if (!d.ok()) return NotFound(d.status(), "dataset", dataset);

  absl::StatusOr<std::vector<index::OperationRecord>> rows =
      index_->ListOperations(*key, *done, *after, *page_size + 1);
  if (!rows.ok()) return rows.status();
  Json out = Json::object();
  Json items = Json::array();
  for (int i = 0; i < static_cast<int>(rows->size()) && i < *page_size; ++i) {
    items.push_back(RenderOperation((*rows)[i]));
  }
  if (!items.empty()) out["operations"] = items;
  if (static_cast<int>(rows->size()) > *page_size) {
    out["nextPageToken"] = EncodePageToken(kind, (*rows)[*page_size - 1].operation_id);
  }
  return out;
}

absl::StatusOr<Json> AdminService::CancelOperation(std::string_view name) {
  absl::StatusOr<OperationName> op = ParseOperationName(name);
  if (!op.ok()) return op.status();
  absl::StatusOr<index::OperationRecord> record =
      index_->GetOperation(op->dataset, op->operation_id);
  if (!record.ok()) return NotFound(record.status(), "operation", name);
  // Best effort (spec §9.1): a finished operation is left as it is; a running one is
  // flagged and its job finishes it with CANCELLED at its next checkpoint.
  if (!record->done && !record->cancel_requested) {
    record->cancel_requested = true;
    if (absl::Status s = index_->UpdateOperation(*record); !s.ok()) return s;
  }
  return Json::object();
}

// ---------------------------------------------------------------------------------------
// IAM

namespace {

// Resolves an IAM resource (dataset or DICOM store name) and checks that it exists.
absl::Status CheckIamResource(index::Index* index, std::string_view resource) {
  if (absl::StatusOr<index::StoreKey> store = ParseStoreName(resource); store.ok()) {
    absl::StatusOr<index::StoreRecord> record = index->GetStore(*store);
    return record.ok() ? absl::OkStatus() : NotFound(record.status(), "DICOM store", resource);
  }
  absl::StatusOr<index::DatasetKey> dataset = ParseDatasetName(resource);
  if (!dataset.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid resource \"", Av(resource),
                                                   "\": expected a dataset or DICOM store name"));
  }
  absl::StatusOr<index::DatasetRecord> record = index->GetDataset(*dataset);
  return record.ok() ? absl::OkStatus() : NotFound(record.status(), "dataset", resource);
}

}  // namespace

absl::StatusOr<Json> AdminService::GetIamPolicy(std::string_view resource,
                                                std::string_view requested_version) {
  absl::StatusOr<int> version = ParseRequestedPolicyVersion(requested_version);
  if (!version.ok()) return version.status();
  if (absl::Status s = CheckIamResource(index_, resource); !s.ok()) return s;
  absl::StatusOr<index::PolicyRecord> policy = index_->GetPolicy(std::string(resource));
  if (absl::IsNotFound(policy.status())) return RenderPolicy(Json::object(), kEmptyPolicyEtag);
  if (!policy.ok()) return policy.status();
  return RenderPolicy(Json::parse(policy->policy_json, nullptr, false), policy->etag);
}

absl::StatusOr<Json> AdminService::SetIamPolicy(std::string_view resource, const Json& body) {
  absl::StatusOr<SetPolicyRequest> request = ParseSetIamPolicyRequest(body);
  if (!request.ok()) return request.status();
  if (absl::Status s = CheckIamResource(index_, resource); !s.ok()) return s;
  absl::StatusOr<index::PolicyRecord> current = index_->GetPolicy(std::string(resource));
  if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();
  Json current_policy =
      current.ok() ? Json::parse(current->policy_json, nullptr, false) : Json::object();
  std::string current_etag = current.ok() ? current->etag : "";

  std::optional<std::string> expected;
  if (!request->etag.empty()) {
    // The empty-policy etag handed out by getIamPolicy stands for "no policy yet".
    expected = request->etag == kEmptyPolicyEtag ? "" : request->etag;
  }
  index::PolicyRecord record;
  record.resource = std::string(resource);
  record.policy_json = MergePolicy(current_policy, *request).dump();
  record.etag = NewPolicyEtag();
  if (absl::Status s = index_->SetPolicy(record, expected); !s.ok()) {
    if (absl::IsAborted(s)) {
      return absl::AbortedError(
          "the policy was changed since it was read (etag mismatch); read it again and retry");
    }
    return s;
  }
  return RenderPolicy(Json::parse(record.policy_json, nullptr, false), record.etag);
}

absl::StatusOr<Json> AdminService::TestIamPermissions(std::string_view resource, const Json& body) {
  absl::Status exists = CheckIamResource(index_, resource);
  if (!exists.ok() && !absl::IsNotFound(exists)) return exists;
  return TestPermissions(body, exists.ok());
}

}  // namespace dicomstore::service
