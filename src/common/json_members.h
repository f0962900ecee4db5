// Walks the members of a JSON object given as text without building a document: each key
// and the raw text of its value. For answering from stored JSON (QIDO results pick a few
// attributes out of each row's ~10 KB) where parsing into a DOM and dumping it again cost
// more than the database query.
#ifndef DICOMSTORE_COMMON_JSON_MEMBERS_H_
#define DICOMSTORE_COMMON_JSON_MEMBERS_H_

#include <functional>
#include <string_view>

namespace dicomstore {

// Calls `visit(key, raw_value)` for each member of the object `text` (surrounding
// whitespace allowed), in order; `key` is the raw key between its quotes (escapes not
// decoded), `raw_value` the value's exact text. Stops early when `visit` returns false.
// Returns false when `text` is not a well-formed object as far as the walk needs to know
// (unbalanced brackets, unterminated strings, missing ':' or ','); values are skipped by
// their structure, not validated (a bad number inside passes).
bool ForEachJsonMember(
    std::string_view text,
    const std::function<bool(std::string_view key, std::string_view raw_value)>& visit);

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_JSON_MEMBERS_H_
