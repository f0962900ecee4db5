// QIDO-RS (spec §10.3): query parameters -> a typed index query -> DICOM JSON results
// cut from the precomputed JSON of each row. No file is opened.
#include <algorithm>
#include <deque>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/dicom_tag.h"
#include "common/json_members.h"
#include "dicom/dictionary.h"
#include "dicom/instance_parser.h"
#include "service/dicomweb_service.h"

namespace dicomstore::service {
namespace {

struct Limits {
  int default_limit;
  int max_limit;
};
constexpr int kMaxOffset = 1000000;

Limits LimitsFor(QidoLevel level) {
  return level == QidoLevel::kInstance ? Limits{1000, 50000} : Limits{100, 5000};
}

std::string_view LevelName(QidoLevel level) {
  switch (level) {
    case QidoLevel::kStudy:
      return "study";
    case QidoLevel::kSeries:
      return "series";
    case QidoLevel::kInstance:
      break;
  }
  return "instance";
}

// Resolves a keyword or tag: QIDO's own table first, then the DICOM dictionary. A numeric
// tag must name a dictionary attribute or a private one (odd group).
std::optional<uint32_t> ResolveAttribute(std::string_view name) {
  std::optional<uint32_t> tag = KnownAttribute(name);
  if (!tag) tag = dicom::TagForKeyword(name);
  if (!tag) return std::nullopt;
  bool is_private = ((*tag >> 16) & 1) == 1;
  if (!is_private && KnownKeyword(*tag).empty() && dicom::KeywordForTag(*tag).empty())
    return std::nullopt;
  return tag;
}

// Attributes a search never returns: QIDO-only computed attributes Google does not offer.
bool UnsupportedInclude(uint32_t tag) {
  constexpr uint32_t kAvailableTransferSyntaxUID = 0x00083002;
  return tag == kAvailableTransferSyntaxUID;
}

// StudyDate: "YYYYMMDD", "YYYYMMDD-YYYYMMDD", "-YYYYMMDD", "YYYYMMDD-".
absl::Status ParseDateRange(std::string_view value, index::SearchQuery* q) {
  auto parse = [&](std::string_view d, std::optional<int32_t>* out) -> bool {
    if (d.empty()) return true;
    int32_t v = dicom::DateToInt(d);
    if (v == 0 || d.size() != 8) return false;
    *out = v;
    return true;
  };
  size_t dash = value.find('-');
  bool ok;
  if (dash == std::string_view::npos) {
    ok = !value.empty() && parse(value, &q->study_date_from);
    q->study_date_to = q->study_date_from;
  } else {
    ok = (dash > 0 || dash + 1 < value.size()) &&
         parse(value.substr(0, dash), &q->study_date_from) &&
         parse(value.substr(dash + 1), &q->study_date_to);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid StudyDate \"", Av(value), "\": expected YYYYMMDD or a range YYYYMMDD-YYYYMMDD"));
  }
  return absl::OkStatus();
}

struct ParsedQuery {
  index::SearchQuery query;
  std::set<uint32_t> include;  // extra attributes asked with includefield
  bool include_all = false;
};

absl::StatusOr<ParsedQuery> ParseQuery(QidoLevel level, const QueryParams& params) {
  ParsedQuery out;
  index::SearchQuery& q = out.query;
  Limits limits = LimitsFor(level);
  q.limit = limits.default_limit;
  bool fuzzy = false;
  std::string patient_name;
  bool has_patient_name = false;
  std::set<uint32_t> seen;
  const std::vector<uint32_t>& keys = MatchKeys(level);

  for (const auto& [name, value] : params) {
    if (name == "limit") {
      int v;
      if (!absl::SimpleAtoi(Av(value), &v) || v < 0)
        return absl::InvalidArgumentError(absl::StrCat("invalid limit \"", value, "\""));
      // Above the maximum Google clamps rather than refuses (spec §10.3 recommendation).
      q.limit = v == 0 ? limits.default_limit : std::min(v, limits.max_limit);
    } else if (name == "offset") {
      int v;
      if (!absl::SimpleAtoi(Av(value), &v) || v < 0 || v > kMaxOffset)
        return absl::InvalidArgumentError(
            absl::StrCat("invalid offset \"", value, "\": must be 0 to ", kMaxOffset));
      q.offset = v;
    } else if (name == "fuzzymatching") {
      std::string lower = absl::AsciiStrToLower(Av(value));
      if (lower != "true" && lower != "false")
        return absl::InvalidArgumentError("fuzzymatching must be true or false");
      fuzzy = lower == "true";
    } else if (name == "includefield") {
      for (absl::string_view field : absl::StrSplit(Av(value), ',', absl::SkipEmpty())) {
        std::string f(absl::StripAsciiWhitespace(field));
        if (f == "all") {
          out.include_all = true;
          continue;
        }
        std::optional<uint32_t> tag = ResolveAttribute(f);
        if (!tag || UnsupportedInclude(*tag)) {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown/unsupported QIDO attribute: ", f));
        }
        out.include.insert(*tag);
      }
    } else {
      std::optional<uint32_t> tag = ResolveAttribute(name);
      if (!tag || std::find(keys.begin(), keys.end(), *tag) == keys.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " is not a supported ", Av(LevelName(level)),
                         "-level match key (unknown/unsupported QIDO attribute: ", name, ")"));
      }
      if (!seen.insert(*tag).second) {
        return absl::InvalidArgumentError(absl::StrCat("match key ", name, " given twice"));
      }
      // Google accepts single values only: no UID lists (comma) for UIDs.
      bool is_uid = *tag == tags::kStudyInstanceUID || *tag == tags::kSeriesInstanceUID ||
                    *tag == tags::kSOPInstanceUID;
      if (is_uid && value.find(',') != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("UID lists are not supported for ", name, "; give one UID"));
      }
      switch (*tag) {
        case tags::kStudyInstanceUID:
          q.study_uid = value;
          break;
        case tags::kSeriesInstanceUID:
          q.series_uid = value;
          break;
        case tags::kSOPInstanceUID:
          q.sop_instance_uid = value;
          break;
        case tags::kPatientName:
          patient_name = value;
          has_patient_name = true;
          break;
        case tags::kPatientID:
          q.patient_id = value;
          break;
        case tags::kAccessionNumber:
          q.accession_number = value;
          break;
        case tags::kReferringPhysicianName:
          q.referring_physician_name = value;
          break;
        case tags::kModality:
          q.modality = value;
          break;
        case tags::kModalitiesInStudy:
          // At study level the index's modality constraint means "has a series of it".
          if (value.find('\\') != std::string::npos) {
            return absl::InvalidArgumentError(
                "ModalitiesInStudy takes one modality (no \\-separated list)");
          }
          q.modality = value;
          break;
        case tags::kStudyDate:
          if (absl::Status s = ParseDateRange(value, &q); !s.ok()) return s;
          break;
        default:
          break;
      }
    }
  }
  if (has_patient_name) {
    if (fuzzy) {
      std::string words = dicom::NormalizePersonNameForMatch(patient_name);
      for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty()))
        q.patient_name_prefixes.emplace_back(w);
      if (q.patient_name_prefixes.empty()) q.patient_name = patient_name;
    } else {
      q.patient_name = patient_name;
    }
  }
  return out;
}

std::string IsValue(int64_t v) { return Json{{"vr", "IS"}, {"Value", Json::array({v})}}.dump(); }

// The attributes a query returns at its level, decided once per query.
struct Selection {
  std::set<uint32_t> wanted;  // default attributes, includefield, and `all`'s sets
  bool everything = false;    // instance level with includefield=all: every stored attribute
  bool Wants(uint32_t tag) const { return wanted.count(tag) > 0; }
};

Selection SelectionFor(QidoLevel level, const ParsedQuery& pq) {
  Selection sel;
  sel.wanted.insert(DefaultAttributes(level).begin(), DefaultAttributes(level).end());
  sel.wanted.insert(pq.include.begin(), pq.include.end());
  if (pq.include_all) {
    const std::vector<uint32_t>& ext = ExtendedAttributes(level);
    sel.wanted.insert(ext.begin(), ext.end());
    const std::vector<uint32_t>& computed = ComputedAttributes(level);
    sel.wanted.insert(computed.begin(), computed.end());
    sel.everything = level == QidoLevel::kInstance;
  }
  return sel;
}

// A DICOM JSON element that holds bulk data: an object with a direct "BulkDataURI" member.
bool IsBulkData(std::string_view raw_value) {
  if (raw_value.empty() || raw_value.front() != '{') return false;
  bool bulk = false;
  ForEachJsonMember(raw_value, [&bulk](std::string_view key, std::string_view) {
    bulk = key == "BulkDataURI";
    return !bulk;
  });
  return bulk;
}

// Appends one result (a DICOM JSON object) for a row: the wanted attributes cut from the
// row's stored JSON text as they are (no parse, no re-serialisation: this is most of a
// QIDO's cost otherwise), plus the computed attributes, in tag order.
void AppendRow(QidoLevel level, const index::SearchRow& row, const Selection& sel,
               const std::string& studies_url, std::string* out) {
  // Stored keys are 8 hex digits; as fixed-width upper-case strings they sort like tags.
  // Members are views into the row's JSON or into `computed` (a deque: views stay valid).
  std::vector<std::pair<std::string_view, std::string_view>> members;
  std::deque<std::string> computed;
  const bool well_formed =
      ForEachJsonMember(row.json, [&](std::string_view key, std::string_view raw) {
        bool take = sel.everything;
        if (!take) {
          std::optional<uint32_t> tag = ParseHexTag(key);
          take = tag && sel.Wants(*tag);
        }
        // Bulk data never appears in search results.
        if (take && !IsBulkData(raw)) members.emplace_back(key, raw);
        return true;
      });
  if (!well_formed) members.clear();  // written by us; treated as empty if ever damaged
  auto add = [&members, &computed](uint32_t tag, std::string raw) {
    const std::string& key = computed.emplace_back(HexTag(tag));
    members.emplace_back(key, computed.emplace_back(std::move(raw)));
  };
  if (level == QidoLevel::kStudy) {
    if (sel.Wants(tags::kModalitiesInStudy)) {
      Json m = Json{{"vr", "CS"}};
      if (!row.modalities_in_study.empty()) m["Value"] = row.modalities_in_study;
      add(tags::kModalitiesInStudy, m.dump());
    }
    if (sel.Wants(tags::kNumberOfStudyRelatedSeries))
      add(tags::kNumberOfStudyRelatedSeries, IsValue(row.study_series_count));
    if (sel.Wants(tags::kNumberOfStudyRelatedInstances))
      add(tags::kNumberOfStudyRelatedInstances, IsValue(row.study_instance_count));
  }
  if (level == QidoLevel::kSeries && sel.Wants(tags::kNumberOfSeriesRelatedInstances))
    add(tags::kNumberOfSeriesRelatedInstances, IsValue(row.series_instance_count));
  if (sel.Wants(tags::kRetrieveURL)) {
    std::string url = absl::StrCat(studies_url, row.study_uid);
    if (level != QidoLevel::kStudy) absl::StrAppend(&url, "/series/", row.series_uid);
    if (level == QidoLevel::kInstance) absl::StrAppend(&url, "/instances/", row.sop_instance_uid);
    add(tags::kRetrieveURL, Json{{"vr", "UR"}, {"Value", Json::array({url})}}.dump(
                                -1, ' ', false, Json::error_handler_t::replace));
  }
  // A computed attribute replaces a stored one of the same tag (stable: stored come first).
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t k = 0; k < members.size(); ++k) {
    if (k + 1 < members.size() && members[k + 1].first == members[k].first) continue;
    if (out->back() != '{') out->push_back(',');
    absl::StrAppend(out, "\"", Av(members[k].first), "\":", Av(members[k].second));
  }
  out->push_back('}');
}

}  // namespace

absl::StatusOr<std::string> DicomWebService::Search(std::string_view store_name, QidoLevel level,
                                                    const std::optional<std::string>& study,
                                                    const std::optional<std::string>& series,
                                                    const QueryParams& params,
                                                    const std::string& base_url) {
  absl::StatusOr<StoreRef> store = ResolveStore(store_name);
  if (!store.ok()) return store.status();
  absl::StatusOr<ParsedQuery> pq = ParseQuery(level, params);
  if (!pq.ok()) return pq.status();
  index::SearchQuery& q = pq->query;
  q.store_id = store->store_id;
  q.level = level == QidoLevel::kStudy    ? index::SearchQuery::Level::kStudy
            : level == QidoLevel::kSeries ? index::SearchQuery::Level::kSeries
                                          : index::SearchQuery::Level::kInstance;
  // Path UIDs are further equality constraints; a conflicting query value matches nothing.
  auto constrain = [](std::string* field, const std::optional<std::string>& path) {
    if (!path) return true;
    if (!field->empty() && *field != *path) return false;
    *field = *path;
    return true;
  };
  if (!constrain(&q.study_uid, study) || !constrain(&q.series_uid, series))
    return std::string("[]");

  absl::StatusOr<std::vector<index::SearchRow>> rows = index_->instances()->Search(q);
  if (!rows.ok()) return rows.status();
  const std::string studies_url = absl::StrCat(DicomWebUrl(base_url, store->name), "/studies/");
  const Selection selection = SelectionFor(level, *pq);
  std::string out = "[";
  for (const index::SearchRow& row : *rows) {
    if (out.size() > 1) out.push_back(',');
    AppendRow(level, row, selection, studies_url, &out);
  }
  out.push_back(']');
  return out;
}

}  // namespace dicomstore::service
