#include "service/resource_id.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::service {
namespace {

// \p{L} and \p{N} by general category, as the API's PCRE pattern means them.
bool IsIdCodePoint(UChar32 c) {
  if (c == '_' || c == '-' || c == '.') return true;
  return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK)) != 0;
}

absl::Status BadId(std::string_view id, std::string_view parameter, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "Invalid ", Av(parameter), " ", QuoteForMessage(id), ": ", why, "; it must be 1-",
      kMaxResourceIdLength, " characters of Unicode letters, digits, '_', '-' or '.'"));
}

}  // namespace

absl::Status ValidateResourceId(std::string_view id, std::string_view parameter) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Av(parameter), " is required"));
  }
  size_t i = 0;
  int code_points = 0;
  while (i < id.size()) {
    size_t start = i;
    UChar32 c;
    U8_NEXT(id.data(), i, id.size(), c);
    if (c < 0) return BadId(id, parameter, "it is not valid UTF-8");
    if (!IsIdCodePoint(c)) {
      return BadId(id, parameter,
                   absl::StrCat("the character ", QuoteForMessage(id.substr(start, i - start)),
                                " is not allowed"));
    }
    ++code_points;
  }
  if (code_points > kMaxResourceIdLength) {
    return BadId(id, parameter, absl::StrCat("it is ", code_points, " characters long"));
  }
  return absl::OkStatus();
}

}  // namespace dicomstore::service
