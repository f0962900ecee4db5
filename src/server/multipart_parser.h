// A streaming splitter for multipart bodies (RFC 2046 §5.1), used for STOW-RS uploads of
// any size: bytes are fed in arbitrary chunks and each part's content is passed on as it
// arrives, so memory stays bounded by the header limit plus one chunk.
//
// Preamble and epilogue are ignored. After a delimiter only transport padding (spaces,
// tabs) and CRLF may follow, or "--" for the close delimiter; anything else is
// INVALID_ARGUMENT ("garbage after boundary"). A body that ends before the close delimiter
// is INVALID_ARGUMENT ("truncated"). A listener error stops parsing and is returned.
#ifndef DICOMSTORE_SERVER_MULTIPART_PARSER_H_
#define DICOMSTORE_SERVER_MULTIPART_PARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/http_server.h"

namespace dicomstore::server {

class MultipartListener {
 public:
  virtual ~MultipartListener() = default;
  virtual absl::Status OnPartBegin(const std::vector<HttpHeader>& headers) = 0;
  virtual absl::Status OnPartData(std::string_view data) = 0;
  virtual absl::Status OnPartEnd() = 0;
};

struct MultipartLimits {
  size_t max_header_bytes = 16 * 1024;  // per part
  size_t max_parts = 100000;
  size_t max_boundary_length = 70;  // RFC 2046
};

class MultipartParser {
 public:
  // `listener` must outlive the parser.
  MultipartParser(std::string boundary, MultipartListener* listener,
                  const MultipartLimits& limits = {});

  absl::Status Feed(std::string_view chunk);
  // Call after the last chunk: INVALID_ARGUMENT if the close delimiter was not seen.
  absl::Status Finish();

  size_t parts_seen() const { return parts_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kEpilogue, kFailed };
  absl::Status Process();
  // kBody: hands the chunk's content to the listener without copying it into buffer_;
  // nullopt when the chunk must go through buffer_ and Process instead.
  std::optional<absl::Status> StreamBody(std::string_view chunk);
  absl::Status Fail(absl::Status status);

  std::string delimiter_;  // "\r\n--" + boundary
  MultipartListener* listener_;
  MultipartLimits limits_;
  State state_ = State::kPreamble;
  std::string buffer_;  // unconsumed input
  size_t parts_ = 0;
};

// The boundary parameter of a multipart Content-Type; INVALID_ARGUMENT when absent,
// empty or longer than 70 characters.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_MULTIPART_PARSER_H_
