// DICOM JSON (PS3.18 Annex F) of a DCMTK dataset, every string in UTF-8, written as compact
// text (json_text_writer.h) without building a JSON document.
//
// Rules (where PS3.18 or the spec leave a choice, the choice is written here):
//  - Keys are 8 upper-case hex digits in tag order; group length elements (gggg,0000) are
//    left out (encoding artifacts, retired outside the File Meta).
//  - Each element is {"vr": VR} plus "Value", "InlineBinary" or "BulkDataURI"; an empty
//    element (length 0, or a single value that is empty after trimming) has only "vr".
//  - Strings: text VRs (SH LO ST LT UT PN UC) are converted with CharsetDecoder (an item's
//    own (0008,0005) overrides the inherited one); other string VRs are ASCII. Values are
//    split on '\' except LT, ST, UT, UR; trailing spaces and NULs are removed from each
//    value, leading spaces only for DS and IS. An empty value among several is null.
//    DA/TM/DT are kept as stored (no reformatting); (0008,0005) is output as stored.
//  - PN: {"Alphabetic", "Ideographic", "Phonetic"}, empty groups omitted (PersonNameJson).
//  - IS -> JSON integer, DS -> JSON number; a value that is not a valid number (e.g. IS
//    "1A") stays a string, as pydicom does.
//  - US SS UL SL SV UV FL FD -> numbers; FL/FD NaN and infinities (not representable in
//    JSON) -> the strings "NaN", "Infinity", "-Infinity". AT -> "GGGGEEEE".
//  - OD OF OL OV up to 2 KiB -> "InlineBinary" (base64 of the little-endian bytes).
//  - Bulk data (bulkdata_rules.h) -> "BulkDataURI": "bulkdata/<tag path>", the path being
//    "<tag>" with "/<item index>/<tag>" steps inside sequences.
//  - SQ -> array of item objects (no "Value" for zero items).
//  - VR UN on a standard (even-group) tag whose dictionary VR is unambiguous: the value is
//    re-read as Implicit VR Little Endian with the dictionary VR (as pydicom's
//    replace_un_with_known_vr does; MANIFEST-json expects DA/PN/UI there); sequences are
//    pre-scanned and parsed. If that fails (length not a multiple of the value size, bad
//    items) the element stays UN (bulk data). Private UN elements stay UN.
//  - Element VRs as DCMTK resolved them; "OB or OW" / "US or OW" style dictionary VRs of
//    implicit-VR files become OW (OB when the element was read as OB).
#ifndef DICOMSTORE_DICOM_DICOM_JSON_WRITER_H_
#define DICOMSTORE_DICOM_DICOM_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dicom/charset_decoder.h"
#include "dicom/instance_parser.h"
#include "dicom/json_text_writer.h"

class DcmItem;
class DcmElement;

namespace dicomstore::dicom {

// Where one member (`"KEY":{...}`, no surrounding comma) lies in the written text.
struct MemberSpan {
  uint32_t tag;
  size_t begin, end;
};

class DicomJsonWriter {
 public:
  // `recorded_tags`: top-level string elements whose whole decoded text (all values, '\'
  // and '=' kept, trailing padding removed) is kept for RecordedText().
  DicomJsonWriter(const ParseLimits& limits, std::set<uint32_t> recorded_tags);

  // Writes "KEY":{element JSON} for every element of `item` (in tag order) to `out`, which
  // must be inside an object. `path` is the bulk data path prefix ("" for the dataset,
  // "00880200/0/" inside the first item of (0088,0200)); `depth` is 0 for the dataset.
  // `spans`, when given, receives the place of each member written.
  void WriteItem(DcmItem& item, const CharsetDecoder& inherited, const std::string& path, int depth,
                 JsonTextWriter* out, std::vector<MemberSpan>* spans = nullptr);

  // The character set an item declares itself, if it has (0008,0005).
  static std::optional<CharsetDecoder> OwnCharset(DcmItem& item);

  // Text of a recorded top-level element ("" when absent).
  std::string RecordedText(uint32_t tag) const;

 private:
  // Each writes one element's JSON object (the member's value).
  void WriteElement(DcmElement& element, const CharsetDecoder& charset, const std::string& path,
                    int depth, JsonTextWriter* out);
  // False, with nothing written, when the value does not read as the dictionary VR.
  bool WriteUnknownAsDictionaryVr(DcmElement& element, uint32_t tag, const CharsetDecoder& charset,
                                  const std::string& path, int depth, JsonTextWriter* out);
  void WriteString(uint32_t tag, std::string_view vr, std::string_view raw,
                   const CharsetDecoder& charset, int depth, JsonTextWriter* out);

  const ParseLimits limits_;
  std::set<uint32_t> recorded_tags_;
  std::map<uint32_t, std::string> recorded_;
};

// Helpers shared with the parser and tests.
std::string TagKey(uint32_t tag);  // "0020000D"
// Writes the key of the member for `tag` ("0020000D":) and returns where the member starts.
size_t BeginMember(uint32_t tag, JsonTextWriter* out);

// The VR classes of the rules above: string VRs (a "Value" of strings or numbers), and
// binary numeric VRs with their bytes per value (US SS AT UL SL FL OF OL: 2 or 4, FD OD SV
// UV OV: 8; 0 for every other VR).
bool IsStringVr(std::string_view vr);
size_t NumericSize(std::string_view vr);

// Element writers shared with the raw-bytes writer (raw_json_writer.h), so both produce
// the same text. Each writes one element's JSON object (the member's value).
// {"vr":VR — the caller adds the rest and closes the object.
void BeginElement(std::string_view vr, JsonTextWriter* out);
// {"vr":VR,"BulkDataURI":"bulkdata/<tag_path>"}.
void WriteBulkElement(std::string_view vr, const std::string& tag_path, JsonTextWriter* out);
// A numeric/binary element (NumericSize(vr) != 0) from its little-endian bytes, whose
// length is a multiple of the value size: "Value", "InlineBinary" or bulk data; `path` is
// the bulk data path prefix of the enclosing item.
void WriteBinaryElement(uint32_t tag, std::string_view vr, std::string_view le,
                        const std::string& path, JsonTextWriter* out);

// Writes the "Value" member (key and array) of a string element given its raw bytes and VR
// (see the rules above); writes nothing when the element is empty. `text` receives the
// whole decoded, trimmed text.
void WriteStringValues(std::string_view vr, std::string_view raw, const CharsetDecoder& charset,
                       std::string* text, JsonTextWriter* out);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_DICOM_JSON_WRITER_H_
