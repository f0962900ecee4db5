#include "server/dicom_xml.h"

#include "absl/strings/str_cat.h"
#include "service/qido_attributes.h"

namespace dicomstore::server {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string ScalarText(const Json& v) {
  if (v.is_string()) return Escape(v.get<std::string>());
  return Escape(v.dump());
}

void WriteDataset(const Json& dataset, std::string* out);

void WritePersonName(const Json& pn, int number, std::string* out) {
  absl::StrAppend(out, "<PersonName number=\"", number, "\">");
  for (const char* group : {"Alphabetic", "Ideographic", "Phonetic"}) {
    if (!pn.contains(group) || !pn[group].is_string()) continue;
    // Components are ^-separated: Family^Given^Middle^Prefix^Suffix.
    static const char* kParts[] = {"FamilyName", "GivenName", "MiddleName", "NamePrefix",
                                   "NameSuffix"};
    std::string value = pn[group];
    absl::StrAppend(out, "<", group, ">");
    size_t start = 0;
    for (int i = 0; i < 5 && start <= value.size(); ++i) {
      size_t caret = value.find('^', start);
      std::string part =
          value.substr(start, caret == std::string::npos ? std::string::npos : caret - start);
      if (!part.empty())
        absl::StrAppend(out, "<", kParts[i], ">", Escape(part), "</", kParts[i], ">");
      if (caret == std::string::npos) break;
      start = caret + 1;
    }
    absl::StrAppend(out, "</", group, ">");
  }
  out->append("</PersonName>");
}

void WriteAttribute(const std::string& tag, const Json& attr, std::string* out) {
  std::string vr = attr.value("vr", "UN");
  std::optional<uint32_t> tag_value = service::KnownAttribute(tag);
  std::string_view keyword = tag_value ? KnownKeyword(*tag_value) : "";
  absl::StrAppend(out, "<DicomAttribute tag=\"", tag, "\" vr=\"", vr, "\"");
  if (!keyword.empty()) absl::StrAppend(out, " keyword=\"", std::string(keyword), "\"");
  // Google's private FailureDetail carries its creator on the attribute.
  if (tag.substr(0, 4) == "0009" && tag.substr(4, 2) == "10")
    absl::StrAppend(out, " privateCreator=\"GOOGLE\"");
  out->append(">");
  if (attr.contains("Value") && attr["Value"].is_array()) {
    int number = 1;
    for (const Json& v : attr["Value"]) {
      if (vr == "SQ") {
        absl::StrAppend(out, "<Item number=\"", number, "\">");
        WriteDataset(v, out);
        out->append("</Item>");
      } else if (vr == "PN" && v.is_object()) {
        WritePersonName(v, number, out);
      } else {
        absl::StrAppend(out, "<Value number=\"", number, "\">", ScalarText(v), "</Value>");
      }
      ++number;
    }
  } else if (attr.contains("InlineBinary")) {
    absl::StrAppend(out, "<InlineBinary>", ScalarText(attr["InlineBinary"]), "</InlineBinary>");
  } else if (attr.contains("BulkDataURI")) {
    absl::StrAppend(out, "<BulkData uri=\"", ScalarText(attr["BulkDataURI"]), "\"/>");
  }
  out->append("</DicomAttribute>");
}

void WriteDataset(const Json& dataset, std::string* out) {
  if (!dataset.is_object()) return;
  for (auto it = dataset.begin(); it != dataset.end(); ++it) {
    if (it.key().size() != 8 || !it.value().is_object()) continue;
    WriteAttribute(it.key(), it.value(), out);
  }
}

}  // namespace

std::string DicomJsonToXml(const Json& dataset) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NativeDicomModel>";
  WriteDataset(dataset, &out);
  out.append("</NativeDicomModel>\n");
  return out;
}

}  // namespace dicomstore::server
