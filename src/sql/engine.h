// The SQL engine (DESIGN.md §8): an in-memory SQLite connection in which every resource of
// the provider description (sql/provider.h) is a virtual table (sql/virtual_table.h) that
// speaks the API's REST surface through a client::Transport — in-process
// (server/local_transport.h) or remote — so it behaves the same against both.
//
// Statements: SELECT / INSERT [... SELECT] / UPDATE / DELETE / StackQL's REPLACE over the
// tables (all other SQL is SQLite's); EXEC of any method by either naming (sql/exec.h);
// SHOW SERVICES / RESOURCES / METHODS and DESCRIBE (sql/meta.h). Hints: /*+ AWAIT */,
// /*+ SHOWRESULTS */, /*+ NOSTATUS */. `RETURNING fields | *` on a modifying statement
// returns the fields of the API's responses. An API error is the statement's error, with
// the API's own message, never an empty result.
#ifndef DICOMSTORE_SQL_ENGINE_H_
#define DICOMSTORE_SQL_ENGINE_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/transport.h"
#include "sql/engine_options.h"
#include "sql/messages.h"
#include "sql/preparser.h"
#include "sql/result_set.h"

struct sqlite3;

namespace dicomstore::sql {

struct EngineState;

class Engine {
 public:
  // `transport` must outlive the engine.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(client::Transport* transport,
                                                        EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one pre-parsed statement. API errors keep their status code; SQL errors are
  // INVALID_ARGUMENT.
  absl::StatusOr<ResultSet> Execute(const Statement& statement);

  // Pre-parses and runs a ';'-separated script, stopping at the first error.
  absl::StatusOr<std::vector<ResultSet>> ExecuteScript(std::string_view script);

 private:
  Engine(sqlite3* db, std::unique_ptr<EngineState> state);
  absl::StatusOr<ResultSet> ExecuteSql(const Statement& statement);

  sqlite3* db_;
  std::unique_ptr<EngineState> state_;
};

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_ENGINE_H_
