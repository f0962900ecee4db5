// JPEG 2000 frame decoding with OpenJPEG 2.5 (Debian's DCMTK 3.6.7 has no JPEG 2000 codec).
// Used by pixel_access.cc for transfer syntaxes 1.2.840.10008.1.2.4.90/.91 and the
// High-Throughput JPEG 2000 syntaxes .4.201/.202/.203 (OpenJPEG >= 2.5 decodes HTJ2K).
#ifndef DICOMSTORE_DICOM_J2K_DECODER_H_
#define DICOMSTORE_DICOM_J2K_DECODER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore::dicom {

// What the DICOM dataset says the frame looks like; the decoded codestream must agree on
// the geometry (rows, columns, at least `samples_per_pixel` components, no subsampling).
struct J2kTarget {
  int rows = 0;
  int columns = 0;
  int samples_per_pixel = 1;
  int bits_allocated = 16;  // 8, 16 or 32
  int bits_stored = 16;
  int pixel_representation = 0;  // 0 unsigned, 1 two's complement
};

// What the codestream itself says (reported so the caller can fix up attributes).
struct J2kFrameInfo {
  int components = 0;
  int precision = 0;       // bits per sample of the first component
  bool is_signed = false;  // of the first component
  bool mct = false;        // a multi-component (RCT/ICT) transform was undone by OpenJPEG,
                           // i.e. the output samples are RGB
};

// Decodes one frame (the concatenated fragments of that frame) into native little-endian
// pixel bytes, colour-by-pixel (PlanarConfiguration 0): rows*columns*samples*bytes.
// The codestream may be a raw J2K codestream (starts with FF 4F FF 51) or a JP2 file
// (starts with the JP2 signature box). Sample values are written as two's complement
// truncated to bits_allocated; when the DICOM PixelRepresentation is 1 but the codestream
// is unsigned, values are sign-extended from bits_stored: the DICOM attributes win (see
// pixel_access.cc for the rationale).
// Errors: INVALID_ARGUMENT when the geometry disagrees with `target`, INTERNAL when
// OpenJPEG fails (corrupt or truncated codestream); the message carries OpenJPEG's reason.
absl::StatusOr<std::string> DecodeJ2kFrame(std::string_view data, const J2kTarget& target,
                                           J2kFrameInfo* info = nullptr);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_J2K_DECODER_H_
