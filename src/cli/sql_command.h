// `dicomstore sql`: runs StackQL statements in process against a data directory.
#ifndef DICOMSTORE_CLI_SQL_COMMAND_H_
#define DICOMSTORE_CLI_SQL_COMMAND_H_

#include <iosfwd>
#include <string>

namespace dicomstore::cli {

struct SqlOptions {
  std::string data_dir = "./data";
  std::string output = "table";  // table, json, csv
  std::string script;            // "STATEMENT; ..."
};

// Results go to `out`, status messages and errors to `err`. Returns the exit code: 0, or
// 1 when a statement failed (the statements before it have run), 2 for bad options.
int RunSql(const SqlOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dicomstore::cli

#endif  // DICOMSTORE_CLI_SQL_COMMAND_H_
