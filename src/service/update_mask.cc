#include "service/update_mask.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::service {

std::string SnakeToCamel(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    // Only "_x" with a lowercase ASCII letter is a word break; any other '_' is kept so
    // that an odd path ("labels_") stays odd and is rejected instead of silently fixed.
    if (path[i] == '_' && i + 1 < path.size() && absl::ascii_islower(path[i + 1])) {
      out.push_back(absl::ascii_toupper(path[++i]));
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

absl::StatusOr<std::set<std::string>> ParseUpdateMask(std::string_view mask,
                                                      const std::set<std::string>& allowed) {
  std::string allowed_list = absl::StrJoin(allowed, ", ");
  if (absl::StripAsciiWhitespace(Av(mask)).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "updateMask is required: list the fields to update (allowed: ", allowed_list, ")"));
  }
  std::set<std::string> paths;
  for (absl::string_view raw : absl::StrSplit(Av(mask), ',')) {
    std::string_view path = Sv(absl::StripAsciiWhitespace(raw));
    if (path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid updateMask ", QuoteForMessage(mask), ": it has an empty path"));
    }
    std::string camel = SnakeToCamel(path);
    if (!allowed.contains(camel)) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid updateMask path ",
                                                     QuoteForMessage(path),
                                                     ": not a field that can be updated "
                                                     "(allowed: ",
                                                     allowed_list, ")"));
    }
    paths.insert(std::move(camel));
  }
  return paths;
}

}  // namespace dicomstore::service
