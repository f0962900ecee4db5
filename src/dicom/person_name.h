// Person Name (PN) values: the DICOM JSON form and the normalised form used for fuzzy
// matching (NormalizePersonNameForMatch, declared in instance_parser.h, lives in
// person_name.cc).
#ifndef DICOMSTORE_DICOM_PERSON_NAME_H_
#define DICOMSTORE_DICOM_PERSON_NAME_H_

#include <array>
#include <string_view>

#include "dicom/json_text_writer.h"

namespace dicomstore::dicom {

// One PN value (UTF-8, padding already removed) as a PS3.18 F.2.2 object: the value is
// split on '=' into the Alphabetic, Ideographic and Phonetic groups (at most 3; anything
// after a third '=' stays in Phonetic), and empty groups are omitted — so a trailing '='
// adds nothing, and "^^^^" stays {"Alphabetic": "^^^^"} as stored. A value with no
// non-empty group is JSON null (an empty value, F.2.5). Written to `out` as one value.
void WritePersonName(std::string_view value, JsonTextWriter* out);

// The Alphabetic, Ideographic and Phonetic groups of `value` split as above ("" when
// absent); all empty means the value is null.
std::array<std::string_view, 3> PersonNameGroups(std::string_view value);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_PERSON_NAME_H_
