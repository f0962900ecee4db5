#include "sql/provider.h"

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace dicomstore::sql {

std::string_view SqlVerbName(SqlVerb verb) {
  switch (verb) {
    case SqlVerb::kSelect:
      return "SELECT";
    case SqlVerb::kInsert:
      return "INSERT";
    case SqlVerb::kUpdate:
      return "UPDATE";
    case SqlVerb::kReplace:
      return "REPLACE";
    case SqlVerb::kDelete:
      return "DELETE";
    case SqlVerb::kExec:
      break;
  }
  return "EXEC";
}

std::string MethodSpec::LongName() const {
  std::string out(id);
  for (char& c : out) {
    if (c == '.') c = '_';
  }
  return out;
}

std::vector<std::string> MethodSpec::PathParams() const {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = path.find('{', at)) != std::string_view::npos) {
    size_t close = path.find('}', at);
    if (close == std::string_view::npos) break;
    out.emplace_back(path.substr(at + 1, close - at - 1));
    at = close + 1;
  }
  return out;
}

bool MethodSpec::Named(std::string_view method_name) const {
  return method_name == name || method_name == LongName();
}

const MethodSpec* ResourceSpec::FindMethod(std::string_view method_name) const {
  for (const MethodSpec& m : methods) {
    if (m.Named(method_name)) return &m;
  }
  return nullptr;
}

std::vector<const MethodSpec*> ResourceSpec::MethodsFor(SqlVerb verb) const {
  std::vector<const MethodSpec*> out;
  for (const MethodSpec& m : methods) {
    if (m.verb == verb) out.push_back(&m);
  }
  return out;
}

std::string ResourceSpec::TableName() const { return absl::StrCat("google.healthcare.", Av(name)); }

const ResourceSpec* ServiceSpec::FindResource(std::string_view resource) const {
  for (const ResourceSpec& r : resources) {
    if (r.name == resource) return &r;
  }
  return nullptr;
}

uint32_t IdentityTag(std::string_view param) {
  if (param == "studiesId") return 0x0020000D;    // StudyInstanceUID
  if (param == "seriesId") return 0x0020000E;     // SeriesInstanceUID
  if (param == "instancesId") return 0x00080018;  // SOPInstanceUID
  return 0;
}

}  // namespace dicomstore::sql
