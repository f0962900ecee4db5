// Fuzzes server::MultipartParser (src/server/multipart_parser.h).
//
// Input: [b0][b1][boundary: 1 + b0 % 70 bytes][body]. The body is fed in chunks whose
// sizes come from a PRNG seeded by b1, and again in one piece. Checked:
//  - listener events are well ordered (Begin, Data*, End), counts match parts_seen();
//  - no part's content contains the delimiter "\r\n--" + boundary;
//  - Finish() is OK only when every begun part was ended;
//  - a failed parser refuses further input;
//  - the chunking does not change the outcome (status code, headers, content).
// Small limits make the header and part-count limits reachable.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "server/multipart_parser.h"

namespace {

using dicomstore::server::HttpHeader;
using dicomstore::server::MultipartLimits;
using dicomstore::server::MultipartListener;
using dicomstore::server::MultipartParser;

struct Part {
  std::vector<HttpHeader> headers;
  std::string data;
  bool ended = false;
};

class Recorder : public MultipartListener {
 public:
  absl::Status OnPartBegin(const std::vector<HttpHeader>& headers) override {
    FUZZ_CHECK(parts.empty() || parts.back().ended);
    for (const HttpHeader& h : headers) FUZZ_CHECK(!h.name.empty());
    parts.push_back({headers, "", false});
    return absl::OkStatus();
  }
  absl::Status OnPartData(std::string_view data) override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    FUZZ_CHECK(!data.empty());
    parts.back().data.append(data);
    return absl::OkStatus();
  }
  absl::Status OnPartEnd() override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    parts.back().ended = true;
    return absl::OkStatus();
  }
  std::vector<Part> parts;
};

struct Outcome {
  absl::StatusCode code;
  std::vector<Part> parts;
};

MultipartLimits Limits() {
  MultipartLimits limits;
  limits.max_header_bytes = 128;
  limits.max_parts = 8;
  return limits;
}

void CheckParts(const Recorder& rec, const MultipartParser& parser, const std::string& delimiter,
                bool failed) {
  // parts_seen() also counts a part whose header block was refused.
  FUZZ_CHECK(rec.parts.size() == parser.parts_seen() ||
             (failed && rec.parts.size() + 1 == parser.parts_seen()));
  for (const Part& p : rec.parts) FUZZ_CHECK(p.data.find(delimiter) == std::string::npos);
}

Outcome Run(const std::string& boundary, std::string_view body, uint32_t seed, bool chunked) {
  const std::string delimiter = "\r\n--" + boundary;
  Recorder rec;
  MultipartParser parser(boundary, &rec, Limits());
  absl::Status status;
  size_t pos = 0;
  uint32_t state = seed * 2654435761u + 1;
  while (pos < body.size()) {
    size_t n = body.size() - pos;
    if (chunked) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      // Mostly tiny chunks (they split delimiters and CRLFs), sometimes bigger ones.
      size_t max = (state & 0x100) ? 64 : 4;
      n = std::min<size_t>(n, 1 + state % max);
    }
    status = parser.Feed(body.substr(pos, n));
    pos += n;
    CheckParts(rec, parser, delimiter, !status.ok());
    if (!status.ok()) break;
  }
  if (status.ok()) status = parser.Finish();
  CheckParts(rec, parser, delimiter, !status.ok());
  if (status.ok()) {
    for (const Part& p : rec.parts) FUZZ_CHECK(p.ended);
  } else {
    // A failed parser stays failed.
    FUZZ_CHECK(parser.Feed("x").code() == absl::StatusCode::kFailedPrecondition);
    FUZZ_CHECK(!parser.Finish().ok());
  }
  return {status.code(), std::move(rec.parts)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t boundary_len = 1 + data[0] % 70;
  uint32_t seed = data[1];
  if (size < 2 + boundary_len) return 0;
  std::string boundary(reinterpret_cast<const char*>(data + 2), boundary_len);
  std::string_view body(reinterpret_cast<const char*>(data + 2 + boundary_len),
                        size - 2 - boundary_len);

  Outcome whole = Run(boundary, body, seed, false);
  Outcome chunked = Run(boundary, body, seed, true);
  FUZZ_CHECK(whole.code == chunked.code);
  if (whole.code == absl::StatusCode::kOk) {
    FUZZ_CHECK(whole.parts.size() == chunked.parts.size());
    for (size_t i = 0; i < whole.parts.size(); ++i) {
      FUZZ_CHECK(whole.parts[i].data == chunked.parts[i].data);
      FUZZ_CHECK(whole.parts[i].headers.size() == chunked.parts[i].headers.size());
      for (size_t j = 0; j < whole.parts[i].headers.size(); ++j) {
        FUZZ_CHECK(whole.parts[i].headers[j].name == chunked.parts[i].headers[j].name);
        FUZZ_CHECK(whole.parts[i].headers[j].value == chunked.parts[i].headers[j].value);
      }
    }
  }
  return 0;
}
