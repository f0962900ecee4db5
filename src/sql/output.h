// Result-set rendering compatible with `stackql -o table|json|csv` (spec/stackql.md §3.3):
//  - table: olekukonko/tablewriter as StackQL configures it: '|' separators, a rule before
//    the header, after the header and after every row; headers centred, numbers right-
//    aligned, other cells left-aligned; cells wider than 30 columns wrap at spaces;
//  - json: Go's json.Marshal of []map[string]any: one compact array, keys sorted, '<', '>'
//    and '&' escaped as \u003c, \u003e, \u0026; no rows prints "null"; no trailing newline;
//  - csv: Go's encoding/csv: header row, ',' delimiter, "\n" line ends, quotes only when
//    needed;
//  - jsonl (alias ndjson): the json objects, one per line, each line ending "\n"; no rows
//    prints nothing;
//  - text: raw rows without borders: a header line, then one line per row, cells separated
//    by a tab (values as they are: a cell holding a tab or newline is not escaped).
// NULL renders as "" in table and csv, null in json.
#ifndef DICOMSTORE_SQL_OUTPUT_H_
#define DICOMSTORE_SQL_OUTPUT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sql/result_set.h"

namespace dicomstore::sql {

enum class OutputFormat { kTable, kJson, kCsv, kJsonLines, kText };

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

std::string FormatTable(const ResultSet& result);
std::string FormatJson(const ResultSet& result);
std::string FormatCsv(const ResultSet& result, char delimiter = ',', bool header = true);
std::string FormatJsonLines(const ResultSet& result);
std::string FormatText(const ResultSet& result);
std::string Format(const ResultSet& result, OutputFormat format);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_OUTPUT_H_
