// 8-bit image helpers for WADO-RS rendered retrieval: resampling to a viewport and encoding
// as JPEG (libjpeg-turbo) or PNG (libpng), entirely in memory.
#ifndef DICOMSTORE_DICOM_PIXEL_IMAGE_CODEC_H_
#define DICOMSTORE_DICOM_PIXEL_IMAGE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore::dicom {

// An 8-bit image, `channels` (1 = grey, 3 = RGB) interleaved samples per pixel, rows top to
// bottom without padding: pixels.size() == width * height * channels.
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::string pixels;
};

// The size that fits `width` x `height` inside a viewport of `max_width` x `max_height`
// with the aspect ratio kept (up- or down-scaling). A viewport dimension <= 0 does not
// constrain; both <= 0 keeps the original size. Results are at least 1x1.
void FitToViewport(int width, int height, int max_width, int max_height, int* out_width,
                   int* out_height);

// Resamples to exactly `width` x `height`: area averaging along an axis that shrinks,
// bilinear interpolation along an axis that grows.
Image8 ResizeImage(const Image8& image, int width, int height);

// Baseline JPEG, quality 1..100. INTERNAL on encoder failure.
absl::StatusOr<std::string> EncodeJpeg(const Image8& image, int quality = 90);
// 8-bit grey or RGB PNG. INTERNAL on encoder failure.
absl::StatusOr<std::string> EncodePng(const Image8& image);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_PIXEL_IMAGE_CODEC_H_
