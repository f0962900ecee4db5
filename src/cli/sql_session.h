// What `dicomstore sql` and `dicomstore shell` share: a SQL engine connected either to a
// remote endpoint (libcurl, with --auth credentials) or, with --data, to the same server
// stack running in this process (no socket), and the loop that runs statements and prints
// their results.
#ifndef DICOMSTORE_CLI_SQL_SESSION_H_
#define DICOMSTORE_CLI_SQL_SESSION_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sql/engine.h"
#include "sql/output.h"

namespace dicomstore::cli {

struct SqlTarget {
  std::string endpoint;  // "http(s)://host[:port]"; empty = in-process on data_dir
  std::string auth;      // StackQL --auth JSON (endpoint only)
  std::string data_dir = "./dicomstore-data";
  std::string ca_bundle;
  bool insecure_tls = false;
  int page_limit = 0;  // 0 = fetch every page
};

class SqlSession {
 public:
  // Status lines (warnings, AWAIT progress, "despatched" messages) go to `err`.
  static absl::StatusOr<std::unique_ptr<SqlSession>> Open(const SqlTarget& target,
                                                          std::ostream& err);
  virtual ~SqlSession() = default;

  // Runs a ';'-separated script: each result set to `out` in `format`, status lines and
  // errors to `err`. Stops at the first failing statement and returns false; an error the
  // pre-parser finds anywhere stops the script before anything runs.
  bool RunScript(std::string_view script, sql::OutputFormat format, std::ostream& out);

 protected:
  explicit SqlSession(std::ostream& err) : err_(err) {}
  std::unique_ptr<sql::Engine> engine_;
  std::ostream& err_;
};

}  // namespace dicomstore::cli

#endif  // DICOMSTORE_CLI_SQL_SESSION_H_
