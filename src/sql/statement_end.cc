#include "sql/statement_end.h"

#include <cctype>

namespace dicomstore::sql {

bool EndsStatement(std::string_view text) {
  bool ended = false;  // the last significant character seen was a ';'
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'' || c == '"' || c == '`') {
      // A doubled quote inside the literal is an escaped quote: the scan simply closes
      // and reopens the literal.
      const size_t close = text.find(c, i + 1);
      if (close == std::string_view::npos) return false;  // open literal
      ended = false;
      i = close + 1;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      const size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) return ended;
      i = eol + 1;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) return false;  // open comment
      i = close + 2;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) ended = c == ';';
      ++i;
    }
  }
  return ended;
}

}  // namespace dicomstore::sql
