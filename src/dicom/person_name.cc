#include "dicom/person_name.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <array>
#include <string>
#include <string_view>

#include "dicom/instance_parser.h"

namespace dicomstore::dicom {

std::array<std::string_view, 3> PersonNameGroups(std::string_view value) {
  std::array<std::string_view, 3> groups;
  size_t start = 0;
  for (int g = 0; g < 3 && start <= value.size(); ++g) {
    size_t end = g < 2 ? value.find('=', start) : std::string_view::npos;
    if (end == std::string_view::npos) end = value.size();
    groups[g] = value.substr(start, end - start);
    start = end + 1;
  }
  return groups;
}

void WritePersonName(std::string_view value, JsonTextWriter* out) {
  static constexpr std::string_view kNames[] = {"Alphabetic", "Ideographic", "Phonetic"};
  const std::array<std::string_view, 3> groups = PersonNameGroups(value);
  bool any = false;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) continue;
    if (!any) out->BeginObject();
    any = true;
    out->Key(kNames[g]);
    out->String(groups[g]);
  }
  if (any) {
    out->EndObject();
  } else {
    out->Null();
  }
}

std::string NormalizePersonNameForMatch(std::string_view utf8_name) {
  std::string upper;
  icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8_name.data(), static_cast<int32_t>(utf8_name.size())))
      .toUpper(icu::Locale::getRoot())
      .toUTF8String(upper);
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out += word;
    word.clear();
  };
  for (char c : upper) {
    if (c == '^' || c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  return out;
}

}  // namespace dicomstore::dicom
