// The `filter` of dicomStores.list (spec §5): only labels may be filtered.
//
// Grammar (whitespace-insensitive outside quotes; keywords case-sensitive as in Google's
// list filters):
//   expr    := term { ["AND"] term }       -- juxtaposition is AND
//   term    := factor { "OR" factor }      -- OR binds tighter than AND (AIP-160)
//   factor  := ["NOT" | "-"] ( "(" expr ")" | compare )
//   compare := "labels." key ( "=" value | ":" value | ":*" )
//   key     := identifier [a-zA-Z0-9_-]+ (or Unicode letters) | quoted string
//   value   := quoted string ("..." with \" and \\ escapes) | bare word
// `labels.k=v` is exact equality of the value; `labels.k:*` is presence; `labels.k:v` is
// equality too (":" is "has" in Google filters). Anything else — another field, `!=`, an
// unterminated string, trailing input — is INVALID_ARGUMENT with the position.
#ifndef DICOMSTORE_SERVICE_LABEL_FILTER_H_
#define DICOMSTORE_SERVICE_LABEL_FILTER_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/labels.h"

namespace dicomstore::service {

inline constexpr size_t kMaxFilterLength = 4096;  // longer filters are INVALID_ARGUMENT
inline constexpr int kMaxFilterDepth = 32;        // parenthesis / NOT nesting

class LabelFilter {
 public:
  // An empty or all-whitespace filter matches everything.
  static absl::StatusOr<LabelFilter> Parse(std::string_view filter);
  bool Matches(const Labels& labels) const;

  struct Node;  // defined in the .cc

  LabelFilter(LabelFilter&&) noexcept;
  LabelFilter& operator=(LabelFilter&&) noexcept;
  ~LabelFilter();

 private:
  explicit LabelFilter(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;  // null = match all
};

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_LABEL_FILTER_H_
