// Fuzzes the parsing in front of QIDO (and every other) request: server::ParseRequestTarget
// (src/server/request_target.h) on the input, and server::ParseMediaType / ParseAccept
// (src/server/media_type.h) on the same bytes as a header value.
// Checked: decoded path starts with '/', no empty segment, no system parameter survives,
// Param/Has agree; media types have non-empty lower-case type and subtype; Accept ranges
// have 0 < q <= 1 and are sorted by q descending.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/ascii.h"
#include "common/absl_view.h"
#include "fuzz/fuzz_check.h"
#include "server/media_type.h"
#include "server/request_target.h"

namespace {

using namespace dicomstore::server;

void CheckMediaType(const MediaType& mt) {
  FUZZ_CHECK(!mt.type.empty() && !mt.subtype.empty());
  FUZZ_CHECK(mt.type == absl::AsciiStrToLower(dicomstore::Av(mt.type)));
  FUZZ_CHECK(mt.subtype == absl::AsciiStrToLower(dicomstore::Av(mt.subtype)));
  for (const auto& [name, value] : mt.params) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(mt.HasParam(name));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto target = ParseRequestTarget(text);
  if (target.ok()) {
    FUZZ_CHECK(!target->path.empty() && target->path[0] == '/');
    for (const std::string& s : target->segments) FUZZ_CHECK(!s.empty());
    for (const QueryParam& q : target->query) {
      FUZZ_CHECK(!IsSystemParameter(q.name));
      FUZZ_CHECK(target->Has(q.name));
    }
    if (!target->query.empty()) {
      FUZZ_CHECK(target->Param(target->query[0].name) == target->query[0].value);
    }
  } else {
    FUZZ_CHECK(target.status().code() == absl::StatusCode::kInvalidArgument);
  }

  auto mt = ParseMediaType(text);
  if (mt.ok()) CheckMediaType(*mt);

  auto accept = ParseAccept(text);
  if (accept.ok()) {
    for (size_t i = 0; i < accept->size(); ++i) {
      const MediaRange& r = (*accept)[i];
      CheckMediaType(r.type);
      FUZZ_CHECK(r.q > 0 && r.q <= 1);
      if (i > 0) FUZZ_CHECK((*accept)[i - 1].q >= r.q);
    }
  }
  return 0;
}
