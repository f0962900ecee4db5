#include "index/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dicomstore::index::sqlite {
namespace {

// Long enough to ride out another process's checkpoint or backup, short enough that a stuck
// lock surfaces as an error instead of a hung request.
constexpr int kBusyTimeoutMillis = 5000;
// SQLite's own default threshold for its automatic checkpoint.
constexpr int kDefaultAutocheckpointFrames = 1000;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using OwnedStmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// This absl build has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view implicitly.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::StatusCode CodeFromSqlite(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::StatusCode::kAlreadyExists;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return absl::StatusCode::kNotFound;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status StatusFromSqlite(int rc, sqlite3* db, std::string_view context) {
  // sqlite3_errmsg describes the most recent failure on the connection, which is the one we
  // are reporting (callers map an error right after the call that produced it).
  return absl::Status(CodeFromSqlite(rc), absl::StrCat(Absl(context), ": ",
                                                       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                                                       " (sqlite code ", rc, ")"));
}

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  // reset() repeats the last step's error code; it was already reported by Step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::BindText(int index, std::string_view value) {
  // SQLITE_TRANSIENT copies: callers may bind temporaries (e.g. a concatenated name) that die
  // before Step().
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return StatusFromSqlite(bind_rc_, db_, absl::StrCat("bind for ", sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StatusFromSqlite(rc, db_, "sqlite3_step");
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return "";  // NULL (our columns are NOT NULL, but be total)
  // column_bytes must follow column_text: it then reports the UTF-8 length.
  int size = sqlite3_column_bytes(stmt_, index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

// ---------------------------------------------------------------------------------------------
// Db

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* handle = nullptr;
  // No SQLITE_OPEN_URI: the path is a plain file name. EXRESCODE gives extended codes from the
  // start, so constraint kinds can be told apart.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    // Even a failed open may allocate a handle (to carry the message); it must be closed.
    absl::Status status = absl::InternalError(
        absl::StrCat("cannot open SQLite database \"", path,
                     "\": ", handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc)));
    sqlite3_close_v2(handle);
    return status;
  }
  std::unique_ptr<Db> db(new Db(handle));
  absl::Status status = db->Configure(path == ":memory:");
  if (!status.ok()) return status;
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  // close_v2 never fails with BUSY: anything still open is released when it is finalized.
  sqlite3_close_v2(db_);
}

absl::Status Db::Configure(bool in_memory) {
  sqlite3_extended_result_codes(db_, 1);
  int rc = sqlite3_busy_timeout(db_, kBusyTimeoutMillis);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, db_, "sqlite3_busy_timeout");

  // Pragmas ignore values they do not understand (and foreign keys can be compiled out), so
  // each setting is read back rather than trusted.
  if (absl::Status s = Exec("PRAGMA foreign_keys = ON"); !s.ok()) return s;
  absl::StatusOr<std::string> foreign_keys = QueryPragma("PRAGMA foreign_keys");
  if (!foreign_keys.ok()) return foreign_keys.status();
  if (*foreign_keys != "1") return absl::InternalError("SQLite: foreign keys cannot be enabled");

  // An in-memory database has no file to log to and always reports "memory".
  absl::StatusOr<std::string> journal = QueryPragma("PRAGMA journal_mode = WAL");
  if (!journal.ok()) return journal.status();
  if (absl::AsciiStrToLower(*journal) != (in_memory ? "memory" : "wal")) {
    return absl::InternalError(
        absl::StrCat("SQLite: cannot enable WAL (journal_mode=", *journal, ")"));
  }

  // FULL, not the WAL-usual NORMAL: with NORMAL the last commits can be lost on power failure,
  // and an acknowledged write must survive a crash (DESIGN.md §5).
  if (absl::Status s = Exec("PRAGMA synchronous = FULL"); !s.ok()) return s;
  absl::StatusOr<std::string> synchronous = QueryPragma("PRAGMA synchronous");
  if (!synchronous.ok()) return synchronous.status();
  if (*synchronous != "2") {
    return absl::InternalError(
        absl::StrCat("SQLite: cannot set synchronous=FULL (got ", *synchronous, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Db::QueryPragma(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  OwnedStmt stmt(raw);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, db_, sql);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) return absl::InternalError(absl::StrCat(Absl(sql), ": no result row"));
    return StatusFromSqlite(rc, db_, sql);
  }
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

absl::Status Db::Exec(const char* sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  // sqlite3_exec's message is the precise one; errmsg may already be reset by cleanup.
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return absl::Status(CodeFromSqlite(rc),
                      absl::StrCat(sql, ": ", message, " (sqlite code ", rc, ")"));
}

absl::StatusOr<Statement> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) return Statement(db_, it->second);

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  // PERSISTENT: these statements live as long as the connection.
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  OwnedStmt stmt(raw);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, db_, absl::StrCat("prepare ", Absl(sql)));
  if (stmt == nullptr) return absl::InternalError(absl::StrCat("empty SQL: \"", Absl(sql), "\""));
  // Anything after the first statement would be silently ignored by SQLite: refuse it.
  std::string_view rest(tail, sql.data() + sql.size() - tail);
  if (!absl::StripAsciiWhitespace(Absl(rest)).empty()) {
    return absl::InternalError(absl::StrCat("more than one SQL statement: \"", Absl(sql), "\""));
  }
  raw = stmt.release();
  cache_.emplace(std::string(sql), raw);
  return Statement(db_, raw);
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

bool Db::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

void Db::SetWalHook(std::function<void(int frames)> hook) {
  wal_hook_ = std::move(hook);
  if (!wal_hook_) {
    sqlite3_wal_autocheckpoint(db_, kDefaultAutocheckpointFrames);
    return;
  }
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<Db*>(self)->wal_hook_(frames);
        return SQLITE_OK;
      },
      this);
}

absl::Status Db::CheckpointPassive() {
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK) return absl::OkStatus();
  // Only one checkpoint runs at a time; the other connection's is doing the work.
  if (rc == SQLITE_BUSY) return absl::UnavailableError("another WAL checkpoint is running");
  return StatusFromSqlite(rc, db_, "WAL checkpoint");
}

// ---------------------------------------------------------------------------------------------
// Transaction

absl::Status Transaction::Begin() {
  absl::Status status = db_.Exec("BEGIN IMMEDIATE");
  open_ = status.ok();
  return status;
}

absl::Status Transaction::Commit() {
  absl::Status status = db_.Exec("COMMIT");
  // On failure (e.g. an I/O error) the destructor rolls back whatever SQLite left open.
  if (status.ok()) open_ = false;
  return status;
}

Transaction::~Transaction() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR...); a ROLLBACK
  // then would fail, so only issue one while a transaction is really open.
  if (open_ && !db_.InAutocommit()) {
    (void)db_.Exec("ROLLBACK");
  }
}

}  // namespace dicomstore::index::sqlite
