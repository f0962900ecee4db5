// PS3.6 keywords of the attributes the API names (QIDO match keys, default and computed
// attributes, STOW response attributes, SQL columns). A small fixed table, so layers that
// must not include DCMTK (service's QIDO rules, the SQL front end) can name attributes.
#ifndef DICOMSTORE_COMMON_DICOM_KEYWORDS_H_
#define DICOMSTORE_COMMON_DICOM_KEYWORDS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace dicomstore {

// The keyword of `tag`, or "" when the table does not hold it.
std::string_view KnownKeyword(uint32_t tag);

// The tag of `keyword` (exact, case-sensitive), or nullopt.
std::optional<uint32_t> KnownKeywordTag(std::string_view keyword);

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_DICOM_KEYWORDS_H_
