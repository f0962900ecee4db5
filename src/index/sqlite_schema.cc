#include "index/sqlite_schema.h"

#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"

namespace dicomstore::index::sqlite {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Conventions:
//  - STRICT tables, so a type mistake in the code fails loudly instead of being coerced;
//  - user-visible ids are TEXT COLLATE BINARY: listings are ordered byte-wise (memcmp on
//    UTF-8), which is what keyset pagination with `id > after` relies on;
//  - internal ids are INTEGER PRIMARY KEY AUTOINCREMENT, which guarantees an id is never
//    handed out twice even after the row with the largest id is deleted (blob paths derive
//    from store ids: a reused id could expose a deleted store's leftovers);
//  - children reference parents with ON DELETE CASCADE, and each foreign key column leads an
//    index, so deleting a parent is one statement and does not scan the child table.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE datasets (
  dataset_id         INTEGER PRIMARY KEY AUTOINCREMENT,
  project            TEXT NOT NULL COLLATE BINARY,
  location           TEXT NOT NULL COLLATE BINARY,
  dataset            TEXT NOT NULL COLLATE BINARY,
  time_zone          TEXT NOT NULL,
  extra_json         TEXT NOT NULL,
  create_time_micros INTEGER NOT NULL,
  UNIQUE (project, location, dataset)
) STRICT;

CREATE TABLE dicom_stores (
  store_id           INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset_id         INTEGER NOT NULL REFERENCES datasets (dataset_id) ON DELETE CASCADE,
  store              TEXT NOT NULL COLLATE BINARY,
  config_json        TEXT NOT NULL,
  create_time_micros INTEGER NOT NULL,
  UNIQUE (dataset_id, store)
) STRICT;

-- operation_id is unique in the whole index (the service allocates it from a counter), but
-- operations are always addressed and listed under their dataset.
CREATE TABLE operations (
  operation_id       TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
  dataset_id         INTEGER NOT NULL REFERENCES datasets (dataset_id) ON DELETE CASCADE,
  api_method_name    TEXT NOT NULL,
  create_time_micros INTEGER NOT NULL,
  end_time_micros    INTEGER NOT NULL,
  done               INTEGER NOT NULL CHECK (done IN (0, 1)),
  cancel_requested   INTEGER NOT NULL CHECK (cancel_requested IN (0, 1)),
  success_count      INTEGER NOT NULL,
  failure_count      INTEGER NOT NULL,
  pending_count      INTEGER NOT NULL,
  response_json      TEXT NOT NULL,
  error_json         TEXT NOT NULL,
  extra_json         TEXT NOT NULL
) STRICT;
CREATE INDEX operations_by_dataset ON operations (dataset_id, operation_id);

-- Keyed by the full resource name rather than by a foreign key: a policy may be attached to
-- any resource kind. Deleting a resource deletes the policies named by it and by its
-- descendants (a prefix range on this key).
CREATE TABLE iam_policies (
  resource           TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
  policy_json        TEXT NOT NULL,
  etag               TEXT NOT NULL
) STRICT, WITHOUT ROWID;
)sql"},
};

absl::StatusOr<int> ReadUserVersion(Db& db) {
  absl::StatusOr<Statement> stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(stmt->ColumnInt(0));
}

}  // namespace

int LatestSchemaVersion() { return std::size(kMigrations); }

absl::Status MigrateSchema(Db& db) {
  for (size_t i = 0; i < std::size(kMigrations); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError("schema migrations are not numbered 1..N in order");
    }
  }

  // The version is read inside the write transaction: two processes opening a fresh file at
  // once then migrate one after the other instead of both creating the tables.
  Transaction txn(db);
  if (absl::Status s = txn.Begin(); !s.ok()) return s;
  absl::StatusOr<int> version = ReadUserVersion(db);
  if (!version.ok()) return version.status();
  const int current = *version;
  if (current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("index database schema version ", current, " is newer than this release (",
                     LatestSchemaVersion(), "); refusing to open it"));
  }
  if (current == LatestSchemaVersion()) return absl::OkStatus();  // txn rolls back (no-op)

  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    if (absl::Status s = db.Exec(migration.sql); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("schema migration ", migration.version, " failed: ", s.message()));
    }
  }
  // PRAGMA takes no bound parameters; the value is our own integer constant, not user input.
  std::string set_version = absl::StrCat("PRAGMA user_version = ", LatestSchemaVersion());
  if (absl::Status s = db.Exec(set_version.c_str()); !s.ok()) return s;
  return txn.Commit();
}

}  // namespace dicomstore::index::sqlite
