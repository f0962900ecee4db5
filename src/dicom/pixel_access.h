// Everything WADO-RS needs beyond passing stored bytes through (spec §10.4): transcoding a
// Part 10 file to another transfer syntax, extracting frames, rendering a frame as JPEG or
// PNG, and reading one bulk data element. Inputs are whole Part 10 files in memory (usually
// a mapped blob); outputs are new byte strings.
//
// Errors: INVALID_ARGUMENT for a request that does not fit the instance (no pixel data,
// frame out of range, unknown bulk data path); FAILED_PRECONDITION when the conversion is
// not possible (the HTTP layer answers 406 Not Acceptable); INTERNAL for codec failures.
#ifndef DICOMSTORE_DICOM_PIXEL_ACCESS_H_
#define DICOMSTORE_DICOM_PIXEL_ACCESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dicomstore::dicom {

inline constexpr std::string_view kImplicitVRLittleEndian = "1.2.840.10008.1.2";
inline constexpr std::string_view kExplicitVRLittleEndian = "1.2.840.10008.1.2.1";

// Whether `from` can be converted to `to` by TranscodeInstance: the identity (any syntax,
// bytes passed through), or a native target -- Explicit VR Little Endian, Implicit VR
// Little Endian, Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99) -- from any
// syntax whose pixel data can be decoded here: native LE/BE, deflated, JPEG
// 4.50/.51/.53/.55/.57/.70, JPEG-LS 4.80/.81, RLE 1.2.5 (DCMTK codecs), JPEG 2000
// 4.90/.91 and HTJ2K 4.201/.202/.203 (OpenJPEG). No encoder: a compressed target is false
// (the HTTP layer answers 406).
bool CanTranscode(std::string_view from_ts, std::string_view to_ts);

// Returns the instance re-encoded in `to_ts`: a complete Part 10 file whose File Meta
// TransferSyntaxUID is updated (other File Meta values kept as stored). The dataset is
// unchanged except what decompression requires: PhotometricInterpretation becomes RGB when
// the decoder converted YBR (JPEG YBR_FULL_422, JPEG 2000 YBR_RCT/YBR_ICT with MCT), and
// PlanarConfiguration is 0 after JPEG 2000. When `to_ts` equals the stored syntax the input
// is returned unchanged (not even parsed). Instances without pixel data go to any native
// target whatever their stored syntax.
// JPEG 2000 sign: when the codestream is unsigned but PixelRepresentation is 1, the
// dataset wins (samples sign-extended from BitsStored; see pixel_access.cc).
// Errors: FAILED_PRECONDITION for an unsupported pair; INVALID_ARGUMENT for an unreadable
// file; INTERNAL when decoding fails (corrupt codestream).
absl::StatusOr<std::string> TranscodeInstance(std::string_view part10, std::string_view to_ts);

// Frames are 1-based. With `native` false the frames are returned exactly as stored (for
// encapsulated syntaxes: the compressed bitstream of each frame, i.e. its fragments
// concatenated); with `native` true they are decoded to native little-endian pixel bytes
// (rows*cols*samples*bytes per frame; 1-bit frames packed and realigned to bit 0).
// Frames of encapsulated data are located by, in order: a single frame = all fragments;
// the Basic (else Extended) Offset Table when consistent; one fragment per frame when the
// counts match; frame-start markers (JPEG SOI, J2K SOC, JP2 signature); else INTERNAL.
// Native Big Endian and Deflated stores have no separate stored frame form: their frames
// come back little endian labelled Explicit VR LE even with `native` false.
// Errors: INVALID_ARGUMENT for no pixel data, an empty list or a frame out of range;
// FAILED_PRECONDITION for an undecodable syntax; INTERNAL for codec failures.
struct FrameData {
  std::string bytes;
  std::string transfer_syntax_uid;  // of `bytes`: stored TS, or Explicit VR LE when decoded
};
absl::StatusOr<std::vector<FrameData>> ExtractFrames(std::string_view part10,
                                                     const std::vector<int>& frames, bool native);

enum class ImageFormat { kJpeg, kPng };
struct Viewport {
  int width = 0;  // 0 = the image's own size
  int height = 0;
};
// Renders one frame (1-based) to an 8-bit image (grey, or RGB for colour/palette images)
// with DCMTK's DicomImage: modality rescale applied, then the first stored
// WindowCenter/WindowWidth (top level, else the frame's functional groups), else the first
// VOI LUT, else the frame's min/max. Float/double pixel data is windowed the same way.
// Scaled (up or down) to the largest size fitting the viewport with aspect preserved; a
// viewport dimension of 0 does not constrain. JPEG quality 90, or PNG.
// Errors as ExtractFrames.
absl::StatusOr<std::string> RenderFrame(std::string_view part10, int frame, ImageFormat format,
                                        const Viewport& viewport);

// The raw value bytes of the element at `tag_path` ("7FE00010", "00880200/0/7FE00010":
// 8 hex digits per tag, decimal 0-based item indices in between), little endian and
// uncompressed: encapsulated pixel data is decoded to native pixel bytes of all frames
// first (Google returns bulk data uncompressed, spec §10.4). Any non-sequence element can
// be read. INVALID_ARGUMENT for a malformed path, a missing item or element, or a sequence.
absl::StatusOr<std::string> ReadBulkData(std::string_view part10, std::string_view tag_path);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_PIXEL_ACCESS_H_
