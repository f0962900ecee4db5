#include "sql/output.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "nlohmann/json.hpp"

namespace dicomstore::sql {
namespace {

constexpr int kMaxColumnWidth = 30;  // tablewriter's MaxColWidth default
constexpr int kWrapPenalty = 100000;

// Display width: code points (wide East Asian characters count as one here).
int Width(std::string_view s) {
  int n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string Join(const std::vector<std::string>& words, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out.push_back(' ');
    out += words[i];
  }
  return out;
}

// tablewriter's WrapString: minimum-raggedness wrapping of space-separated words.
std::vector<std::string> WrapString(const std::string& text, int limit) {
  std::string flat = text;
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::vector<std::string> words = Split(flat, ' ');
  for (const std::string& w : words) limit = std::max(limit, Width(w));
  const size_t n = words.size();
  std::vector<std::vector<int>> length(n, std::vector<int>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    length[i][i] = Width(words[i]);
    for (size_t j = i + 1; j < n; ++j) length[i][j] = length[i][j - 1] + 1 + Width(words[j]);
  }
  std::vector<size_t> next_break(n, 0);
  std::vector<int64_t> cost(n, INT32_MAX);
  for (size_t k = n; k-- > 0;) {
    if (length[k][n - 1] <= limit) {
      cost[k] = 0;
      next_break[k] = n;
      continue;
    }
    for (size_t j = k + 1; j < n; ++j) {
      const int64_t d = limit - length[k][j - 1];
      int64_t c = d * d + cost[j];
      if (length[k][j - 1] > limit) c += kWrapPenalty;
      if (c < cost[k]) {
        cost[k] = c;
        next_break[k] = j;
      }
    }
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < n; i = next_break[i]) lines.push_back(Join(words, i, next_break[i]));
  return lines;
}

// tablewriter's parseDimension with auto-wrap and reflow on.
std::vector<std::string> CellLines(const std::string& text) {
  std::vector<std::string> raw = Split(text, '\n');
  int max_width = 0;
  for (const std::string& line : raw) max_width = std::max(max_width, Width(line));
  max_width = std::min(max_width, kMaxColumnWidth);
  std::string paragraph;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i > 0) paragraph.push_back(' ');
    paragraph += raw[i];
  }
  return WrapString(paragraph, max_width);
}

bool IsDecimal(std::string_view s) {
  // ^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t digits_start = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == ',')) ++i;
  std::string_view integer = s.substr(digits_start, i - digits_start);
  if (integer.empty()) return false;
  if (integer.find(',') != std::string_view::npos) {
    std::vector<std::string> groups = Split(integer, ',');
    if (groups[0].empty() || groups[0].size() > 3) return false;
    for (size_t g = 1; g < groups.size(); ++g) {
      if (groups[g].size() != 3) return false;
    }
  }
  if (i == s.size()) return true;
  if (s[i] != '.' || i + 1 == s.size()) return false;
  for (++i; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Spaces(int n) { return std::string(static_cast<size_t>(std::max(n, 0)), ' '); }

std::string CellText(const Value& v) { return v.type == Value::Type::kNull ? "" : v.text; }

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "jsonl" || name == "ndjson") return OutputFormat::kJsonLines;
  if (name == "text") return OutputFormat::kText;
  return absl::InvalidArgumentError(
      absl::StrCat("unable to create output writer for output format = '", Av(name), "'"));
}

std::string FormatTable(const ResultSet& result) {
  const size_t ncols = result.columns.size();
  if (ncols == 0) return "";
  std::vector<int> widths(ncols, 0);
  auto measure = [&](size_t col, const std::vector<std::string>& lines) {
    for (const std::string& l : lines) widths[col] = std::max(widths[col], Width(l));
  };
  std::vector<std::vector<std::string>> header(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    header[c] = CellLines(result.columns[c]);
    measure(c, header[c]);
  }
  std::vector<std::vector<std::vector<std::string>>> rows;
  for (const std::vector<Value>& row : result.rows) {
    std::vector<std::vector<std::string>> cells(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      cells[c] = CellLines(c < row.size() ? CellText(row[c]) : "");
      measure(c, cells[c]);
    }
    rows.push_back(std::move(cells));
  }

  std::string rule = "|";
  for (int w : widths) rule += std::string(static_cast<size_t>(w) + 2, '-') + "|";
  rule += "\n";

  std::string out = rule;
  size_t height = 0;
  for (const auto& h : header) height = std::max(height, h.size());
  for (size_t line = 0; line < height; ++line) {
    out += "|";
    for (size_t c = 0; c < ncols; ++c) {
      const std::string h = line < header[c].size() ? header[c][line] : "";
      const int gap = widths[c] - Width(h);
      const int left = gap > 0 ? gap / 2 : 0;
      out += " " + Spaces(left) + h + Spaces(gap - left) + " |";
    }
    out += "\n";
  }
  out += rule;
  for (const auto& cells : rows) {
    height = 0;
    for (const auto& cell : cells) height = std::max(height, cell.size());
    for (size_t line = 0; line < height; ++line) {
      out += "|";
      for (size_t c = 0; c < ncols; ++c) {
        const std::string s = line < cells[c].size() ? cells[c][line] : "";
        const int gap = widths[c] - Width(s);
        out += " ";
        out += IsDecimal(Trim(s)) ? Spaces(gap) + s : s + Spaces(gap);
        out += " |";
      }
      out += "\n";
    }
    out += rule;
  }
  return out;
}

namespace {

// One row as Go's json.Marshal writes a map[string]any: keys sorted (std::map-backed
// nlohmann::json), integers and reals as numbers, NULL as null.
nlohmann::json RowObject(const std::vector<std::string>& columns, const std::vector<Value>& row) {
  nlohmann::json object = nlohmann::json::object();
  for (size_t c = 0; c < columns.size() && c < row.size(); ++c) {
    const Value& v = row[c];
    nlohmann::json& slot = object[columns[c]];
    switch (v.type) {
      case Value::Type::kNull:
        slot = nullptr;
        break;
      case Value::Type::kInteger:
        slot = std::strtoll(v.text.c_str(), nullptr, 10);
        break;
      case Value::Type::kReal:
        slot = std::strtod(v.text.c_str(), nullptr);
        break;
      case Value::Type::kText:
        slot = v.text;
        break;
    }
  }
  return object;
}

// Compact dump with Go's HTML-safe escaping of '<', '>', '&', U+2028 and U+2029.
std::string GoJson(const nlohmann::json& value) {
  const std::string dumped = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size());
  for (size_t i = 0; i < dumped.size(); ++i) {
    const char c = dumped[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < dumped.size() && dumped[i + 1] == '\x80' &&
               (dumped[i + 2] == '\xA8' || dumped[i + 2] == '\xA9')) {
      out += dumped[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string FormatJson(const ResultSet& result) {
  if (result.rows.empty()) return "null";
  nlohmann::json array = nlohmann::json::array();
  for (const std::vector<Value>& row : result.rows) array.push_back(RowObject(result.columns, row));
  return GoJson(array);
}

std::string FormatJsonLines(const ResultSet& result) {
  std::string out;
  for (const std::vector<Value>& row : result.rows) {
    out += GoJson(RowObject(result.columns, row));
    out += "\n";
  }
  return out;
}

std::string FormatText(const ResultSet& result) {
  if (result.columns.empty()) return "";
  std::string out;
  auto append_line = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out.push_back('\t');
      out += fields[i];
    }
    out.push_back('\n');
  };
  append_line(result.columns);
  for (const std::vector<Value>& row : result.rows) {
    std::vector<std::string> fields;
    for (const Value& v : row) fields.push_back(CellText(v));
    append_line(fields);
  }
  return out;
}

namespace {

bool CsvNeedsQuotes(const std::string& field, char delimiter) {
  if (field.empty()) return false;
  if (field == "\\.") return true;
  if (field.find(delimiter) != std::string::npos ||
      field.find_first_of("\"\r\n") != std::string::npos)
    return true;
  return std::isspace(static_cast<unsigned char>(field[0])) != 0;
}

void AppendCsvRecord(const std::vector<std::string>& fields, char delimiter, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(delimiter);
    const std::string& f = fields[i];
    if (!CsvNeedsQuotes(f, delimiter)) {
      *out += f;
      continue;
    }
    out->push_back('"');
    for (char c : f) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->push_back('\n');
}

}  // namespace

std::string FormatCsv(const ResultSet& result, char delimiter, bool header) {
  if (result.columns.empty()) return "";
  std::string out;
  if (header) AppendCsvRecord(result.columns, delimiter, &out);
  for (const std::vector<Value>& row : result.rows) {
    std::vector<std::string> fields;
    for (const Value& v : row) fields.push_back(CellText(v));
    AppendCsvRecord(fields, delimiter, &out);
  }
  return out;
}

std::string Format(const ResultSet& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return FormatTable(result);
    case OutputFormat::kJson:
      return FormatJson(result);
    case OutputFormat::kCsv:
      return FormatCsv(result);
    case OutputFormat::kJsonLines:
      return FormatJsonLines(result);
    case OutputFormat::kText:
      return FormatText(result);
  }
  return "";
}

}  // namespace dicomstore::sql
