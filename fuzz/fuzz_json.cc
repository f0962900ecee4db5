// Fuzzes request-body JSON: ParseJsonBody (src/common/proto_json.h) and the typed
// accessors used by every API method. Checked: success yields an object that serialises
// strictly (valid UTF-8) and re-parses to the same value; errors are INVALID_ARGUMENT;
// messages from the typed accessors (which quote keys via QuoteForMessage) and
// QuoteForMessage itself are valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/proto_json.h"
#include "fuzz/fuzz_check.h"

using dicomstore::Json;

namespace {

void CheckSerialises(const Json& j) {
  try {
    (void)j.dump();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "does not serialise: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);

  CheckSerialises(Json(dicomstore::QuoteForMessage(body)));

  auto parsed = dicomstore::ParseJsonBody(body);
  if (!parsed.ok()) {
    // Not checked for strict UTF-8: nlohmann's parse errors quote the offending bytes raw,
    // and the error envelope (api_response.cc) serialises with error_handler_t::replace.
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(parsed->is_object());
  std::string dumped;
  try {
    dumped = parsed->dump();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parsed body does not serialise: %s\n", e.what());
    std::abort();
  }
  auto again = dicomstore::ParseJsonBody(dumped);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);

  // The typed accessors on whatever members exist (and on nested objects).
  for (const auto& [key, value] : parsed->items()) {
    std::string s;
    bool b;
    int64_t i;
    for (const absl::Status& st :
         {dicomstore::ReadString(*parsed, key, "T", &s), dicomstore::ReadBool(*parsed, key, "T", &b),
          dicomstore::ReadInt64(*parsed, key, "T", &i)}) {
      if (!st.ok()) {
        FUZZ_CHECK(st.code() == absl::StatusCode::kInvalidArgument);
        CheckSerialises(Json(std::string(st.message())));
      }
    }
    if (value.is_object()) {
      absl::Status st = dicomstore::CheckObjectFields(value, {"name", "labels"}, "T");
      if (!st.ok()) CheckSerialises(Json(std::string(st.message())));
    }
  }
  absl::Status st = dicomstore::CheckObjectFields(*parsed, {"name", "labels", "config"}, "T");
  if (!st.ok()) CheckSerialises(Json(std::string(st.message())));
  return 0;
}
