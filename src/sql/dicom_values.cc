#include "sql/dicom_values.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "common/absl_view.h"

namespace dicomstore::sql {
namespace {

// One value as text for joining.
std::string Text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return v.value("Alphabetic", std::string());  // PN
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace

Json DicomValue(const Json& dataset, uint32_t tag) {
  if (!dataset.is_object()) return nullptr;
  auto it = dataset.find(HexTag(tag));
  if (it == dataset.end() || !it->is_object()) return nullptr;
  const Json& element = *it;
  auto values = element.find("Value");
  if (values == element.end() || !values->is_array() || values->empty()) return nullptr;
  if (element.value("vr", "") == "SQ") return *values;
  if (values->size() == 1) {
    const Json& v = values->front();
    if (v.is_number() || v.is_string()) return v;
    if (v.is_object()) return v.contains("Alphabetic") ? Json(Text(v)) : Json(nullptr);
    return nullptr;
  }
  std::string joined;
  for (size_t i = 0; i < values->size(); ++i) {
    if (i > 0) joined.push_back('\\');
    joined += Text((*values)[i]);
  }
  return joined;
}

}  // namespace dicomstore::sql
