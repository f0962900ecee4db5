// Structural pre-scan of an encoded dataset, run before DCMTK sees the bytes.
//
// Why: DCMTK allocates a value's declared length before noticing that the input is
// shorter (a 1 KB input declaring 0xFFFFFFF0 bytes costs a 4 GB new[]; fatal under ASan or
// strict memory limits), and it recurses once per sequence level. The scanner walks every
// element header — top level, inside sequence items (defined and undefined length), inside
// UN elements of undefined length (Implicit VR LE, CP-246) and over encapsulated pixel
// fragments — without copying values, and refuses:
//   - a declared length larger than what remains of the enclosing item/sequence/input
//     ("truncated element (gggg,eeee)"),
//   - a declared length above ParseLimits.max_element_length,
//   - sequences nested deeper than ParseLimits.max_sequence_depth,
//   - a header cut short, a sequence without its delimiter at the end of the input, items
//     that are not items.
// It mirrors DCMTK 3.6's reading rules, classifying each VR field with DCMTK's own DcmVR
// (so the length-field size always agrees: 4 bytes for OB OD OF OL OV OW SQ SV UC UN UR
// UT UV and for unknown upper-case "future" VRs, 2 bytes for other unknown bytes; VR
// fields naming DCMTK-internal VRs such as "na" are refused). For Implicit VR the data
// dictionary (with private creators) gives the VR. Undefined length: Pixel Data (OB/OW)
// holds fragments, SQ/OB/OW hold items in the same encoding, UN and unknown VRs hold
// Implicit VR LE items (CP-246); on any other VR DCMTK would read a 4 GiB value, so it is
// refused. Defined-length SQ values are scanned item by item.
//
// Top level: the first element whose tag is >= (7FE0,0008) ends the part DCMTK parses
// (readUntilTag's stop). If it is a Pixel Data element (7FE0,0008/0009/0010), it must be
// complete (a truncated Pixel Data is refused: the stored bytes would be unusable).
// Whatever follows it (trailing padding, signatures), or follows the last element when
// fewer than 8 bytes remain, is scanned leniently: a malformed tail is only reported
// (tail_ok = false) and left out, not refused.
#ifndef DICOMSTORE_DICOM_DATASET_SCANNER_H_
#define DICOMSTORE_DICOM_DATASET_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dicom/instance_parser.h"

namespace dicomstore::dicom {

enum class Encoding { kImplicitLittle, kExplicitLittle, kExplicitBig };

// Encoding markers (PS3.5 7.5), shared by the readers of raw dataset bytes.
inline constexpr uint32_t kUndefinedLength = 0xFFFFFFFF;
inline constexpr uint32_t kItemTag = 0xFFFEE000;
inline constexpr uint32_t kItemDelimiterTag = 0xFFFEE00D;
inline constexpr uint32_t kSequenceDelimiterTag = 0xFFFEE0DD;

struct ScanResult {
  // Offset of the first top-level element with tag >= (7FE0,0008) (or of trailing bytes
  // too short to be an element); data.size() if none. DCMTK parses [0, stop_offset).
  size_t stop_offset = 0;
  // The top-level Pixel Data element that stopped the scan, if it is one.
  bool has_pixel_data = false;
  uint32_t pixel_tag = 0;           // (group << 16) | element
  std::string pixel_vr;             // "OB", "OW", "OF", "OD" (explicit VR or implied)
  bool pixel_encapsulated = false;  // undefined length, fragments
  uint64_t pixel_length = 0;        // value length (0 for encapsulated)
  // The elements after the stop: [tail_offset, data.size()); tail_ok when that range is
  // non-empty and well formed (worth parsing).
  size_t tail_offset = 0;
  bool tail_ok = false;
};

// Scans a whole dataset (no File Meta) encoded with `encoding`.
absl::StatusOr<ScanResult> ScanDataset(std::string_view data, Encoding encoding,
                                       const ParseLimits& limits);

// Scans the value of a sequence element of defined length (its items), e.g. the bytes of
// a UN element that is re-read as SQ; `depth` is the nesting level of the sequence itself
// (1 for a top-level sequence).
absl::Status ScanSequenceValue(std::string_view value, Encoding encoding, int depth,
                               const ParseLimits& limits);

// One of the 34 VRs of PS3.5 Table 6.2-1 (two upper-case letters).
bool IsKnownVr(std::string_view vr);

// A VR's two characters as one number ('U' << 8 | 'S'), 0 unless `vr` has two: VR tests
// on the per-element path are switches on it rather than chains of string comparisons
// (those cost a tenth of the parse).
constexpr uint16_t VrCode(std::string_view vr) {
  return vr.size() == 2 ? static_cast<uint16_t>(static_cast<unsigned char>(vr[0]) << 8 |
                                                static_cast<unsigned char>(vr[1]))
                        : 0;
}

// "(GGGG,EEEE)" with upper-case hex digits.
std::string TagString(uint32_t tag);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_DATASET_SCANNER_H_
