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

    // The DICOM rows (DESIGN.md §5a). Every level carries store_id and every search index leads
    // with it. Paging orders by the integer id (insertion order); the bare (store_id) indexes
    // give that order without sorting when a search has no other constraint (an index entry
    // ends with the rowid). Counters (NumberOf*, metrics) are maintained by the writer:
    //   instance.structured_bytes = size of its JSON,
    //   series = its JSON + its instances, study = its JSON + its series, store = its studies;
    //   blob_bytes likewise sum the instances' stored sizes.
    // `locked` (0/1) marks a study or series being deleted: inserts into it are refused.
    {2, R"sql(
CREATE TABLE store_counts (
  store_id           INTEGER PRIMARY KEY REFERENCES dicom_stores (store_id) ON DELETE CASCADE,
  studies            INTEGER NOT NULL DEFAULT 0,
  series             INTEGER NOT NULL DEFAULT 0,
  instances          INTEGER NOT NULL DEFAULT 0,
  blob_bytes         INTEGER NOT NULL DEFAULT 0,
  structured_bytes   INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO store_counts (store_id) SELECT store_id FROM dicom_stores;
-- Every store has its counters row from birth, whichever code path creates it.
CREATE TRIGGER dicom_stores_counts AFTER INSERT ON dicom_stores BEGIN
  INSERT INTO store_counts (store_id) VALUES (NEW.store_id);
END;

CREATE TABLE studies (
  id                       INTEGER PRIMARY KEY,
  store_id                 INTEGER NOT NULL REFERENCES dicom_stores (store_id) ON DELETE CASCADE,
  study_uid                TEXT NOT NULL COLLATE BINARY,
  patient_name             TEXT NOT NULL COLLATE BINARY,
  patient_name_words       TEXT NOT NULL,
  patient_id               TEXT NOT NULL COLLATE BINARY,
  accession_number         TEXT NOT NULL COLLATE BINARY,
  referring_physician_name TEXT NOT NULL COLLATE BINARY,
  study_date               INTEGER NOT NULL,
  study_json               TEXT NOT NULL,
  series_count             INTEGER NOT NULL DEFAULT 0,
  instance_count           INTEGER NOT NULL DEFAULT 0,
  blob_bytes               INTEGER NOT NULL DEFAULT 0,
  structured_bytes         INTEGER NOT NULL DEFAULT 0,
  locked                   INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  UNIQUE (store_id, study_uid)
) STRICT;
CREATE INDEX studies_by_store ON studies (store_id);
CREATE INDEX studies_by_patient_name ON studies (store_id, patient_name);
CREATE INDEX studies_by_patient_id ON studies (store_id, patient_id);
CREATE INDEX studies_by_accession ON studies (store_id, accession_number);
CREATE INDEX studies_by_referring ON studies (store_id, referring_physician_name);
CREATE INDEX studies_by_date ON studies (store_id, study_date);

-- Fuzzy PatientName matching: the normalised words of each study's name, one row per distinct
-- word. "Some word starts with P" is the range [P, P || x'ff') on (store_id, word): 0xff never
-- occurs in UTF-8, and BINARY collation compares bytes.
CREATE TABLE study_name_words (
  study_id                 INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  store_id                 INTEGER NOT NULL,
  word                     TEXT NOT NULL COLLATE BINARY,
  PRIMARY KEY (study_id, word)
) STRICT, WITHOUT ROWID;
CREATE INDEX study_name_words_by_word ON study_name_words (store_id, word);

CREATE TABLE series (
  id                       INTEGER PRIMARY KEY,
  study_id                 INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  store_id                 INTEGER NOT NULL,
  series_uid               TEXT NOT NULL COLLATE BINARY,
  modality                 TEXT NOT NULL COLLATE BINARY,
  series_number            INTEGER NOT NULL,
  series_json              TEXT NOT NULL,
  instance_count           INTEGER NOT NULL DEFAULT 0,
  blob_bytes               INTEGER NOT NULL DEFAULT 0,
  structured_bytes         INTEGER NOT NULL DEFAULT 0,
  locked                   INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  UNIQUE (study_id, series_uid)
) STRICT;
CREATE INDEX series_by_store ON series (store_id);
CREATE INDEX series_by_uid ON series (store_id, series_uid);
CREATE INDEX series_by_modality ON series (store_id, modality);

-- ModalitiesInStudy: how many series of the study have each (non-empty) modality. A series'
-- modality is fixed by its first instance, so the count changes only when a series is created
-- or removed, and a modality disappears with the last series carrying it.
CREATE TABLE study_modalities (
  study_id                 INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  store_id                 INTEGER NOT NULL,
  modality                 TEXT NOT NULL COLLATE BINARY,
  series_count             INTEGER NOT NULL,
  PRIMARY KEY (study_id, modality)
) STRICT, WITHOUT ROWID;
CREATE INDEX study_modalities_by_modality ON study_modalities (store_id, modality);

CREATE TABLE instances (
  id                       INTEGER PRIMARY KEY,
  series_id                INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  store_id                 INTEGER NOT NULL,
  sop_instance_uid         TEXT NOT NULL COLLATE BINARY,
  sop_class_uid            TEXT NOT NULL,
  transfer_syntax_uid      TEXT NOT NULL,
  instance_number          INTEGER NOT NULL,
  number_of_frames         INTEGER NOT NULL,
  pixel_rows               INTEGER NOT NULL,
  pixel_columns            INTEGER NOT NULL,
  bits_allocated           INTEGER NOT NULL,
  instance_json            TEXT NOT NULL,
  blob_key                 TEXT NOT NULL COLLATE BINARY UNIQUE,
  size_bytes               INTEGER NOT NULL,
  structured_bytes         INTEGER NOT NULL,
  sha256_hex               TEXT NOT NULL,
  create_time_micros       INTEGER NOT NULL,
  UNIQUE (series_id, sop_instance_uid)
) STRICT;
CREATE INDEX instances_by_store ON instances (store_id);
CREATE INDEX instances_by_uid ON instances (store_id, sop_instance_uid);
)sql"},
    // Duplicates are told apart by comparing the stored bytes; the SHA-256 of every
    // instance, computed during the upload only for that, cost a quarter of the CPU of a
    // large STOW (docs/PERFORMANCE.md).
    {3, R"sql(
ALTER TABLE instances DROP COLUMN sha256_hex;
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
