#include "dicom/raw_json_writer.h"

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dicom/byte_order.h"

namespace dicomstore::dicom {
namespace {

constexpr uint32_t kGroup8Length = 0x00080000;
constexpr uint32_t kSpecificCharacterSet = 0x00080005;

uint16_t U16(std::string_view data, size_t at) {
  return ReadLe<uint16_t>(reinterpret_cast<const unsigned char*>(data.data() + at));
}
uint32_t U32(std::string_view data, size_t at) {
  return ReadLe<uint32_t>(reinterpret_cast<const unsigned char*>(data.data() + at));
}

// How an element of a given VR is written (DicomJsonWriter::WriteElement's branches).
enum class Kind : uint8_t { kNotHandled, kString, kNumeric, kOtherBytes, kUnknown, kSequence };

Kind KindOf(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("SQ"):
      return Kind::kSequence;
    case VrCode("OB"):
    case VrCode("OW"):
      return Kind::kOtherBytes;
    case VrCode("UN"):
      return Kind::kUnknown;
    default:
      break;
  }
  if (IsStringVr(vr)) return Kind::kString;
  if (NumericSize(vr) != 0) return Kind::kNumeric;
  return Kind::kNotHandled;
}

// Explicit VR fields handled, with the size of their length field as DCMTK reads it: the
// 34 standard VRs, each only if this DCMTK knows it under that name (so the element class
// DCMTK creates is the one for that VR). Indexed by two upper-case letters.
struct ExplicitVr {
  bool handled = false;
  bool long_length = false;  // 2 reserved bytes and a 4-byte length
};

const std::array<ExplicitVr, 26 * 26>& ExplicitVrs() {
  static const std::array<ExplicitVr, 26 * 26> table = [] {
    std::array<ExplicitVr, 26 * 26> t{};
    for (int i = 0; i < 26 * 26; ++i) {
      const char name[3] = {static_cast<char>('A' + i / 26), static_cast<char>('A' + i % 26), '\0'};
      if (!IsKnownVr(name) || KindOf(name) == Kind::kNotHandled) continue;
      const DcmVR vr(name);
      if (!vr.isStandard() || std::string_view(vr.getVRName()) != name) continue;
      t[i] = {true, static_cast<bool>(vr.usesExtendedLengthEncoding())};
    }
    return t;
  }();
  return table;
}

// Implicit VR: the VR DCMTK gives an element. DcmTag's constructor looks the tag up
// without a private creator; for a private data element whose creator is known,
// DcmItem::readTagAndLength looks it up again with the creator and keeps the first answer
// if that fails. Returns the VR code, VrCode("UN") when the dictionary has no entry, 0
// for dictionary VRs that are not handled ("US or SS", "OB or OW", ...). DCMTK's
// dictionary look-up is what the fast path saves, so answers are cached per thread.
uint16_t CodeOfDictionaryVr(DcmEVR evr) {
  if (evr == EVR_UNKNOWN || evr == EVR_UN) return VrCode("UN");
  const std::string_view name = DcmVR(evr).getVRName();
  if (!IsKnownVr(name) || DcmVR(std::string(name).c_str()).getEVR() != evr) return 0;
  return KindOf(name) == Kind::kNotHandled ? 0 : VrCode(name);
}

uint16_t LookUpDictionaryVr(uint32_t tag, const char* creator) {
  const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
  const DcmDataDictionary& dict = dcmDataDict.rdlock();
  const DcmDictEntry* plain = dict.findEntry(key, nullptr);
  DcmEVR evr = plain != nullptr ? plain->getEVR() : EVR_UNKNOWN;
  if (creator != nullptr) {
    const DcmDictEntry* with_creator = dict.findEntry(key, creator);
    if (with_creator != nullptr) evr = with_creator->getEVR();
  }
  dcmDataDict.rdunlock();
  return CodeOfDictionaryVr(evr);
}

// Tags and creators come from the input, so a long-running server fed arbitrary ones must
// not grow the caches without bound: each is emptied when it reaches this size (far more
// than the dictionary entries real files use).
constexpr size_t kMaxCachedVrs = 1 << 15;

uint16_t DictionaryVr(uint32_t tag, const std::string* creator) {
  if (creator == nullptr) {
    thread_local std::unordered_map<uint32_t, uint16_t> by_tag;
    if (by_tag.size() >= kMaxCachedVrs) by_tag.clear();
    const auto [it, inserted] = by_tag.try_emplace(tag, 0);
    if (inserted) it->second = LookUpDictionaryVr(tag, nullptr);
    return it->second;
  }
  thread_local std::map<std::pair<uint32_t, std::string>, uint16_t> by_creator;
  if (by_creator.size() >= kMaxCachedVrs) by_creator.clear();
  const auto [it, inserted] = by_creator.try_emplace({tag, *creator}, 0);
  if (inserted) it->second = LookUpDictionaryVr(tag, creator->c_str());
  return it->second;
}

bool IsPrivateCreatorTag(uint32_t tag) {
  const uint32_t element = tag & 0xFFFF;
  return ((tag >> 16) & 1) && element >= 0x0010 && element <= 0x00FF;
}
bool IsPrivateDataTag(uint32_t tag) { return ((tag >> 16) & 1) && (tag & 0xFFFF) >= 0x1000; }

// DCMTK's private creator cache key: group and block ((gggg,00xx) reserves (gggg,xx00-xxFF)).
uint32_t CreatorKey(uint32_t group, uint32_t block) { return (group << 8) | (block & 0xFF); }

// What DcmByteString::getString gives: the value without trailing padding (NUL for UI,
// space for the other string VRs).
std::string_view WithoutPadding(std::string_view value, uint16_t vr) {
  const char pad = vr == VrCode("UI") ? '\0' : ' ';
  while (!value.empty() && value.back() == pad) value.remove_suffix(1);
  return value;
}

// DcmUniqueIdentifier removes white space anywhere in the value (isspace in the C locale).
bool HasWhiteSpace(std::string_view value) {
  for (const char c : value) {
    if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
  }
  return false;
}

}  // namespace

struct RawJsonWriter::Header {
  uint32_t tag = 0;
  uint16_t vr = 0;  // explicit VR code; 0 for implicit headers and items/delimiters
  uint32_t length = 0;
  size_t value_start = 0;
};

RawJsonWriter::RawJsonWriter(std::set<uint32_t> recorded_tags)
    : recorded_tags_(std::move(recorded_tags)) {}

std::string RawJsonWriter::RecordedText(uint32_t tag) const {
  auto it = recorded_.find(tag);
  return it == recorded_.end() ? std::string() : it->second;
}

bool RawJsonWriter::WriteDataset(std::string_view data, Encoding encoding,
                                 const CharsetDecoder& charset, JsonTextWriter* out,
                                 std::vector<MemberSpan>* spans) {
  if (encoding == Encoding::kExplicitBig) return false;
  data_ = data;
  implicit_ = encoding == Encoding::kImplicitLittle;
  recorded_.clear();
  dataset_charset_ = charset;
  size_t pos = 0;
  return WriteItem(&pos, data.size(), false, charset, "", 0, out, spans);
}

bool RawJsonWriter::ReadHeader(size_t pos, size_t end, Header* h) const {
  if (end < pos || end - pos < 8) return false;
  h->tag = (uint32_t{U16(data_, pos)} << 16) | U16(data_, pos + 2);
  const bool item_or_delimiter =
      h->tag == kItemTag || h->tag == kItemDelimiterTag || h->tag == kSequenceDelimiterTag;
  if (implicit_ || item_or_delimiter) {
    h->vr = 0;
    h->length = U32(data_, pos + 4);
    h->value_start = pos + 8;
    return true;
  }
  const char c0 = data_[pos + 4];
  const char c1 = data_[pos + 5];
  if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z') return false;
  const ExplicitVr& vr = ExplicitVrs()[(c0 - 'A') * 26 + (c1 - 'A')];
  if (!vr.handled) return false;
  h->vr = VrCode(std::string_view(data_.data() + pos + 4, 2));
  if (vr.long_length) {
    if (end - pos < 12) return false;
    h->length = U32(data_, pos + 8);
    h->value_start = pos + 12;
  } else {
    h->length = U16(data_, pos + 6);
    h->value_start = pos + 8;
  }
  return true;
}

bool RawJsonWriter::WriteItem(size_t* pos, size_t end, bool until_delimiter,
                              const CharsetDecoder& inherited, const std::string& path, int depth,
                              JsonTextWriter* out, std::vector<MemberSpan>* spans) {
  std::optional<CharsetDecoder> own;
  const CharsetDecoder* charset = &inherited;
  // Implicit VR: DCMTK's private creator cache of this item, (group, block) -> creator.
  std::vector<std::pair<uint32_t, std::string>> creators;
  uint32_t previous = 0;
  bool first = true;
  size_t p = *pos;
  while (p < end) {
    Header h;
    if (!ReadHeader(p, end, &h)) return false;
    if (h.tag == kItemDelimiterTag) {
      if (!until_delimiter || h.length != 0) return false;
      *pos = h.value_start;
      return true;
    }
    if ((h.tag >> 16) == 0xFFFE) return false;
    // DCMTK sorts elements and drops a repeated tag; here the order must already hold.
    if (!first && h.tag <= previous) return false;
    first = false;
    previous = h.tag;
    // Nothing before the Specific Character Set but the group length, so the item's own
    // character set applies to every text element (DicomJsonWriter finds it first).
    if (h.tag < kSpecificCharacterSet && h.tag != kGroup8Length) return false;

    uint16_t vr = h.vr;
    if (implicit_) {
      const std::string* creator = nullptr;
      if (IsPrivateDataTag(h.tag)) {
        const uint32_t key = CreatorKey(h.tag >> 16, (h.tag & 0xFFFF) >> 8);
        for (const auto& [k, name] : creators) {
          if (k == key) creator = &name;
        }
      }
      vr = DictionaryVr(h.tag, creator);
      if (vr == 0) return false;
    }
    const char vr_chars[2] = {static_cast<char>(vr >> 8), static_cast<char>(vr & 0xFF)};
    const std::string_view vr_name(vr_chars, 2);
    const Kind kind = KindOf(vr_name);
    if (kind == Kind::kNotHandled) return false;

    const bool undefined_length = h.length == kUndefinedLength;
    if (undefined_length && kind != Kind::kSequence) return false;
    if (!undefined_length && h.length > end - h.value_start) return false;
    const std::string_view value =
        undefined_length ? std::string_view() : data_.substr(h.value_start, h.length);
    if ((h.tag & 0xFFFF) == 0) {  // group length: left out of the JSON
      if (vr != VrCode("UL") || h.length != 4) return false;
      p = h.value_start + h.length;
      continue;
    }

    const size_t member_begin = BeginMember(h.tag, out);
    switch (kind) {
      case Kind::kSequence: {
        BeginElement("SQ", out);
        size_t q = h.value_start;
        const size_t sequence_end = undefined_length ? end : h.value_start + h.length;
        if (!WriteItems(&q, sequence_end, undefined_length, *charset, path + TagKey(h.tag),
                        depth + 1, out)) {
          return false;
        }
        out->EndObject();
        p = undefined_length ? q : sequence_end;
        break;
      }
      case Kind::kString: {
        if (h.length % 2 != 0) return false;
        const std::string_view raw = WithoutPadding(value, vr);
        if (vr == VrCode("UI") && HasWhiteSpace(raw)) return false;
        if (h.tag == kSpecificCharacterSet) {
          own.emplace(raw);
          charset = &*own;
          if (depth == 0) dataset_charset_ = *own;
        }
        if (implicit_ && IsPrivateCreatorTag(h.tag)) {
          // DCMTK caches the creator as getString gives it (up to the first NUL); the
          // scanner trimmed leading spaces as well. Only values on which both agree, and
          // no longer than an LO may be (creators are cache keys, see DictionaryVr).
          if (vr != VrCode("LO") || raw.empty() || raw.size() > 64 || raw.front() == ' ' ||
              raw.find('\0') != std::string_view::npos) {
            return false;
          }
          creators.emplace_back(CreatorKey(h.tag >> 16, h.tag & 0xFF), std::string(raw));
        }
        const bool record = depth == 0 && recorded_tags_.contains(h.tag);
        std::string text;
        BeginElement(vr_name, out);
        WriteStringValues(vr_name, raw, *charset, record ? &text : nullptr, out);
        out->EndObject();
        if (record) recorded_[h.tag] = std::move(text);
        p = h.value_start + h.length;
        break;
      }
      case Kind::kNumeric:
        if (h.length % NumericSize(vr_name) != 0) return false;
        WriteBinaryElement(h.tag, vr_name, value, path, out);
        p = h.value_start + h.length;
        break;
      case Kind::kOtherBytes:
      case Kind::kUnknown:
        if (kind == Kind::kUnknown && !IsPrivateDataTag(h.tag)) return false;
        if (vr == VrCode("OW") && h.length % 2 != 0) return false;
        if (h.length == 0) {
          BeginElement(vr_name, out);
          out->EndObject();
        } else {
          WriteBulkElement(vr_name, path + TagKey(h.tag), out);
        }
        p = h.value_start + h.length;
        break;
      case Kind::kNotHandled:
        return false;
    }
    if (spans != nullptr) spans->push_back({h.tag, member_begin, out->size()});
  }
  if (until_delimiter) return false;
  *pos = p;
  return true;
}

bool RawJsonWriter::WriteItems(size_t* pos, size_t end, bool undefined_length,
                               const CharsetDecoder& charset, const std::string& tag_path,
                               int depth, JsonTextWriter* out) {
  size_t p = *pos;
  unsigned long index = 0;
  while (true) {
    if (!undefined_length && p == end) break;
    Header h;
    if (!ReadHeader(p, end, &h)) return false;
    if (h.tag == kSequenceDelimiterTag) {
      if (!undefined_length || h.length != 0) return false;
      p = h.value_start;
      break;
    }
    if (h.tag != kItemTag) return false;
    if (index == 0) {
      out->Key("Value");
      out->BeginArray();
    }
    out->BeginObject();
    const std::string item_path = absl::StrCat(tag_path, "/", index, "/");
    size_t q = h.value_start;
    if (h.length == kUndefinedLength) {
      if (!WriteItem(&q, end, true, charset, item_path, depth, out, nullptr)) return false;
      p = q;
    } else {
      if (h.length > end - h.value_start) return false;
      const size_t item_end = h.value_start + h.length;
      if (!WriteItem(&q, item_end, false, charset, item_path, depth, out, nullptr)) return false;
      p = item_end;
    }
    out->EndObject();
    ++index;
  }
  if (index > 0) out->EndArray();
  *pos = p;
  return true;
}

}  // namespace dicomstore::dicom
