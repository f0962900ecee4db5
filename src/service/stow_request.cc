// STOW-RS (spec §10.2): one request's parts -> appended to a blob segment -> parse ->
// validate -> one fdatasync -> group commit -> the Referenced/Failed SOP sequences of the
// response.
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

// The attributes kept for a level, sorted (the JSON keys ascend in tag order).
std::vector<uint32_t> SortedLevelAttributes(QidoLevel level) {
  std::vector<uint32_t> tags = StoredLevelAttributes(level);
  std::sort(tags.begin(), tags.end());
  return tags;
}

// A blob's bytes, mapped from its segment.
absl::StatusOr<std::unique_ptr<MappedFile>> MapBlob(const blobs::BlobLocation& where) {
  return MappedFile::Open(where.path, where.offset, where.size);
}

struct LevelJsons {
  std::string study, series;
};

// Cuts the attributes kept for the study and the series level out of an instance's DICOM
// JSON text (compact, keys in tag order) in one pass: their members are copied as they
// are, in tag order.
LevelJsons CutLevelJsons(std::string_view instance) {
  static const std::vector<uint32_t>* const study_tags =
      new std::vector<uint32_t>(SortedLevelAttributes(QidoLevel::kStudy));
  static const std::vector<uint32_t>* const series_tags =
      new std::vector<uint32_t>(SortedLevelAttributes(QidoLevel::kSeries));
  const uint32_t last = std::max(study_tags->empty() ? 0 : study_tags->back(),
                                 series_tags->empty() ? 0 : series_tags->back());
  LevelJsons out{"{", "{"};
  const auto keep = [](const std::vector<uint32_t>& tags, uint32_t tag, std::string_view key,
                       std::string_view raw, std::string* json) {
    if (!std::binary_search(tags.begin(), tags.end(), tag)) return;
    absl::StrAppend(json, json->size() > 1 ? "," : "", "\"", Av(key), "\":", Av(raw));
  };
  ForEachJsonMember(instance, [&](std::string_view key, std::string_view raw) {
    const std::optional<uint32_t> tag = ParseHexTag(key);
    if (!tag) return true;
    if (*tag > last) return false;  // keys ascend: no more to keep
    keep(*study_tags, *tag, key, raw, &out.study);
    keep(*series_tags, *tag, key, raw, &out.series);
    return true;
  });
  out.study.push_back('}');
  out.series.push_back('}');
  return out;
}

Json UiValue(std::string_view vr, const std::string& value) {
  return Json{{"vr", std::string(vr)}, {"Value", Json::array({value})}};
}

}  // namespace

struct StowRequest::PartResult {
  std::optional<index::InstanceRecord> record;  // set when the instance can be committed
  std::string sop_class_uid, sop_instance_uid;  // for the response, when known
  std::string study_uid, series_uid;            // for the response's RetrieveURL
  std::string failure;                          // non-empty = refused
  std::optional<blobs::BlobRef> blob;           // the part's bytes, to free unless stored
};

struct StowRequest::Part {
  bool writing = false;  // its bytes go to the blob writer
  std::string failure;   // set at BeginPart/EndPart for unusable parts
  // A copy of the bytes while they fit in kInMemoryPartLimit, so that small instances are
  // parsed without mapping the segment back.
  std::string bytes;
  bool bytes_complete = true;  // false once not kept (too large, or not tried)
  // An ended part waits here for its parse until the next part begins (then it goes to a
  // worker, running while the upload continues) or Finish parses it on the request's own
  // thread: a one-part request needs no thread switch for it. Freed if never parsed.
  struct ToParse {
    blobs::BlobRef blob;
    std::optional<std::string> bytes;  // the whole part, when it was kept in memory
  };
  std::optional<ToParse> to_parse;
  std::future<PartResult> result;
};

namespace {
constexpr size_t kInMemoryPartLimit = 256 * 1024;
}  // namespace

StowRequest::StowRequest(DicomWebService* service, StoreRef store, std::optional<std::string> study,
                         std::string base_url)
    : service_(service),
      store_(std::move(store)),
      study_(std::move(study)),
      base_url_(std::move(base_url)) {}

StowRequest::~StowRequest() {
  // Wait for part work still running and free every blob not committed. The writer goes
  // last: it drops a part cut short and hands its segment back.
  for (auto& part : parts_) {
    if (part->to_parse) FreeBlob(part->to_parse->blob);
    if (!part->result.valid()) continue;
    PartResult r = part->result.get();
    if (r.blob) FreeBlob(*r.blob);
  }
  writer_.reset();
}

void StowRequest::FreeBlob(const blobs::BlobRef& blob) {
  (void)service_->blobs_->Remove(blob.store_id, blob.key);
}

void StowRequest::SubmitPendingParse() {
  if (parts_.empty() || !parts_.back()->to_parse) return;
  Part& part = *parts_.back();
  part.result = service_->workers_.Submit(
      [input = *std::move(part.to_parse), store_id = store_.store_id, study = study_] {
        return ParsePart(input.blob, input.bytes, store_id, study);
      });
  part.to_parse.reset();
}

void StowRequest::BeginPart(std::string_view content_type) {
  SubmitPendingParse();
  auto part = std::make_unique<Part>();
  std::string essence = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(Av(content_type.substr(0, content_type.find(';')))));
  if (!essence.empty() && essence != "application/dicom") {
    part->failure =
        absl::StrCat("unsupported part Content-Type \"", Av(content_type),
                     "\": only application/dicom (Part 10) instances are accepted in this request");
  } else if (absl::Status s = StartBlob(); !s.ok()) {
    part->failure = absl::StrCat("cannot store the instance: ", s.message());
  } else {
    part->writing = true;
    part->bytes_complete = keep_parts_in_memory_;
  }
  parts_.push_back(std::move(part));
}

absl::Status StowRequest::StartBlob() {
  if (!writer_) {
    absl::StatusOr<std::unique_ptr<blobs::BlobWriter>> writer =
        service_->blobs_->NewWriter(store_.store_id);
    if (!writer.ok()) return writer.status();
    writer_ = *std::move(writer);
  }
  return writer_->BeginBlob();
}

absl::Status StowRequest::PartData(std::string_view data) {
  if (parts_.empty()) return absl::InternalError("part data before a part began");
  Part& part = *parts_.back();
  if (!part.writing) return absl::OkStatus();  // refused part: drain its bytes
  if (part.bytes_complete) {
    if (part.bytes.size() + data.size() <= kInMemoryPartLimit) {
      part.bytes.append(data);
    } else {
      part.bytes_complete = false;
      keep_parts_in_memory_ = false;
      std::string().swap(part.bytes);
    }
  }
  return writer_->Append(data);
}

void StowRequest::EndPart() {
  if (parts_.empty()) return;
  Part& part = *parts_.back();
  if (!part.writing) return;
  part.writing = false;
  absl::StatusOr<blobs::BlobRef> blob = writer_->EndBlob();
  if (!blob.ok()) {
    part.failure = absl::StrCat("cannot store the instance: ", blob.status().message());
    return;
  }
  part.to_parse.emplace(Part::ToParse{*std::move(blob), std::nullopt});
  if (part.bytes_complete) part.to_parse->bytes = std::move(part.bytes);
}

std::string StowRequest::CompareWithStored(const blobs::BlobRef& blob, const std::string& study,
                                           const std::string& series, const std::string& sop) {
  absl::StatusOr<index::InstanceRecord> stored =
      service_->index_->instances()->GetInstance(store_.store_id, study, series, sop);
  if (!stored.ok()) {
    // Deleted between the commit and now: neither "same" nor "differs" can be answered.
    return absl::StrCat("an instance with the same UIDs was being deleted meanwhile (",
                        stored.status().message(), "); retry");
  }
  static constexpr char kDiffers[] =
      "an instance with the same Study/Series/SOP Instance UIDs already exists with different "
      "content";
  if (static_cast<uint64_t>(stored->size_bytes) != blob.location.size) return kDiffers;
  absl::StatusOr<blobs::BlobLocation> where =
      service_->blobs_->Locate(store_.store_id, stored->blob_key);
  if (!where.ok())
    return absl::StrCat("cannot read the stored instance: ", where.status().message());
  absl::StatusOr<std::unique_ptr<MappedFile>> old_bytes = MapBlob(*where);
  absl::StatusOr<std::unique_ptr<MappedFile>> new_bytes = MapBlob(blob.location);
  if (!old_bytes.ok() || !new_bytes.ok()) {
    const absl::Status& s = old_bytes.ok() ? new_bytes.status() : old_bytes.status();
    return absl::StrCat("cannot compare with the stored instance: ", s.message());
  }
  return (*old_bytes)->view() == (*new_bytes)->view() ? "" : kDiffers;
}

StowRequest::PartResult StowRequest::ParsePart(const blobs::BlobRef& blob,
                                               const std::optional<std::string>& bytes,
                                               int64_t store_id,
                                               const std::optional<std::string>& study) {
  PartResult r;
  r.blob = blob;
  std::unique_ptr<MappedFile> mapped;
  std::string_view view;
  if (bytes) {
    view = *bytes;
  } else {
    absl::StatusOr<std::unique_ptr<MappedFile>> file = MapBlob(blob.location);
    if (!file.ok()) {
      r.failure = absl::StrCat("cannot read the instance back: ", file.status().message());
      return r;
    }
    mapped = *std::move(file);
    view = mapped->view();
  }
  absl::StatusOr<dicom::ParsedInstance> parsed = dicom::ParseInstance(view);
  if (!parsed.ok()) {
    r.failure = std::string(parsed.status().message());
    return r;
  }
  r.sop_class_uid = parsed->sop_class_uid;
  r.sop_instance_uid = parsed->sop_instance_uid;
  r.study_uid = parsed->study_uid;
  r.series_uid = parsed->series_uid;
  if (study && parsed->study_uid != *study) {
    r.failure = absl::StrCat("the instance's StudyInstanceUID ", parsed->study_uid,
                             " does not match the study ", *study, " of the request path");
    return r;
  }
  index::InstanceRecord& rec = r.record.emplace();
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
  LevelJsons levels = CutLevelJsons(parsed->json);
  rec.study_json = std::move(levels.study);
  rec.series_json = std::move(levels.series);
  rec.instance_json = std::move(parsed->json);
  rec.blob_key = blob.key;
  rec.size_bytes = static_cast<int64_t>(blob.location.size);
  rec.create_time_micros = NowMicros();
  return r;
}

absl::StatusOr<StowResult> StowRequest::Finish() {
  if (parts_.empty()) {
    return absl::InvalidArgumentError("the request holds no DICOM instance");
  }
  std::vector<PartResult> results;
  for (auto& part : parts_) {
    if (part->writing) writer_->AbandonBlob();  // never ended: the body was cut short
    if (part->to_parse) {
      results.push_back(
          ParsePart(part->to_parse->blob, part->to_parse->bytes, store_.store_id, study_));
      part->to_parse.reset();
    } else if (part->result.valid()) {
      results.push_back(part->result.get());
    } else {
      PartResult r;
      r.failure = part->failure.empty() ? "the part was not complete" : part->failure;
      results.push_back(std::move(r));
    }
  }
  parts_.clear();

  std::vector<index::InstanceRecord> to_commit;
  std::vector<size_t> commit_index;  // results[] position of each committed instance
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].record) {
      to_commit.push_back(*std::move(results[i].record));
      commit_index.push_back(i);
    } else if (results[i].blob) {
      FreeBlob(*results[i].blob);
      results[i].blob.reset();
    }
  }
  auto free_all = [&](const absl::Status& status) {
    for (size_t k : commit_index) FreeBlob(*results[k].blob);
    return status;
  };
  // Bytes durable first, rows second: a row never points at bytes a crash could lose.
  if (!to_commit.empty()) {
    if (absl::Status s = writer_->Sync(); !s.ok()) return free_all(s);
  }
  absl::StatusOr<std::vector<index::InsertOutcome>> outcomes =
      service_->ingest_.Commit(std::move(to_commit));
  if (!outcomes.ok()) return free_all(outcomes.status());
  writer_.reset();  // committed: the segment may take other requests' blobs now
  for (size_t k = 0; k < commit_index.size(); ++k) {
    PartResult& r = results[commit_index[k]];
    switch ((*outcomes)[k]) {
      case index::InsertOutcome::kStored:
        break;
      case index::InsertOutcome::kDuplicate:
        r.failure = CompareWithStored(*r.blob, r.study_uid, r.series_uid, r.sop_instance_uid);
        break;
      case index::InsertOutcome::kStudyLocked:
        r.failure = "the study or series is being deleted; retry when the deletion is done";
        break;
      case index::InsertOutcome::kStoreMissing:
        r.failure = "the DICOM store was deleted";
        break;
    }
    if ((*outcomes)[k] != index::InsertOutcome::kStored) FreeBlob(*r.blob);
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
      if (response_study.empty()) response_study = r.study_uid;
      item[TagKey(tags::kRetrieveURL)] =
          UiValue("UR", absl::StrCat(studies_url, r.study_uid, "/series/", r.series_uid,
                                     "/instances/", r.sop_instance_uid));
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
