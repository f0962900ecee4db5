// The DICOM part of the index: studies, series and instances of every store, with the
// QIDO match keys as typed columns, the precomputed DICOM JSON of each level, and counters
// maintained on write (DESIGN.md §5, §5a). Search answers come from here without opening a
// single file.
//
// All methods are atomic and thread-safe. `store_id` (StoreRecord::store_id) leads every
// key. Errors: NOT_FOUND for a missing study/series/instance, INTERNAL for the backend; the
// few others are stated where they occur.
#ifndef DICOMSTORE_INDEX_INSTANCE_INDEX_H_
#define DICOMSTORE_INDEX_INSTANCE_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dicomstore::index {

// Everything the index keeps about one stored instance. The study_* and series_* fields
// describe the parent levels as seen in this instance; the first instance of a study or
// series creates that row from them (later instances do not overwrite it).
struct InstanceRecord {
  int64_t store_id = 0;
  std::string study_uid, series_uid, sop_instance_uid, sop_class_uid, transfer_syntax_uid;

  // Study-level match keys.
  std::string patient_name;        // as stored (UTF-8), exact match
  std::string patient_name_words;  // normalised words, space-separated (fuzzy prefix match)
  std::string patient_id, accession_number, referring_physician_name;
  int32_t study_date = 0;  // YYYYMMDD, 0 = absent/invalid
  // Series-level match keys.
  std::string modality;
  int64_t series_number = 0, instance_number = 0;  // ordering of retrieve results

  // Pixel description.
  int64_t number_of_frames = 0, rows = 0, columns = 0, bits_allocated = 0;

  // Precomputed DICOM JSON objects (as text) of the study-level attributes, the series-level
  // attributes, and the whole instance (bulk data as relative BulkDataURIs).
  std::string study_json, series_json, instance_json;

  // The stored bytes.
  std::string blob_key;
  int64_t size_bytes = 0;
  int64_t create_time_micros = 0;
};

// The outcome of inserting one instance of a batch.
enum class InsertOutcome {
  kStored,        // new row
  kDuplicate,     // an instance with the same UIDs is stored: nothing written (whether
                  // its bytes are the same is the caller's to check: the index has no
                  // bytes)
  kStudyLocked,   // the study (or series) is being deleted: refused (checked before the
                  // duplicate rules: nothing is accepted into a locked study)
  kStoreMissing,  // the store was deleted meanwhile: refused
};

// A typed QIDO query. Empty strings / nullopt mean "no constraint". Every constraint is an
// exact match unless stated. All constraints apply at every level: a constraint on a lower
// level than the searched one means "has such a series / instance" (e.g. modality at the
// study level matches studies with a series of that modality). Results are in insertion
// order of the searched level's rows, so limit/offset paging is stable.
struct SearchQuery {
  enum class Level { kStudy, kSeries, kInstance };
  Level level = Level::kStudy;
  int64_t store_id = 0;
  std::string study_uid, series_uid, sop_instance_uid;
  std::string patient_name;  // exact
  // Fuzzy: some stored word (InstanceRecord::patient_name_words) starts with some prefix;
  // prefixes are normalised like those words. Empty prefixes are ignored; more than 64 is
  // INVALID_ARGUMENT.
  std::vector<std::string> patient_name_prefixes;
  std::string patient_id, accession_number, referring_physician_name, modality;
  // Inclusive range on YYYYMMDD; either end may be open. Studies without a date (0) never
  // match a date constraint.
  std::optional<int32_t> study_date_from, study_date_to;
  int limit = 100;  // <= 0: empty result
  int offset = 0;   // < 0 is taken as 0
};

// One search result: the level's precomputed JSON plus its computed attributes.
struct SearchRow {
  std::string json;  // study_json / series_json / instance_json of the match
  std::string study_uid, series_uid, sop_instance_uid;
  int64_t study_series_count = 0, study_instance_count = 0;  // for study rows
  int64_t series_instance_count = 0;                         // for series rows
  std::vector<std::string> modalities_in_study;              // for study rows, sorted
};

// Counts of a store, or of one study / series (which then counts itself as 1 at its own level:
// StudyCounts has studies = 1, SeriesCounts studies = series = 1).
struct Counts {
  int64_t studies = 0, series = 0, instances = 0;
  int64_t blob_bytes = 0;        // sum of stored sizes
  int64_t structured_bytes = 0;  // sum of JSON sizes kept in the index (instance JSON, plus
                                 // the study and series JSON once per study / series)
};

class InstanceIndex {
 public:
  virtual ~InstanceIndex() = default;

  // Inserts a batch in one transaction (group commit: the caller batches concurrent
  // requests). Returns one outcome per record, in order; records are applied in order, so the
  // same UIDs twice in a batch behave like two sequential inserts. blob_key must be unique:
  // reusing one fails the whole batch with ALREADY_EXISTS (nothing is written).
  virtual absl::StatusOr<std::vector<InsertOutcome>> InsertInstances(
      const std::vector<InstanceRecord>& records) = 0;

  virtual absl::StatusOr<InstanceRecord> GetInstance(int64_t store_id, const std::string& study,
                                                     const std::string& series,
                                                     const std::string& sop) = 0;
  // Instances of a study (and series when given), ordered by series number, series UID,
  // instance number, SOP UID. NOT_FOUND when the study (series) does not exist.
  virtual absl::StatusOr<std::vector<InstanceRecord>> ListInstances(
      int64_t store_id, const std::string& study, const std::optional<std::string>& series) = 0;

  virtual absl::StatusOr<std::vector<SearchRow>> Search(const SearchQuery& query) = 0;

  // Deletes rows and returns the blob keys that were freed (the caller removes the files).
  // Parent rows left without children are removed; counters are kept exact.
  virtual absl::StatusOr<std::vector<std::string>> DeleteInstance(int64_t store_id,
                                                                  const std::string& study,
                                                                  const std::string& series,
                                                                  const std::string& sop) = 0;
  virtual absl::StatusOr<std::vector<std::string>> DeleteSeries(int64_t store_id,
                                                                const std::string& study,
                                                                const std::string& series) = 0;
  virtual absl::StatusOr<std::vector<std::string>> DeleteStudy(int64_t store_id,
                                                               const std::string& study) = 0;

  // Marks a study (series = nullopt) or series as being deleted, so InsertInstances refuses
  // instances into it (kStudyLocked) until Unlock. NOT_FOUND if it does not exist.
  virtual absl::Status Lock(int64_t store_id, const std::string& study,
                            const std::optional<std::string>& series) = 0;
  virtual absl::Status Unlock(int64_t store_id, const std::string& study,
                              const std::optional<std::string>& series) = 0;

  // Metrics, from counters maintained on write (no row counting at read time).
  virtual absl::StatusOr<Counts> StoreCounts(int64_t store_id) = 0;
  virtual absl::StatusOr<Counts> StudyCounts(int64_t store_id, const std::string& study) = 0;
  virtual absl::StatusOr<Counts> SeriesCounts(int64_t store_id, const std::string& study,
                                              const std::string& series) = 0;

  // Recovery after a crash: the greatest blob_key (byte order) starting with `prefix`, if
  // any instance row has one. O(log n): blob keys are indexed.
  virtual absl::StatusOr<std::optional<std::string>> LastBlobKey(const std::string& prefix) = 0;
};

}  // namespace dicomstore::index

#endif  // DICOMSTORE_INDEX_INSTANCE_INDEX_H_
