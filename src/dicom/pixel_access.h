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

// Whether `from` can be converted to `to` by TranscodeInstance. Supported targets:
// Explicit VR Little Endian and Implicit VR Little Endian from any syntax whose pixel data
// can be decoded here (native, deflated, big endian, JPEG baseline/extended/lossless,
// JPEG-LS, RLE, JPEG 2000 via OpenJPEG), and the identity.
bool CanTranscode(std::string_view from_ts, std::string_view to_ts);

// Returns the instance re-encoded in `to_ts` (a complete Part 10 file with updated File Meta).
absl::StatusOr<std::string> TranscodeInstance(std::string_view part10, std::string_view to_ts);

// Frames are 1-based. With `native` false the frames are returned exactly as stored (for
// encapsulated syntaxes: the compressed bitstream of each frame); with `native` true they
// are decoded to native little-endian pixel bytes (rows*cols*samples*bytes per frame).
struct FrameData {
  std::string bytes;
  std::string transfer_syntax_uid;  // of `bytes`: stored TS, or Explicit VR LE when native
};
absl::StatusOr<std::vector<FrameData>> ExtractFrames(std::string_view part10,
                                                     const std::vector<int>& frames, bool native);

enum class ImageFormat { kJpeg, kPng };
struct Viewport {
  int width = 0;   // 0 = the image's own size
  int height = 0;
};
// Renders one frame (1-based) to an 8-bit image using the file's window settings (or the
// full pixel range when it has none), scaled to fit the viewport with aspect preserved.
absl::StatusOr<std::string> RenderFrame(std::string_view part10, int frame, ImageFormat format,
                                        const Viewport& viewport);

// The raw value bytes of the element at `tag_path` ("7FE00010", "00880200/0/7FE00010"),
// little endian and uncompressed: encapsulated pixel data is decoded to native pixel bytes
// of all frames first (Google returns bulk data uncompressed, spec §10.4).
absl::StatusOr<std::string> ReadBulkData(std::string_view part10, std::string_view tag_path);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_PIXEL_ACCESS_H_
