// The SQLite implementation of InstanceIndex (instance_index.h), private to the SQLite backend.
// It shares the connection and the mutex of the SqliteIndex that owns it, so dataset/store
// deletions and instance writes are serialised like every other call, and removing a store
// (or its dataset) cascades to its rows in the same transaction.
//
// Schema: migration 2 in sqlite_schema.cc; query shapes: BuildSearch in the .cc. Semantics
// beyond instance_index.h:
//  - Any backend error rolls the whole InsertInstances batch back.
//  - GetInstance / ListInstances fill the study_* and series_* fields from the study and
//    series rows (i.e. as the first instance of each described them).
//  - A series' modality (hence ModalitiesInStudy) is the one of its first instance.
#ifndef DICOMSTORE_INDEX_SQLITE_INSTANCE_INDEX_H_
#define DICOMSTORE_INDEX_SQLITE_INSTANCE_INDEX_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/instance_index.h"

namespace dicomstore::index {

namespace sqlite {
class Db;
}  // namespace sqlite

class SqliteInstanceIndex final : public InstanceIndex {
 public:
  // `db` and `mu` belong to the owner and must outlive this object; every method holds `mu`
  // while it uses `db`.
  SqliteInstanceIndex(sqlite::Db& db, std::mutex& mu) : db_(db), mu_(mu) {}

  absl::StatusOr<std::vector<InsertOutcome>> InsertInstances(
      const std::vector<InstanceRecord>& records) override;
  absl::StatusOr<InstanceRecord> GetInstance(int64_t store_id, const std::string& study,
                                             const std::string& series,
                                             const std::string& sop) override;
  absl::StatusOr<std::vector<InstanceRecord>> ListInstances(
      int64_t store_id, const std::string& study,
      const std::optional<std::string>& series) override;
  absl::StatusOr<std::vector<SearchRow>> Search(const SearchQuery& query) override;
  absl::StatusOr<std::vector<std::string>> DeleteInstance(int64_t store_id,
                                                          const std::string& study,
                                                          const std::string& series,
                                                          const std::string& sop) override;
  absl::StatusOr<std::vector<std::string>> DeleteSeries(int64_t store_id, const std::string& study,
                                                        const std::string& series) override;
  absl::StatusOr<std::vector<std::string>> DeleteStudy(int64_t store_id,
                                                       const std::string& study) override;
  absl::Status Lock(int64_t store_id, const std::string& study,
                    const std::optional<std::string>& series) override;
  absl::Status Unlock(int64_t store_id, const std::string& study,
                      const std::optional<std::string>& series) override;
  absl::StatusOr<Counts> StoreCounts(int64_t store_id) override;
  absl::StatusOr<Counts> StudyCounts(int64_t store_id, const std::string& study) override;
  absl::StatusOr<Counts> SeriesCounts(int64_t store_id, const std::string& study,
                                      const std::string& series) override;
  absl::StatusOr<std::optional<std::string>> LastBlobKey(const std::string& prefix) override;

 private:
  // Row snapshots and counter changes used by the helpers (defined in the .cc).
  struct StudyRow;
  struct SeriesRow;
  struct Delta;

  // Helpers below run with mu_ held (writers inside a transaction).
  absl::StatusOr<InsertOutcome> InsertOne(const InstanceRecord& record);
  absl::StatusOr<std::optional<StudyRow>> FindStudy(int64_t store_id, const std::string& uid);
  absl::StatusOr<std::optional<SeriesRow>> FindSeries(int64_t study_id, const std::string& uid);
  absl::StatusOr<StudyRow> GetStudyRow(int64_t store_id, const std::string& uid);
  absl::StatusOr<SeriesRow> GetSeriesRow(int64_t store_id, const std::string& study,
                                         const std::string& series);
  absl::Status AddToStore(int64_t store_id, const Delta& delta);
  absl::Status AddToStudy(int64_t study_id, const Delta& delta);
  absl::Status AddToSeries(int64_t series_id, const Delta& delta);
  absl::Status CollectBlobKeys(bool of_study, int64_t id, std::vector<std::string>& keys);
  // Remove a series / study row with everything under it, keeping the counters above exact;
  // a study left without series is removed too.
  absl::Status RemoveSeries(const SeriesRow& series, std::vector<std::string>& freed);
  absl::Status RemoveStudy(const StudyRow& study, std::vector<std::string>& freed);
  absl::Status SetLocked(int64_t store_id, const std::string& study,
                         const std::optional<std::string>& series, bool locked);

  sqlite::Db& db_;
  std::mutex& mu_;
};

}  // namespace dicomstore::index

#endif  // DICOMSTORE_INDEX_SQLITE_INSTANCE_INDEX_H_
