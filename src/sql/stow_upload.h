// store_instances with @file='PATH' (DESIGN.md §8 extension): uploads a file, or every
// file below a folder, as STOW-RS requests (multipart/related; type="application/dicom")
// in batches, and summarises the STOW responses as one row item per instance.
#ifndef DICOMSTORE_SQL_STOW_UPLOAD_H_
#define DICOMSTORE_SQL_STOW_UPLOAD_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/proto_json.h"
#include "sql/api_call.h"
#include "sql/provider.h"

namespace dicomstore::sql {

struct UploadLimits {
  size_t max_files = 64;         // per request
  size_t max_bytes = 64u << 20;  // per request (a larger single file goes alone)
};

// `path` itself when it is a file, else every regular file below it (sorted, hidden
// names skipped). NOT_FOUND when nothing is there.
absl::StatusOr<std::vector<std::string>> FilesToUpload(const std::string& path);

// Sends `files` with `method` (a store_instances method; `args` holds its path
// parameters) and returns one item per instance of the responses:
// {"status": "stored"|"failed", "SOPInstanceUID", "SOPClassUID", "RetrieveURL",
//  "FailureReason"}. A request the server refuses as a whole is the statement's error.
absl::StatusOr<std::vector<Json>> UploadFiles(ApiClient* api, const MethodSpec& method,
                                              const CallArgs& args,
                                              const std::vector<std::string>& files,
                                              const UploadLimits& limits = {});

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_STOW_UPLOAD_H_
