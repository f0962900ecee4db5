// The StackQL pre-parser (DESIGN.md §8, spec/stackql.md §1.1, §1.5, §1.6, §2): splits a
// script into statements, parses what SQLite does not know (SHOW, DESCRIBE, EXEC, query
// hints, StackQL's `REPLACE <resource> SET ... WHERE ...`) and rewrites three-part resource
// names (google.healthcare.dicom_stores) into the quoted identifiers the SQLite virtual
// tables are registered under ("google.healthcare.dicom_stores"). Everything else is left
// to SQLite.
#ifndef DICOMSTORE_SQL_PREPARSER_H_
#define DICOMSTORE_SQL_PREPARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace dicomstore::sql {

enum class StatementKind {
  kSql,            // plain SQL for SQLite (names already rewritten)
  kShowServices,   // SHOW [EXTENDED] SERVICES [IN google] [LIKE 'p']
  kShowResources,  // SHOW [EXTENDED] RESOURCES IN google.healthcare [LIKE 'p']
  kShowMethods,    // SHOW [EXTENDED] METHODS IN google.healthcare.<resource> [LIKE 'p']
  kDescribe,       // DESCRIBE [EXTENDED] google.healthcare.<resource>
  kExec,           // EXEC [/*+ hints */] google.healthcare.<resource>.<method> @a='x', ...
};

struct Statement {
  StatementKind kind = StatementKind::kSql;
  std::string text;   // the statement as written (without the ';')
  size_t offset = 0;  // of `text` in the script (0-based)
  // kSql: the text with three-part names rewritten; StackQL's REPLACE ... SET becomes an
  // UPDATE (verb stays "REPLACE": the table then calls the resource's replace method).
  std::string sql;
  std::string verb;  // first keyword, upper case: SELECT, INSERT, REPLACE, SHOW, EXEC, ...
  // Meta commands, EXEC, and INSERT/UPDATE/DELETE/REPLACE: the target, e.g. provider
  // "google", service "healthcare", resource "dicom_stores" (empty when not given).
  std::string provider;
  std::string service;
  std::string resource;
  bool extended = false;
  std::optional<std::string> like;  // LIKE pattern of SHOW
  // INSERT/UPDATE/DELETE/REPLACE ... RETURNING a, b | *: fields of the responses (the
  // clause is removed from `sql`).
  std::vector<std::string> returning;
  // Query hints from /*+ ... */ comments, upper case: AWAIT, SHOWRESULTS, NOSTATUS, ...
  std::vector<std::string> hints;

  // kExec: the method (either naming) and its arguments in order, values unquoted.
  std::string method;
  std::vector<std::pair<std::string, std::string>> args;  // @name = value
  std::optional<std::string> json;                        // @@json = '...'

  bool HasHint(std::string_view hint) const;
};

// Splits `script` on ';' outside quotes and comments and pre-parses each statement.
// Statements holding only blanks and comments are dropped. Errors are INVALID_ARGUMENT
// "syntax error at position N: ..." with N the 1-based character offset in `script`.
absl::StatusOr<std::vector<Statement>> PreParseScript(std::string_view script);

// One statement (no top-level ';'); `offset` is its position in the enclosing script.
absl::StatusOr<Statement> PreParseStatement(std::string_view text, size_t offset = 0);

// SQL LIKE semantics (ASCII case-insensitive, % and _), for SHOW ... LIKE.
bool SqlLike(std::string_view pattern, std::string_view text);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_PREPARSER_H_
