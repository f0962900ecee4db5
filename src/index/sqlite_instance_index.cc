#include "index/sqlite_instance_index.h"

#include <algorithm>
#include <climits>
#include <set>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "index/sqlite_db.h"

namespace dicomstore::index {

using sqlite::Statement;
using sqlite::Transaction;

struct SqliteInstanceIndex::StudyRow {
  int64_t id = 0, store_id = 0;
  int64_t series_count = 0, instance_count = 0, blob_bytes = 0, structured_bytes = 0;
  bool locked = false;
};

struct SqliteInstanceIndex::SeriesRow {
  int64_t id = 0, study_id = 0, store_id = 0;
  int64_t instance_count = 0, blob_bytes = 0, structured_bytes = 0;
  std::string modality;
  bool locked = false;
};

// A change to the counters of a store, study or series (fields a level lacks are ignored).
struct SqliteInstanceIndex::Delta {
  int64_t studies = 0, series = 0, instances = 0, blob_bytes = 0, structured_bytes = 0;
  Delta operator-() const {
    return {-studies, -series, -instances, -blob_bytes, -structured_bytes};
  }
};

namespace {

// Keeps the fuzzy statement within SQLite's limits (compound SELECT terms, expression depth).
constexpr size_t kMaxNamePrefixes = 64;

absl::Status StudyNotFound(const std::string& study) {
  return absl::NotFoundError(absl::StrCat("study not found: ", study));
}
absl::Status SeriesNotFound(const std::string& study, const std::string& series) {
  return absl::NotFoundError(absl::StrCat("series not found: ", study, "/series/", series));
}
absl::Status InstanceNotFound(const std::string& study, const std::string& series,
                              const std::string& sop) {
  return absl::NotFoundError(
      absl::StrCat("instance not found: ", study, "/series/", series, "/instances/", sop));
}

// The distinct, non-empty words of a space-separated list.
std::set<std::string> Words(const std::string& words) {
  std::set<std::string> result;
  for (absl::string_view word : absl::StrSplit(Av(words), ' ', absl::SkipEmpty())) {
    result.emplace(word);
  }
  return result;
}

// Columns of a full InstanceRecord, in the order ReadInstance expects them; FROM clause
// aliases i (instances), se (series), st (studies).
#define INSTANCE_COLUMNS                                                                     \
  "st.store_id, st.study_uid, se.series_uid, i.sop_instance_uid, i.sop_class_uid, "          \
  "i.transfer_syntax_uid, st.patient_name, st.patient_name_words, st.patient_id, "           \
  "st.accession_number, st.referring_physician_name, st.study_date, se.modality, "           \
  "se.series_number, i.instance_number, i.number_of_frames, i.pixel_rows, i.pixel_columns, " \
  "i.bits_allocated, st.study_json, se.series_json, i.instance_json, i.blob_key, "           \
  "i.size_bytes, i.create_time_micros"
#define INSTANCE_FROM                         \
  " FROM instances AS i"                      \
  " JOIN series AS se ON se.id = i.series_id" \
  " JOIN studies AS st ON st.id = se.study_id"

InstanceRecord ReadInstance(const Statement& stmt) {
  InstanceRecord r;
  int c = 0;
  r.store_id = stmt.ColumnInt(c++);
  r.study_uid = stmt.ColumnText(c++);
  r.series_uid = stmt.ColumnText(c++);
  r.sop_instance_uid = stmt.ColumnText(c++);
  r.sop_class_uid = stmt.ColumnText(c++);
  r.transfer_syntax_uid = stmt.ColumnText(c++);
  r.patient_name = stmt.ColumnText(c++);
  r.patient_name_words = stmt.ColumnText(c++);
  r.patient_id = stmt.ColumnText(c++);
  r.accession_number = stmt.ColumnText(c++);
  r.referring_physician_name = stmt.ColumnText(c++);
  r.study_date = static_cast<int32_t>(stmt.ColumnInt(c++));
  r.modality = stmt.ColumnText(c++);
  r.series_number = stmt.ColumnInt(c++);
  r.instance_number = stmt.ColumnInt(c++);
  r.number_of_frames = stmt.ColumnInt(c++);
  r.rows = stmt.ColumnInt(c++);
  r.columns = stmt.ColumnInt(c++);
  r.bits_allocated = stmt.ColumnInt(c++);
  r.study_json = stmt.ColumnText(c++);
  r.series_json = stmt.ColumnText(c++);
  r.instance_json = stmt.ColumnText(c++);
  r.blob_key = stmt.ColumnText(c++);
  r.size_bytes = stmt.ColumnInt(c++);
  r.create_time_micros = stmt.ColumnInt(c++);
  return r;
}

// Builds a search statement from fixed fragments; every value becomes a numbered parameter.
class SearchSql {
 public:
  explicit SearchSql(int64_t store_id) { Param(store_id); }  // always ?1

  // Appends `fragment` followed by the placeholder of a new parameter bound to `value`.
  template <typename T>
  void Add(std::string_view fragment, T value) {
    absl::StrAppend(&sql_, Av(fragment), Param(std::move(value)));
  }
  void Append(std::string_view text) { absl::StrAppend(&sql_, Av(text)); }
  const std::string& sql() const { return sql_; }

  void Bind(Statement& stmt) const {
    for (size_t i = 0; i < values_.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const int64_t* value = std::get_if<int64_t>(&values_[i])) {
        stmt.BindInt(index, *value);
      } else {
        stmt.BindText(index, std::get<std::string>(values_[i]));
      }
    }
  }

 private:
  std::string Param(int64_t value) {
    values_.emplace_back(value);
    return absl::StrCat("?", values_.size());
  }
  std::string Param(std::string value) {
    values_.emplace_back(std::move(value));
    return absl::StrCat("?", values_.size());
  }

  std::string sql_;
  std::vector<std::variant<int64_t, std::string>> values_;
};

// Fuzzy PatientName prefixes, reduced to the ones that matter (empty ones dropped, and any
// prefix that extends another one: "JO" already matches whatever "JOHN" matches), then padded
// to a power of two with repeats. Padding bounds the number of distinct statements in the
// connection's cache without changing the answer.
std::vector<std::string> NamePrefixes(const SearchQuery& q) {
  std::vector<std::string> sorted = q.patient_name_prefixes;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> prefixes;
  for (std::string& prefix : sorted) {
    if (prefix.empty()) continue;
    if (!prefixes.empty() && prefix.compare(0, prefixes.back().size(), prefixes.back()) == 0) {
      continue;  // sorted: a kept prefix of this one is the last kept
    }
    prefixes.push_back(std::move(prefix));
  }
  if (prefixes.empty()) return prefixes;
  size_t padded = 1;
  while (padded < prefixes.size()) padded *= 2;
  while (prefixes.size() < padded) prefixes.push_back(prefixes.back());
  return prefixes;
}

// Query planning. SQLite has no statistics here, so each statement is shaped to leave it one
// sensible plan:
//  - Selective constraints (UIDs, the exact study keys, fuzzy words) drive the search through
//    their indexes; the result is then sorted by id (few rows).
//  - Without them, the level's (store_id) index is scanned in id order and the remaining
//    constraints (dates, modality) are checked row by row, so LIMIT stops the scan early.
//  - When only a parent level has a selective constraint, the level's own store_id term is
//    written `+x.store_id` (no index), otherwise SQLite would prefer the ordered scan of the
//    whole store to avoid a sort; a parent's store_id term is only written where it serves
//    that parent's index (the joins imply it anyway).
//  - A lookup-style constraint (fuzzy words, modality at study level) is written as an
//    `id IN (list)` when it may drive, and as a correlated EXISTS when a more selective
//    constraint drives.
struct Plan {
  bool exact_study = false;  // an equality on a study column
  bool fuzzy = false;
};

Plan PlanOf(const SearchQuery& q, const std::vector<std::string>& prefixes) {
  Plan plan;
  plan.exact_study = !q.study_uid.empty() || !q.patient_name.empty() || !q.patient_id.empty() ||
                     !q.accession_number.empty() || !q.referring_physician_name.empty();
  plan.fuzzy = !prefixes.empty();
  return plan;
}

// The study-level constraints, on alias `st`.
void AddStudyConstraints(const SearchQuery& q, const std::vector<std::string>& prefixes,
                         const Plan& plan, SearchSql& sql) {
  if (!q.study_uid.empty()) sql.Add(" AND st.study_uid = ", q.study_uid);
  if (!q.patient_name.empty()) sql.Add(" AND st.patient_name = ", q.patient_name);
  if (!q.patient_id.empty()) sql.Add(" AND st.patient_id = ", q.patient_id);
  if (!q.accession_number.empty()) sql.Add(" AND st.accession_number = ", q.accession_number);
  if (!q.referring_physician_name.empty()) {
    sql.Add(" AND st.referring_physician_name = ", q.referring_physician_name);
  }
  if (q.study_date_from.has_value() || q.study_date_to.has_value()) {
    // 0 means "no date": such studies never match a date constraint.
    sql.Add(" AND st.study_date BETWEEN ", std::max<int64_t>(q.study_date_from.value_or(1), 1));
    sql.Add(" AND ", static_cast<int64_t>(q.study_date_to.value_or(INT32_MAX)));
  }
  if (prefixes.empty()) return;
  // Some word w of the study has a prefix p: p <= w < p || 0xff (one index range per prefix).
  if (!plan.exact_study) {
    sql.Append(" AND st.id IN (");
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (i > 0) sql.Append(" UNION ALL ");
      sql.Add("SELECT study_id FROM study_name_words WHERE store_id = ?1 AND word >= ",
              prefixes[i]);
      sql.Add(" AND word < ", absl::StrCat(prefixes[i], "\xff"));
    }
    sql.Append(")");
  } else {
    sql.Append(" AND EXISTS (SELECT 1 FROM study_name_words AS w WHERE w.study_id = st.id AND (");
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (i > 0) sql.Append(" OR ");
      sql.Add("(w.word >= ", prefixes[i]);
      sql.Add(" AND w.word < ", absl::StrCat(prefixes[i], "\xff"));
      sql.Append(")");
    }
    sql.Append("))");
  }
}

// The search statement. Its shape is a "deferred join": an inner query finds the page of ids
// (touching only indexes and the rows needed to check constraints; sorting, when needed, sorts
// ids only, and OFFSET skips index entries), and the outer query reads the JSON and computed
// attributes of just that page. Result columns: see Search.
SearchSql BuildSearch(const SearchQuery& q) {
  const std::vector<std::string> prefixes = NamePrefixes(q);
  const Plan plan = PlanOf(q, prefixes);
  const bool study_constrained = plan.exact_study || plan.fuzzy || q.study_date_from.has_value() ||
                                 q.study_date_to.has_value();
  SearchSql sql(q.store_id);
  switch (q.level) {
    case SearchQuery::Level::kStudy:
      // ModalitiesInStudy as one '\'-separated value (CS values cannot contain '\').
      sql.Append(
          "SELECT st.study_json, st.study_uid, st.series_count, st.instance_count, "
          "(SELECT group_concat(m.modality, '\\') FROM study_modalities AS m "
          "WHERE m.study_id = st.id) FROM studies AS st WHERE st.id IN ("
          "SELECT st.id FROM studies AS st WHERE st.store_id = ?1");
      AddStudyConstraints(q, prefixes, plan, sql);
      // Constraints on lower levels: "the study has such a series / instance".
      if (!q.series_uid.empty()) {
        sql.Add(" AND st.id IN (SELECT study_id FROM series WHERE store_id = ?1 AND series_uid = ",
                q.series_uid);
        sql.Append(")");
      }
      if (!q.modality.empty()) {
        if (plan.exact_study || plan.fuzzy) {
          sql.Add(
              " AND EXISTS (SELECT 1 FROM study_modalities AS m WHERE m.study_id = st.id "
              "AND m.modality = ",
              q.modality);
        } else {
          sql.Add(
              " AND st.id IN (SELECT study_id FROM study_modalities "
              "WHERE store_id = ?1 AND modality = ",
              q.modality);
        }
        sql.Append(")");
      }
      if (!q.sop_instance_uid.empty()) {
        sql.Add(
            " AND st.id IN (SELECT se.study_id FROM instances AS i JOIN series AS se "
            "ON se.id = i.series_id WHERE i.store_id = ?1 AND i.sop_instance_uid = ",
            q.sop_instance_uid);
        sql.Append(")");
      }
      sql.Add(" ORDER BY st.id LIMIT ", static_cast<int64_t>(q.limit));
      sql.Add(" OFFSET ", static_cast<int64_t>(std::max(q.offset, 0)));
      sql.Append(") ORDER BY st.id");
      break;

    case SearchQuery::Level::kSeries: {
      const bool parent_drives = (plan.exact_study || plan.fuzzy) && q.series_uid.empty();
      sql.Append(
          "SELECT se.series_json, st.study_uid, se.series_uid, se.instance_count "
          "FROM series AS se JOIN studies AS st ON st.id = se.study_id WHERE se.id IN ("
          "SELECT se.id FROM series AS se");
      if (study_constrained) sql.Append(" JOIN studies AS st ON st.id = se.study_id");
      sql.Append(parent_drives ? " WHERE +se.store_id = ?1" : " WHERE se.store_id = ?1");
      if (plan.exact_study) sql.Append(" AND st.store_id = ?1");  // for the study indexes
      AddStudyConstraints(q, prefixes, plan, sql);
      if (!q.series_uid.empty()) sql.Add(" AND se.series_uid = ", q.series_uid);
      if (!q.modality.empty()) sql.Add(" AND se.modality = ", q.modality);
      if (!q.sop_instance_uid.empty()) {
        sql.Add(
            " AND se.id IN (SELECT series_id FROM instances "
            "WHERE store_id = ?1 AND sop_instance_uid = ",
            q.sop_instance_uid);
        sql.Append(")");
      }
      sql.Add(" ORDER BY se.id LIMIT ", static_cast<int64_t>(q.limit));
      sql.Add(" OFFSET ", static_cast<int64_t>(std::max(q.offset, 0)));
      sql.Append(") ORDER BY se.id");
      break;
    }

    case SearchQuery::Level::kInstance: {
      const bool series_constrained = !q.series_uid.empty() || !q.modality.empty();
      const bool parent_drives =
          (plan.exact_study || plan.fuzzy || !q.series_uid.empty()) && q.sop_instance_uid.empty();
      sql.Append(
          "SELECT i.instance_json, st.study_uid, se.series_uid, i.sop_instance_uid" INSTANCE_FROM
          " WHERE i.id IN (SELECT i.id FROM instances AS i");
      if (series_constrained || study_constrained) {
        sql.Append(" JOIN series AS se ON se.id = i.series_id");
      }
      if (study_constrained) sql.Append(" JOIN studies AS st ON st.id = se.study_id");
      sql.Append(parent_drives ? " WHERE +i.store_id = ?1" : " WHERE i.store_id = ?1");
      // Parents' store terms only where they serve an index; elsewhere the joins imply them.
      if (!q.series_uid.empty()) sql.Append(" AND se.store_id = ?1");
      if (plan.exact_study) sql.Append(" AND st.store_id = ?1");
      AddStudyConstraints(q, prefixes, plan, sql);
      if (!q.series_uid.empty()) sql.Add(" AND se.series_uid = ", q.series_uid);
      if (!q.modality.empty()) sql.Add(" AND se.modality = ", q.modality);
      if (!q.sop_instance_uid.empty()) sql.Add(" AND i.sop_instance_uid = ", q.sop_instance_uid);
      sql.Add(" ORDER BY i.id LIMIT ", static_cast<int64_t>(q.limit));
      sql.Add(" OFFSET ", static_cast<int64_t>(std::max(q.offset, 0)));
      sql.Append(") ORDER BY i.id");
      break;
    }
  }
  return sql;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Row helpers

#define STUDY_ROW_COLUMNS \
  "id, store_id, series_count, instance_count, blob_bytes, structured_bytes, locked"
#define SERIES_ROW_COLUMNS                                                                   \
  "se.id, se.study_id, se.store_id, se.instance_count, se.blob_bytes, se.structured_bytes, " \
  "se.modality, se.locked"

absl::StatusOr<std::optional<SqliteInstanceIndex::StudyRow>> SqliteInstanceIndex::FindStudy(
    int64_t store_id, const std::string& uid) {
  DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT " STUDY_ROW_COLUMNS " FROM studies "
                                                  "WHERE store_id = ?1 AND study_uid = ?2"));
  stmt.BindInt(1, store_id).BindText(2, uid);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<StudyRow>();
  StudyRow r;
  r.id = stmt.ColumnInt(0);
  r.store_id = stmt.ColumnInt(1);
  r.series_count = stmt.ColumnInt(2);
  r.instance_count = stmt.ColumnInt(3);
  r.blob_bytes = stmt.ColumnInt(4);
  r.structured_bytes = stmt.ColumnInt(5);
  r.locked = stmt.ColumnBool(6);
  return std::optional<StudyRow>(r);
}

absl::StatusOr<std::optional<SqliteInstanceIndex::SeriesRow>> SqliteInstanceIndex::FindSeries(
    int64_t study_id, const std::string& uid) {
  DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT " SERIES_ROW_COLUMNS " FROM series AS se "
                                                  "WHERE se.study_id = ?1 AND se.series_uid = ?2"));
  stmt.BindInt(1, study_id).BindText(2, uid);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<SeriesRow>();
  SeriesRow r;
  r.id = stmt.ColumnInt(0);
  r.study_id = stmt.ColumnInt(1);
  r.store_id = stmt.ColumnInt(2);
  r.instance_count = stmt.ColumnInt(3);
  r.blob_bytes = stmt.ColumnInt(4);
  r.structured_bytes = stmt.ColumnInt(5);
  r.modality = stmt.ColumnText(6);
  r.locked = stmt.ColumnBool(7);
  return std::optional<SeriesRow>(std::move(r));
}

absl::StatusOr<SqliteInstanceIndex::StudyRow> SqliteInstanceIndex::GetStudyRow(
    int64_t store_id, const std::string& uid) {
  DS_ASSIGN_OR_RETURN(std::optional<StudyRow> study, FindStudy(store_id, uid));
  if (!study.has_value()) return StudyNotFound(uid);
  return *study;
}

absl::StatusOr<SqliteInstanceIndex::SeriesRow> SqliteInstanceIndex::GetSeriesRow(
    int64_t store_id, const std::string& study_uid, const std::string& series_uid) {
  DS_ASSIGN_OR_RETURN(StudyRow study, GetStudyRow(store_id, study_uid));
  DS_ASSIGN_OR_RETURN(std::optional<SeriesRow> series, FindSeries(study.id, series_uid));
  if (!series.has_value()) return SeriesNotFound(study_uid, series_uid);
  return std::move(*series);
}

absl::Status SqliteInstanceIndex::AddToStore(int64_t store_id, const Delta& d) {
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("UPDATE store_counts SET studies = studies + ?2, series = series + ?3, "
                  "instances = instances + ?4, blob_bytes = blob_bytes + ?5, "
                  "structured_bytes = structured_bytes + ?6 WHERE store_id = ?1"));
  stmt.BindInt(1, store_id)
      .BindInt(2, d.studies)
      .BindInt(3, d.series)
      .BindInt(4, d.instances)
      .BindInt(5, d.blob_bytes)
      .BindInt(6, d.structured_bytes);
  return stmt.Run();
}

absl::Status SqliteInstanceIndex::AddToStudy(int64_t study_id, const Delta& d) {
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("UPDATE studies SET series_count = series_count + ?2, "
                  "instance_count = instance_count + ?3, blob_bytes = blob_bytes + ?4, "
                  "structured_bytes = structured_bytes + ?5 WHERE id = ?1"));
  stmt.BindInt(1, study_id)
      .BindInt(2, d.series)
      .BindInt(3, d.instances)
      .BindInt(4, d.blob_bytes)
      .BindInt(5, d.structured_bytes);
  return stmt.Run();
}

absl::Status SqliteInstanceIndex::AddToSeries(int64_t series_id, const Delta& d) {
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_.Prepare("UPDATE series SET instance_count = instance_count + ?2, "
                                  "blob_bytes = blob_bytes + ?3, "
                                  "structured_bytes = structured_bytes + ?4 WHERE id = ?1"));
  stmt.BindInt(1, series_id)
      .BindInt(2, d.instances)
      .BindInt(3, d.blob_bytes)
      .BindInt(4, d.structured_bytes);
  return stmt.Run();
}

absl::Status SqliteInstanceIndex::CollectBlobKeys(bool of_study, int64_t id,
                                                  std::vector<std::string>& keys) {
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(of_study ? "SELECT i.blob_key FROM series AS se "
                             "JOIN instances AS i ON i.series_id = se.id WHERE se.study_id = ?1"
                           : "SELECT blob_key FROM instances WHERE series_id = ?1"));
  stmt.BindInt(1, id);
  while (true) {
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    keys.push_back(stmt.ColumnText(0));
  }
}

absl::Status SqliteInstanceIndex::RemoveStudy(const StudyRow& study,
                                              std::vector<std::string>& freed) {
  DS_RETURN_IF_ERROR(CollectBlobKeys(/*of_study=*/true, study.id, freed));
  {
    // Series, instances, modality counts and name words go by ON DELETE CASCADE.
    DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("DELETE FROM studies WHERE id = ?1"));
    stmt.BindInt(1, study.id);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  return AddToStore(study.store_id, -Delta{1, study.series_count, study.instance_count,
                                           study.blob_bytes, study.structured_bytes});
}

absl::Status SqliteInstanceIndex::RemoveSeries(const SeriesRow& series,
                                               std::vector<std::string>& freed) {
  DS_RETURN_IF_ERROR(CollectBlobKeys(/*of_study=*/false, series.id, freed));
  {
    DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("DELETE FROM series WHERE id = ?1"));
    stmt.BindInt(1, series.id);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  const Delta removed =
      -Delta{0, 1, series.instance_count, series.blob_bytes, series.structured_bytes};
  DS_RETURN_IF_ERROR(AddToStudy(series.study_id, removed));
  DS_RETURN_IF_ERROR(AddToStore(series.store_id, removed));
  if (!series.modality.empty()) {
    {
      DS_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("UPDATE study_modalities SET series_count = series_count - 1 "
                                      "WHERE study_id = ?1 AND modality = ?2"));
      stmt.BindInt(1, series.study_id).BindText(2, series.modality);
      DS_RETURN_IF_ERROR(stmt.Run());
    }
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_.Prepare("DELETE FROM study_modalities WHERE study_id = ?1 "
                                    "AND modality = ?2 AND series_count <= 0"));
    stmt.BindInt(1, series.study_id).BindText(2, series.modality);
    DS_RETURN_IF_ERROR(stmt.Run());
  }

  // The study goes with its last series.
  StudyRow study;
  {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_.Prepare("SELECT " STUDY_ROW_COLUMNS " FROM studies WHERE id = ?1"));
    stmt.BindInt(1, series.study_id);
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::InternalError("series without a study row");
    if (stmt.ColumnInt(2) > 0) return absl::OkStatus();
    study.id = stmt.ColumnInt(0);
    study.store_id = stmt.ColumnInt(1);
    study.series_count = stmt.ColumnInt(2);
    study.instance_count = stmt.ColumnInt(3);
    study.blob_bytes = stmt.ColumnInt(4);
    study.structured_bytes = stmt.ColumnInt(5);
  }
  return RemoveStudy(study, freed);
}

// ---------------------------------------------------------------------------------------------
// Insert

absl::StatusOr<std::vector<InsertOutcome>> SqliteInstanceIndex::InsertInstances(
    const std::vector<InstanceRecord>& records) {
  std::vector<InsertOutcome> outcomes;
  outcomes.reserve(records.size());
  if (records.empty()) return outcomes;
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  for (const InstanceRecord& record : records) {
    DS_ASSIGN_OR_RETURN(InsertOutcome outcome, InsertOne(record));
    outcomes.push_back(outcome);
  }
  DS_RETURN_IF_ERROR(txn.Commit());
  return outcomes;
}

absl::StatusOr<InsertOutcome> SqliteInstanceIndex::InsertOne(const InstanceRecord& r) {
  {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_.Prepare("SELECT 1 FROM dicom_stores WHERE store_id = ?1"));
    stmt.BindInt(1, r.store_id);
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InsertOutcome::kStoreMissing;
  }
  DS_ASSIGN_OR_RETURN(std::optional<StudyRow> study, FindStudy(r.store_id, r.study_uid));
  if (study.has_value() && study->locked) return InsertOutcome::kStudyLocked;
  std::optional<SeriesRow> series;
  if (study.has_value()) {
    DS_ASSIGN_OR_RETURN(series, FindSeries(study->id, r.series_uid));
    if (series.has_value() && series->locked) return InsertOutcome::kStudyLocked;
  }
  if (series.has_value()) {
    DS_ASSIGN_OR_RETURN(Statement stmt,
                        db_.Prepare("SELECT 1 FROM instances "
                                    "WHERE series_id = ?1 AND sop_instance_uid = ?2"));
    stmt.BindInt(1, series->id).BindText(2, r.sop_instance_uid);
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) return InsertOutcome::kDuplicate;
  }

  const int64_t instance_structured = static_cast<int64_t>(r.instance_json.size());
  // What this instance adds to the counters of each level; new parents add themselves.
  const Delta added{0, 0, 1, r.size_bytes, instance_structured};
  Delta to_store = added, to_study = added;

  int64_t study_id = 0;
  if (study.has_value()) {
    study_id = study->id;
  } else {
    const int64_t structured = static_cast<int64_t>(r.study_json.size());
    {
      DS_ASSIGN_OR_RETURN(
          Statement stmt,
          db_.Prepare("INSERT INTO studies (store_id, study_uid, patient_name, "
                      "patient_name_words, patient_id, accession_number, "
                      "referring_physician_name, study_date, study_json, structured_bytes) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
      stmt.BindInt(1, r.store_id)
          .BindText(2, r.study_uid)
          .BindText(3, r.patient_name)
          .BindText(4, r.patient_name_words)
          .BindText(5, r.patient_id)
          .BindText(6, r.accession_number)
          .BindText(7, r.referring_physician_name)
          .BindInt(8, r.study_date)
          .BindText(9, r.study_json)
          .BindInt(10, structured);
      DS_RETURN_IF_ERROR(stmt.Run());
      study_id = db_.LastInsertRowid();  // mu_ held: no other insert in between
    }
    for (const std::string& word : Words(r.patient_name_words)) {
      DS_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("INSERT INTO study_name_words (study_id, store_id, word) "
                                      "VALUES (?1, ?2, ?3)"));
      stmt.BindInt(1, study_id).BindInt(2, r.store_id).BindText(3, word);
      DS_RETURN_IF_ERROR(stmt.Run());
    }
    to_store.studies += 1;
    to_store.structured_bytes += structured;
  }

  int64_t series_id = 0;
  if (series.has_value()) {
    series_id = series->id;
  } else {
    const int64_t structured = static_cast<int64_t>(r.series_json.size());
    {
      DS_ASSIGN_OR_RETURN(
          Statement stmt,
          db_.Prepare("INSERT INTO series (study_id, store_id, series_uid, modality, "
                      "series_number, series_json, structured_bytes) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      stmt.BindInt(1, study_id)
          .BindInt(2, r.store_id)
          .BindText(3, r.series_uid)
          .BindText(4, r.modality)
          .BindInt(5, r.series_number)
          .BindText(6, r.series_json)
          .BindInt(7, structured);
      DS_RETURN_IF_ERROR(stmt.Run());
      series_id = db_.LastInsertRowid();
    }
    if (!r.modality.empty()) {
      DS_ASSIGN_OR_RETURN(
          Statement stmt,
          db_.Prepare("INSERT INTO study_modalities (study_id, store_id, modality, series_count) "
                      "VALUES (?1, ?2, ?3, 1) ON CONFLICT (study_id, modality) "
                      "DO UPDATE SET series_count = series_count + 1"));
      stmt.BindInt(1, study_id).BindInt(2, r.store_id).BindText(3, r.modality);
      DS_RETURN_IF_ERROR(stmt.Run());
    }
    for (Delta* d : {&to_store, &to_study}) {
      d->series += 1;
      d->structured_bytes += structured;
    }
  }

  {
    DS_ASSIGN_OR_RETURN(
        Statement stmt,
        db_.Prepare("INSERT INTO instances (series_id, store_id, sop_instance_uid, sop_class_uid, "
                    "transfer_syntax_uid, instance_number, number_of_frames, pixel_rows, "
                    "pixel_columns, bits_allocated, instance_json, blob_key, size_bytes, "
                    "structured_bytes, create_time_micros) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
    stmt.BindInt(1, series_id)
        .BindInt(2, r.store_id)
        .BindText(3, r.sop_instance_uid)
        .BindText(4, r.sop_class_uid)
        .BindText(5, r.transfer_syntax_uid)
        .BindInt(6, r.instance_number)
        .BindInt(7, r.number_of_frames)
        .BindInt(8, r.rows)
        .BindInt(9, r.columns)
        .BindInt(10, r.bits_allocated)
        .BindText(11, r.instance_json)
        .BindText(12, r.blob_key)
        .BindInt(13, r.size_bytes)
        .BindInt(14, instance_structured)
        .BindInt(15, r.create_time_micros);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  DS_RETURN_IF_ERROR(AddToSeries(series_id, added));
  DS_RETURN_IF_ERROR(AddToStudy(study_id, to_study));
  DS_RETURN_IF_ERROR(AddToStore(r.store_id, to_store));
  return InsertOutcome::kStored;
}

// ---------------------------------------------------------------------------------------------
// Reads

absl::StatusOr<InstanceRecord> SqliteInstanceIndex::GetInstance(int64_t store_id,
                                                                const std::string& study,
                                                                const std::string& series,
                                                                const std::string& sop) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_.Prepare("SELECT " INSTANCE_COLUMNS INSTANCE_FROM
                                  " WHERE st.store_id = ?1 AND st.study_uid = ?2"
                                  " AND se.series_uid = ?3 AND i.sop_instance_uid = ?4"));
  stmt.BindInt(1, store_id).BindText(2, study).BindText(3, series).BindText(4, sop);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return InstanceNotFound(study, series, sop);
  return ReadInstance(stmt);
}

absl::StatusOr<std::vector<InstanceRecord>> SqliteInstanceIndex::ListInstances(
    int64_t store_id, const std::string& study, const std::optional<std::string>& series) {
  std::lock_guard<std::mutex> lock(mu_);
  // Resolving the parents first tells "missing" (NOT_FOUND) from "empty".
  DS_ASSIGN_OR_RETURN(StudyRow study_row, GetStudyRow(store_id, study));
  int64_t series_id = 0;
  if (series.has_value()) {
    DS_ASSIGN_OR_RETURN(std::optional<SeriesRow> series_row, FindSeries(study_row.id, *series));
    if (!series_row.has_value()) return SeriesNotFound(study, *series);
    series_id = series_row->id;
  }
  constexpr const char* kOrder =
      " ORDER BY se.series_number, se.series_uid, i.instance_number, i.sop_instance_uid";
  DS_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(series.has_value() ? absl::StrCat("SELECT " INSTANCE_COLUMNS INSTANCE_FROM
                                                    " WHERE se.study_id = ?1 AND se.id = ?2",
                                                    kOrder)
                                     : absl::StrCat("SELECT " INSTANCE_COLUMNS INSTANCE_FROM
                                                    " WHERE se.study_id = ?1",
                                                    kOrder)));
  stmt.BindInt(1, study_row.id);
  if (series.has_value()) stmt.BindInt(2, series_id);
  std::vector<InstanceRecord> records;
  while (true) {
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    records.push_back(ReadInstance(stmt));
  }
  return records;
}

absl::StatusOr<std::vector<SearchRow>> SqliteInstanceIndex::Search(const SearchQuery& q) {
  std::vector<SearchRow> rows;
  if (q.patient_name_prefixes.size() > kMaxNamePrefixes) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many PatientName words to match (over ", kMaxNamePrefixes, ")"));
  }
  if (q.limit <= 0) return rows;
  const SearchSql sql = BuildSearch(q);
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql.sql()));
  sql.Bind(stmt);
  while (true) {
    DS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    SearchRow& row = rows.emplace_back();
    row.json = stmt.ColumnText(0);
    row.study_uid = stmt.ColumnText(1);
    switch (q.level) {
      case SearchQuery::Level::kStudy: {
        row.study_series_count = stmt.ColumnInt(2);
        row.study_instance_count = stmt.ColumnInt(3);
        const std::string modalities = stmt.ColumnText(4);
        for (absl::string_view m : absl::StrSplit(Av(modalities), '\\', absl::SkipEmpty())) {
          row.modalities_in_study.emplace_back(m);
        }
        std::sort(row.modalities_in_study.begin(), row.modalities_in_study.end());
        break;
      }
      case SearchQuery::Level::kSeries:
        row.series_uid = stmt.ColumnText(2);
        row.series_instance_count = stmt.ColumnInt(3);
        break;
      case SearchQuery::Level::kInstance:
        row.series_uid = stmt.ColumnText(2);
        row.sop_instance_uid = stmt.ColumnText(3);
        break;
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Deletes

absl::StatusOr<std::vector<std::string>> SqliteInstanceIndex::DeleteInstance(
    int64_t store_id, const std::string& study, const std::string& series, const std::string& sop) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  DS_ASSIGN_OR_RETURN(SeriesRow series_row, GetSeriesRow(store_id, study, series));
  std::vector<std::string> freed;
  Delta removed;
  int64_t instance_id = 0;
  {
    DS_ASSIGN_OR_RETURN(
        Statement stmt,
        db_.Prepare("SELECT id, blob_key, size_bytes, structured_bytes "
                    "FROM instances WHERE series_id = ?1 AND sop_instance_uid = ?2"));
    stmt.BindInt(1, series_row.id).BindText(2, sop);
    DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InstanceNotFound(study, series, sop);
    instance_id = stmt.ColumnInt(0);
    freed.push_back(stmt.ColumnText(1));
    removed = -Delta{0, 0, 1, stmt.ColumnInt(2), stmt.ColumnInt(3)};
  }
  {
    DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("DELETE FROM instances WHERE id = ?1"));
    stmt.BindInt(1, instance_id);
    DS_RETURN_IF_ERROR(stmt.Run());
  }
  DS_RETURN_IF_ERROR(AddToSeries(series_row.id, removed));
  DS_RETURN_IF_ERROR(AddToStudy(series_row.study_id, removed));
  DS_RETURN_IF_ERROR(AddToStore(store_id, removed));
  if (series_row.instance_count <= 1) {
    // The series is now empty: remove it with what is left of its counters (its own JSON).
    series_row.instance_count += removed.instances;
    series_row.blob_bytes += removed.blob_bytes;
    series_row.structured_bytes += removed.structured_bytes;
    DS_RETURN_IF_ERROR(RemoveSeries(series_row, freed));
  }
  DS_RETURN_IF_ERROR(txn.Commit());
  return freed;
}

absl::StatusOr<std::vector<std::string>> SqliteInstanceIndex::DeleteSeries(
    int64_t store_id, const std::string& study, const std::string& series) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  DS_ASSIGN_OR_RETURN(SeriesRow series_row, GetSeriesRow(store_id, study, series));
  std::vector<std::string> freed;
  DS_RETURN_IF_ERROR(RemoveSeries(series_row, freed));
  DS_RETURN_IF_ERROR(txn.Commit());
  return freed;
}

absl::StatusOr<std::vector<std::string>> SqliteInstanceIndex::DeleteStudy(
    int64_t store_id, const std::string& study) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  DS_RETURN_IF_ERROR(txn.Begin());
  DS_ASSIGN_OR_RETURN(StudyRow study_row, GetStudyRow(store_id, study));
  std::vector<std::string> freed;
  DS_RETURN_IF_ERROR(RemoveStudy(study_row, freed));
  DS_RETURN_IF_ERROR(txn.Commit());
  return freed;
}

// ---------------------------------------------------------------------------------------------
// Locks, counters, blobs

absl::Status SqliteInstanceIndex::SetLocked(int64_t store_id, const std::string& study,
                                            const std::optional<std::string>& series, bool locked) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!series.has_value()) {
    DS_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("UPDATE studies SET locked = ?3 "
                                                    "WHERE store_id = ?1 AND study_uid = ?2"));
    stmt.BindInt(1, store_id).BindText(2, study).BindBool(3, locked);
    DS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return StudyNotFound(study);
    return absl::OkStatus();
  }
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_.Prepare("UPDATE series SET locked = ?4 WHERE series_uid = ?3 AND "
                                  "study_id = (SELECT id FROM studies "
                                  "WHERE store_id = ?1 AND study_uid = ?2)"));
  stmt.BindInt(1, store_id).BindText(2, study).BindText(3, *series).BindBool(4, locked);
  DS_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return SeriesNotFound(study, *series);
  return absl::OkStatus();
}

absl::Status SqliteInstanceIndex::Lock(int64_t store_id, const std::string& study,
                                       const std::optional<std::string>& series) {
  return SetLocked(store_id, study, series, true);
}

absl::Status SqliteInstanceIndex::Unlock(int64_t store_id, const std::string& study,
                                         const std::optional<std::string>& series) {
  return SetLocked(store_id, study, series, false);
}

absl::StatusOr<Counts> SqliteInstanceIndex::StoreCounts(int64_t store_id) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_.Prepare("SELECT studies, series, instances, blob_bytes, "
                                  "structured_bytes FROM store_counts WHERE store_id = ?1"));
  stmt.BindInt(1, store_id);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("DICOM store not found: id ", store_id));
  return Counts{stmt.ColumnInt(0), stmt.ColumnInt(1), stmt.ColumnInt(2), stmt.ColumnInt(3),
                stmt.ColumnInt(4)};
}

absl::StatusOr<Counts> SqliteInstanceIndex::StudyCounts(int64_t store_id,
                                                        const std::string& study) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(StudyRow row, GetStudyRow(store_id, study));
  return Counts{1, row.series_count, row.instance_count, row.blob_bytes, row.structured_bytes};
}

absl::StatusOr<Counts> SqliteInstanceIndex::SeriesCounts(int64_t store_id, const std::string& study,
                                                         const std::string& series) {
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(SeriesRow row, GetSeriesRow(store_id, study, series));
  return Counts{1, 1, row.instance_count, row.blob_bytes, row.structured_bytes};
}

absl::StatusOr<std::optional<std::string>> SqliteInstanceIndex::LastBlobKey(
    const std::string& prefix) {
  // Keys with the prefix sort between the prefix and the prefix with its last byte
  // incremented; the last of them is the first key below that bound.
  std::string bound = prefix;
  if (bound.empty() || static_cast<unsigned char>(bound.back()) == 0xff)
    return absl::InvalidArgumentError("blob key prefix must end below byte 0xff");
  bound.back() = static_cast<char>(bound.back() + 1);
  std::lock_guard<std::mutex> lock(mu_);
  DS_ASSIGN_OR_RETURN(Statement stmt,
                      db_.Prepare("SELECT blob_key FROM instances WHERE blob_key >= ?1 "
                                  "AND blob_key < ?2 ORDER BY blob_key DESC LIMIT 1"));
  stmt.BindText(1, prefix);
  stmt.BindText(2, bound);
  DS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

#undef SERIES_ROW_COLUMNS
#undef STUDY_ROW_COLUMNS
#undef INSTANCE_FROM
#undef INSTANCE_COLUMNS

}  // namespace dicomstore::index
