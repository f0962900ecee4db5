// `dicomstore sql` and `dicomstore shell`: StackQL statements against an endpoint or, with
// --data, in-process (cli/sql_session.h).
#ifndef DICOMSTORE_CLI_SQL_COMMAND_H_
#define DICOMSTORE_CLI_SQL_COMMAND_H_

#include <iosfwd>
#include <string>

#include "cli/sql_session.h"

namespace dicomstore::cli {

struct SqlOptions {
  SqlTarget target;
  std::string output = "table";  // table, json, jsonl, csv, text
  std::string script;            // "STATEMENT; ..." (empty: read input_file or `in`)
  std::string input_file;        // -i FILE; "-" = standard input
};

// Results go to `out`, status messages and errors to `err`. Returns the exit code: 0, or
// 1 when a statement failed (the statements before it have run), 2 for bad options or an
// unreadable input file.
int RunSql(const SqlOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

// The interactive shell: reads statements with line editing and history (libedit) until
// end of input, `exit` or `quit`; a failing statement prints its error and the shell goes
// on. Returns 0, or 2 for bad options.
int RunShell(const SqlOptions& options);

}  // namespace dicomstore::cli

#endif  // DICOMSTORE_CLI_SQL_COMMAND_H_
