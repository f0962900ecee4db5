#include "server/media_type.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace dicomstore::server {
namespace {

bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void SkipSpaces(std::string_view text, size_t* pos) {
  while (*pos < text.size() && (text[*pos] == ' ' || text[*pos] == '\t')) ++*pos;
}

std::string ReadToken(std::string_view text, size_t* pos) {
  size_t start = *pos;
  while (*pos < text.size() && IsTokenChar(text[*pos])) ++*pos;
  return absl::AsciiStrToLower(Av(text.substr(start, *pos - start)));
}

absl::Status Malformed(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed media type \"", Av(text), "\": ", Av(why)));
}

// Parses one media type starting at *pos, stopping at a ',' (not consumed) or the end.
absl::StatusOr<MediaType> ParseOne(std::string_view text, size_t* pos) {
  MediaType mt;
  SkipSpaces(text, pos);
  mt.type = ReadToken(text, pos);
  if (mt.type.empty() || *pos >= text.size() || text[*pos] != '/')
    return Malformed(text, "expected type/subtype");
  ++*pos;
  mt.subtype = ReadToken(text, pos);
  if (mt.subtype.empty()) return Malformed(text, "empty subtype");
  while (true) {
    SkipSpaces(text, pos);
    if (*pos >= text.size() || text[*pos] == ',') return mt;
    if (text[*pos] != ';') return Malformed(text, "expected ';' between parameters");
    ++*pos;
    SkipSpaces(text, pos);
    if (*pos >= text.size() || text[*pos] == ',') return mt;  // tolerate a trailing ';'
    std::string name = ReadToken(text, pos);
    SkipSpaces(text, pos);
    if (name.empty() || *pos >= text.size() || text[*pos] != '=')
      return Malformed(text, "expected name=value parameter");
    ++*pos;
    SkipSpaces(text, pos);
    std::string value;
    if (*pos < text.size() && text[*pos] == '"') {
      ++*pos;
      bool closed = false;
      while (*pos < text.size()) {
        char c = text[(*pos)++];
        if (c == '\\' && *pos < text.size()) {
          value.push_back(text[(*pos)++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return Malformed(text, "unterminated quoted string");
    } else {
      // Tokens; UIDs and boundaries may also carry characters like '=' in the wild, so
      // read up to the next separator rather than strictly token characters.
      size_t start = *pos;
      while (*pos < text.size() && text[*pos] != ';' && text[*pos] != ',' && text[*pos] != ' ' &&
             text[*pos] != '\t')
        ++*pos;
      value = std::string(text.substr(start, *pos - start));
    }
    mt.params.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

std::string MediaType::Param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return "";
}

bool MediaType::HasParam(std::string_view name) const {
  for (const auto& p : params) {
    if (p.first == name) return true;
  }
  return false;
}

absl::StatusOr<MediaType> ParseMediaType(std::string_view text) {
  size_t pos = 0;
  absl::StatusOr<MediaType> mt = ParseOne(text, &pos);
  if (!mt.ok()) return mt.status();
  if (pos != text.size()) return Malformed(text, "unexpected ','");
  return mt;
}

absl::StatusOr<std::vector<MediaRange>> ParseAccept(std::string_view header) {
  std::vector<MediaRange> ranges;
  size_t pos = 0;
  while (pos < header.size()) {
    SkipSpaces(header, &pos);
    if (pos < header.size() && header[pos] == ',') {  // empty list element
      ++pos;
      continue;
    }
    if (pos >= header.size()) break;
    absl::StatusOr<MediaType> mt = ParseOne(header, &pos);
    if (!mt.ok()) return mt.status();
    MediaRange range{*std::move(mt), 1.0};
    auto q = std::find_if(range.type.params.begin(), range.type.params.end(),
                          [](const auto& p) { return p.first == "q"; });
    if (q != range.type.params.end()) {
      char* end = nullptr;
      range.q = std::strtod(q->second.c_str(), &end);
      if (end == q->second.c_str() || *end != '\0' || range.q < 0 || range.q > 1)
        return Malformed(header, "invalid q value");
      range.type.params.erase(q);
    }
    if (range.q > 0) ranges.push_back(std::move(range));
    if (pos < header.size() && header[pos] == ',') ++pos;
  }
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return ranges;
}

}  // namespace dicomstore::server
