// STOW-RS (spec §10.2): one request's parts -> temporary files -> parse -> validate ->
// group commit -> the Referenced/Failed SOP sequences of the response.
#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/dicom_tag.h"
#include "common/json_members.h"
#include "common/mapped_file.h"
#include "dicom/instance_parser.h"
#include "service/dicomweb_service.h"
#include "service/resource_name.h"

namespace dicomstore::service {
namespace {

// Google reports every per-instance failure as 0x0110 "Processing failure" with a
// human-readable detail in its private FailureDetail attribute (spec §10.2).
constexpr int kProcessingFailure = 0x0110;

// Cuts the attributes kept for a level out of an instance's DICOM JSON text (compact, keys
// in tag order): their members are copied as they are, in tag order.
std::string LevelJson(std::string_view instance, QidoLevel level) {
  std::vector<uint32_t> tags = StoredLevelAttributes(level);
  std::sort(tags.begin(), tags.end());
  std::string out = "{";
  ForEachJsonMember(instance, [&](std::string_view key, std::string_view raw) {
    const std::optional<uint32_t> tag = ParseHexTag(key);
    if (!tag) return true;
    if (tags.empty() || *tag > tags.back()) return false;  // keys ascend: no more to keep
    if (std::binary_search(tags.begin(), tags.end(), *tag)) {
      absl::StrAppend(&out, out.size() > 1 ? "," : "", "\"", Av(key), "\":", Av(raw));
    }
    return true;
  });
  out.push_back('}');
  return out;
}

Json UiValue(std::string_view vr, const std::string& value) {
  return Json{{"vr", std::string(vr)}, {"Value", Json::array({value})}};
}

}  // namespace

struct StowRequest::PartResult {
  std::optional<PreparedInstance> prepared;
  std::string sop_class_uid, sop_instance_uid;  // for the response, when known
  std::string failure;                          // non-empty = refused
  std::optional<blobs::PendingBlob> blob;       // to discard when refused
};

struct StowRequest::Part {
  std::unique_ptr<blobs::BlobWriter> writer;
  std::string failure;  // set at BeginPart for unusable parts
  std::future<PartResult> result;
};

StowRequest::StowRequest(DicomWebService* service, StoreRef store, std::optional<std::string> study,
                         std::string base_url)
    : service_(service),
      store_(std::move(store)),
      study_(std::move(study)),
      base_url_(std::move(base_url)) {}

StowRequest::~StowRequest() {
  // Wait for part work still running and drop every file not handed to the ingest queue.
  for (auto& part : parts_) {
    if (part->result.valid()) {
      PartResult r = part->result.get();
      if (r.blob) service_->blobs_->Discard(*r.blob);
      if (r.prepared) service_->blobs_->Discard(r.prepared->blob);
    }
    if (part->writer) {
      std::string temp = part->writer->temp_path();
      part->writer.reset();
      service_->blobs_->Discard(blobs::PendingBlob{0, "", temp, 0, ""});
    }
  }
}

void StowRequest::BeginPart(std::string_view content_type) {
  auto part = std::make_unique<Part>();
  std::string essence = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(Av(content_type.substr(0, content_type.find(';')))));
  if (!essence.empty() && essence != "application/dicom") {
    part->failure =
        absl::StrCat("unsupported part Content-Type \"", Av(content_type),
                     "\": only application/dicom (Part 10) instances are accepted in this request");
  } else {
    absl::StatusOr<std::unique_ptr<blobs::BlobWriter>> writer =
        service_->blobs_->Create(store_.store_id);
    if (writer.ok()) {
      part->writer = *std::move(writer);
    } else {
      part->failure = absl::StrCat("cannot store the instance: ", writer.status().message());
    }
  }
  parts_.push_back(std::move(part));
}

absl::Status StowRequest::PartData(std::string_view data) {
  if (parts_.empty()) return absl::InternalError("part data before a part began");
  Part& part = *parts_.back();
  if (!part.writer) return absl::OkStatus();  // refused part: drain its bytes
  return part.writer->Append(data);
}

void StowRequest::EndPart() {
  if (parts_.empty()) return;
  Part& part = *parts_.back();
  if (!part.writer) return;
  std::shared_ptr<blobs::BlobWriter> writer(std::move(part.writer));
  int64_t store_id = store_.store_id;
  std::optional<std::string> study = study_;
  part.result = service_->workers_.Submit([writer, store_id, study]() {
    PartResult r;
    absl::StatusOr<blobs::PendingBlob> blob = writer->Finish();
    if (!blob.ok()) {
      r.failure = absl::StrCat("cannot store the instance: ", blob.status().message());
      return r;
    }
    r.blob = *blob;
    absl::StatusOr<std::unique_ptr<MappedFile>> file = MappedFile::Open(blob->temp_path);
    if (!file.ok()) {
      r.failure = absl::StrCat("cannot read the instance back: ", file.status().message());
      return r;
    }
    absl::StatusOr<dicom::ParsedInstance> parsed = dicom::ParseInstance((*file)->view());
    if (!parsed.ok()) {
      r.failure = std::string(parsed.status().message());
      return r;
    }
    r.sop_class_uid = parsed->sop_class_uid;
    r.sop_instance_uid = parsed->sop_instance_uid;
    if (study && parsed->study_uid != *study) {
      r.failure = absl::StrCat("the instance's StudyInstanceUID ", parsed->study_uid,
                               " does not match the study ", *study, " of the request path");
      return r;
    }
    PreparedInstance prepared;
    index::InstanceRecord& rec = prepared.record;
    rec.store_id = store_id;
    rec.study_uid = parsed->study_uid;
    rec.series_uid = parsed->series_uid;
    rec.sop_instance_uid = parsed->sop_instance_uid;
    rec.sop_class_uid = parsed->sop_class_uid;
    rec.transfer_syntax_uid = parsed->transfer_syntax_uid;
    rec.patient_name = parsed->patient_name;
    rec.patient_name_words = dicom::NormalizePersonNameForMatch(parsed->patient_name);
    rec.patient_id = parsed->patient_id;
    rec.accession_number = parsed->accession_number;
    rec.referring_physician_name = parsed->referring_physician_name;
    rec.study_date = dicom::DateToInt(parsed->study_date);
    rec.modality = parsed->modality;
    rec.series_number = parsed->series_number;
    rec.instance_number = parsed->instance_number;
    rec.number_of_frames = parsed->number_of_frames;
    rec.rows = parsed->rows;
    rec.columns = parsed->columns;
    rec.bits_allocated = parsed->bits_allocated;
    rec.study_json = LevelJson(parsed->json, QidoLevel::kStudy);
    rec.series_json = LevelJson(parsed->json, QidoLevel::kSeries);
    rec.instance_json = std::move(parsed->json);
    rec.blob_key = blob->key;
    rec.size_bytes = static_cast<int64_t>(blob->size);
    rec.sha256_hex = blob->sha256_hex;
    rec.create_time_micros = NowMicros();
    prepared.blob = *blob;
    r.prepared = std::move(prepared);
    r.blob.reset();  // owned by `prepared` now
    return r;
  });
}

absl::StatusOr<StowResult> StowRequest::Finish() {
  if (parts_.empty()) {
    return absl::InvalidArgumentError("the request holds no DICOM instance");
  }
  std::vector<PartResult> results;
  for (auto& part : parts_) {
    if (part->result.valid()) {
      results.push_back(part->result.get());
    } else {
      PartResult r;
      r.failure = part->failure.empty() ? "the part was not complete" : part->failure;
      results.push_back(std::move(r));
    }
  }
  parts_.clear();

  std::vector<PreparedInstance> to_commit;
  std::vector<size_t> commit_index;  // results[] position of each committed instance
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].prepared) {
      to_commit.push_back(*results[i].prepared);
      commit_index.push_back(i);
    } else if (results[i].blob) {
      service_->blobs_->Discard(*results[i].blob);
    }
  }
  absl::StatusOr<std::vector<index::InsertOutcome>> outcomes =
      service_->ingest_.Commit(std::move(to_commit));
  if (!outcomes.ok()) return outcomes.status();
  for (size_t k = 0; k < commit_index.size(); ++k) {
    PartResult& r = results[commit_index[k]];
    switch ((*outcomes)[k]) {
      case index::InsertOutcome::kStored:
      case index::InsertOutcome::kDuplicateSame:
        break;
      case index::InsertOutcome::kDuplicateDiffers:
        r.failure =
            "an instance with the same Study/Series/SOP Instance UIDs already exists "
            "with different content";
        break;
      case index::InsertOutcome::kStudyLocked:
        r.failure = "the study or series is being deleted; retry when the deletion is done";
        break;
      case index::InsertOutcome::kStoreMissing:
        r.failure = "the DICOM store was deleted";
        break;
    }
  }

  const std::string studies_url =
      absl::StrCat(DicomWebService::DicomWebUrl(base_url_, store_.name), "/studies/");
  Json referenced = Json::array();
  Json failed = Json::array();
  std::string response_study = study_.value_or("");
  for (const PartResult& r : results) {
    Json item = Json::object();
    if (!r.sop_class_uid.empty())
      item[TagKey(tags::kReferencedSOPClassUID)] = UiValue("UI", r.sop_class_uid);
    if (!r.sop_instance_uid.empty())
      item[TagKey(tags::kReferencedSOPInstanceUID)] = UiValue("UI", r.sop_instance_uid);
    if (r.failure.empty()) {
      const index::InstanceRecord& rec = r.prepared->record;
      if (response_study.empty()) response_study = rec.study_uid;
      item[TagKey(tags::kRetrieveURL)] =
          UiValue("UR", absl::StrCat(studies_url, rec.study_uid, "/series/", rec.series_uid,
                                     "/instances/", rec.sop_instance_uid));
      referenced.push_back(std::move(item));
    } else {
      item[TagKey(tags::kFailureReason)] = Json{{"vr", "US"}, {"Value", {kProcessingFailure}}};
      item["00090010"] = UiValue("LO", "GOOGLE");
      item["00091097"] = UiValue("LT", r.failure);
      failed.push_back(std::move(item));
    }
  }
  StowResult result;
  result.http_status = failed.empty() ? 200 : 409;
  result.dataset = Json::object();
  if (!response_study.empty())
    result.dataset[TagKey(tags::kRetrieveURL)] =
        UiValue("UR", absl::StrCat(studies_url, response_study));
  if (!failed.empty())
    result.dataset[TagKey(tags::kFailedSOPSequence)] = Json{{"vr", "SQ"}, {"Value", failed}};
  if (!referenced.empty())
    result.dataset[TagKey(tags::kReferencedSOPSequence)] =
        Json{{"vr", "SQ"}, {"Value", referenced}};
  return result;
}

}  // namespace dicomstore::service
