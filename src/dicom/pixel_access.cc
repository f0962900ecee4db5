// WADO-RS pixel work (spec healthcare-api.md §10.4) on top of DCMTK and OpenJPEG.
//
// Design notes
// - Every call parses the whole Part 10 file from memory with DCMTK (values are copied, the
//   input may be freed afterwards) into objects owned by the call: no shared DCMTK object,
//   so concurrent calls are safe (the codec registry is registered once by
//   InitializeDicom() and only read afterwards).
// - Decoding: JPEG (4.50/.51/.53/.55/.57/.70), JPEG-LS (4.80/.81) and RLE use DCMTK's
//   codecs (whole dataset via chooseRepresentation for transcoding, one frame via
//   DcmPixelData::getUncompressedFrame otherwise; both give identical bytes for every corpus
//   file). JPEG 2000 (4.90/.91 and HTJ2K 4.201-.203) is decoded with OpenJPEG
//   (j2k_decoder.h) frame by frame, and the decoded frames replace the encapsulated pixel
//   data before writing. Decoded colour data keeps the dataset's PlanarConfiguration
//   (DCMTK honours it; JPEG 2000 output is colour-by-pixel and PlanarConfiguration is set
//   to 0); YBR photometric interpretations that the decoder converts become RGB.
// - JPEG 2000 sign (ct-j2k-pixelrep-mismatch-jp-charset.dcm): the codestream says unsigned
//   13-bit, the dataset PixelRepresentation=1 / BitsStored=13. The DICOM attributes win:
//   samples are sign-extended from BitsStored and PixelRepresentation stays 1. Evidence:
//   read as signed the CT spans -2000..1896 (air and padding negative, RescaleIntercept 0,
//   window 40/100: plausible Hounsfield units); read as unsigned, air would sit at 6000-8191.
//   pydicom and GDCM make the same choice.
// - Frames of encapsulated pixel data (native == false) are located in this order:
//   1. a single frame: all fragments;
//   2. the Basic Offset Table (item 0), or else the Extended Offset Table (7FE0,0001),
//      when it has one entry per frame, starts at 0, increases, and every entry is the
//      start of a fragment item;
//   3. as many fragments as frames: one fragment per frame;
//   4. more fragments than frames: a fragment starting with a JPEG/JPEG-LS SOI (FF D8), a
//      JPEG 2000 SOC+SIZ (FF 4F FF 51) or the JP2 signature box begins a frame, when that
//      yields exactly one start per frame with the first fragment a start;
//   otherwise INTERNAL ("cannot locate the fragments of frame N").
//   For native transfer syntaxes a frame is a slice of PixelData (bit-exact for
//   BitsAllocated 1, realigned to start at bit 0). Big endian and deflated stores have no
//   per-frame stored form distinct from native: their frames are returned little endian
//   and labelled Explicit VR Little Endian.
#include "dicom/pixel_access.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "dcmtk/config/osconfig.h"  // must come first among DCMTK headers
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmimage/diregist.h"  // colour (RGB, YBR, palette) support for DicomImage
#include "dcmtk/dcmimgle/dcmimage.h"
#include "dicom/instance_parser.h"
#include "dicom/j2k_decoder.h"
#include "dicom/pixel_image_codec.h"

namespace dicomstore::dicom {
namespace {

static_assert(std::endian::native == std::endian::little,
              "decoded pixel buffers are assumed to be little endian");

constexpr std::string_view kDeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99";
constexpr std::string_view kExplicitVRBigEndian = "1.2.840.10008.1.2.2";

// Upper bound for one decoded pixel data value (the DICOM element length field is 32-bit).
constexpr uint64_t kMaxValueBytes = 0xFFFFFFFEull;

const DcmTagKey kFloatPixelData(0x7FE0, 0x0008);
const DcmTagKey kDoubleFloatPixelData(0x7FE0, 0x0009);
const DcmTagKey kExtendedOffsetTable(0x7FE0, 0x0001);
const DcmTagKey kPerFrameFunctionalGroups(0x5200, 0x9230);
const DcmTagKey kSharedFunctionalGroups(0x5200, 0x9229);
const DcmTagKey kFrameVoiLutSequence(0x0028, 0x9132);
const DcmTagKey kPixelValueTransformationSequence(0x0028, 0x9145);

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

bool IsJ2kSyntax(std::string_view ts) {
  return ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91" ||
         ts == "1.2.840.10008.1.2.4.201" || ts == "1.2.840.10008.1.2.4.202" ||
         ts == "1.2.840.10008.1.2.4.203";
}

bool IsNativeSyntax(std::string_view ts) {
  return ts == kImplicitVRLittleEndian || ts == kExplicitVRLittleEndian ||
         ts == kExplicitVRBigEndian || ts == kDeflatedExplicitVRLittleEndian;
}

// Syntaxes whose pixel data can be decoded here.
bool IsDecodableSyntax(std::string_view ts) {
  static constexpr std::string_view kDcmtk[] = {
      "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.53",
      "1.2.840.10008.1.2.4.55", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
      "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.5"};
  if (IsNativeSyntax(ts) || IsJ2kSyntax(ts)) return true;
  return std::find(std::begin(kDcmtk), std::end(kDcmtk), ts) != std::end(kDcmtk);
}

// Syntaxes TranscodeInstance can write (native ones only; no encoder is provided).
std::optional<E_TransferSyntax> TargetXfer(std::string_view ts) {
  if (ts == kExplicitVRLittleEndian) return EXS_LittleEndianExplicit;
  if (ts == kImplicitVRLittleEndian) return EXS_LittleEndianImplicit;
  if (ts == kDeflatedExplicitVRLittleEndian) return EXS_DeflatedLittleEndianExplicit;
  return std::nullopt;
}

std::string CondText(const OFCondition& c) { return c.text() != nullptr ? c.text() : "error"; }

// ---------------------------------------------------------------------------------------
// Loading

struct Loaded {
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset* dataset = nullptr;
  std::string ts;  // stored transfer syntax UID
};

absl::StatusOr<Loaded> Load(std::string_view part10) {
  if (absl::Status s = InitializeDicom(); !s.ok()) return s;
  if (part10.empty()) return absl::InvalidArgumentError("empty DICOM file");
  Loaded out;
  out.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(part10.data(), static_cast<offile_off_t>(part10.size()));
  in.setEos();
  out.file->transferInit();
  const OFCondition c = out.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  out.file->transferEnd();
  if (c.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the stored DICOM file: ", CondText(c)));
  }
  out.dataset = out.file->getDataset();
  if (out.dataset == nullptr) return absl::InvalidArgumentError("DICOM file without a dataset");
  OFString ts;
  if (out.file->getMetaInfo() != nullptr &&
      out.file->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts).good() &&
      !ts.empty()) {
    out.ts = std::string(Trim(std::string_view(ts.c_str(), ts.length())));
  } else {
    out.ts = DcmXfer(out.dataset->getOriginalXfer()).getXferID();
  }
  return out;
}

// The transfer syntax UID from a Part 10 File Meta, without a full parse ("" if absent).
std::string PeekTransferSyntax(std::string_view part10) {
  if (part10.size() < 132 || part10.substr(128, 4) != "DICM") return "";
  size_t pos = 132;
  auto u16 = [&](size_t p) {
    return static_cast<uint16_t>(static_cast<uint8_t>(part10[p]) |
                                 (static_cast<uint8_t>(part10[p + 1]) << 8));
  };
  while (pos + 8 <= part10.size()) {
    const uint16_t group = u16(pos);
    const uint16_t element = u16(pos + 2);
    if (group != 0x0002) break;
    const std::string_view vr = part10.substr(pos + 4, 2);
    uint64_t len;
    size_t header;
    if (vr == "OB" || vr == "OW" || vr == "OF" || vr == "SQ" || vr == "UT" || vr == "UN" ||
        vr == "UC" || vr == "UR" || vr == "OD" || vr == "OL" || vr == "OV" || vr == "SV" ||
        vr == "UV") {
      if (pos + 12 > part10.size()) break;
      len = static_cast<uint32_t>(u16(pos + 8) | (static_cast<uint32_t>(u16(pos + 10)) << 16));
      header = 12;
    } else {
      len = u16(pos + 6);
      header = 8;
    }
    if (pos + header + len > part10.size()) break;
    if (element == 0x0010) {
      return std::string(Trim(part10.substr(pos + header, len)));
    }
    pos += header + len;
  }
  return "";
}

// ---------------------------------------------------------------------------------------
// Pixel description

struct PixelInfo {
  DcmItem* item = nullptr;               // dataset or sequence item holding the pixel element
  DcmElement* element = nullptr;         // PixelData, FloatPixelData or DoubleFloatPixelData
  DcmPixelData* pixel_data = nullptr;    // set for (7FE0,0010)
  DcmPixelSequence* sequence = nullptr;  // set when encapsulated
  bool is_float = false;
  int rows = 0, columns = 0, samples = 1, bits_allocated = 0, bits_stored = 0;
  int pixel_representation = 0, planar_configuration = 0;
  int64_t frames = 1;
  std::string photometric;
  uint64_t native_frame_bits = 0;    // size of one frame as stored natively, in bits
  uint64_t decoded_frame_bytes = 0;  // size of one decoded frame
};

int GetUint16(DcmItem* item, const DcmTagKey& key, int fallback) {
  Uint16 v = 0;
  if (item->findAndGetUint16(key, v).good()) return v;
  return fallback;
}

int64_t NumberOfFrames(DcmItem* item) {
  OFString s;
  if (item->findAndGetOFString(DCM_NumberOfFrames, s).bad()) return 1;
  int64_t n = 0;
  if (!absl::SimpleAtoi(Av(Trim(std::string_view(s.c_str(), s.length()))), &n) || n < 1) return 1;
  return n;
}

absl::StatusOr<PixelInfo> DescribePixels(DcmItem* item) {
  PixelInfo p;
  p.item = item;
  DcmElement* e = nullptr;
  if (item->findAndGetElement(DCM_PixelData, e, OFFalse).good() && e != nullptr) {
    p.element = e;
    if (e->ident() == EVR_PixelData) p.pixel_data = static_cast<DcmPixelData*>(e);
  } else if (item->findAndGetElement(kFloatPixelData, e, OFFalse).good() && e != nullptr) {
    p.element = e;
    p.is_float = true;
  } else if (item->findAndGetElement(kDoubleFloatPixelData, e, OFFalse).good() && e != nullptr) {
    p.element = e;
    p.is_float = true;
  } else {
    return absl::InvalidArgumentError("the instance has no pixel data");
  }
  p.rows = GetUint16(item, DCM_Rows, 0);
  p.columns = GetUint16(item, DCM_Columns, 0);
  p.samples = GetUint16(item, DCM_SamplesPerPixel, 1);
  const int default_bits = p.element->getTag() == kDoubleFloatPixelData ? 64 : 32;
  p.bits_allocated = GetUint16(item, DCM_BitsAllocated, p.is_float ? default_bits : 0);
  p.bits_stored = GetUint16(item, DCM_BitsStored, p.bits_allocated);
  p.pixel_representation = GetUint16(item, DCM_PixelRepresentation, 0);
  p.planar_configuration = GetUint16(item, DCM_PlanarConfiguration, 0);
  p.frames = NumberOfFrames(item);
  OFString pi;
  if (item->findAndGetOFString(DCM_PhotometricInterpretation, pi).good()) {
    p.photometric = std::string(Trim(std::string_view(pi.c_str(), pi.length())));
  }
  if (p.rows <= 0 || p.columns <= 0) {
    return absl::InvalidArgumentError("the pixel data has no Rows/Columns");
  }
  if (p.samples < 1 || p.samples > 4) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported SamplesPerPixel ", p.samples));
  }
  if (p.bits_allocated != 1 &&
      (p.bits_allocated % 8 != 0 || p.bits_allocated == 0 || p.bits_allocated > 64)) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported BitsAllocated ", p.bits_allocated));
  }
  const uint64_t pixels = static_cast<uint64_t>(p.rows) * static_cast<uint64_t>(p.columns);
  const bool subsampled = p.photometric == "YBR_FULL_422" || p.photometric == "YBR_PARTIAL_422";
  // Native 4:2:2 stores two samples per pixel on average (Y Y Cb Cr per pixel pair).
  p.native_frame_bits = pixels *
                        static_cast<uint64_t>(subsampled && p.samples == 3 ? 2 : p.samples) *
                        static_cast<uint64_t>(p.bits_allocated);
  p.decoded_frame_bytes = pixels * static_cast<uint64_t>(p.samples) *
                          static_cast<uint64_t>(std::max(p.bits_allocated, 8) / 8);
  if (p.bits_allocated == 1) p.decoded_frame_bytes = (p.native_frame_bits + 7) / 8;
  if (p.decoded_frame_bytes * static_cast<uint64_t>(p.frames) > kMaxValueBytes) {
    return absl::InvalidArgumentError("the pixel data would exceed 4 GiB once decoded");
  }
  if (p.pixel_data != nullptr) {
    E_TransferSyntax original = EXS_Unknown;
    const DcmRepresentationParameter* param = nullptr;
    p.pixel_data->getOriginalRepresentationKey(original, param);
    if (DcmXfer(original).isEncapsulated()) {
      DcmPixelSequence* seq = nullptr;
      if (p.pixel_data->getEncapsulatedRepresentation(original, param, seq).bad() ||
          seq == nullptr) {
        return absl::InternalError("cannot access the encapsulated pixel data");
      }
      p.sequence = seq;
    }
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// Fragments and frames

struct Fragment {
  const char* data = nullptr;
  uint32_t length = 0;
};

absl::StatusOr<std::vector<Fragment>> Fragments(DcmPixelSequence* seq) {
  std::vector<Fragment> out;
  const unsigned long n = seq->card();
  for (unsigned long i = 1; i < n; ++i) {
    DcmPixelItem* item = nullptr;
    if (seq->getItem(item, i).bad() || item == nullptr) {
      return absl::InternalError("cannot access a pixel data fragment");
    }
    Fragment f;
    f.length = item->getLength();
    if (f.length > 0) {
      Uint8* bytes = nullptr;
      if (item->getUint8Array(bytes).bad() || bytes == nullptr) {
        return absl::InternalError("cannot access a pixel data fragment");
      }
      f.data = reinterpret_cast<const char*>(bytes);
    }
    out.push_back(f);
  }
  return out;
}

// Offsets from the Basic Offset Table, else from the Extended Offset Table.
std::vector<uint64_t> OffsetTable(DcmPixelSequence* seq, DcmItem* item) {
  std::vector<uint64_t> offsets;
  DcmPixelItem* bot = nullptr;
  if (seq->card() > 0 && seq->getItem(bot, 0).good() && bot != nullptr && bot->getLength() >= 4 &&
      bot->getLength() % 4 == 0) {
    Uint8* bytes = nullptr;
    if (bot->getUint8Array(bytes).good() && bytes != nullptr) {
      for (Uint32 i = 0; i + 4 <= bot->getLength(); i += 4) {
        offsets.push_back(static_cast<uint64_t>(bytes[i]) |
                          (static_cast<uint64_t>(bytes[i + 1]) << 8) |
                          (static_cast<uint64_t>(bytes[i + 2]) << 16) |
                          (static_cast<uint64_t>(bytes[i + 3]) << 24));
      }
      return offsets;
    }
  }
  DcmElement* eot = nullptr;
  if (item->findAndGetElement(kExtendedOffsetTable, eot, OFFalse).good() && eot != nullptr &&
      eot->getLength() >= 8 && eot->getLength() % 8 == 0) {
    std::string raw(eot->getLength(), '\0');
    if (eot->getPartialValue(raw.data(), 0, eot->getLength(), nullptr, EBO_LittleEndian).good()) {
      for (size_t i = 0; i + 8 <= raw.size(); i += 8) {
        uint64_t v = 0;
        for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<uint8_t>(raw[i + b]);
        offsets.push_back(v);
      }
    }
  }
  return offsets;
}

bool StartsFrame(const Fragment& f) {
  auto starts = [&](std::initializer_list<unsigned char> sig) {
    if (f.length < sig.size()) return false;
    size_t i = 0;
    for (unsigned char c : sig) {
      if (static_cast<unsigned char>(f.data[i++]) != c) return false;
    }
    return true;
  };
  return starts({0xFF, 0xD8}) || starts({0xFF, 0x4F, 0xFF, 0x51}) ||
         starts({0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20});
}

// [first fragment index, fragment count] of every frame (0-based indices into Fragments()).
absl::StatusOr<std::vector<std::pair<size_t, size_t>>> MapFrames(
    const std::vector<Fragment>& fragments, DcmPixelSequence* seq, DcmItem* item, int64_t frames) {
  const size_t n = fragments.size();
  const size_t nf = static_cast<size_t>(frames);
  std::vector<std::pair<size_t, size_t>> map;
  if (n == 0) return absl::InvalidArgumentError("the encapsulated pixel data has no fragments");
  if (nf == 1) {
    map.emplace_back(0, n);
    return map;
  }
  // Offset tables: offsets count from the first byte of the first fragment's item tag.
  const std::vector<uint64_t> offsets = OffsetTable(seq, item);
  if (offsets.size() == nf && offsets[0] == 0) {
    std::vector<uint64_t> starts(n);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      starts[i] = pos;
      pos += 8 + static_cast<uint64_t>(fragments[i].length);
    }
    std::vector<size_t> first(nf);
    bool valid = true;
    for (size_t f = 0; f < nf && valid; ++f) {
      if (f > 0 && offsets[f] <= offsets[f - 1]) valid = false;
      auto it = std::lower_bound(starts.begin(), starts.end(), offsets[f]);
      if (it == starts.end() || *it != offsets[f]) valid = false;
      if (valid) first[f] = static_cast<size_t>(it - starts.begin());
    }
    if (valid) {
      for (size_t f = 0; f < nf; ++f) {
        const size_t end = f + 1 < nf ? first[f + 1] : n;
        map.emplace_back(first[f], end - first[f]);
      }
      return map;
    }
  }
  if (n == nf) {
    for (size_t f = 0; f < nf; ++f) map.emplace_back(f, 1);
    return map;
  }
  if (n > nf) {
    std::vector<size_t> starts;
    for (size_t i = 0; i < n; ++i) {
      if (StartsFrame(fragments[i])) starts.push_back(i);
    }
    if (starts.size() == nf && starts[0] == 0) {
      for (size_t f = 0; f < nf; ++f) {
        const size_t end = f + 1 < nf ? starts[f + 1] : n;
        map.emplace_back(starts[f], end - starts[f]);
      }
      return map;
    }
  }
  return absl::InternalError(absl::StrCat("cannot locate the fragments of each frame (", n,
                                          " fragments for ", nf,
                                          " frames, no usable offset table)"));
}

std::string Concat(const std::vector<Fragment>& fragments, std::pair<size_t, size_t> range) {
  std::string out;
  size_t total = 0;
  for (size_t i = range.first; i < range.first + range.second; ++i) total += fragments[i].length;
  out.reserve(total);
  for (size_t i = range.first; i < range.first + range.second; ++i) {
    if (fragments[i].length > 0) out.append(fragments[i].data, fragments[i].length);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Native slices and decoding

// Frame `index` (0-based) of native pixel data, little endian.
absl::StatusOr<std::string> NativeFrame(const PixelInfo& p, int64_t index) {
  const uint64_t bits = p.native_frame_bits;
  const uint64_t first_bit = bits * static_cast<uint64_t>(index);
  const uint64_t first_byte = first_bit / 8;
  const uint64_t end_byte = (first_bit + bits + 7) / 8;
  const uint64_t length = p.element->getLength();
  if (end_byte > length) {
    return absl::InvalidArgumentError(
        absl::StrCat("the pixel data is too short for frame ", index + 1, " (", length, " bytes)"));
  }
  // getPartialValue swaps by value width; keep the start aligned to it.
  const uint64_t align = p.bits_allocated >= 16 ? static_cast<uint64_t>(p.bits_allocated / 8) : 1;
  if (first_byte % align != 0) return absl::InternalError("misaligned frame");
  std::string raw(end_byte - first_byte, '\0');
  const OFCondition c =
      p.element->getPartialValue(raw.data(), static_cast<Uint32>(first_byte),
                                 static_cast<Uint32>(raw.size()), nullptr, EBO_LittleEndian);
  if (c.bad()) return absl::InternalError(absl::StrCat("cannot read pixel data: ", CondText(c)));
  if (p.bits_allocated != 1) return raw;
  if (first_bit % 8 == 0) {
    raw.resize((bits + 7) / 8);
    // Bits of the next frame sharing the last byte are cleared.
    if (bits % 8 != 0) raw.back() = static_cast<char>(raw.back() & ((1u << (bits % 8)) - 1));
    return raw;
  }
  // 1-bit frames that do not start on a byte boundary: shift down (bits are LSB first).
  const unsigned shift = static_cast<unsigned>(first_bit % 8);
  std::string out((bits + 7) / 8, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned lo = static_cast<uint8_t>(raw[i]) >> shift;
    const unsigned hi = i + 1 < raw.size() ? static_cast<uint8_t>(raw[i + 1]) << (8 - shift) : 0;
    out[i] = static_cast<char>((lo | hi) & 0xFF);
  }
  if (bits % 8 != 0) out.back() = static_cast<char>(out.back() & ((1u << (bits % 8)) - 1));
  return out;
}

struct DecodedFrame {
  std::string bytes;
  std::string photometric;  // after decoding
  int planar_configuration = 0;
};

std::string J2kPhotometric(const std::string& stored, const J2kFrameInfo& info) {
  if (info.mct) return "RGB";
  if (stored == "YBR_RCT") return "RGB";       // no transform applied: the samples are RGB
  if (stored == "YBR_ICT") return "YBR_FULL";  // no transform applied: still YCbCr
  return stored;
}

// Decodes frame `index` (0-based) of encapsulated pixel data.
absl::StatusOr<DecodedFrame> DecodeEncapsulatedFrame(
    const PixelInfo& p, std::string_view ts, const std::vector<Fragment>& fragments,
    const std::vector<std::pair<size_t, size_t>>& map, int64_t index) {
  DecodedFrame out;
  if (IsJ2kSyntax(ts)) {
    J2kTarget target{p.rows,           p.columns,     p.samples,
                     p.bits_allocated, p.bits_stored, p.pixel_representation};
    J2kFrameInfo info;
    absl::StatusOr<std::string> bytes =
        DecodeJ2kFrame(Concat(fragments, map[static_cast<size_t>(index)]), target, &info);
    if (!bytes.ok()) {
      return absl::Status(bytes.status().code(),
                          absl::StrCat("frame ", index + 1, ": ", bytes.status().message()));
    }
    out.bytes = *std::move(bytes);
    out.photometric = J2kPhotometric(p.photometric, info);
    out.planar_configuration = 0;
    return out;
  }
  if (!IsDecodableSyntax(ts) || p.pixel_data == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot decode pixel data in transfer syntax ", Av(ts)));
  }
  if (p.bits_allocated < 8) {
    return absl::FailedPreconditionError("cannot decode encapsulated pixel data below 8 bits");
  }
  std::string buffer(p.decoded_frame_bytes + (p.decoded_frame_bytes & 1), '\0');
  Uint32 start = static_cast<Uint32>(map[static_cast<size_t>(index)].first + 1);  // item 0 = BOT
  OFString color_model;
  const OFCondition c =
      p.pixel_data->getUncompressedFrame(p.item, static_cast<Uint32>(index), start, buffer.data(),
                                         static_cast<Uint32>(buffer.size()), color_model, nullptr);
  if (c.bad()) {
    return absl::InternalError(
        absl::StrCat("decoding frame ", index + 1, " (", Av(ts), ") failed: ", CondText(c)));
  }
  buffer.resize(p.decoded_frame_bytes);
  out.bytes = std::move(buffer);
  out.photometric = color_model.empty() ? p.photometric : std::string(color_model.c_str());
  out.planar_configuration = p.planar_configuration;
  return out;
}

// Decoded (native little endian) bytes of frame `index` (0-based), any syntax.
struct FrameSource {
  PixelInfo info;
  std::string ts;
  std::vector<Fragment> fragments;                   // encapsulated only
  std::vector<std::pair<size_t, size_t>> frame_map;  // encapsulated only
};

absl::StatusOr<FrameSource> PrepareFrames(DcmItem* item, std::string_view ts) {
  FrameSource src;
  src.ts = std::string(ts);
  absl::StatusOr<PixelInfo> info = DescribePixels(item);
  if (!info.ok()) return info.status();
  src.info = *info;
  if (src.info.sequence != nullptr) {
    absl::StatusOr<std::vector<Fragment>> fragments = Fragments(src.info.sequence);
    if (!fragments.ok()) return fragments.status();
    src.fragments = *std::move(fragments);
    auto map = MapFrames(src.fragments, src.info.sequence, item, src.info.frames);
    if (!map.ok()) return map.status();
    src.frame_map = *std::move(map);
  }
  return src;
}

absl::StatusOr<DecodedFrame> DecodeFrame(const FrameSource& src, int64_t index) {
  if (src.info.sequence != nullptr) {
    return DecodeEncapsulatedFrame(src.info, src.ts, src.fragments, src.frame_map, index);
  }
  absl::StatusOr<std::string> bytes = NativeFrame(src.info, index);
  if (!bytes.ok()) return bytes.status();
  DecodedFrame out;
  out.bytes = *std::move(bytes);
  out.photometric = src.info.photometric;
  out.planar_configuration = src.info.planar_configuration;
  return out;
}

// All frames decoded and concatenated.
absl::StatusOr<DecodedFrame> DecodeAllFrames(const FrameSource& src) {
  DecodedFrame all;
  all.bytes.reserve(src.info.decoded_frame_bytes * static_cast<uint64_t>(src.info.frames));
  for (int64_t f = 0; f < src.info.frames; ++f) {
    absl::StatusOr<DecodedFrame> frame = DecodeFrame(src, f);
    if (!frame.ok()) return frame.status();
    all.bytes += frame->bytes;
    all.photometric = frame->photometric;
    all.planar_configuration = frame->planar_configuration;
  }
  return all;
}

// Replaces `item`'s top-level PixelData with native bytes.
absl::Status ReplacePixelData(DcmItem* item, const std::string& bytes, int bits_allocated) {
  auto* px = new DcmPixelData(DCM_PixelData);
  px->setVR(bits_allocated <= 8 ? EVR_OB : EVR_OW);
  OFCondition c = px->putUint8Array(reinterpret_cast<const Uint8*>(bytes.data()),
                                    static_cast<unsigned long>(bytes.size()));
  if (c.good()) c = item->insert(px, OFTrue /*replaceOld*/);
  if (c.bad()) {
    delete px;
    return absl::InternalError(absl::StrCat("cannot replace pixel data: ", CondText(c)));
  }
  return absl::OkStatus();
}

absl::Status SetString(DcmItem* item, const DcmTagKey& key, const std::string& value) {
  const OFCondition c = item->putAndInsertString(key, value.c_str());
  if (c.bad())
    return absl::InternalError(absl::StrCat("cannot update an attribute: ", CondText(c)));
  return absl::OkStatus();
}

// Serialises `file` as a Part 10 file in `xfer`, File Meta updated (TransferSyntaxUID),
// other File Meta values kept.
absl::StatusOr<std::string> WritePart10(DcmFileFormat& file, E_TransferSyntax xfer) {
  if (!file.canWriteXfer(xfer)) {
    return absl::InternalError("the pixel data cannot be written in the requested syntax");
  }
  std::string out;
  std::vector<char> buffer(1 << 20);
  DcmOutputBufferStream stream(buffer.data(), buffer.size());
  file.transferInit();
  OFCondition c;
  do {
    c = file.write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange, 0, 0, 0,
                   EWM_fileformat);
    void* chunk = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(chunk, length);
    if (length > 0) out.append(static_cast<const char*>(chunk), static_cast<size_t>(length));
  } while (c == EC_StreamNotifyClient);
  file.transferEnd();
  if (c.bad())
    return absl::InternalError(absl::StrCat("writing the DICOM file failed: ", CondText(c)));
  // Deflated output keeps some bytes in the compression filter until the stream is
  // flushed; DcmOutputBufferStream::flush then returns them via flushBuffer.
  stream.flush();
  while (!stream.isFlushed()) {
    void* chunk = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(chunk, length);
    if (length <= 0) break;
    out.append(static_cast<const char*>(chunk), static_cast<size_t>(length));
    stream.flush();
  }
  {
    void* chunk = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(chunk, length);
    if (length > 0) out.append(static_cast<const char*>(chunk), static_cast<size_t>(length));
  }
  return out;
}

absl::StatusOr<std::string> TranscodeImpl(std::string_view part10, std::string_view to_ts) {
  const std::optional<E_TransferSyntax> target = TargetXfer(to_ts);
  if (!target.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot transcode to transfer syntax ", Av(to_ts)));
  }
  absl::StatusOr<Loaded> loaded = Load(part10);
  if (!loaded.ok()) return loaded.status();
  DcmDataset* ds = loaded->dataset;
  DcmElement* pixel = nullptr;
  const bool has_pixels = ds->findAndGetElement(DCM_PixelData, pixel, OFFalse).good() ||
                          ds->findAndGetElement(kFloatPixelData, pixel, OFFalse).good() ||
                          ds->findAndGetElement(kDoubleFloatPixelData, pixel, OFFalse).good();
  if (has_pixels && !IsDecodableSyntax(loaded->ts)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot decode pixel data stored in transfer syntax ", loaded->ts));
  }
  if (IsJ2kSyntax(loaded->ts) && has_pixels) {
    absl::StatusOr<FrameSource> src = PrepareFrames(ds, loaded->ts);
    if (!src.ok()) return src.status();
    if (src->info.sequence != nullptr) {
      absl::StatusOr<DecodedFrame> all = DecodeAllFrames(*src);
      if (!all.ok()) return all.status();
      const int bits = src->info.bits_allocated;
      const int samples = src->info.samples;
      if (absl::Status s = ReplacePixelData(ds, all->bytes, bits); !s.ok()) return s;
      if (all->photometric != src->info.photometric) {
        if (absl::Status s = SetString(ds, DCM_PhotometricInterpretation, all->photometric);
            !s.ok()) {
          return s;
        }
      }
      if (samples > 1) {
        if (absl::Status s = SetString(ds, DCM_PlanarConfiguration, "0"); !s.ok()) return s;
      }
    }
  }
  const OFCondition c = ds->chooseRepresentation(*target, nullptr);
  if (c.bad() || !ds->canWriteXfer(*target)) {
    return absl::InternalError(
        absl::StrCat("decoding the pixel data (", loaded->ts, ") failed: ", CondText(c)));
  }
  return WritePart10(*loaded->file, *target);
}

// ---------------------------------------------------------------------------------------
// Rendering

// Copies `key` from the per-frame (else shared) functional group `group` to the top level
// when the top level lacks it (enhanced multi-frame objects keep window and rescale there).
void HoistFunctionalGroupValue(DcmItem* ds, int64_t frame_index, const DcmTagKey& group,
                               const DcmTagKey& key) {
  if (ds->tagExists(key, OFFalse)) return;
  for (const DcmTagKey& fg : {kPerFrameFunctionalGroups, kSharedFunctionalGroups}) {
    DcmItem* fg_item = nullptr;
    const signed long index =
        fg == kPerFrameFunctionalGroups ? static_cast<signed long>(frame_index) : 0;
    if (ds->findAndGetSequenceItem(fg, fg_item, index).bad() || fg_item == nullptr) continue;
    DcmItem* group_item = nullptr;
    if (fg_item->findAndGetSequenceItem(group, group_item, 0).bad() || group_item == nullptr)
      continue;
    DcmElement* e = nullptr;
    if (group_item->findAndGetElement(key, e, OFFalse).good() && e != nullptr) {
      ds->insert(static_cast<DcmElement*>(e->clone()), OFTrue);
      return;
    }
  }
}

double ParseDouble(DcmItem* item, const DcmTagKey& key, double fallback) {
  Float64 v = 0;
  if (item->findAndGetFloat64(key, v, 0).good() && std::isfinite(v)) return v;
  return fallback;
}

// Float / double pixel data (parametric maps): linear window to 8-bit grey.
absl::StatusOr<Image8> RenderFloatFrame(const PixelInfo& p, int64_t index) {
  if (p.samples != 1) return absl::FailedPreconditionError("cannot render multi-sample float data");
  const bool is_double = p.element->getTag() == kDoubleFloatPixelData;
  const uint64_t width = is_double ? 8 : 4;
  const uint64_t pixels = static_cast<uint64_t>(p.rows) * static_cast<uint64_t>(p.columns);
  const uint64_t offset = pixels * width * static_cast<uint64_t>(index);
  if (offset + pixels * width > p.element->getLength()) {
    return absl::InvalidArgumentError("the float pixel data is too short for this frame");
  }
  std::string raw(pixels * width, '\0');
  if (p.element
          ->getPartialValue(raw.data(), static_cast<Uint32>(offset),
                            static_cast<Uint32>(raw.size()), nullptr, gLocalByteOrder)
          .bad()) {
    return absl::InternalError("cannot read float pixel data");
  }
  std::vector<double> values(pixels);
  for (uint64_t i = 0; i < pixels; ++i) {
    if (is_double) {
      double d;
      std::memcpy(&d, raw.data() + i * 8, 8);
      values[i] = d;
    } else {
      float f;
      std::memcpy(&f, raw.data() + i * 4, 4);
      values[i] = f;
    }
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const double center = ParseDouble(p.item, DCM_WindowCenter, std::nan(""));
  const double width_w = ParseDouble(p.item, DCM_WindowWidth, std::nan(""));
  if (std::isfinite(center) && std::isfinite(width_w) && width_w > 0) {
    lo = center - width_w / 2;
    hi = center + width_w / 2;
  } else {
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (!std::isfinite(lo)) lo = hi = 0;
  }
  Image8 img;
  img.width = p.columns;
  img.height = p.rows;
  img.channels = 1;
  img.pixels.resize(pixels);
  for (uint64_t i = 0; i < pixels; ++i) {
    double v = values[i];
    double t = hi > lo ? (v - lo) / (hi - lo) : 0.0;
    if (!std::isfinite(t)) t = 0;
    img.pixels[i] =
        static_cast<char>(static_cast<uint8_t>(std::clamp(std::lround(t * 255.0), 0L, 255L)));
  }
  return img;
}

absl::StatusOr<Image8> RenderToImage(std::string_view part10, int frame) {
  absl::StatusOr<Loaded> loaded = Load(part10);
  if (!loaded.ok()) return loaded.status();
  DcmDataset* ds = loaded->dataset;
  absl::StatusOr<FrameSource> src = PrepareFrames(ds, loaded->ts);
  if (!src.ok()) return src.status();
  if (frame < 1 || frame > src->info.frames) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame ", frame, " is out of range (1..", src->info.frames, ")"));
  }
  const int64_t index = frame - 1;
  if (src->info.is_float) return RenderFloatFrame(src->info, index);
  if (src->info.sequence == nullptr && !IsDecodableSyntax(loaded->ts)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot decode ", loaded->ts));
  }

  // A one-frame native dataset for DicomImage: decoded frame, its photometric
  // interpretation, window/rescale hoisted from functional groups.
  absl::StatusOr<DecodedFrame> decoded = DecodeFrame(*src, index);
  if (!decoded.ok()) return decoded.status();
  for (const DcmTagKey& key : {DCM_WindowCenter, DCM_WindowWidth}) {
    HoistFunctionalGroupValue(ds, index, kFrameVoiLutSequence, key);
  }
  for (const DcmTagKey& key : {DCM_RescaleIntercept, DCM_RescaleSlope, DCM_RescaleType}) {
    HoistFunctionalGroupValue(ds, index, kPixelValueTransformationSequence, key);
  }
  delete ds->remove(kPerFrameFunctionalGroups);
  delete ds->remove(kSharedFunctionalGroups);
  if (absl::Status s = ReplacePixelData(ds, decoded->bytes, src->info.bits_allocated); !s.ok()) {
    return s;
  }
  if (absl::Status s = SetString(ds, DCM_NumberOfFrames, "1"); !s.ok()) return s;
  if (decoded->photometric != src->info.photometric && !decoded->photometric.empty()) {
    if (absl::Status s = SetString(ds, DCM_PhotometricInterpretation, decoded->photometric);
        !s.ok()) {
      return s;
    }
  }
  if (src->info.samples > 1) {
    if (absl::Status s =
            SetString(ds, DCM_PlanarConfiguration, std::to_string(decoded->planar_configuration));
        !s.ok()) {
      return s;
    }
  }

  DicomImage image(ds, EXS_LittleEndianExplicit, 0UL, 0UL, 1UL);
  if (image.getStatus() != EIS_Normal) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot render this image: ", DicomImage::getString(image.getStatus())));
  }
  if (image.isMonochrome()) {
    bool windowed = false;
    if (image.getWindowCount() > 0) {
      double center = 0, width = 0;
      // The first stored window, when usable.
      if (image.setWindow(0) && image.getWindow(center, width) && width > 0) windowed = true;
    }
    if (!windowed && image.getVoiLutCount() > 0) windowed = image.setVoiLut(0) != 0;
    if (!windowed) image.setMinMaxWindow(0);
  }
  const int channels = image.isMonochrome() ? 1 : 3;
  const unsigned long width = image.getWidth();
  const unsigned long height = image.getHeight();
  const void* out = image.getOutputData(8, 0, 0);
  if (out == nullptr || width == 0 || height == 0) {
    return absl::InternalError(
        absl::StrCat("rendering failed: ", DicomImage::getString(image.getStatus())));
  }
  Image8 img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.channels = channels;
  const size_t size = static_cast<size_t>(width) * height * static_cast<size_t>(channels);
  if (image.getOutputDataSize(8) < size) return absl::InternalError("short rendered image");
  img.pixels.assign(static_cast<const char*>(out), size);
  return img;
}

// ---------------------------------------------------------------------------------------
// Bulk data paths

absl::StatusOr<uint32_t> ParseTag(std::string_view s) {
  uint32_t tag = 0;
  if (s.size() != 8) return absl::InvalidArgumentError(absl::StrCat("invalid tag '", Av(s), "'"));
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return absl::InvalidArgumentError(absl::StrCat("invalid tag '", Av(s), "'"));
    tag = (tag << 4) | static_cast<uint32_t>(v);
  }
  return tag;
}

absl::StatusOr<std::string> BulkImpl(std::string_view part10, std::string_view tag_path) {
  std::vector<std::string_view> parts;
  for (absl::string_view part : absl::StrSplit(Av(tag_path), '/')) parts.push_back(Sv(part));
  while (!parts.empty() && parts.back().empty()) parts.pop_back();  // tolerate a trailing '/'
  if (parts.empty() || parts.size() % 2 == 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid bulk data path '", Av(tag_path), "'"));
  }
  absl::StatusOr<Loaded> loaded = Load(part10);
  if (!loaded.ok()) return loaded.status();
  DcmItem* item = loaded->dataset;
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    absl::StatusOr<uint32_t> tag = ParseTag(parts[i]);
    if (!tag.ok()) return tag.status();
    int64_t index = -1;
    if (!absl::SimpleAtoi(Av(parts[i + 1]), &index) || index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid item index '", Av(parts[i + 1]), "'"));
    }
    DcmItem* next = nullptr;
    const DcmTagKey key(static_cast<Uint16>(*tag >> 16), static_cast<Uint16>(*tag & 0xFFFF));
    if (item->findAndGetSequenceItem(key, next, static_cast<signed long>(index)).bad() ||
        next == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("no item ", index, " in sequence ",
                                                     Av(parts[i]), " (path '", Av(tag_path), "')"));
    }
    item = next;
  }
  absl::StatusOr<uint32_t> tag = ParseTag(parts.back());
  if (!tag.ok()) return tag.status();
  const DcmTagKey key(static_cast<Uint16>(*tag >> 16), static_cast<Uint16>(*tag & 0xFFFF));
  DcmElement* e = nullptr;
  if (item->findAndGetElement(key, e, OFFalse).bad() || e == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no element at bulk data path '", Av(tag_path), "'"));
  }
  if (e->ident() == EVR_SQ) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", Av(tag_path), "' is a sequence, not bulk data"));
  }
  if (e->ident() == EVR_PixelData) {
    // Encapsulated pixel data is returned decoded (all frames); native falls through.
    E_TransferSyntax original = EXS_Unknown;
    const DcmRepresentationParameter* param = nullptr;
    static_cast<DcmPixelData*>(e)->getOriginalRepresentationKey(original, param);
    if (DcmXfer(original).isEncapsulated()) {
      if (key != DCM_PixelData) {
        return absl::FailedPreconditionError("cannot decode this encapsulated element");
      }
      absl::StatusOr<FrameSource> src = PrepareFrames(item, loaded->ts);
      if (!src.ok()) return src.status();
      if (src->info.sequence == nullptr) return absl::InternalError("unreadable pixel data");
      absl::StatusOr<DecodedFrame> all = DecodeAllFrames(*src);
      if (!all.ok()) return all.status();
      return std::move(all->bytes);
    }
  }
  const Uint32 length = e->getLength();
  std::string out(length, '\0');
  if (length > 0) {
    const OFCondition c = e->getPartialValue(out.data(), 0, length, nullptr, EBO_LittleEndian);
    if (c.bad()) {
      return absl::InternalError(absl::StrCat("cannot read '", Av(tag_path), "': ", CondText(c)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<FrameData>> ExtractImpl(std::string_view part10,
                                                   const std::vector<int>& frames, bool native) {
  if (frames.empty()) return absl::InvalidArgumentError("no frame numbers given");
  absl::StatusOr<Loaded> loaded = Load(part10);
  if (!loaded.ok()) return loaded.status();
  absl::StatusOr<FrameSource> src = PrepareFrames(loaded->dataset, loaded->ts);
  if (!src.ok()) return src.status();
  for (int f : frames) {
    if (f < 1 || f > src->info.frames) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame ", f, " is out of range (1..", src->info.frames, ")"));
    }
  }
  const bool encapsulated = src->info.sequence != nullptr;
  std::vector<FrameData> out;
  out.reserve(frames.size());
  for (int f : frames) {
    FrameData fd;
    if (!native && encapsulated) {
      fd.bytes = Concat(src->fragments, src->frame_map[static_cast<size_t>(f - 1)]);
      fd.transfer_syntax_uid = loaded->ts;
    } else {
      absl::StatusOr<DecodedFrame> decoded = DecodeFrame(*src, f - 1);
      if (!decoded.ok()) return decoded.status();
      fd.bytes = std::move(decoded->bytes);
      const bool stored_le =
          loaded->ts == kExplicitVRLittleEndian || loaded->ts == kImplicitVRLittleEndian;
      fd.transfer_syntax_uid =
          (!native && stored_le) ? loaded->ts : std::string(kExplicitVRLittleEndian);
    }
    out.push_back(std::move(fd));
  }
  return out;
}

// Runs `fn`, turning exceptions (allocation failures on hostile sizes) into statuses.
template <typename Fn>
auto Guard(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while processing pixel data");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("pixel data processing failed: ", e.what()));
  } catch (...) {
    return absl::InternalError("pixel data processing failed");
  }
}

}  // namespace

bool CanTranscode(std::string_view from_ts, std::string_view to_ts) {
  from_ts = Trim(from_ts);
  to_ts = Trim(to_ts);
  if (from_ts == to_ts && !from_ts.empty()) return true;
  return TargetXfer(to_ts).has_value() && IsDecodableSyntax(from_ts);
}

absl::StatusOr<std::string> TranscodeInstance(std::string_view part10, std::string_view to_ts) {
  to_ts = Trim(to_ts);
  const std::string stored = PeekTransferSyntax(part10);
  if (!stored.empty() && stored == to_ts) return std::string(part10);
  return Guard([&]() { return TranscodeImpl(part10, to_ts); });
}

absl::StatusOr<std::vector<FrameData>> ExtractFrames(std::string_view part10,
                                                     const std::vector<int>& frames, bool native) {
  return Guard([&]() { return ExtractImpl(part10, frames, native); });
}

absl::StatusOr<std::string> RenderFrame(std::string_view part10, int frame, ImageFormat format,
                                        const Viewport& viewport) {
  return Guard([&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<Image8> image = RenderToImage(part10, frame);
    if (!image.ok()) return image.status();
    int width = 0, height = 0;
    FitToViewport(image->width, image->height, viewport.width, viewport.height, &width, &height);
    const Image8 scaled = ResizeImage(*image, width, height);
    return format == ImageFormat::kPng ? EncodePng(scaled) : EncodeJpeg(scaled, 90);
  });
}

absl::StatusOr<std::string> ReadBulkData(std::string_view part10, std::string_view tag_path) {
  return Guard([&]() { return BulkImpl(part10, tag_path); });
}

}  // namespace dicomstore::dicom
