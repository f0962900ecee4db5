// ParseInstance: framing -> (inflate) -> structural pre-scan -> DCMTK parse of the part
// before top-level pixel data (and of what follows it) -> DICOM JSON -> validation.
#include "dicom/instance_parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"
#include "dicom/bulkdata_rules.h"
#include "dicom/charset_decoder.h"
#include "dicom/dataset_scanner.h"
#include "dicom/dicom_json_writer.h"
#include "dicom/json_text_writer.h"
#include "dicom/part10_framing.h"
#include "dicom/raw_json_writer.h"

namespace dicomstore::dicom {
namespace {

constexpr uint32_t kSopClassUid = 0x00080016;
constexpr uint32_t kSopInstanceUid = 0x00080018;
constexpr uint32_t kStudyDate = 0x00080020;
constexpr uint32_t kStudyTime = 0x00080030;
constexpr uint32_t kAccessionNumber = 0x00080050;
constexpr uint32_t kModality = 0x00080060;
constexpr uint32_t kReferringPhysicianName = 0x00080090;
constexpr uint32_t kStudyDescription = 0x00081030;
constexpr uint32_t kSeriesDescription = 0x0008103E;
constexpr uint32_t kPatientName = 0x00100010;
constexpr uint32_t kPatientId = 0x00100020;
constexpr uint32_t kStudyInstanceUid = 0x0020000D;
constexpr uint32_t kSeriesInstanceUid = 0x0020000E;
constexpr uint32_t kStudyId = 0x00200010;
constexpr uint32_t kSeriesNumber = 0x00200011;
constexpr uint32_t kInstanceNumber = 0x00200013;
constexpr uint32_t kNumberOfFrames = 0x00280008;
constexpr uint32_t kRows = 0x00280010;
constexpr uint32_t kColumns = 0x00280011;
constexpr uint32_t kBitsAllocated = 0x00280100;
constexpr uint32_t kDirectoryRecordSequence = 0x00041220;

constexpr std::string_view kMediaStorageDirectoryClass = "1.2.840.10008.1.3.10";

// A deflated dataset may inflate to at most this much (and never beyond
// max_element_length): generous for real data, bounded for decompression bombs.
uint64_t InflateCap(uint64_t deflated_size, const ParseLimits& limits) {
  constexpr uint64_t kBase = 64ull << 20;
  constexpr uint64_t kRatio = 64;
  const uint64_t cap = kBase + std::min<uint64_t>(deflated_size, 1ull << 40) * kRatio;
  return std::min(cap, limits.max_element_length);
}

E_TransferSyntax ToXfer(Encoding e) {
  switch (e) {
    case Encoding::kImplicitLittle:
      return EXS_LittleEndianImplicit;
    case Encoding::kExplicitLittle:
      return EXS_LittleEndianExplicit;
    case Encoding::kExplicitBig:
      return EXS_BigEndianExplicit;
  }
  return EXS_LittleEndianImplicit;
}

absl::Status ReadDataset(std::string_view data, E_TransferSyntax xfer, bool stop_at_pixel_data,
                         DcmDataset* dataset) {
  if (data.empty()) return absl::OkStatus();
  DcmInputBufferStream in;
  in.setBuffer(data.data(), static_cast<offile_off_t>(data.size()));
  in.setEos();
  dataset->transferInit();
  const OFCondition c = stop_at_pixel_data
                            ? dataset->readUntilTag(in, xfer, EGL_noChange, DCM_MaxReadLength,
                                                    DcmTagKey(0x7FE0, 0x0008))
                            : dataset->read(in, xfer, EGL_noChange, DCM_MaxReadLength);
  dataset->transferEnd();
  if (c.bad()) return absl::InvalidArgumentError(absl::StrCat("malformed dataset: ", c.text()));
  return absl::OkStatus();
}

// First value of a numeric element (IS or US...) from its member text, 0 when absent or
// not an integer that fits int64 (a DS or FD double, a string such as IS "1A", null).
int64_t FirstInteger(std::string_view text, const std::vector<MemberSpan>& members, uint32_t tag) {
  const auto it = std::find_if(members.begin(), members.end(),
                               [tag](const MemberSpan& m) { return m.tag == tag; });
  if (it == members.end()) return 0;
  const std::string_view member = text.substr(it->begin, it->end - it->begin);
  constexpr std::string_view kValue = "\"Value\":[";
  const size_t at = member.find(kValue);
  if (at == std::string_view::npos) return 0;
  const std::string_view rest = member.substr(at + kValue.size());
  int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || ptr == rest.data() + rest.size()) return 0;
  return *ptr == ',' || *ptr == ']' ? n : 0;
}

// Restores tag order if the elements after the pixel data were out of order, keeping the
// first of duplicate tags: the members are reassembled from their spans in `*json` (an
// object holding exactly `*members`).
void SortMembers(std::string* json, std::vector<MemberSpan>* members) {
  const bool sorted =
      std::adjacent_find(members->begin(), members->end(), [](const auto& a, const auto& b) {
        return a.tag >= b.tag;
      }) == members->end();
  if (sorted) return;
  std::stable_sort(members->begin(), members->end(),
                   [](const auto& a, const auto& b) { return a.tag < b.tag; });
  members->erase(std::unique(members->begin(), members->end(),
                             [](const auto& a, const auto& b) { return a.tag == b.tag; }),
                 members->end());
  std::string result;
  result.reserve(json->size());
  result.push_back('{');
  for (MemberSpan& m : *members) {
    if (result.size() > 1) result.push_back(',');
    const size_t begin = result.size();
    result.append(*json, m.begin, m.end - m.begin);
    m = {m.tag, begin, result.size()};
  }
  result.push_back('}');
  *json = std::move(result);
}

std::string FirstValue(std::string text) {
  const size_t backslash = text.find('\\');
  if (backslash != std::string::npos) text.resize(backslash);
  return text;
}

// The top-level elements whose text the identity and QIDO keys come from.
const std::set<uint32_t>& RecordedTags() {
  static const auto* const tags = new std::set<uint32_t>(
      {kSopClassUid, kSopInstanceUid, kStudyDate, kStudyTime, kAccessionNumber, kModality,
       kReferringPhysicianName, kStudyDescription, kSeriesDescription, kPatientName, kPatientId,
       kStudyInstanceUid, kSeriesInstanceUid, kStudyId});
  return *tags;
}

// `try_fast`: take the fast path (raw_json_writer.h) when it handles the dataset;
// `*used_fast` says whether it did.
absl::StatusOr<ParsedInstance> ParseImpl(std::string_view bytes, const ParseLimits& limits,
                                         bool try_fast, bool* used_fast) {
  *used_fast = false;
  if (absl::Status s = InitializeDicom(); !s.ok()) return s;
  absl::StatusOr<Framing> framing = DetectFraming(bytes);
  if (!framing.ok()) return framing.status();

  std::string_view dataset_bytes = bytes.substr(framing->dataset_offset);
  std::string inflated;
  if (framing->deflated) {
    absl::StatusOr<std::string> out =
        InflateDataset(dataset_bytes, InflateCap(dataset_bytes.size(), limits));
    if (!out.ok()) return out.status();
    inflated = std::move(*out);
    dataset_bytes = inflated;
  }

  absl::StatusOr<ScanResult> scan = ScanDataset(dataset_bytes, framing->encoding, limits);
  if (!scan.ok()) {
    // A broken element header is often a dataset not encoded as its File Meta says;
    // name the transfer syntax unless the problem is the pixel data itself.
    const std::string_view message = Sv(scan.status().message());
    if (framing->meta_transfer_syntax.empty() || message.find("(7FE0,") != message.npos) {
      return scan.status();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(scan.status().message(), " (dataset read with the transfer syntax ",
                     framing->meta_transfer_syntax, " of the File Meta)"));
  }

  JsonTextWriter out;
  std::vector<MemberSpan> members;
  out.BeginObject();

  // Fast path (never for deflated input). What follows the top-level Pixel Data is
  // written after the Pixel Data member below, as on the DCMTK path.
  RawJsonWriter raw_writer(RecordedTags());
  if (try_fast && !framing->deflated &&
      raw_writer.WriteDataset(dataset_bytes.substr(0, scan->stop_offset), framing->encoding,
                              CharsetDecoder(), &out, &members)) {
    *used_fast = true;
  } else {
    out = JsonTextWriter();
    members.clear();
    out.BeginObject();
  }

  const E_TransferSyntax xfer = ToXfer(framing->encoding);
  std::optional<DcmDataset> tail;  // DCMTK path only, like the writer and the charset
  CharsetDecoder charset;
  std::optional<DicomJsonWriter> writer;
  if (!*used_fast) {
    writer.emplace(limits, RecordedTags());
    DcmDataset main;
    if (absl::Status s = ReadDataset(dataset_bytes.substr(0, scan->stop_offset), xfer, true, &main);
        !s.ok()) {
      return s;
    }
    if (scan->tail_ok && scan->tail_offset < dataset_bytes.size()) {
      tail.emplace();
      if (!ReadDataset(dataset_bytes.substr(scan->tail_offset), xfer, false, &*tail).ok()) {
        tail.reset();
      }
    }
    // DICOM JSON.
    if (std::optional<CharsetDecoder> own = DicomJsonWriter::OwnCharset(main)) charset = *own;
    writer->WriteItem(main, charset, "", 0, &out, &members);
  }
  const bool has_pixel_data =
      scan->has_pixel_data && (scan->pixel_encapsulated || scan->pixel_length > 0);
  if (scan->has_pixel_data) {
    const size_t begin = BeginMember(scan->pixel_tag, &out);
    out.BeginObject();
    out.Key("vr");
    out.String(scan->pixel_vr);
    if (has_pixel_data) {
      out.Key("BulkDataURI");
      out.String(BulkDataUri(TagKey(scan->pixel_tag)));
    }
    out.EndObject();
    members.push_back({scan->pixel_tag, begin, out.size()});
  }
  if (*used_fast && scan->tail_ok && scan->tail_offset < dataset_bytes.size()) {
    // A separate writer: the tail never supplies the identity or QIDO keys. When the fast
    // path cannot write the tail, the whole instance is read again with DCMTK.
    RawJsonWriter tail_writer({});
    if (!tail_writer.WriteDataset(dataset_bytes.substr(scan->tail_offset), framing->encoding,
                                  raw_writer.DatasetCharset(), &out, &members)) {
      return ParseImpl(bytes, limits, false, used_fast);
    }
  }
  if (tail) {
    // A separate writer: the tail never supplies the identity or QIDO keys.
    DicomJsonWriter tail_writer(limits, {});
    tail_writer.WriteItem(*tail, charset, "", 0, &out, &members);
  }
  out.EndObject();
  std::string json = out.Take();
  // Normally every tag after `main` is above those of `main`; SortMembers repairs the
  // order (keeping `main`'s element on a duplicate) when the tail says otherwise.
  SortMembers(&json, &members);

  const auto recorded = [&](uint32_t tag) {
    return *used_fast ? raw_writer.RecordedText(tag) : writer->RecordedText(tag);
  };
  ParsedInstance p;
  p.study_uid = FirstValue(recorded(kStudyInstanceUid));
  p.series_uid = FirstValue(recorded(kSeriesInstanceUid));
  p.sop_instance_uid = FirstValue(recorded(kSopInstanceUid));
  p.sop_class_uid = FirstValue(recorded(kSopClassUid));
  std::vector<std::string_view> missing;
  if (p.study_uid.empty()) missing.push_back("StudyInstanceUID");
  if (p.series_uid.empty()) missing.push_back("SeriesInstanceUID");
  if (p.sop_instance_uid.empty()) missing.push_back("SOPInstanceUID");
  if (p.sop_class_uid.empty()) missing.push_back("SOPClassUID");
  if (!missing.empty()) {
    if (framing->media_storage_sop_class == kMediaStorageDirectoryClass ||
        std::any_of(members.begin(), members.end(),
                    [](const MemberSpan& m) { return m.tag == kDirectoryRecordSequence; })) {
      return absl::InvalidArgumentError(
          "a DICOMDIR (Media Storage Directory) is not a storable instance");
    }
    std::vector<std::string> names(missing.begin(), missing.end());
    return absl::InvalidArgumentError(absl::StrCat("missing ", absl::StrJoin(names, ", ")));
  }
  p.transfer_syntax_uid = framing->transfer_syntax_uid;
  p.patient_name = FirstValue(recorded(kPatientName));
  p.patient_id = FirstValue(recorded(kPatientId));
  p.accession_number = FirstValue(recorded(kAccessionNumber));
  p.referring_physician_name = FirstValue(recorded(kReferringPhysicianName));
  p.study_date = FirstValue(recorded(kStudyDate));
  p.study_time = FirstValue(recorded(kStudyTime));
  p.study_id = FirstValue(recorded(kStudyId));
  p.study_description = recorded(kStudyDescription);
  p.modality = FirstValue(recorded(kModality));
  p.series_description = recorded(kSeriesDescription);
  p.series_number = FirstInteger(json, members, kSeriesNumber);
  p.instance_number = FirstInteger(json, members, kInstanceNumber);
  p.has_pixel_data = has_pixel_data;
  const int64_t frames = FirstInteger(json, members, kNumberOfFrames);
  p.number_of_frames = frames > 0 ? frames : (has_pixel_data ? 1 : 0);
  p.rows = FirstInteger(json, members, kRows);
  p.columns = FirstInteger(json, members, kColumns);
  p.bits_allocated = FirstInteger(json, members, kBitsAllocated);
  p.json = std::move(json);
  return p;
}

absl::Status InitializeOnce() {
  OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  if (!dcmDataDict.isDictionaryLoaded()) {
    return absl::FailedPreconditionError(
        "the DICOM data dictionary is not loaded (check the libdcmtk installation and "
        "DCMDICTPATH)");
  }
  DJDecoderRegistration::registerCodecs();
  DJLSDecoderRegistration::registerCodecs();
  DcmRLEDecoderRegistration::registerCodecs();
  return absl::OkStatus();
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

absl::Status InitializeDicom() {
  static const absl::Status status = InitializeOnce();  // thread-safe, once
  return status;
}

absl::StatusOr<ParsedInstance> ParseInstanceWith(std::string_view bytes, const ParseLimits& limits,
                                                 ParsePath path, bool* used_fast_path) {
  bool used_fast = false;
  try {
    absl::StatusOr<ParsedInstance> result =
        ParseImpl(bytes, limits, path == ParsePath::kAuto, &used_fast);
    // The fast path never refuses: a refusal after it (missing UIDs, a DICOMDIR) is
    // decided again on the DCMTK path, so its status is DCMTK's.
    if (used_fast && !result.ok()) result = ParseImpl(bytes, limits, false, &used_fast);
    if (used_fast_path != nullptr) *used_fast_path = used_fast;
    return result;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing the DICOM file");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse the DICOM file: ", e.what()));
  } catch (...) {
    return absl::InvalidArgumentError("cannot parse the DICOM file");
  }
}

absl::StatusOr<ParsedInstance> ParseInstance(std::string_view bytes, const ParseLimits& limits) {
  return ParseInstanceWith(bytes, limits, ParsePath::kAuto);
}

int32_t DateToInt(std::string_view da) {
  while (!da.empty() && (da.back() == ' ' || da.back() == '\0')) da.remove_suffix(1);
  while (!da.empty() && da.front() == ' ') da.remove_prefix(1);
  std::string digits;
  if (da.size() == 8) {
    digits = std::string(da);
  } else if (da.size() == 10 && da[4] == '.' && da[7] == '.') {
    digits = absl::StrCat(std::string(da.substr(0, 4)), std::string(da.substr(5, 2)),
                          std::string(da.substr(8, 2)));
  } else {
    return 0;
  }
  if (!AllDigits(digits)) return 0;
  const int year = std::stoi(digits.substr(0, 4));
  const int month = std::stoi(digits.substr(4, 2));
  const int day = std::stoi(digits.substr(6, 2));
  if (year < 1 || month < 1 || month > 12 || day < 1) return 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = month == 2 && leap ? 29 : kDays[month - 1];
  if (day > max_day) return 0;
  return year * 10000 + month * 100 + day;
}

}  // namespace dicomstore::dicom
