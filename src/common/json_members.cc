#include "common/json_members.h"

namespace dicomstore {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void SkipSpace(std::string_view text, size_t* i) {
  while (*i < text.size() && IsSpace(text[*i])) ++*i;
}

// `*i` at an opening quote; leaves it after the closing one.
bool SkipString(std::string_view text, size_t* i) {
  for (size_t j = *i + 1; j < text.size(); ++j) {
    if (text[j] == '\\') {
      ++j;  // the escaped character (for \uXXXX the hex digits are plain characters)
    } else if (text[j] == '"') {
      *i = j + 1;
      return true;
    }
  }
  return false;
}

// `*i` at the first character of a value; leaves it just after the value.
bool SkipValue(std::string_view text, size_t* i) {
  if (*i >= text.size()) return false;
  const char first = text[*i];
  if (first == '"') return SkipString(text, i);
  if (first != '{' && first != '[') {  // number, true, false, null
    size_t j = *i;
    while (j < text.size() && text[j] != ',' && text[j] != '}' && text[j] != ']' &&
           !IsSpace(text[j])) {
      ++j;
    }
    if (j == *i) return false;
    *i = j;
    return true;
  }
  // Containers: count brackets, stepping over strings (which may hold brackets).
  int depth = 0;
  size_t j = *i;
  while (j < text.size()) {
    const char c = text[j];
    if (c == '"') {
      if (!SkipString(text, &j)) return false;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        *i = j + 1;
        return true;
      }
    }
    ++j;
  }
  return false;
}

}  // namespace

bool ForEachJsonMember(
    std::string_view text,
    const std::function<bool(std::string_view key, std::string_view raw_value)>& visit) {
  size_t i = 0;
  SkipSpace(text, &i);
  if (i >= text.size() || text[i] != '{') return false;
  ++i;
  SkipSpace(text, &i);
  if (i < text.size() && text[i] == '}') {
    ++i;
    SkipSpace(text, &i);
    return i == text.size();
  }
  while (true) {
    SkipSpace(text, &i);
    if (i >= text.size() || text[i] != '"') return false;
    const size_t key_start = i + 1;
    if (!SkipString(text, &i)) return false;
    const std::string_view key = text.substr(key_start, i - 1 - key_start);
    SkipSpace(text, &i);
    if (i >= text.size() || text[i] != ':') return false;
    ++i;
    SkipSpace(text, &i);
    const size_t value_start = i;
    if (!SkipValue(text, &i)) return false;
    if (!visit(key, text.substr(value_start, i - value_start))) return true;
    SkipSpace(text, &i);
    if (i >= text.size()) return false;
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] != '}') return false;
    ++i;
    SkipSpace(text, &i);
    return i == text.size();
  }
}

}  // namespace dicomstore
