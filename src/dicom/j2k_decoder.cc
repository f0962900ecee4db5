#include "dicom/j2k_decoder.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dicomstore::dicom {
namespace {

constexpr unsigned char kJp2Signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50,
                                           0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};

// The input of one decode: OpenJPEG pulls bytes through these callbacks.
struct MemorySource {
  const unsigned char* data;
  OPJ_UINT64 size;
  OPJ_UINT64 pos;
};

OPJ_SIZE_T Read(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (src->pos >= src->size) return static_cast<OPJ_SIZE_T>(-1);  // end of stream
  const OPJ_UINT64 count = std::min<OPJ_UINT64>(n, src->size - src->pos);
  std::memcpy(buffer, src->data + src->pos, count);
  src->pos += count;
  return static_cast<OPJ_SIZE_T>(count);
}

OPJ_OFF_T Skip(OPJ_OFF_T n, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (n < 0) {
    const OPJ_UINT64 back = std::min<OPJ_UINT64>(static_cast<OPJ_UINT64>(-n), src->pos);
    src->pos -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const OPJ_UINT64 fwd = std::min<OPJ_UINT64>(static_cast<OPJ_UINT64>(n), src->size - src->pos);
  src->pos += fwd;
  return static_cast<OPJ_OFF_T>(fwd);
}

OPJ_BOOL Seek(OPJ_OFF_T n, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (n < 0 || static_cast<OPJ_UINT64>(n) > src->size) return OPJ_FALSE;
  src->pos = static_cast<OPJ_UINT64>(n);
  return OPJ_TRUE;
}

void CaptureError(const char* msg, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->empty() && msg != nullptr) {
    *out = msg;
    while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  }
}
void Ignore(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

absl::Status Fail(const char* what, const std::string& reason) {
  return absl::InternalError(
      absl::StrCat("JPEG 2000 decoding failed (", what, reason.empty() ? "" : ": ", reason, ")"));
}

}  // namespace

absl::StatusOr<std::string> DecodeJ2kFrame(std::string_view data, const J2kTarget& target,
                                           J2kFrameInfo* info) {
  if (target.rows <= 0 || target.columns <= 0 || target.samples_per_pixel <= 0) {
    return absl::InvalidArgumentError("JPEG 2000 frame: missing Rows/Columns/SamplesPerPixel");
  }
  if (target.bits_allocated != 8 && target.bits_allocated != 16 && target.bits_allocated != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG 2000 frame: unsupported BitsAllocated ", target.bits_allocated));
  }
  if (data.size() < 4) return Fail("empty codestream", "");

  const bool jp2 = data.size() >= sizeof(kJp2Signature) &&
                   std::memcmp(data.data(), kJp2Signature, sizeof(kJp2Signature)) == 0;
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(
      opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (!codec) return Fail("cannot create decoder", "");
  std::string error;
  opj_set_error_handler(codec.get(), CaptureError, &error);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);

  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) return Fail("setup", error);
  opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);  // truncated codestreams fail

  MemorySource src{reinterpret_cast<const unsigned char*>(data.data()), data.size(), 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(
      opj_stream_create(std::min<size_t>(data.size(), 1 << 20), OPJ_TRUE));
  if (!stream) return Fail("cannot create stream", "");
  opj_stream_set_user_data(stream.get(), &src, nullptr);
  opj_stream_set_user_data_length(stream.get(), data.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), Skip);
  opj_stream_set_seek_function(stream.get(), Seek);

  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image)) {
    opj_image_destroy(raw_image);
    return Fail("header", error);
  }
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw_image);

  // Check the geometry before decoding so a hostile header cannot make us allocate.
  const int samples = target.samples_per_pixel;
  if (image->numcomps < static_cast<OPJ_UINT32>(samples) || image->comps == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("JPEG 2000 frame has ", image->numcomps,
                                                   " component(s), SamplesPerPixel is ", samples));
  }
  const OPJ_UINT32 width = image->x1 - image->x0;
  const OPJ_UINT32 height = image->y1 - image->y0;
  if (width != static_cast<OPJ_UINT32>(target.columns) ||
      height != static_cast<OPJ_UINT32>(target.rows)) {
    return absl::InvalidArgumentError(absl::StrCat("JPEG 2000 frame is ", width, "x", height,
                                                   ", the dataset says ", target.columns, "x",
                                                   target.rows));
  }
  for (int c = 0; c < samples; ++c) {
    if (image->comps[c].dx != 1 || image->comps[c].dy != 1) {
      return absl::InvalidArgumentError("JPEG 2000 frame with subsampled components");
    }
    if (image->comps[c].prec > static_cast<OPJ_UINT32>(target.bits_allocated) ||
        image->comps[c].prec == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("JPEG 2000 component precision ", image->comps[c].prec,
                       " does not fit BitsAllocated ", target.bits_allocated));
    }
  }
  bool mct = false;
  if (opj_codestream_info_v2_t* cstr = opj_get_cstr_info(codec.get()); cstr != nullptr) {
    mct = cstr->m_default_tile_info.mct != 0;
    opj_destroy_cstr_info(&cstr);
  }

  if (!opj_decode(codec.get(), stream.get(), image.get())) return Fail("decode", error);
  if (!opj_end_decompress(codec.get(), stream.get())) return Fail("end of codestream", error);

  for (int c = 0; c < samples; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.data == nullptr || comp.w != width || comp.h != height) {
      return Fail("decoded component missing or resized", error);
    }
  }

  const bool is_signed = image->comps[0].sgnd != 0;
  if (info != nullptr) {
    info->components = static_cast<int>(image->numcomps);
    info->precision = static_cast<int>(image->comps[0].prec);
    info->is_signed = is_signed;
    info->mct = mct && samples >= 3;
  }

  // DICOM wins: a signed dataset with an unsigned codestream is sign-extended from
  // BitsStored (the encoder stored the two's complement bit pattern as unsigned).
  const int bits_stored = std::clamp(target.bits_stored, 1, target.bits_allocated);
  const bool sign_extend = target.pixel_representation == 1 && !is_signed && bits_stored < 32;
  const uint32_t stored_mask =
      bits_stored >= 32 ? 0xFFFFFFFFu : static_cast<uint32_t>((uint64_t{1} << bits_stored) - 1);
  const uint32_t sign_bit = bits_stored >= 32 ? 0 : (uint32_t{1} << (bits_stored - 1));

  const size_t bytes_per_sample = static_cast<size_t>(target.bits_allocated / 8);
  const size_t pixels = static_cast<size_t>(width) * height;
  std::string out(pixels * samples * bytes_per_sample, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  for (size_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < samples; ++c) {
      uint32_t v = static_cast<uint32_t>(image->comps[c].data[p]);
      if (sign_extend) {
        v &= stored_mask;
        if (v & sign_bit) v |= ~stored_mask;
      }
      for (size_t b = 0; b < bytes_per_sample; ++b) {
        *dst++ = static_cast<unsigned char>((v >> (8 * b)) & 0xFF);
      }
    }
  }
  return out;
}

}  // namespace dicomstore::dicom
