// Thin RAII layer over the SQLite C API, private to the SQLite index backend.
//
// It exists so that sqlite_index.cc reads as "prepare, bind, step" without ever touching raw
// handles or result codes, and so that SQLite failures are mapped to the index's error
// vocabulary (index.h) in exactly one place. Values only ever reach SQL through bound
// parameters; `Db::Exec` is for constant SQL (schema, pragmas, transaction control).
//
// None of these classes lock anything: the owner serialises all use of a `Db` and of the
// statements it hands out.
#ifndef DICOMSTORE_INDEX_SQLITE_DB_H_
#define DICOMSTORE_INDEX_SQLITE_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dicomstore::index::sqlite {

// Maps an SQLite result code to a status: unique/primary-key violations are ALREADY_EXISTS,
// foreign-key violations NOT_FOUND (a missing parent row), everything else INTERNAL carrying
// SQLite's message. `db` may be null (then only the generic message for `rc` is used).
absl::Status StatusFromSqlite(int rc, sqlite3* db, std::string_view context);

// A prepared statement borrowed from a `Db`'s cache. On destruction it is reset and its
// bindings cleared so the next borrower starts clean (and so a half-stepped read does not
// keep a read transaction open).
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameter indexes are 1-based, as in SQLite. A failed bind is remembered and reported by
  // the next Step/Run, which keeps call sites free of per-bind checks.
  Statement& BindText(int index, std::string_view value);
  Statement& BindInt(int index, int64_t value);
  Statement& BindBool(int index, bool value) { return BindInt(index, value ? 1 : 0); }
  Statement& BindNull(int index);

  // true: a row is available; false: the statement has finished.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring any rows (for INSERT/UPDATE/DELETE).
  absl::Status Run();

  // Column indexes are 0-based, as in SQLite. Only valid after Step() returned true.
  int64_t ColumnInt(int index) const;
  bool ColumnBool(int index) const { return ColumnInt(index) != 0; }
  std::string ColumnText(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // SQLITE_OK
};

// One connection, with a cache of prepared statements keyed by their SQL text.
class Db {
 public:
  // Opens (creating if needed) the database and configures the connection for durability:
  // WAL journal, synchronous=FULL (a committed transaction survives power loss),
  // foreign_keys=ON (cascading deletes rely on it), a busy timeout (another process, e.g. a
  // backup tool, may briefly hold the lock). Fails if any of these could not be applied.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path);

  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs constant SQL (possibly several statements). Never pass user values here.
  absl::Status Exec(const char* sql);

  // Returns the cached prepared statement for `sql`, preparing it on first use. The same SQL
  // must not be borrowed twice at once.
  absl::StatusOr<Statement> Prepare(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  int64_t LastInsertRowid() const;
  // True when no transaction is open (SQLite may roll back by itself after some errors).
  bool InAutocommit() const;

  // `hook(frames)` runs on the committing thread after every commit, with the number of
  // frames now in the WAL (sqlite3_wal_hook). Setting a hook turns off SQLite's automatic
  // checkpoint: the hook's owner decides when to checkpoint. An empty hook restores it.
  void SetWalHook(std::function<void(int frames)> hook);
  // Copies committed WAL frames into the database file without waiting for readers or the
  // writer (SQLITE_CHECKPOINT_PASSIVE), and syncs the database file. UNAVAILABLE when
  // another connection's checkpoint is running.
  absl::Status CheckpointPassive();

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  absl::Status Configure(bool in_memory);
  // Runs a pragma that answers with one row and returns the first column as text.
  absl::StatusOr<std::string> QueryPragma(std::string_view sql);

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::function<void(int)> wal_hook_;
};

// An IMMEDIATE transaction: the write lock is taken at Begin, so a transaction that first
// reads and then writes (e.g. compare-and-set) can never fail half-way with SQLITE_BUSY on
// lock upgrade. Rolls back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  absl::Status Begin();
  absl::Status Commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace dicomstore::index::sqlite

#endif  // DICOMSTORE_INDEX_SQLITE_DB_H_
