#include "dicom/part10_framing.h"

#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcxfer.h"

namespace dicomstore::dicom {
namespace {

constexpr std::string_view kImplicitLittleUid = "1.2.840.10008.1.2";
constexpr std::string_view kExplicitLittleUid = "1.2.840.10008.1.2.1";
constexpr std::string_view kExplicitBigUid = "1.2.840.10008.1.2.2";
constexpr std::string_view kDeflatedUid = "1.2.840.10008.1.2.1.99";
constexpr std::string_view kJpipDeflateUid = "1.2.840.10008.1.2.4.95";

uint16_t Le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) |
                               (static_cast<unsigned char>(b[at + 1]) << 8));
}
uint16_t Be16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(b[at]) << 8) |
                               static_cast<unsigned char>(b[at + 1]));
}
uint32_t Le32(std::string_view b, size_t at) {
  return uint32_t{Le16(b, at)} | (uint32_t{Le16(b, at + 2)} << 16);
}

std::string TrimUid(std::string_view v) {
  while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return std::string(v);
}

absl::Status NotDicom(std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not a DICOM file: ", Av(why)));
}

// Encoding guessed from the first element of a dataset.
struct Guess {
  Encoding encoding = Encoding::kImplicitLittle;
  uint16_t first_group = 0;
};
Guess GuessEncoding(std::string_view data) {
  Guess g;
  if (data.size() < 8) return g;
  const uint16_t le = Le16(data, 0);
  const uint16_t be = Be16(data, 0);
  if (IsKnownVr(data.substr(4, 2))) {
    g.encoding = be < le ? Encoding::kExplicitBig : Encoding::kExplicitLittle;
  }
  g.first_group = g.encoding == Encoding::kExplicitBig ? be : le;
  return g;
}

std::string UidOf(Encoding e) {
  switch (e) {
    case Encoding::kImplicitLittle:
      return std::string(kImplicitLittleUid);
    case Encoding::kExplicitLittle:
      return std::string(kExplicitLittleUid);
    case Encoding::kExplicitBig:
      return std::string(kExplicitBigUid);
  }
  return std::string(kImplicitLittleUid);
}

// Reads File Meta elements (group 0002) starting at `pos`; returns the offset after them.
absl::StatusOr<size_t> ReadMeta(std::string_view bytes, size_t pos, Framing* f) {
  while (bytes.size() - pos >= 8 && Le16(bytes, pos) == 0x0002) {
    const uint16_t element = Le16(bytes, pos + 2);
    const std::string_view vr = bytes.substr(pos + 4, 2);
    size_t header = 8;
    uint32_t length;
    if (IsKnownVr(vr)) {
      if (vr == "OB" || vr == "OD" || vr == "OF" || vr == "OL" || vr == "OV" || vr == "OW" ||
          vr == "SQ" || vr == "SV" || vr == "UC" || vr == "UN" || vr == "UR" || vr == "UT" ||
          vr == "UV") {
        if (bytes.size() - pos < 12) return absl::InvalidArgumentError("truncated File Meta");
        length = Le32(bytes, pos + 8);
        header = 12;
      } else {
        length = Le16(bytes, pos + 6);
      }
    } else {
      length = Le32(bytes, pos + 4);  // implicit VR meta (non-conformant, tolerated)
    }
    const size_t value_start = pos + header;
    if (length > bytes.size() - value_start) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated File Meta element ", TagString((0x0002u << 16) | element)));
    }
    const std::string_view value = bytes.substr(value_start, length);
    if (element == 0x0010) f->meta_transfer_syntax = TrimUid(value);
    if (element == 0x0002) f->media_storage_sop_class = TrimUid(value);
    pos = value_start + length;
  }
  return pos;
}

}  // namespace

absl::StatusOr<Framing> DetectFraming(std::string_view bytes) {
  Framing f;
  size_t meta_start = std::string_view::npos;
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") {
    meta_start = 132;
  } else if (bytes.size() >= 8 && Le16(bytes, 0) == 0x0002 && IsKnownVr(bytes.substr(4, 2))) {
    meta_start = 0;  // File Meta without preamble
  }
  if (meta_start != std::string_view::npos) {
    f.has_meta = true;
    absl::StatusOr<size_t> end = ReadMeta(bytes, meta_start, &f);
    if (!end.ok()) return end.status();
    f.dataset_offset = *end;
  }
  const std::string_view dataset = bytes.substr(f.dataset_offset);
  const std::string_view ts = f.meta_transfer_syntax;
  if (!ts.empty()) {
    f.transfer_syntax_uid = f.meta_transfer_syntax;
    if (ts == kImplicitLittleUid) {
      f.encoding = Encoding::kImplicitLittle;
    } else if (ts == kExplicitBigUid) {
      f.encoding = Encoding::kExplicitBig;
    } else {
      f.encoding = Encoding::kExplicitLittle;
      f.deflated = ts == kDeflatedUid || ts == kJpipDeflateUid;
    }
    return f;
  }
  if (!f.has_meta) {
    if (bytes.empty()) return NotDicom("the file is empty");
    if (bytes.size() < 8) return NotDicom("too short");
  }
  const Guess g = GuessEncoding(dataset);
  if (!f.has_meta &&
      ((g.first_group & 1) != 0 || g.first_group < 0x0002 || g.first_group > 0x0008)) {
    return NotDicom("no DICM prefix and no plausible dataset start");
  }
  f.encoding = g.encoding;
  f.transfer_syntax_uid = UidOf(g.encoding);
  return f;
}

absl::StatusOr<std::string> InflateDataset(std::string_view deflated, uint64_t max_size) {
  std::string out;
  if (deflated.empty()) return out;
  DcmInputBufferStream in;
  in.setBuffer(deflated.data(), static_cast<offile_off_t>(deflated.size()));
  in.setEos();
  if (OFCondition c = in.installCompressionFilter(ESC_zlib); c.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot inflate the deflated dataset: ", c.text()));
  }
  constexpr size_t kChunk = 64 * 1024;
  auto buffer = std::make_unique<char[]>(kChunk);
  while (in.good() && !in.eos()) {
    const offile_off_t got = in.read(buffer.get(), kChunk);
    if (got <= 0) break;
    out.append(buffer.get(), static_cast<size_t>(got));
    if (out.size() > max_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("deflated dataset inflates to more than ", max_size, " bytes"));
    }
  }
  if (!in.good()) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt deflated dataset: ", in.status().text()));
  }
  return out;
}

}  // namespace dicomstore::dicom
