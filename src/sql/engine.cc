#include "sql/engine.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sql/api_call.h"
#include "sql/exec.h"
#include "sql/meta.h"
#include "sql/provider.h"
#include "sql/virtual_table.h"

namespace dicomstore::sql {

struct EngineState {
  EngineOptions options;
  std::unique_ptr<ApiClient> api;
  StatementState statement;
  TableEnvironment env;
  std::vector<std::shared_ptr<void>> keep;  // what the SQLite modules point at
};

namespace {

// Where an offset into the rewritten SQL falls in the statement as written. The pre-parser
// only quotes three-part names and drops hints and RETURNING, so the longest run of text
// starting at the offset that also occurs in the original, nearest the same place, locates
// it; failing that, the offset itself (clamped) is the best guess.
size_t ScriptOffset(const Statement& statement, size_t sql_offset) {
  const std::string& sql = statement.sql;
  const std::string& text = statement.text;
  sql_offset = std::min(sql_offset, sql.size());
  for (size_t len = std::min<size_t>(24, sql.size() - sql_offset); len > 0; --len) {
    const std::string needle = sql.substr(sql_offset, len);
    size_t best = std::string::npos;
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      auto distance = [&](size_t p) { return p > sql_offset ? p - sql_offset : sql_offset - p; };
      if (best == std::string::npos || distance(pos) < distance(best)) best = pos;
    }
    if (best != std::string::npos) return best;
  }
  return std::min(sql_offset, text.size());
}

}  // namespace

Engine::Engine(sqlite3* db, std::unique_ptr<EngineState> state)
    : db_(db), state_(std::move(state)) {}

Engine::~Engine() { sqlite3_close(db_); }

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(client::Transport* transport,
                                                       EngineOptions options) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open SQLite: ", message));
  }
  auto state = std::make_unique<EngineState>();
  state->options = std::move(options);
  state->api = std::make_unique<ApiClient>(transport, &state->options);
  state->env.api = state->api.get();
  state->env.statement = &state->statement;
  std::unique_ptr<Engine> engine(new Engine(db, std::move(state)));
  // No files: the SQL surface reaches data only through the API.
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  if (absl::Status s = RegisterResourceTables(db, HealthcareService(), &engine->state_->env,
                                              &engine->state_->keep);
      !s.ok()) {
    return s;
  }
  return engine;
}

absl::StatusOr<ResultSet> Engine::Execute(const Statement& statement) {
  switch (statement.kind) {
    case StatementKind::kSql:
      return ExecuteSql(statement);
    case StatementKind::kExec:
      return ExecuteExec(statement, HealthcareService(), state_->api.get());
    default:
      return ExecuteMeta(statement, HealthcareService());
  }
}

absl::StatusOr<ResultSet> Engine::ExecuteSql(const Statement& statement) {
  StatementState& st = state_->statement;
  st.verb = statement.verb;
  st.target = statement.provider == "google" && statement.service == "healthcare"
                  ? statement.resource
                  : std::string();
  st.await = statement.HasHint("AWAIT");
  st.quiet = statement.HasHint("NOSTATUS");
  st.pending = absl::OkStatus();
  st.unmatched.reset();
  st.keep_responses = !statement.returning.empty();
  st.responses.clear();
  ++st.generation;

  auto fail = [&](sqlite3_stmt* stmt) -> absl::Status {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (!st.pending.ok()) return st.pending;
    if (st.unmatched && message.find("no query solution") != std::string::npos) {
      return absl::InvalidArgumentError(NoMatchingMethodMessage(
          st.unmatched->resource, st.unmatched->verb, st.unmatched->missing));
    }
    return absl::InvalidArgumentError(message);
  };

  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, statement.sql.c_str(), static_cast<int>(statement.sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    const int offset = sqlite3_error_offset(db_);
    const std::string sqlite_message = sqlite3_errmsg(db_);
    absl::Status status = fail(stmt);
    // Only SQLite's own errors (not an API or no-matching-method error) get a position.
    if (offset < 0 || status.message() != sqlite_message) return status;
    return absl::InvalidArgumentError(
        absl::StrCat("error at position ",
                     statement.offset + ScriptOffset(statement, static_cast<size_t>(offset)) + 1,
                     ": ", status.message()));
  }
  ResultSet out;
  if (stmt == nullptr) return out;  // comments only
  const int ncols = sqlite3_column_count(stmt);
  for (int c = 0; c < ncols; ++c) out.columns.push_back(sqlite3_column_name(stmt, c));
  while (true) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail(stmt);
    std::vector<Value> row;
    for (int c = 0; c < ncols; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          row.push_back(Value::Null());
          break;
        case SQLITE_INTEGER:
          row.push_back(Value::Integer(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.push_back(Value{Value::Type::kReal,
                              reinterpret_cast<const char*>(sqlite3_column_text(stmt, c))});
          break;
        default: {
          const unsigned char* t = sqlite3_column_text(stmt, c);
          row.push_back(
              Value::Text(std::string(reinterpret_cast<const char*>(t),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt, c)))));
        }
      }
    }
    out.rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  if (statement.verb == "INSERT" || statement.verb == "UPDATE" || statement.verb == "DELETE" ||
      statement.verb == "REPLACE") {
    if (!statement.returning.empty()) {
      const bool all = statement.returning.size() == 1 && statement.returning[0] == "*";
      out = JsonRows(st.responses, all ? std::vector<std::string>{} : statement.returning);
    }
    out.message = std::string(st.await ? kCompletedMessage : kDespatchedMessage);
  }
  return out;
}

absl::StatusOr<std::vector<ResultSet>> Engine::ExecuteScript(std::string_view script) {
  absl::StatusOr<std::vector<Statement>> statements = PreParseScript(script);
  if (!statements.ok()) return statements.status();
  std::vector<ResultSet> out;
  for (const Statement& st : *statements) {
    absl::StatusOr<ResultSet> r = Execute(st);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  return out;
}

}  // namespace dicomstore::sql
