#include "server/dicomweb_handler.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/mapped_file.h"
#include "common/multipart_boundary.h"
#include "dicom/pixel_access.h"
#include "server/api_response.h"
#include "server/dicom_xml.h"
#include "server/media_type.h"
#include "server/multipart_parser.h"
#include "server/multipart_source.h"

namespace dicomstore::server {
namespace {

using service::QidoLevel;

constexpr std::string_view kDicomJson = "application/dicom+json";

HttpResponse TextResponse(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.push_back({"Content-Type", std::move(content_type)});
  r.body = std::move(body);
  return r;
}

absl::Status NotAcceptable(std::string_view what) {
  return WithHttpStatus(absl::FailedPreconditionError(absl::StrCat("not acceptable: ", Av(what))),
                        406);
}

// --- STOW ------------------------------------------------------------------------------

// The STOW response format from Accept: XML by default (spec §10.2), JSON on request;
// 406 when Accept allows neither.
absl::StatusOr<bool> StowWantsJson(std::string_view accept) {
  if (accept.empty()) return false;
  absl::StatusOr<std::vector<MediaRange>> ranges = ParseAccept(accept);
  if (!ranges.ok()) return ranges.status();
  for (const MediaRange& r : *ranges) {
    std::string e = r.type.Essence();
    if (e == kDicomJson || e == "application/json") return true;
    if (e == "application/dicom+xml" || e == "application/xml" || e == "*/*" ||
        e == "application/*" || e == "multipart/related")
      return false;
  }
  return NotAcceptable(
      "the store response is available as application/dicom+xml or application/dicom+json");
}

HttpResponse RenderStow(const absl::StatusOr<service::StowResult>& result, bool json) {
  if (!result.ok()) return ErrorResponse(result.status());
  if (json) {
    return TextResponse(result->http_status, std::string(kDicomJson),
                        result->dataset.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  return TextResponse(result->http_status, "application/dicom+xml",
                      DicomJsonToXml(result->dataset));
}

// Forwards multipart parts to the STOW request.
class StowListener : public MultipartListener {
 public:
  explicit StowListener(service::StowRequest* request) : request_(request) {}
  absl::Status OnPartBegin(const std::vector<HttpHeader>& headers) override {
    std::string content_type;
    for (const HttpHeader& h : headers) {
      if (absl::EqualsIgnoreCase(h.name, "content-type")) content_type = h.value;
    }
    request_->BeginPart(content_type);
    return absl::OkStatus();
  }
  absl::Status OnPartData(std::string_view data) override { return request_->PartData(data); }
  absl::Status OnPartEnd() override {
    request_->EndPart();
    return absl::OkStatus();
  }

 private:
  service::StowRequest* request_;
};

class StowSink : public BodySink {
 public:
  // `boundary` empty = a single-part application/dicom body.
  StowSink(std::unique_ptr<service::StowRequest> request, std::string boundary, bool json)
      : request_(std::move(request)), listener_(request_.get()), json_(json) {
    if (boundary.empty()) {
      request_->BeginPart("application/dicom");
    } else {
      parser_ = std::make_unique<MultipartParser>(std::move(boundary), &listener_);
    }
  }
  absl::Status Write(std::string_view chunk) override {
    return parser_ ? parser_->Feed(chunk) : request_->PartData(chunk);
  }
  HttpResponse Finish() override {
    if (parser_) {
      if (absl::Status s = parser_->Finish(); !s.ok()) return ErrorResponse(s);
    } else {
      request_->EndPart();
    }
    return RenderStow(request_->Finish(), json_);
  }
  HttpResponse Fail(const absl::Status& status) override { return ErrorResponse(status); }

 private:
  std::unique_ptr<service::StowRequest> request_;
  StowListener listener_;
  std::unique_ptr<MultipartParser> parser_;
  bool json_;
};

// --- negotiation -----------------------------------------------------------------------

// One representation the client accepts: the media type of each part, its transfer syntax
// ("*" = as stored, "" = whatever the stored data is), and single-part vs multipart.
struct Choice {
  bool single_part = false;
  std::string media_type;
  std::string transfer_syntax;
};

std::string DefaultSyntax(std::string_view media_type) {
  return media_type == "application/dicom" || media_type == "application/octet-stream"
             ? std::string(dicom::kExplicitVRLittleEndian)
             : "";
}

// Every representation Accept allows, best first, for parts of one of `part_types`
// (the first is the default). Wildcards mean the default type with its default syntax.
absl::StatusOr<std::vector<Choice>> Candidates(std::string_view accept,
                                               const std::vector<std::string>& part_types,
                                               bool allow_single) {
  const std::string& first = part_types.front();
  if (accept.empty()) return std::vector<Choice>{{false, first, DefaultSyntax(first)}};
  absl::StatusOr<std::vector<MediaRange>> ranges = ParseAccept(accept);
  if (!ranges.ok()) return ranges.status();
  auto known = [&](const std::string& t) {
    return std::find(part_types.begin(), part_types.end(), t) != part_types.end();
  };
  std::vector<Choice> out;
  for (const MediaRange& r : *ranges) {
    const MediaType& t = r.type;
    auto syntax = [&](const std::string& type) {
      return t.HasParam("transfer-syntax") ? t.Param("transfer-syntax") : DefaultSyntax(type);
    };
    if (t.type == "*" || (t.type == "multipart" && t.subtype == "*")) {
      out.push_back({false, first, DefaultSyntax(first)});
    } else if (t.Essence() == "multipart/related") {
      std::string type = absl::AsciiStrToLower(t.Param("type"));
      if (type.empty()) type = first;
      if (known(type)) out.push_back({false, type, syntax(type)});
    } else if (allow_single && known(t.Essence())) {
      out.push_back({true, t.Essence(), syntax(t.Essence())});
    }
  }
  if (out.empty()) {
    return NotAcceptable(
        absl::StrCat("no representation in Accept \"", Av(accept), "\" can be produced here"));
  }
  return out;
}

// The stored transfer syntaxes that frames of an image media type can be sent as-is in.
const std::vector<std::string>* FrameSyntaxes(std::string_view media_type) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kTable = {
      {"image/jpeg",
       {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70"}},
      {"image/jls", {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}},
      {"image/jp2", {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}},
      {"image/jphc",
       {"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"}},
      {"image/dicom-rle", {"1.2.840.10008.1.2.5"}},
  };
  for (const auto& [type, syntaxes] : kTable) {
    if (type == media_type) return &syntaxes;
  }
  return nullptr;
}

absl::StatusOr<dicom::ImageFormat> NegotiateImage(std::string_view accept) {
  if (accept.empty()) return dicom::ImageFormat::kJpeg;
  absl::StatusOr<std::vector<MediaRange>> ranges = ParseAccept(accept);
  if (!ranges.ok()) return ranges.status();
  for (const MediaRange& r : *ranges) {
    std::string e = r.type.Essence();
    if (e == "image/jpeg" || e == "image/*" || e == "*/*") return dicom::ImageFormat::kJpeg;
    if (e == "image/png") return dicom::ImageFormat::kPng;
  }
  return NotAcceptable("rendered images are available as image/jpeg or image/png");
}

bool AcceptsJson(std::string_view accept) {
  if (accept.empty()) return true;
  absl::StatusOr<std::vector<MediaRange>> ranges = ParseAccept(accept);
  if (!ranges.ok()) return true;  // be lenient with odd Accept headers on JSON answers
  for (const MediaRange& r : *ranges) {
    std::string e = r.type.Essence();
    if (e == kDicomJson || e == "application/json" || e == "*/*" || e == "application/*")
      return true;
  }
  return false;
}

// --- helpers ---------------------------------------------------------------------------

std::string DicomPartType(const std::string& ts) {
  return absl::StrCat("application/dicom; transfer-syntax=", ts);
}

HttpResponse MultipartResponse(std::vector<OutgoingPart> parts, const std::string& type,
                               const std::string& ts) {
  std::string boundary = NewBoundary();
  auto source = std::make_unique<MultipartSource>(boundary, std::move(parts));
  HttpResponse r;
  r.headers.push_back(
      {"Content-Type", absl::StrCat("multipart/related; type=\"", type, "\"; transfer-syntax=", ts,
                                    "; boundary=", boundary)});
  r.content_length = source->KnownLength();
  r.source = std::move(source);
  return r;
}

absl::StatusOr<std::vector<int>> ParseFrameList(const std::string& list) {
  std::vector<int> frames;
  for (absl::string_view f : absl::StrSplit(Av(list), ',')) {
    int n;
    if (!absl::SimpleAtoi(f, &n) || n < 1)
      return absl::InvalidArgumentError(absl::StrCat("invalid frame number \"", f, "\""));
    frames.push_back(n);
  }
  if (frames.empty()) return absl::InvalidArgumentError("no frame number given");
  return frames;
}

absl::StatusOr<dicom::Viewport> ParseViewport(const std::string& value) {
  dicom::Viewport vp;
  if (value.empty()) return vp;
  std::vector<std::string> parts = absl::StrSplit(value, ',');
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &vp.width) ||
      !absl::SimpleAtoi(parts[1], &vp.height) || vp.width < 0 || vp.height < 0 ||
      vp.width > 10000 || vp.height > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid viewport \"", value, "\": expected width,height"));
  }
  return vp;
}

// Maps dicom-layer FAILED_PRECONDITION (cannot convert) to 406.
// Pixel work on stored data that fails (no codec for the pair, or a stream the codec
// cannot decode) means the asked representation cannot be produced: 406. Requests that do
// not fit the instance (frame out of range, unknown bulk data path) stay 400.
absl::Status PixelStatus(const absl::Status& s) {
  if (absl::IsFailedPrecondition(s) || absl::IsInternal(s)) {
    return WithHttpStatus(
        absl::FailedPreconditionError(absl::StrCat(
            "the stored data cannot be provided in the requested form: ", s.message())),
        406);
  }
  return s;
}
HttpResponse PixelError(const absl::Status& s) { return ErrorResponse(PixelStatus(s)); }

// The stored bytes of an instance: `size` bytes at `offset` of `path`.
absl::StatusOr<std::unique_ptr<MappedFile>> MapStored(const std::string& path, uint64_t offset,
                                                      int64_t size) {
  absl::StatusOr<std::unique_ptr<MappedFile>> mapped =
      MappedFile::Open(path, offset, static_cast<uint64_t>(size));
  // The index says the bytes are there: a file too short for them is lost data (500), not a
  // request out of range (400).
  if (absl::IsOutOfRange(mapped.status())) return absl::DataLossError(mapped.status().message());
  return mapped;
}

}  // namespace

std::string BaseUrl(const HttpRequest& request) {
  std::string_view host = request.Header("Host");
  if (host.empty()) host = "127.0.0.1";
  std::string_view proto = request.Header("X-Forwarded-Proto");
  return absl::StrCat(proto == "https" ? "https" : "http", "://", Av(host));
}

DicomWebHandler::DicomWebHandler(service::DicomWebService* service) : service_(service) {}

std::optional<BodyPlan> DicomWebHandler::PlanStow(const HttpRequest& head,
                                                  const DicomWebPath& path) {
  const auto& rest = path.rest;
  if (head.method != "POST" || !path.verb.empty() || rest.empty() || rest[0] != "studies" ||
      rest.size() > 2)
    return std::nullopt;
  BodyPlan plan;
  auto refuse = [&](const absl::Status& s) -> std::optional<BodyPlan> {
    plan.immediate = ErrorResponse(s);
    return std::move(plan);
  };
  std::string_view content_type = head.Header("Content-Type");
  absl::StatusOr<MediaType> mt = ParseMediaType(content_type);
  if (!mt.ok()) {
    return refuse(absl::InvalidArgumentError(
        "STOW needs Content-Type multipart/related; type=\"application/dicom\" or "
        "application/dicom"));
  }
  std::string boundary;
  if (mt->Essence() == "multipart/related") {
    std::string type = absl::AsciiStrToLower(mt->Param("type"));
    if (!type.empty() && type != "application/dicom") {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat("unsupported multipart type \"", type,
                       "\": this server stores Part 10 instances (type=\"application/dicom\")")));
    }
    absl::StatusOr<std::string> b = MultipartBoundary(content_type);
    if (!b.ok()) return refuse(b.status());
    boundary = *b;
  } else if (mt->Essence() != "application/dicom") {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "unsupported Content-Type \"", mt->Essence(),
        "\" for STOW: use multipart/related; type=\"application/dicom\" or application/dicom")));
  }
  absl::StatusOr<bool> json = StowWantsJson(head.Header("Accept"));
  if (!json.ok()) return refuse(json.status());
  std::optional<std::string> study;
  if (rest.size() == 2) study = rest[1];
  absl::StatusOr<std::unique_ptr<service::StowRequest>> request =
      service_->BeginStow(path.store_name, study, BaseUrl(head));
  if (!request.ok()) return refuse(request.status());
  plan.sink = std::make_unique<StowSink>(*std::move(request), boundary, *json);
  return plan;
}

HttpResponse DicomWebHandler::Handle(const HttpRequest& request, const RequestTarget& target,
                                     const DicomWebPath& path) {
  const std::vector<std::string>& r = path.rest;
  const std::string& m = request.method;
  const std::string base = BaseUrl(request);
  const std::string_view accept = request.Header("Accept");
  auto json = [](const absl::StatusOr<Json>& j) {
    return j.ok() ? JsonResponse(*j) : ErrorResponse(j.status());
  };

  // Custom verbs: metrics and storage info.
  if (!path.verb.empty()) {
    if (m != "GET") return ErrorResponse(absl::NotFoundError("unknown method"));
    if (path.verb == "getStudyMetrics" && r.size() == 2 && r[0] == "studies")
      return json(service_->StudyMetrics(path.store_name, r[1]));
    if (path.verb == "getSeriesMetrics" && r.size() == 4 && r[0] == "studies" && r[2] == "series")
      return json(service_->SeriesMetrics(path.store_name, r[1], r[3]));
    if (path.verb == "getStorageInfo" && r.size() == 6 && r[0] == "studies" && r[2] == "series" &&
        r[4] == "instances")
      return json(service_->InstanceStorageInfo(path.store_name, r[1], r[3], r[5]));
    return ErrorResponse(absl::NotFoundError(absl::StrCat("unknown method :", path.verb)));
  }

  // QIDO-RS.
  std::optional<QidoLevel> level;
  std::optional<std::string> study, series;
  if (r.size() == 1 && r[0] == "studies") level = QidoLevel::kStudy;
  if (r.size() == 1 && r[0] == "series") level = QidoLevel::kSeries;
  if (r.size() == 1 && r[0] == "instances") level = QidoLevel::kInstance;
  if (r.size() == 3 && r[0] == "studies" && (r[2] == "series" || r[2] == "instances")) {
    level = r[2] == "series" ? QidoLevel::kSeries : QidoLevel::kInstance;
    study = r[1];
  }
  if (r.size() == 5 && r[0] == "studies" && r[2] == "series" && r[4] == "instances") {
    level = QidoLevel::kInstance;
    study = r[1];
    series = r[3];
  }
  if (level && m == "GET") {
    if (!AcceptsJson(accept))
      return ErrorResponse(NotAcceptable("search results are application/dicom+json"));
    service::QueryParams params;
    for (const QueryParam& p : target.query) params.emplace_back(p.name, p.value);
    absl::StatusOr<std::string> found =
        service_->Search(path.store_name, *level, study, series, params, base);
    if (!found.ok()) return ErrorResponse(found.status());
    if (*found == "[]") {
      HttpResponse none;
      none.status = 204;
      return none;
    }
    return TextResponse(200, std::string(kDicomJson), std::move(*found));
  }

  // Resource paths: studies/{u}[/series/{s}[/instances/{i}]][/<tail>...]
  if (r.size() < 2 || r[0] != "studies")
    return ErrorResponse(absl::NotFoundError("unknown DICOMweb path"));
  study = r[1];
  size_t at = 2;
  std::optional<std::string> sop;
  if (r.size() >= 4 && r[2] == "series") {
    series = r[3];
    at = 4;
    if (r.size() >= 6 && r[4] == "instances") {
      sop = r[5];
      at = 6;
    }
  }
  std::vector<std::string> tail(r.begin() + static_cast<long>(at), r.end());

  if (tail.empty() && m == "DELETE") {
    if (sop) {
      absl::Status s = service_->DeleteInstance(path.store_name, *study, *series, *sop);
      return s.ok() ? JsonResponse(Json::object()) : ErrorResponse(s);
    }
    return json(service_->DeleteStudyOrSeries(path.store_name, *study, series));
  }
  if (m != "GET") return ErrorResponse(absl::NotFoundError("unknown DICOMweb method"));

  if (tail.empty()) {  // retrieve instances
    absl::StatusOr<std::vector<Choice>> choices =
        Candidates(accept, {"application/dicom"}, sop.has_value());
    if (!choices.ok()) return ErrorResponse(choices.status());
    absl::StatusOr<std::vector<service::InstanceToSend>> instances =
        service_->Instances(path.store_name, *study, series, sop);
    if (!instances.ok()) return ErrorResponse(instances.status());
    // The first representation every instance can be given in wins (Accept order).
    auto servable = [&](const std::string& ts) {
      for (const service::InstanceToSend& inst : *instances) {
        const std::string& stored = inst.record.transfer_syntax_uid;
        if (ts != "*" && ts != stored && !dicom::CanTranscode(stored, ts)) return false;
      }
      return true;
    };
    auto choice = std::find_if(choices->begin(), choices->end(),
                               [&](const Choice& c) { return servable(c.transfer_syntax); });
    if (choice == choices->end()) {
      return ErrorResponse(NotAcceptable(absl::StrCat(
          "the instances cannot be converted to any transfer syntax in Accept \"", Av(accept),
          "\" (decompression to 1.2.840.10008.1.2.1 or 1.2.840.10008.1.2 is available, as is "
          "transfer-syntax=*)")));
    }
    const std::string ts = choice->transfer_syntax;
    std::vector<OutgoingPart> parts;
    for (service::InstanceToSend& inst : *instances) {
      const std::string& stored = inst.record.transfer_syntax_uid;
      OutgoingPart part;
      if (ts == "*" || ts == stored) {
        part.content_type = DicomPartType(stored);
        part.file_path = inst.path;
        part.file_offset = inst.offset;
        part.file_size = static_cast<uint64_t>(inst.record.size_bytes);
      } else {
        part.content_type = DicomPartType(ts);
        part.produce = [file = inst.path, offset = inst.offset, size = inst.record.size_bytes,
                        ts]() -> absl::StatusOr<std::string> {
          absl::StatusOr<std::unique_ptr<MappedFile>> mapped = MapStored(file, offset, size);
          if (!mapped.ok()) return mapped.status();
          absl::StatusOr<std::string> out = dicom::TranscodeInstance((*mapped)->view(), ts);
          if (!out.ok()) return PixelStatus(out.status());
          return out;
        };
      }
      parts.push_back(std::move(part));
    }
    if (choice->single_part) {
      OutgoingPart& part = parts.front();
      HttpResponse resp;
      resp.headers.push_back({"Content-Type", part.content_type});
      if (!part.file_path.empty()) {
        resp.content_length = part.file_size;
        resp.source =
            std::make_unique<FileSource>(part.file_path, part.file_offset, part.file_size);
      } else {
        absl::StatusOr<std::string> bytes = part.produce();
        if (!bytes.ok()) return ErrorResponse(bytes.status());
        resp.body = *std::move(bytes);
      }
      return resp;
    }
    // With "*" the header names the stored syntax when every instance shares it.
    std::string header_ts = ts;
    if (ts == "*" && !instances->empty()) {
      header_ts = instances->front().record.transfer_syntax_uid;
      for (const service::InstanceToSend& inst : *instances) {
        if (inst.record.transfer_syntax_uid != header_ts) header_ts = "*";
      }
    }
    return MultipartResponse(std::move(parts), "application/dicom", header_ts);
  }

  if (tail.size() == 1 && tail[0] == "metadata") {
    if (!AcceptsJson(accept))
      return ErrorResponse(NotAcceptable("metadata is application/dicom+json"));
    absl::StatusOr<std::string> meta =
        service_->Metadata(path.store_name, *study, series, sop, base);
    if (!meta.ok()) return ErrorResponse(meta.status());
    return TextResponse(200, std::string(kDicomJson), *std::move(meta));
  }

  if (!sop) return ErrorResponse(absl::NotFoundError("unknown DICOMweb path"));
  // Instance-level pixel access: load the one stored file.
  absl::StatusOr<std::vector<service::InstanceToSend>> one =
      service_->Instances(path.store_name, *study, series, sop);
  if (!one.ok()) return ErrorResponse(one.status());
  const service::InstanceToSend& stored_instance = one->front();
  absl::StatusOr<std::unique_ptr<MappedFile>> mapped =
      MapStored(stored_instance.path, stored_instance.offset, stored_instance.record.size_bytes);
  if (!mapped.ok()) return ErrorResponse(mapped.status());
  std::string_view bytes = (*mapped)->view();

  bool rendered = !tail.empty() && tail.back() == "rendered";
  if (rendered && (tail.size() == 1 || (tail.size() == 3 && tail[0] == "frames"))) {
    absl::StatusOr<dicom::ImageFormat> format = NegotiateImage(accept);
    if (!format.ok()) return ErrorResponse(format.status());
    absl::StatusOr<dicom::Viewport> vp = ParseViewport(target.Param("viewport"));
    if (!vp.ok()) return ErrorResponse(vp.status());
    int frame = 1;
    if (tail.size() == 3) {
      absl::StatusOr<std::vector<int>> frames = ParseFrameList(tail[1]);
      if (!frames.ok()) return ErrorResponse(frames.status());
      frame = frames->front();
    }
    absl::StatusOr<std::string> image = dicom::RenderFrame(bytes, frame, *format, *vp);
    if (!image.ok()) return PixelError(image.status());
    return TextResponse(200, *format == dicom::ImageFormat::kPng ? "image/png" : "image/jpeg",
                        *std::move(image));
  }
  if (tail.size() == 2 && tail[0] == "frames") {
    absl::StatusOr<std::vector<Choice>> choices =
        Candidates(accept,
                   {"application/octet-stream", "image/jpeg", "image/jls", "image/jp2",
                    "image/jphc", "image/dicom-rle"},
                   false);
    if (!choices.ok()) return ErrorResponse(choices.status());
    const std::string& stored = one->front().record.transfer_syntax_uid;
    // Octet-stream: decoded (Explicit VR LE) or as stored ("*"). Image types: the stored
    // bitstream when it already is of that kind; nothing is re-encoded.
    auto usable = [&](const Choice& c) {
      if (c.media_type == "application/octet-stream")
        return c.transfer_syntax == "*" || c.transfer_syntax == dicom::kExplicitVRLittleEndian;
      const std::vector<std::string>* syntaxes = FrameSyntaxes(c.media_type);
      return syntaxes != nullptr &&
             std::find(syntaxes->begin(), syntaxes->end(), stored) != syntaxes->end() &&
             (c.transfer_syntax.empty() || c.transfer_syntax == "*" || c.transfer_syntax == stored);
    };
    auto choice = std::find_if(choices->begin(), choices->end(), usable);
    if (choice == choices->end()) {
      return ErrorResponse(NotAcceptable(absl::StrCat(
          "frames of this instance (stored as ", stored,
          ") are available as application/octet-stream (transfer-syntax=1.2.840.10008.1.2.1 "
          "or *) or in their stored image format")));
    }
    absl::StatusOr<std::vector<int>> list = ParseFrameList(tail[1]);
    if (!list.ok()) return ErrorResponse(list.status());
    bool native =
        choice->media_type == "application/octet-stream" && choice->transfer_syntax != "*";
    absl::StatusOr<std::vector<dicom::FrameData>> frames =
        dicom::ExtractFrames(bytes, *list, native);
    if (!frames.ok()) return PixelError(frames.status());
    std::vector<OutgoingPart> parts;
    std::string ts = frames->empty() ? stored : frames->front().transfer_syntax_uid;
    for (dicom::FrameData& f : *frames) {
      OutgoingPart part;
      part.content_type =
          absl::StrCat(choice->media_type, "; transfer-syntax=", f.transfer_syntax_uid);
      auto data = std::make_shared<std::string>(std::move(f.bytes));
      part.produce = [data]() -> absl::StatusOr<std::string> { return std::move(*data); };
      parts.push_back(std::move(part));
    }
    return MultipartResponse(std::move(parts), choice->media_type, ts);
  }
  if (tail.size() >= 2 && tail[0] == "bulkdata") {
    absl::StatusOr<std::vector<Choice>> choices =
        Candidates(accept, {"application/octet-stream"}, true);
    if (!choices.ok()) return ErrorResponse(choices.status());
    std::vector<std::string> path_parts(tail.begin() + 1, tail.end());
    absl::StatusOr<std::string> value = dicom::ReadBulkData(bytes, absl::StrJoin(path_parts, "/"));
    if (!value.ok()) return PixelError(value.status());
    if (choices->front().single_part)
      return TextResponse(200, "application/octet-stream", *std::move(value));
    OutgoingPart part;
    part.content_type = "application/octet-stream";
    auto data = std::make_shared<std::string>(*std::move(value));
    part.produce = [data]() -> absl::StatusOr<std::string> { return std::move(*data); };
    std::vector<OutgoingPart> parts;
    parts.push_back(std::move(part));
    return MultipartResponse(std::move(parts), "application/octet-stream", "*");
  }
  return ErrorResponse(absl::NotFoundError("unknown DICOMweb path"));
}

}  // namespace dicomstore::server
