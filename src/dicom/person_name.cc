#include "dicom/person_name.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <string>
#include <string_view>

#include "dicom/instance_parser.h"

namespace dicomstore::dicom {

Json PersonNameJson(std::string_view value) {
  static constexpr const char* kGroups[] = {"Alphabetic", "Ideographic", "Phonetic"};
  Json out = Json::object();
  size_t start = 0;
  for (int g = 0; g < 3 && start <= value.size(); ++g) {
    size_t end = g < 2 ? value.find('=', start) : std::string_view::npos;
    if (end == std::string_view::npos) end = value.size();
    const std::string_view group = value.substr(start, end - start);
    if (!group.empty()) out[kGroups[g]] = std::string(group);
    start = end + 1;
  }
  if (out.empty()) return nullptr;
  return out;
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
