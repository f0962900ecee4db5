// DICOM JSON (PS3.18 Annex F) attributes as SQL values, for the studies/series/instances
// tables and the results of DICOMweb searches.
#ifndef DICOMSTORE_SQL_DICOM_VALUES_H_
#define DICOMSTORE_SQL_DICOM_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/proto_json.h"

namespace dicomstore::sql {

// The value of `tag` in `dataset` ({"0020000D": {"vr": "UI", "Value": [...]}, ...}) as a
// JSON scalar: null when absent or empty; a single number stays a number; strings as is;
// a person name is its Alphabetic group; several values are joined with '\' (DICOM's own
// separator); a sequence is its item array (JSON text in SQL); bulk data is null.
Json DicomValue(const Json& dataset, uint32_t tag);

// "0020000D" <-> 0x0020000D.
std::string DicomTagKey(uint32_t tag);
std::optional<uint32_t> ParseDicomTagKey(std::string_view key);

// The keyword of the attributes the SQL layer names (the table columns and the common
// QIDO attributes); "" for others.
std::string_view DicomKeyword(uint32_t tag);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_DICOM_VALUES_H_
