#include "dicom/dataset_scanner.h"

#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dicom/byte_order.h"

namespace dicomstore::dicom {
namespace {

constexpr uint32_t kFloatPixelDataTag = 0x7FE00008;
constexpr uint32_t kDoublePixelDataTag = 0x7FE00009;
constexpr uint32_t kPixelDataTag = 0x7FE00010;

bool IsPixelDataTag(uint32_t tag) {
  return tag == kPixelDataTag || tag == kFloatPixelDataTag || tag == kDoublePixelDataTag;
}

bool IsOverlayDataTag(uint32_t tag) {
  return ((tag >> 16) & 0xFFE1) == 0x6000 && (tag & 0xFFFF) == 0x3000;
}

// Item, item delimiter, sequence delimiter: the only tags DCMTK reads without a VR (their
// dictionary VR is "na").
bool IsItemOrDelimiterTag(uint32_t tag) {
  return tag == kItemTag || tag == kItemDelimiterTag || tag == kSequenceDelimiterTag;
}

// VRs that DCMTK only uses internally; found in the VR field they mean corruption (DCMTK
// matches VR bytes against its table by their first two characters, so "na", "it", "ps"...
// would otherwise select them).
bool IsInternalVr(DcmEVR evr) {
  switch (evr) {
    case EVR_na:
    case EVR_item:
    case EVR_metainfo:
    case EVR_dataset:
    case EVR_fileFormat:
    case EVR_dicomDir:
    case EVR_dirRecord:
    case EVR_pixelSQ:
    case EVR_pixelItem:
    case EVR_PixelData:
    case EVR_OverlayData:
      return true;
    default:
      return false;
  }
}

std::string VrText(const char vr[2]) {
  std::string out;
  for (int i = 0; i < 2; ++i) {
    const unsigned char c = static_cast<unsigned char>(vr[i]);
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

// DCMTK's reading of a VR field, DcmVR(name).getEVR(). DcmVR(name) searches DCMTK's VR
// table with string comparisons, a visible cost once per element, so the answers for
// two upper-case letters (all standard VRs and the "future" ones) are computed once.
DcmEVR EvrOfVrField(const char vr[2]) {
  const auto letter = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (!letter(vr[0]) || !letter(vr[1])) {
    const char text[3] = {vr[0], vr[1], '\0'};
    return DcmVR(text).getEVR();
  }
  static const std::array<DcmEVR, 26 * 26> kUpperCase = [] {
    std::array<DcmEVR, 26 * 26> table;
    for (int i = 0; i < 26 * 26; ++i) {
      const char text[3] = {static_cast<char>('A' + i / 26), static_cast<char>('A' + i % 26), '\0'};
      table[i] = DcmVR(text).getEVR();
    }
    return table;
  }();
  return kUpperCase[(vr[0] - 'A') * 26 + (vr[1] - 'A')];
}

struct Header {
  uint32_t tag = 0;
  char vr[2] = {0, 0};
  bool explicit_vr = false;
  DcmEVR evr = EVR_UNKNOWN;  // explicit: as DCMTK reads the VR field; implicit: unresolved
  uint32_t length = 0;
  size_t size = 0;  // header bytes
  std::string_view Vr() const { return explicit_vr ? std::string_view(vr, 2) : ""; }
};

class Scanner {
 public:
  Scanner(std::string_view data, const ParseLimits& limits) : data_(data), limits_(limits) {}
  ~Scanner() {
    if (dict_ != nullptr) dcmDataDict.rdunlock();
  }
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  absl::Status ScanElements(size_t* pos, size_t end, Encoding enc, int depth,
                            bool until_item_delimiter, ScanResult* top);
  absl::Status ScanItems(size_t* pos, size_t end, bool undefined_length, Encoding enc, int depth,
                         uint32_t sequence_tag);

 private:
  uint16_t U16(size_t at, Encoding enc) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + at);
    return enc == Encoding::kExplicitBig ? ReadBe<uint16_t>(p) : ReadLe<uint16_t>(p);
  }
  uint32_t U32(size_t at, Encoding enc) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + at);
    return enc == Encoding::kExplicitBig ? ReadBe<uint32_t>(p) : ReadLe<uint32_t>(p);
  }

  absl::Status ReadHeader(size_t pos, size_t end, Encoding enc, Header* h) const;
  absl::Status CheckLength(const Header& h, size_t value_start, size_t end) const;
  absl::Status ScanFragments(size_t* pos, size_t end, Encoding enc, uint32_t tag);
  // `h` is the header of the Pixel Data element at *pos, or null when the tail starts
  // at *pos.
  absl::Status HandleStop(const Header* h, size_t* pos, size_t end, Encoding enc, ScanResult* top);
  DcmEVR DictionaryVr(uint32_t tag, const std::map<uint32_t, std::string>& creators);

  std::string_view data_;
  const ParseLimits& limits_;
  const DcmDataDictionary* dict_ = nullptr;  // read-locked on first use
};

absl::Status Scanner::ReadHeader(size_t pos, size_t end, Encoding enc, Header* h) const {
  if (end - pos < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncated element header at byte ", pos, " of the dataset"));
  }
  h->tag = (uint32_t{U16(pos, enc)} << 16) | U16(pos + 2, enc);
  if (IsItemOrDelimiterTag(h->tag) || enc == Encoding::kImplicitLittle) {
    h->explicit_vr = false;
    h->length = U32(pos + 4, enc);
    h->size = 8;
    return absl::OkStatus();
  }
  h->explicit_vr = true;
  h->vr[0] = data_[pos + 4];
  h->vr[1] = data_[pos + 5];
  // The same classification DCMTK applies to the VR field (unknown upper-case VRs are
  // "future" VRs with a 4-byte length, other unknown bytes get a 2-byte length).
  const DcmVR vr(EvrOfVrField(h->vr));
  h->evr = vr.getEVR();
  if (IsInternalVr(h->evr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("element ", TagString(h->tag), " has an invalid VR \"", VrText(h->vr), "\""));
  }
  if (vr.usesExtendedLengthEncoding()) {
    if (end - pos < 12) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated element header ", TagString(h->tag)));
    }
    h->length = U32(pos + 8, enc);
    h->size = 12;
  } else {
    h->length = U16(pos + 6, enc);
    h->size = 8;
  }
  return absl::OkStatus();
}

absl::Status Scanner::CheckLength(const Header& h, size_t value_start, size_t end) const {
  if (h.length > end - value_start) {
    return absl::InvalidArgumentError(absl::StrCat("truncated element ", TagString(h.tag),
                                                   ": declares ", h.length, " bytes, ",
                                                   end - value_start, " remain"));
  }
  if (h.length > limits_.max_element_length) {
    return absl::InvalidArgumentError(absl::StrCat("element ", TagString(h.tag), " declares ",
                                                   h.length, " bytes, over the limit of ",
                                                   limits_.max_element_length));
  }
  return absl::OkStatus();
}

DcmEVR Scanner::DictionaryVr(uint32_t tag, const std::map<uint32_t, std::string>& creators) {
  const uint16_t group = static_cast<uint16_t>(tag >> 16);
  const uint16_t element = static_cast<uint16_t>(tag & 0xFFFF);
  const char* creator = nullptr;
  if ((group & 1) && element >= 0x1000) {
    auto it = creators.find((uint32_t{group} << 8) | (element >> 8));
    if (it == creators.end()) return EVR_UNKNOWN;
    creator = it->second.c_str();
  }
  if (dict_ == nullptr) dict_ = &dcmDataDict.rdlock();
  const DcmDictEntry* entry = dict_->findEntry(DcmTagKey(group, element), creator);
  return entry != nullptr ? entry->getEVR() : EVR_UNKNOWN;
}

absl::Status Scanner::ScanElements(size_t* pos, size_t end, Encoding enc, int depth,
                                   bool until_item_delimiter, ScanResult* top) {
  std::map<uint32_t, std::string> creators;  // (group << 8 | block) -> private creator
  while (*pos < end) {
    if (top != nullptr) {
      // Top level: the first tag >= (7FE0,0008) ends what DCMTK parses. If it is not Pixel
      // Data, it and everything after it is the lenient tail; so are a few trailing bytes
      // too short to be an element.
      const uint32_t tag =
          end - *pos >= 4 ? (uint32_t{U16(*pos, enc)} << 16) | U16(*pos + 2, enc) : 0xFFFFFFFF;
      if (end - *pos < 8 || (tag >= kFloatPixelDataTag && !IsPixelDataTag(tag))) {
        return HandleStop(nullptr, pos, end, enc, top);
      }
    }
    Header h;
    if (absl::Status s = ReadHeader(*pos, end, enc, &h); !s.ok()) return s;
    const size_t value_start = *pos + h.size;
    if ((h.tag >> 16) == 0xFFFE && top == nullptr) {
      if (h.tag == kItemDelimiterTag && until_item_delimiter) {
        *pos = value_start;
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected delimiter ", TagString(h.tag), " inside a sequence item"));
    }
    if (top != nullptr && IsPixelDataTag(h.tag)) return HandleStop(&h, pos, end, enc, top);

    // The VR DCMTK will use: the VR field, or for Implicit VR the dictionary's.
    const DcmEVR evr = h.explicit_vr ? h.evr : DictionaryVr(h.tag, creators);
    if (h.length == kUndefinedLength) {
      // DCMTK reads undefined-length Pixel Data as fragments, SQ/OB/OW as items, UN and
      // unknown VRs as Implicit VR LE items (CP-246). Anything else it would try to read
      // as a 4 GiB value: refused.
      size_t p = value_start;
      const bool ob_or_ow = evr == EVR_OB || evr == EVR_OW || evr == EVR_ox;
      if (h.tag == kPixelDataTag && ob_or_ow) {
        if (absl::Status s = ScanFragments(&p, end, enc, h.tag); !s.ok()) return s;
      } else if (evr == EVR_SQ || ((evr == EVR_OB || evr == EVR_OW) && !IsOverlayDataTag(h.tag)) ||
                 evr == EVR_UN || evr == EVR_UNKNOWN || evr == EVR_UNKNOWN2B) {
        const Encoding inner = (evr == EVR_UN || evr == EVR_UNKNOWN || evr == EVR_UNKNOWN2B)
                                   ? Encoding::kImplicitLittle
                                   : enc;
        if (absl::Status s = ScanItems(&p, end, true, inner, depth + 1, h.tag); !s.ok()) {
          return s;
        }
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("element ", TagString(h.tag),
                         " has an undefined length, impossible for VR ", DcmVR(evr).getVRName()));
      }
      *pos = p;
      continue;
    }
    if (absl::Status s = CheckLength(h, value_start, end); !s.ok()) return s;
    const size_t value_end = value_start + h.length;
    if (evr == EVR_SQ) {
      size_t p = value_start;
      if (absl::Status s = ScanItems(&p, value_end, false, enc, depth + 1, h.tag); !s.ok()) {
        return s;
      }
    } else if (enc == Encoding::kImplicitLittle && ((h.tag >> 16) & 1) &&
               (h.tag & 0xFFFF) >= 0x0010 && (h.tag & 0xFFFF) <= 0x00FF) {
      std::string_view value = data_.substr(value_start, h.length);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) {
        value.remove_suffix(1);
      }
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      creators[((h.tag >> 16) << 8) | (h.tag & 0xFF)] = std::string(value);
    }
    *pos = value_end;
  }
  if (until_item_delimiter) {
    return absl::InvalidArgumentError("truncated sequence item: no item delimiter before the end");
  }
  return absl::OkStatus();
}

absl::Status Scanner::ScanItems(size_t* pos, size_t end, bool undefined_length, Encoding enc,
                                int depth, uint32_t sequence_tag) {
  if (depth > limits_.max_sequence_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequences nested deeper than ", limits_.max_sequence_depth, " levels"));
  }
  while (true) {
    if (*pos >= end) {
      if (!undefined_length) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("truncated sequence ", TagString(sequence_tag), ": no sequence delimiter"));
    }
    Header h;
    if (absl::Status s = ReadHeader(*pos, end, enc, &h); !s.ok()) return s;
    const size_t value_start = *pos + h.size;
    if (h.tag == kSequenceDelimiterTag && undefined_length) {
      *pos = value_start;
      return absl::OkStatus();
    }
    if (h.tag != kItemTag) {
      return absl::InvalidArgumentError(absl::StrCat("malformed sequence ", TagString(sequence_tag),
                                                     ": found ", TagString(h.tag),
                                                     " instead of an item"));
    }
    if (h.length == kUndefinedLength) {
      size_t p = value_start;
      if (absl::Status s = ScanElements(&p, end, enc, depth, true, nullptr); !s.ok()) return s;
      *pos = p;
    } else {
      if (absl::Status s = CheckLength(h, value_start, end); !s.ok()) return s;
      size_t p = value_start;
      const size_t item_end = value_start + h.length;
      if (absl::Status s = ScanElements(&p, item_end, enc, depth, false, nullptr); !s.ok()) {
        return s;
      }
      *pos = item_end;
    }
  }
}

absl::Status Scanner::ScanFragments(size_t* pos, size_t end, Encoding enc, uint32_t tag) {
  while (true) {
    if (*pos >= end) {
      return absl::InvalidArgumentError(absl::StrCat("truncated encapsulated pixel data ",
                                                     TagString(tag), ": no sequence delimiter"));
    }
    Header h;
    if (absl::Status s = ReadHeader(*pos, end, enc, &h); !s.ok()) return s;
    const size_t value_start = *pos + h.size;
    if (h.tag == kSequenceDelimiterTag) {
      *pos = value_start;
      return absl::OkStatus();
    }
    if (h.tag != kItemTag || h.length == kUndefinedLength) {
      return absl::InvalidArgumentError(absl::StrCat("malformed encapsulated pixel data ",
                                                     TagString(tag), ": found ", TagString(h.tag),
                                                     " instead of a fragment"));
    }
    if (absl::Status s = CheckLength(h, value_start, end); !s.ok()) return s;
    *pos = value_start + h.length;
  }
}

absl::Status Scanner::HandleStop(const Header* h, size_t* pos, size_t end, Encoding enc,
                                 ScanResult* top) {
  top->stop_offset = *pos;
  top->tail_offset = *pos;
  if (h != nullptr) {
    const size_t value_start = *pos + h->size;
    top->has_pixel_data = true;
    top->pixel_tag = h->tag;
    if (h->length == kUndefinedLength) {
      size_t p = value_start;
      if (absl::Status s = ScanFragments(&p, end, enc, h->tag); !s.ok()) return s;
      top->pixel_encapsulated = true;
      top->pixel_vr = "OB";
      top->tail_offset = p;
    } else {
      if (absl::Status s = CheckLength(*h, value_start, end); !s.ok()) return s;
      top->pixel_length = h->length;
      if (h->explicit_vr && IsKnownVr(h->Vr())) {
        top->pixel_vr = std::string(h->Vr());
      } else {
        top->pixel_vr = h->tag == kPixelDataTag ? "OW" : h->tag == kFloatPixelDataTag ? "OF" : "OD";
      }
      top->tail_offset = value_start + h->length;
    }
  }
  // Whatever follows (padding, signatures, garbage) only matters if it is well formed.
  size_t p = top->tail_offset;
  top->tail_ok = end - p >= 8 && ScanElements(&p, end, enc, 0, false, nullptr).ok();
  *pos = end;
  return absl::OkStatus();
}

}  // namespace

bool IsKnownVr(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("AE"):
    case VrCode("AS"):
    case VrCode("AT"):
    case VrCode("CS"):
    case VrCode("DA"):
    case VrCode("DS"):
    case VrCode("DT"):
    case VrCode("FD"):
    case VrCode("FL"):
    case VrCode("IS"):
    case VrCode("LO"):
    case VrCode("LT"):
    case VrCode("OB"):
    case VrCode("OD"):
    case VrCode("OF"):
    case VrCode("OL"):
    case VrCode("OV"):
    case VrCode("OW"):
    case VrCode("PN"):
    case VrCode("SH"):
    case VrCode("SL"):
    case VrCode("SQ"):
    case VrCode("SS"):
    case VrCode("ST"):
    case VrCode("SV"):
    case VrCode("TM"):
    case VrCode("UC"):
    case VrCode("UI"):
    case VrCode("UL"):
    case VrCode("UN"):
    case VrCode("UR"):
    case VrCode("US"):
    case VrCode("UT"):
    case VrCode("UV"):
      return true;
    default:
      return false;
  }
}

std::string TagString(uint32_t tag) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
  return buf;
}

absl::StatusOr<ScanResult> ScanDataset(std::string_view data, Encoding encoding,
                                       const ParseLimits& limits) {
  ScanResult result;
  result.stop_offset = data.size();
  result.tail_offset = data.size();
  Scanner scanner(data, limits);
  size_t pos = 0;
  if (absl::Status s = scanner.ScanElements(&pos, data.size(), encoding, 0, false, &result);
      !s.ok()) {
    return s;
  }
  return result;
}

absl::Status ScanSequenceValue(std::string_view value, Encoding encoding, int depth,
                               const ParseLimits& limits) {
  Scanner scanner(value, limits);
  size_t pos = 0;
  return scanner.ScanItems(&pos, value.size(), false, encoding, depth, 0);
}

}  // namespace dicomstore::dicom
