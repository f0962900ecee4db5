// Fuzzes service::LabelFilter::Parse + Matches (src/service/label_filter.h).
//
// Input: the filter text, optionally followed by "\n" and label lines "key=value" (one per
// line) to match against. Checked: errors are INVALID_ARGUMENT and their message
// serialises as JSON; matching is deterministic; the empty label set and a few fixed
// label sets evaluate without crashing (deep NOT/paren nesting, long AND chains).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/proto_json.h"
#include "fuzz/fuzz_check.h"
#include "service/label_filter.h"

using dicomstore::service::LabelFilter;
using dicomstore::service::Labels;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view filter = input.substr(0, nl);

  Labels labels;
  if (nl != std::string_view::npos) {
    std::string_view rest = input.substr(nl + 1);
    while (!rest.empty() && labels.size() < 64) {
      size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      size_t eq = line.find('=');
      labels[std::string(line.substr(0, eq))] =
          eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
      if (end == std::string_view::npos) break;
      rest = rest.substr(end + 1);
    }
  }

  auto parsed = LabelFilter::Parse(filter);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    // The message quotes the filter; it goes into the JSON error envelope.
    try {
      (void)dicomstore::Json(std::string(parsed.status().message())).dump();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error message does not serialise: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  bool m = parsed->Matches(labels);
  FUZZ_CHECK(m == parsed->Matches(labels));
  (void)parsed->Matches(Labels{});
  (void)parsed->Matches(Labels{{"a", "b"}, {"env", "prod"}, {"k", ""}});

  // Moving keeps the meaning.
  LabelFilter moved = *std::move(parsed);
  FUZZ_CHECK(moved.Matches(labels) == m);
  return 0;
}
