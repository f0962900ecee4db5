// DICOMweb on a DICOM store (spec §10): store (STOW-RS), search (QIDO-RS), retrieve
// (WADO-RS), delete, and the per-study/series metrics. HTTP-free: the server hands over
// request bodies part by part and receives JSON or lists of stored instances to stream.
//
// `base_url` arguments are the scheme://host[:port] the client used, so RetrieveURL and
// BulkDataURI values point back at this server.
#ifndef DICOMSTORE_SERVICE_DICOMWEB_SERVICE_H_
#define DICOMSTORE_SERVICE_DICOMWEB_SERVICE_H_

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "blobs/blob_store.h"
#include "common/proto_json.h"
#include "common/thread_pool.h"
#include "index/index.h"
#include "service/ingest_queue.h"
#include "service/qido_attributes.h"

namespace dicomstore::service {

// A DICOM store resolved from its resource name.
struct StoreRef {
  index::StoreKey key;
  int64_t store_id = 0;
  std::string name;  // projects/.../dicomStores/{s}
};

// The answer to a STOW request: HTTP status (200 all stored, 409 some failed) and the
// response dataset as DICOM JSON (the server renders XML when asked).
struct StowResult {
  int http_status = 200;
  Json dataset;
};

class DicomWebService;

// One STOW-RS request in flight. Parts arrive in order; each part's bytes are appended to
// the request's blob writer (a segment of the store) as they arrive, and its parse starts
// on a worker as soon as the part ends, while the upload continues. Finish syncs the
// writer once, commits the rows, and frees the bytes of every part not stored.
class StowRequest {
 public:
  ~StowRequest();  // discards whatever was not committed

  // `content_type` is the part's Content-Type ("" when the part has none).
  void BeginPart(std::string_view content_type);
  // An error here (disk full, ...) fails the whole request.
  absl::Status PartData(std::string_view data);
  void EndPart();
  // Waits for the parts, commits the good ones, and builds the response.
  absl::StatusOr<StowResult> Finish();

 private:
  friend class DicomWebService;
  struct PartResult;
  struct Part;
  StowRequest(DicomWebService* service, StoreRef store, std::optional<std::string> study,
              std::string base_url);
  absl::Status StartBlob();
  void SubmitPendingParse();
  void FreeBlob(const blobs::BlobRef& blob);
  // After the index found an instance with these UIDs stored: "" when `blob` holds the same
  // bytes (a repeated upload, acknowledged as stored), else why the part is refused.
  std::string CompareWithStored(const blobs::BlobRef& blob, const std::string& study,
                                const std::string& series, const std::string& sop);
  static PartResult ParsePart(const blobs::BlobRef& blob, const std::optional<std::string>& bytes,
                              int64_t store_id, const std::optional<std::string>& study);

  DicomWebService* service_;
  StoreRef store_;
  std::optional<std::string> study_;
  std::string base_url_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::unique_ptr<blobs::BlobWriter> writer_;  // from the first DICOM part on
  // Whether a part's bytes are copied to memory while it arrives (see Part::bytes). Off for
  // the rest of the request once a part outgrew the in-memory limit: the parts of one
  // request tend to be alike, and copying the first 256 KiB of every large one only to
  // drop it cost more than the mapping the parse then uses anyway.
  bool keep_parts_in_memory_ = true;
};

// Search parameters: (name, value) pairs in request order, system parameters removed.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct InstanceToSend {
  index::InstanceRecord record;
  std::string path;     // the blob file
  uint64_t offset = 0;  // where the instance's bytes start in `path`
};

class DicomWebService {
 public:
  // All pointers must outlive the service.
  DicomWebService(index::Index* index, blobs::BlobStore* blobs, int workers = 4);
  ~DicomWebService();

  absl::StatusOr<StoreRef> ResolveStore(std::string_view store_name);

  // STOW: `study` is the StudyInstanceUID of the path, when given.
  absl::StatusOr<std::unique_ptr<StowRequest>> BeginStow(std::string_view store_name,
                                                         std::optional<std::string> study,
                                                         std::string base_url);

  // QIDO: the results as the text of a JSON array ("[]" when nothing matches).
  absl::StatusOr<std::string> Search(std::string_view store_name, QidoLevel level,
                                     const std::optional<std::string>& study,
                                     const std::optional<std::string>& series,
                                     const QueryParams& params, const std::string& base_url);

  // WADO: the instances of a study, series or one instance, in retrieve order.
  absl::StatusOr<std::vector<InstanceToSend>> Instances(std::string_view store_name,
                                                        const std::string& study,
                                                        const std::optional<std::string>& series,
                                                        const std::optional<std::string>& sop);
  // Metadata: a JSON array text of the instances' DICOM JSON with absolute BulkDataURIs.
  absl::StatusOr<std::string> Metadata(std::string_view store_name, const std::string& study,
                                       const std::optional<std::string>& series,
                                       const std::optional<std::string>& sop,
                                       const std::string& base_url);

  // Deletes. Instance: synchronous. Study/series: a long-running operation (returned as
  // JSON) under which new instances for that study/series are refused.
  absl::Status DeleteInstance(std::string_view store_name, const std::string& study,
                              const std::string& series, const std::string& sop);
  absl::StatusOr<Json> DeleteStudyOrSeries(std::string_view store_name, const std::string& study,
                                           const std::optional<std::string>& series);

  // Metrics.
  absl::StatusOr<Json> StudyMetrics(std::string_view store_name, const std::string& study);
  absl::StatusOr<Json> SeriesMetrics(std::string_view store_name, const std::string& study,
                                     const std::string& series);
  absl::StatusOr<Json> InstanceStorageInfo(std::string_view store_name, const std::string& study,
                                           const std::string& series, const std::string& sop);
  absl::StatusOr<Json> StoreMetrics(std::string_view store_name);

  // The absolute URL of a store's dicomWeb root for `base_url`.
  static std::string DicomWebUrl(const std::string& base_url, const std::string& store_name);

 private:
  friend class StowRequest;
  index::Index* index_;
  blobs::BlobStore* blobs_;
  ThreadPool workers_;
  IngestQueue ingest_;
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_DICOMWEB_SERVICE_H_
