// Schema of the SQLite index and its migrations.
//
// The schema version is PRAGMA user_version. Migrations are numbered 1..N and applied in
// order, all pending ones in one transaction at open, so a database is always at a version
// some release wrote (never half-migrated). To change the schema, append a migration; never
// edit one that has shipped.
#ifndef DICOMSTORE_INDEX_SQLITE_SCHEMA_H_
#define DICOMSTORE_INDEX_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "index/sqlite_db.h"

namespace dicomstore::index::sqlite {

// The version a fully migrated database has.
int LatestSchemaVersion();

// Applies the pending migrations. FAILED_PRECONDITION if the database was written by a newer
// release (its version is above LatestSchemaVersion()); INTERNAL on SQLite errors.
absl::Status MigrateSchema(Db& db);

}  // namespace dicomstore::index::sqlite

#endif  // DICOMSTORE_INDEX_SQLITE_SCHEMA_H_
