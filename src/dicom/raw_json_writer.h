// The fast path of ParseInstance: DICOM JSON written straight from the encoded bytes of a
// little-endian dataset, without building a DCMTK dataset.
//
// Why: reading an instance with DCMTK (its element tree, a dictionary look-up per element,
// private tags matched with string comparisons) and then walking that tree cost about a
// quarter of the server's CPU per stored instance. The bytes were already walked once by
// the structural pre-scan (dataset_scanner.h); this walks them a second time and writes
// each element with the same element writers DicomJsonWriter uses (dicom_json_writer.h).
//
// Contract: WriteDataset either writes exactly the members DicomJsonWriter::WriteItem
// writes for the dataset DCMTK reads from the same bytes (same text, same spans, same
// recorded texts), or returns false ("not handled"; whatever it wrote is to be
// discarded and the caller takes the DCMTK path). It never refuses an input: refusals
// stay with the DCMTK path, so their status and text cannot change.
//
// Handled (everything else returns false):
//  - Explicit VR Little Endian and Implicit VR Little Endian datasets that passed
//    ScanDataset: the part up to the top-level stop element, and the well-formed tail
//    after the top-level Pixel Data (e.g. Data Set Trailing Padding), each written
//    separately as ParseInstance does with DCMTK;
//  - tags in strictly ascending order in every item (no duplicates), no group below
//    0008 and nothing between (0008,0000) and (0008,0005), so an item's Specific Character
//    Set is known before any text element of that item;
//  - group lengths (gggg,0000) only as UL of 4 bytes (left out of the JSON);
//  - string VRs (AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT) of even length;
//    values are taken as DCMTK's getString gives them: trailing padding removed (' ',
//    NUL for UI); a UI holding white space (DCMTK removes it) is not handled;
//  - binary numeric VRs (US SS UL SL FL FD AT OF OD OL OV SV UV) whose length is a
//    multiple of the value size; OB (any length), OW (even length);
//  - UN only on private data elements (odd group, element >= 0x1000), defined length:
//    these stay UN (bulk data); an even-group UN would need the re-read rule;
//  - SQ of defined or undefined length with items of defined or undefined length;
//  - Implicit VR: the dictionary VR (with the private creator for private data
//    elements, as DCMTK finds it) must be one of the above or unknown on a private data
//    element; "US or SS", "OB or OW" and similar dictionary VRs, which DCMTK resolves
//    with other elements' values, are not handled; private creators must be LO of at
//    most 64 characters without NUL bytes or leading spaces.
// Not handled either: undefined length on anything but SQ (encapsulated pixel data inside
// an item, CP-246 UN sequences), non-zero delimiter lengths, explicit VRs outside the
// 34 standard ones (and those DCMTK does not know), big endian.
#ifndef DICOMSTORE_DICOM_RAW_JSON_WRITER_H_
#define DICOMSTORE_DICOM_RAW_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dicom/charset_decoder.h"
#include "dicom/dataset_scanner.h"
#include "dicom/dicom_json_writer.h"
#include "dicom/json_text_writer.h"

namespace dicomstore::dicom {

class RawJsonWriter {
 public:
  // `recorded_tags`: as for DicomJsonWriter (top-level string elements whose whole
  // decoded text is kept for RecordedText()).
  explicit RawJsonWriter(std::set<uint32_t> recorded_tags);

  // Writes "KEY":{element JSON} for every element of `data` (a dataset without File Meta:
  // the part before the top-level stop element, or the elements after the top-level
  // Pixel Data) to `out`, which must be inside an object, and the place of each member to
  // `spans`. `charset` applies unless `data` has its own (0008,0005). False when `data`
  // holds anything not handled.
  bool WriteDataset(std::string_view data, Encoding encoding, const CharsetDecoder& charset,
                    JsonTextWriter* out, std::vector<MemberSpan>* spans);

  // The character set of the dataset last written: its own (0008,0005), else the one
  // given to WriteDataset.
  const CharsetDecoder& DatasetCharset() const { return dataset_charset_; }

  // Text of a recorded top-level element ("" when absent).
  std::string RecordedText(uint32_t tag) const;

 private:
  struct Header;
  bool ReadHeader(size_t pos, size_t end, Header* h) const;
  // The elements of one item (or of the dataset) from *pos up to `end`, or up to and
  // including an item delimiter when `until_delimiter`.
  bool WriteItem(size_t* pos, size_t end, bool until_delimiter, const CharsetDecoder& inherited,
                 const std::string& path, int depth, JsonTextWriter* out,
                 std::vector<MemberSpan>* spans);
  // The items of a sequence whose value starts at *pos: up to `end` (defined length) or
  // up to and including the sequence delimiter.
  bool WriteItems(size_t* pos, size_t end, bool undefined_length, const CharsetDecoder& charset,
                  const std::string& tag_path, int depth, JsonTextWriter* out);

  std::string_view data_;
  bool implicit_ = false;
  std::set<uint32_t> recorded_tags_;
  std::map<uint32_t, std::string> recorded_;
  CharsetDecoder dataset_charset_;
};

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_RAW_JSON_WRITER_H_
