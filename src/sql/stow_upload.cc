#include "sql/stow_upload.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/multipart_boundary.h"
#include "sql/dicom_values.h"

namespace dicomstore::sql {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kFailureReason = 0x00081197;
constexpr uint32_t kFailedSOPSequence = 0x00081198;
constexpr uint32_t kReferencedSOPSequence = 0x00081199;
constexpr uint32_t kReferencedSOPClassUID = 0x00081150;
constexpr uint32_t kReferencedSOPInstanceUID = 0x00081155;
constexpr uint32_t kRetrieveURL = 0x00081190;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void AddItems(const Json& dataset, uint32_t sequence, std::string_view status,
              std::vector<Json>* out) {
  Json items = DicomValue(dataset, sequence);
  if (!items.is_array()) return;
  for (const Json& item : items) {
    Json row = Json::object();
    row["status"] = std::string(status);
    row["SOPInstanceUID"] = DicomValue(item, kReferencedSOPInstanceUID);
    row["SOPClassUID"] = DicomValue(item, kReferencedSOPClassUID);
    row["RetrieveURL"] = DicomValue(item, kRetrieveURL);
    row["FailureReason"] = DicomValue(item, kFailureReason);
    out->push_back(std::move(row));
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FilesToUpload(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return std::vector<std::string>{path};
  if (!fs::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrCat("no such file or folder: ", path));
  }
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", path, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) return absl::NotFoundError(absl::StrCat("no files below ", path));
  return files;
}

absl::StatusOr<std::vector<Json>> UploadFiles(ApiClient* api, const MethodSpec& method,
                                              const CallArgs& args,
                                              const std::vector<std::string>& files,
                                              const UploadLimits& limits) {
  std::vector<Json> rows;
  size_t next = 0;
  while (next < files.size()) {
    const std::string boundary = NewBoundary();
    CallArgs request = args;
    request.content_type =
        absl::StrCat("multipart/related; type=\"application/dicom\"; boundary=", boundary);
    size_t count = 0;
    while (next < files.size() && count < limits.max_files &&
           (count == 0 || request.raw_body.size() < limits.max_bytes)) {
      absl::StatusOr<std::string> bytes = ReadFile(files[next]);
      if (!bytes.ok()) return bytes.status();
      absl::StrAppend(&request.raw_body, "--", boundary,
                      "\r\nContent-Type: application/dicom\r\n\r\n", *bytes, "\r\n");
      ++next;
      ++count;
    }
    absl::StrAppend(&request.raw_body, "--", boundary, "--\r\n");
    absl::StatusOr<client::Response> response = api->Send(method, request);
    if (!response.ok()) return response.status();
    Json dataset = Json::parse(response->body, nullptr, false);
    const bool summary = dataset.is_object() && (dataset.contains(HexTag(kReferencedSOPSequence)) ||
                                                 dataset.contains(HexTag(kFailedSOPSequence)));
    if (!summary) {
      if (absl::Status s = client::StatusFromResponse(*response); !s.ok()) return s;
      return absl::InternalError("the STOW response lists no instances");
    }
    AddItems(dataset, kReferencedSOPSequence, "stored", &rows);
    AddItems(dataset, kFailedSOPSequence, "failed", &rows);
  }
  return rows;
}

}  // namespace dicomstore::sql
