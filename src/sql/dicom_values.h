// DICOM JSON (PS3.18 Annex F) attributes as SQL values, for the studies/series/instances
// tables and the results of DICOMweb searches.
#ifndef DICOMSTORE_SQL_DICOM_VALUES_H_
#define DICOMSTORE_SQL_DICOM_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/dicom_keywords.h"  // KnownKeyword: the column names
#include "common/dicom_tag.h"       // HexTag, ParseHexTag
#include "common/proto_json.h"

namespace dicomstore::sql {

// The value of `tag` in `dataset` ({"0020000D": {"vr": "UI", "Value": [...]}, ...}) as a
// JSON scalar: null when absent or empty; a single number stays a number; strings as is;
// a person name is its Alphabetic group; several values are joined with '\' (DICOM's own
// separator); a sequence is its item array (JSON text in SQL); bulk data is null.
Json DicomValue(const Json& dataset, uint32_t tag);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_DICOM_VALUES_H_
