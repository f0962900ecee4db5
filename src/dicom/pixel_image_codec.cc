#include "dicom/pixel_image_codec.h"

// clang-format off
#include <cstdio>   // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dicomstore::dicom {
namespace {

// One axis of a resampling: for each output index, the source range and weights.
struct Tap {
  int first;
  std::vector<float> weights;  // weights of source indices first, first+1, ...
};

std::vector<Tap> AxisTaps(int src, int dst) {
  std::vector<Tap> taps(static_cast<size_t>(dst));
  const double scale = static_cast<double>(src) / dst;
  for (int i = 0; i < dst; ++i) {
    Tap& t = taps[static_cast<size_t>(i)];
    if (scale > 1.0) {
      // Shrinking: average the source interval [i*scale, (i+1)*scale) with partial
      // coverage at both ends.
      const double lo = i * scale;
      const double hi = std::min<double>(src, (i + 1) * scale);
      t.first = static_cast<int>(std::floor(lo));
      const int last = std::min(src - 1, static_cast<int>(std::ceil(hi)) - 1);
      double total = 0;
      for (int s = t.first; s <= last; ++s) {
        const double w = std::min<double>(s + 1, hi) - std::max<double>(s, lo);
        t.weights.push_back(static_cast<float>(std::max(0.0, w)));
        total += std::max(0.0, w);
      }
      if (total <= 0) {
        t.weights.assign(1, 1.0f);
      } else {
        for (float& w : t.weights) w = static_cast<float>(w / total);
      }
    } else {
      // Growing (or same size): bilinear between the two nearest source centres.
      const double centre = (i + 0.5) * scale - 0.5;
      int s0 = static_cast<int>(std::floor(centre));
      double frac = centre - s0;
      if (s0 < 0) {
        s0 = 0;
        frac = 0;
      }
      if (s0 >= src - 1) {
        s0 = src - 1;
        frac = 0;
      }
      t.first = s0;
      t.weights = {static_cast<float>(1.0 - frac)};
      if (frac > 0) t.weights.push_back(static_cast<float>(frac));
    }
  }
  return taps;
}

// libjpeg reports fatal errors through error_exit, which must not return: jump back to
// the encoder. No C++ objects with destructors live between setjmp and the jump.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
void JpegSilence(j_common_ptr) {}

// Returns true on success; on failure `message` holds libjpeg's reason.
bool JpegCompress(const Image8& image, int quality, unsigned char** out, unsigned long* out_size,
                  char* message) {
  jpeg_compress_struct cinfo;
  JpegError err;
  std::memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegErrorExit;
  err.mgr.output_message = JpegSilence;
  err.message[0] = '\0';
  if (setjmp(err.jump) != 0) {
    std::memcpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, out_size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = reinterpret_cast<JSAMPROW>(const_cast<char*>(image.pixels.data())) +
                   stride * cinfo.next_scanline;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

void PngWrite(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))
      ->append(reinterpret_cast<const char*>(data), length);
}
void PngFlush(png_structp) {}
void PngErrorFn(png_structp png, png_const_charp message) {
  auto* buf = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(buf, 200, "%s", message != nullptr ? message : "unknown");
  png_longjmp(png, 1);
}
void PngWarningFn(png_structp, png_const_charp) {}

bool PngCompress(const Image8& image, std::string* out, char* message) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, message, PngErrorFn, PngWarningFn);
  if (png == nullptr) {
    std::snprintf(message, 200, "png_create_write_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(message, 200, "png_create_info_struct failed");
    return false;
  }
  if (setjmp(png_jmpbuf(png)) != 0) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, PngWrite, PngFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8,
               image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  for (int y = 0; y < image.height; ++y) {
    png_bytep row = reinterpret_cast<png_bytep>(const_cast<char*>(image.pixels.data())) +
                    stride * static_cast<size_t>(y);
    png_write_row(png, row);
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

absl::Status CheckImage(const Image8& image) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * image.channels) {
    return absl::InternalError("invalid 8-bit image for encoding");
  }
  return absl::OkStatus();
}

}  // namespace

void FitToViewport(int width, int height, int max_width, int max_height, int* out_width,
                   int* out_height) {
  width = std::max(width, 1);
  height = std::max(height, 1);
  double scale = 0;
  if (max_width > 0 && max_height > 0) {
    scale =
        std::min(static_cast<double>(max_width) / width, static_cast<double>(max_height) / height);
  } else if (max_width > 0) {
    scale = static_cast<double>(max_width) / width;
  } else if (max_height > 0) {
    scale = static_cast<double>(max_height) / height;
  } else {
    *out_width = width;
    *out_height = height;
    return;
  }
  int w = static_cast<int>(std::lround(width * scale));
  int h = static_cast<int>(std::lround(height * scale));
  // Rounding must not break the viewport bound.
  if (max_width > 0) w = std::min(w, max_width);
  if (max_height > 0) h = std::min(h, max_height);
  *out_width = std::max(w, 1);
  *out_height = std::max(h, 1);
}

Image8 ResizeImage(const Image8& image, int width, int height) {
  if (width == image.width && height == image.height) return image;
  const int c = image.channels;
  const std::vector<Tap> xt = AxisTaps(image.width, width);
  const std::vector<Tap> yt = AxisTaps(image.height, height);
  // Horizontal pass into floats, then vertical pass into bytes.
  std::vector<float> tmp(static_cast<size_t>(width) * image.height * c);
  const auto* src = reinterpret_cast<const unsigned char*>(image.pixels.data());
  for (int y = 0; y < image.height; ++y) {
    const unsigned char* row = src + static_cast<size_t>(y) * image.width * c;
    float* out = tmp.data() + static_cast<size_t>(y) * width * c;
    for (int x = 0; x < width; ++x) {
      const Tap& t = xt[static_cast<size_t>(x)];
      for (int k = 0; k < c; ++k) {
        float acc = 0;
        for (size_t i = 0; i < t.weights.size(); ++i) {
          acc += t.weights[i] * row[(static_cast<size_t>(t.first) + i) * c + k];
        }
        out[static_cast<size_t>(x) * c + k] = acc;
      }
    }
  }
  Image8 result;
  result.width = width;
  result.height = height;
  result.channels = c;
  result.pixels.resize(static_cast<size_t>(width) * height * c);
  auto* dst = reinterpret_cast<unsigned char*>(result.pixels.data());
  const size_t stride = static_cast<size_t>(width) * c;
  for (int y = 0; y < height; ++y) {
    const Tap& t = yt[static_cast<size_t>(y)];
    for (size_t i = 0; i < stride; ++i) {
      float acc = 0;
      for (size_t j = 0; j < t.weights.size(); ++j) {
        acc += t.weights[j] * tmp[(static_cast<size_t>(t.first) + j) * stride + i];
      }
      dst[static_cast<size_t>(y) * stride + i] =
          static_cast<unsigned char>(std::clamp(std::lround(acc), 0L, 255L));
    }
  }
  return result;
}

absl::StatusOr<std::string> EncodeJpeg(const Image8& image, int quality) {
  if (absl::Status s = CheckImage(image); !s.ok()) return s;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  char message[JMSG_LENGTH_MAX] = {0};
  const bool ok = JpegCompress(image, std::clamp(quality, 1, 100), &buffer, &size, message);
  std::string out;
  if (ok && buffer != nullptr) out.assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);  // jpeg_mem_dest buffers are malloc'ed
  if (!ok || out.empty())
    return absl::InternalError(absl::StrCat("JPEG encoding failed: ", message));
  return out;
}

absl::StatusOr<std::string> EncodePng(const Image8& image) {
  if (absl::Status s = CheckImage(image); !s.ok()) return s;
  std::string out;
  char message[256] = {0};
  if (!PngCompress(image, &out, message)) {
    return absl::InternalError(absl::StrCat("PNG encoding failed: ", message));
  }
  return out;
}

}  // namespace dicomstore::dicom
