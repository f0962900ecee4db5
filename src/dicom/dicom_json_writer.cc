#include "dicom/dicom_json_writer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/absl_view.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcelem.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dicom/bulkdata_rules.h"
#include "dicom/dataset_scanner.h"
#include "dicom/person_name.h"

namespace dicomstore::dicom {
namespace {

bool OneOf(std::string_view v, std::initializer_list<std::string_view> set) {
  for (std::string_view s : set) {
    if (s == v) return true;
  }
  return false;
}

bool IsStringVr(std::string_view vr) {
  return OneOf(vr, {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
                    "UC", "UI", "UR", "UT"});
}
bool IsTextVr(std::string_view vr) { return OneOf(vr, {"SH", "LO", "ST", "LT", "UT", "PN", "UC"}); }
bool IsSingleValuedVr(std::string_view vr) { return OneOf(vr, {"LT", "ST", "UT", "UR"}); }

// Bytes per value of a binary numeric VR; 0 for others.
size_t NumericSize(std::string_view vr) {
  if (OneOf(vr, {"US", "SS"})) return 2;
  if (OneOf(vr, {"UL", "SL", "FL", "OF", "OL", "AT"})) return 4;
  if (OneOf(vr, {"FD", "OD", "SV", "UV", "OV"})) return 8;
  return 0;
}

std::string_view TrimTrailing(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.remove_suffix(1);
  return v;
}
std::string_view TrimLeading(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

Json IntegerStringJson(std::string_view v) {
  std::string_view digits = v;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty()) return n;
  return std::string(v);
}

Json DecimalStringJson(std::string_view v) {
  std::string_view digits = v;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double d = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty() &&
      std::isfinite(d)) {
    return d;
  }
  return std::string(v);
}

Json FloatJson(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

template <typename U>
U ReadLe(const unsigned char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
  return v;
}

// Values of a numeric element as little-endian bytes.
template <typename T>
std::string ToLittleEndian(const T* values, size_t count) {
  std::string out(count * sizeof(T), '\0');
  for (size_t i = 0; i < count; ++i) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &values[i], sizeof(T));
    if constexpr (std::endian::native == std::endian::big) {
      for (size_t k = 0; k < sizeof(T); ++k)
        out[i * sizeof(T) + k] = static_cast<char>(bytes[sizeof(T) - 1 - k]);
    } else {
      std::memcpy(out.data() + i * sizeof(T), bytes, sizeof(T));
    }
  }
  return out;
}

Json BulkJson(std::string_view vr, const std::string& tag_path) {
  Json obj = Json::object();
  obj["vr"] = std::string(vr);
  obj["BulkDataURI"] = BulkDataUri(tag_path);
  return obj;
}

// A numeric/binary element from its little-endian bytes (length a multiple of the size).
Json BinaryJson(uint32_t tag, std::string_view vr, std::string_view le,
                const std::string& tag_path) {
  Json obj = Json::object();
  obj["vr"] = std::string(vr);
  const size_t unit = NumericSize(vr);
  if (le.empty() || unit == 0) return obj;
  const size_t vm = le.size() / unit;
  if (IsBulkData(tag, vr, le.size(), vm)) return BulkJson(vr, tag_path);
  if (OneOf(vr, {"OF", "OD", "OL", "OV"})) {
    obj["InlineBinary"] = absl::Base64Escape(Av(le));
    return obj;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(le.data());
  Json values = Json::array();
  for (size_t i = 0; i < vm; ++i, p += unit) {
    if (vr == "US") {
      values.push_back(ReadLe<uint16_t>(p));
    } else if (vr == "SS") {
      values.push_back(static_cast<int16_t>(ReadLe<uint16_t>(p)));
    } else if (vr == "UL") {
      values.push_back(ReadLe<uint32_t>(p));
    } else if (vr == "SL") {
      values.push_back(static_cast<int32_t>(ReadLe<uint32_t>(p)));
    } else if (vr == "UV") {
      values.push_back(ReadLe<uint64_t>(p));
    } else if (vr == "SV") {
      values.push_back(static_cast<int64_t>(ReadLe<uint64_t>(p)));
    } else if (vr == "FL") {
      const uint32_t bits = ReadLe<uint32_t>(p);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      values.push_back(FloatJson(f));
    } else if (vr == "FD") {
      const uint64_t bits = ReadLe<uint64_t>(p);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      values.push_back(FloatJson(d));
    } else if (vr == "AT") {
      char buf[12];
      std::snprintf(buf, sizeof buf, "%04X%04X", ReadLe<uint16_t>(p), ReadLe<uint16_t>(p + 2));
      values.push_back(std::string(buf));
    }
  }
  obj["Value"] = std::move(values);
  return obj;
}

// The element's raw value bytes for string elements or byte-valued (OB/UN) elements.
std::string_view RawValue(DcmElement& e) {
  char* s = nullptr;
  Uint32 len = 0;
  if (e.getString(s, len).good() && s != nullptr) return std::string_view(s, len);
  Uint8* b = nullptr;
  if (e.getUint8Array(b).good() && b != nullptr) {
    return std::string_view(reinterpret_cast<const char*>(b), e.getLengthField());
  }
  return {};
}

// Numeric element values as little-endian bytes ("" when unreadable).
std::string NumericLittleEndian(DcmElement& e, std::string_view vr) {
  // Counted from the length: getVM() is 1 for OF/OD/OL/OV whatever their size.
  const size_t length = e.getLengthField();
  if (length == 0) return {};
  if (vr == "US" || vr == "AT") {
    Uint16* v = nullptr;
    if (e.getUint16Array(v).good() && v) return ToLittleEndian(v, length / 2);
  } else if (vr == "SS") {
    Sint16* v = nullptr;
    if (e.getSint16Array(v).good() && v) return ToLittleEndian(v, length / 2);
  } else if (vr == "UL" || vr == "OL") {
    Uint32* v = nullptr;
    if (e.getUint32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (vr == "SL") {
    Sint32* v = nullptr;
    if (e.getSint32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (vr == "FL" || vr == "OF") {
    Float32* v = nullptr;
    if (e.getFloat32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (vr == "FD" || vr == "OD") {
    Float64* v = nullptr;
    if (e.getFloat64Array(v).good() && v) return ToLittleEndian(v, length / 8);
  } else if (vr == "SV") {
    Sint64* v = nullptr;
    if (e.getSint64Array(v).good() && v) return ToLittleEndian(v, length / 8);
  } else if (vr == "UV" || vr == "OV") {
    Uint64* v = nullptr;
    if (e.getUint64Array(v).good() && v) return ToLittleEndian(v, length / 8);
  }
  return {};
}

// VR written in the JSON for an element DCMTK created.
std::string VrLabel(DcmElement& e) {
  const DcmEVR id = e.ident();
  switch (id) {
    case EVR_up:
      return "UL";
    case EVR_UN:
    case EVR_UNKNOWN:
    case EVR_UNKNOWN2B:
      return "UN";
    case EVR_OB:
    case EVR_OW:
    case EVR_ox:
    case EVR_px:
    case EVR_lt:
    case EVR_PixelData:
    case EVR_OverlayData: {
      const DcmEVR read_as = e.getTag().getEVR();
      if (read_as == EVR_OB) return "OB";
      if (read_as == EVR_UN || read_as == EVR_UNKNOWN || read_as == EVR_UNKNOWN2B) return "UN";
      return "OW";
    }
    default:
      break;
  }
  const std::string name = DcmVR(id).getVRName();
  return IsKnownVr(name) ? name : "UN";
}

uint32_t TagOf(DcmElement& e) {
  const DcmTag& t = e.getTag();
  return (uint32_t{t.getGTag()} << 16) | t.getETag();
}

}  // namespace

std::string TagKey(uint32_t tag) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string key(8, '0');
  for (int i = 7; i >= 0; --i, tag >>= 4) key[i] = kHex[tag & 0xF];
  return key;
}

void AppendMember(Json* object, std::string key, Json value) {
  auto& members = static_cast<std::vector<std::pair<const std::string, Json>>&>(
      object->get_ref<Json::object_t&>());
  members.emplace_back(std::move(key), std::move(value));
}

Json StringValuesJson(std::string_view vr, std::string_view raw, const CharsetDecoder& charset,
                      std::string* text) {
  const TextKind kind = vr == "PN"             ? TextKind::kPersonName
                        : IsSingleValuedVr(vr) ? TextKind::kText
                                               : TextKind::kMultiValued;
  const std::string decoded =
      IsTextVr(vr) ? charset.Decode(raw, kind) : CharsetDecoder::DecodeDefaultRepertoire(raw);
  const std::string_view whole = TrimTrailing(decoded);
  if (text != nullptr) *text = std::string(whole);
  std::vector<std::string_view> values;
  if (IsSingleValuedVr(vr)) {
    values.push_back(whole);
  } else {
    size_t start = 0;
    while (true) {
      const size_t end = whole.find('\\', start);
      values.push_back(whole.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  Json out = Json::array();
  for (std::string_view v : values) {
    v = TrimTrailing(v);
    if (vr == "DS" || vr == "IS") v = TrimLeading(v);
    if (v.empty()) {
      out.push_back(nullptr);
    } else if (vr == "PN") {
      out.push_back(PersonNameJson(v));
    } else if (vr == "IS") {
      out.push_back(IntegerStringJson(v));
    } else if (vr == "DS") {
      out.push_back(DecimalStringJson(v));
    } else {
      out.push_back(std::string(v));
    }
  }
  if (out.size() == 1 && out[0].is_null()) return nullptr;
  return out;
}

DicomJsonWriter::DicomJsonWriter(const ParseLimits& limits, std::set<uint32_t> recorded_tags)
    : limits_(limits), recorded_tags_(std::move(recorded_tags)) {}

std::string DicomJsonWriter::RecordedText(uint32_t tag) const {
  auto it = recorded_.find(tag);
  return it == recorded_.end() ? std::string() : it->second;
}

std::optional<CharsetDecoder> DicomJsonWriter::OwnCharset(DcmItem& item) {
  DcmElement* e = nullptr;
  if (item.findAndGetElement(DCM_SpecificCharacterSet, e, OFFalse).bad() || e == nullptr) {
    return std::nullopt;
  }
  return CharsetDecoder(RawValue(*e));
}

void DicomJsonWriter::WriteItem(DcmItem& item, const CharsetDecoder& inherited,
                                const std::string& path, int depth, Json* out) {
  const std::optional<CharsetDecoder> own = OwnCharset(item);
  const CharsetDecoder& charset = own ? *own : inherited;
  // Reserve first: pair<const string, Json> is copied, not moved, when the vector grows.
  auto& members = out->get_ref<Json::object_t&>();
  members.reserve(members.size() + item.card());
  // nextInContainer walks the list; getElement(i) would seek from the start each time.
  for (DcmObject* obj = item.nextInContainer(nullptr); obj != nullptr;
       obj = item.nextInContainer(obj)) {
    auto* e = dynamic_cast<DcmElement*>(obj);
    if (e == nullptr) continue;
    const uint32_t tag = TagOf(*e);
    if ((tag & 0xFFFF) == 0) continue;  // group length
    AppendMember(out, TagKey(tag), ElementJson(*e, charset, path, depth));
  }
}

Json DicomJsonWriter::StringJson(uint32_t tag, std::string_view vr, std::string_view raw,
                                 const CharsetDecoder& charset, int depth) {
  std::string text;
  Json values = StringValuesJson(vr, raw, charset, &text);
  if (depth == 0 && recorded_tags_.contains(tag)) recorded_[tag] = std::move(text);
  Json obj = Json::object();
  obj["vr"] = std::string(vr);
  if (!values.is_null()) obj["Value"] = std::move(values);
  return obj;
}

Json DicomJsonWriter::ElementJson(DcmElement& e, const CharsetDecoder& charset,
                                  const std::string& path, int depth) {
  const uint32_t tag = TagOf(e);
  const std::string tag_path = path + TagKey(tag);
  if (e.ident() == EVR_SQ) {
    Json obj = Json::object();
    obj["vr"] = "SQ";
    auto* seq = dynamic_cast<DcmSequenceOfItems*>(&e);
    if (seq == nullptr) return obj;
    Json items = Json::array();
    items.get_ref<Json::array_t&>().reserve(seq->card());
    unsigned long index = 0;
    for (DcmObject* obj = seq->nextInContainer(nullptr); obj != nullptr;
         obj = seq->nextInContainer(obj), ++index) {
      auto* item = dynamic_cast<DcmItem*>(obj);
      Json item_json = Json::object();
      if (item != nullptr) {
        WriteItem(*item, charset, tag_path + "/" + std::to_string(index) + "/", depth + 1,
                  &item_json);
      }
      items.push_back(std::move(item_json));
    }
    if (!items.empty()) obj["Value"] = std::move(items);
    return obj;
  }
  const std::string vr = VrLabel(e);
  if (IsStringVr(vr)) return StringJson(tag, vr, RawValue(e), charset, depth);
  if (NumericSize(vr) != 0) return BinaryJson(tag, vr, NumericLittleEndian(e, vr), tag_path);
  // OB, OW, UN.
  if (vr == "UN" && ((tag >> 16) & 1) == 0) {
    if (std::optional<Json> j = UnknownAsDictionaryVr(e, tag, charset, path, depth)) return *j;
  }
  Json obj = Json::object();
  obj["vr"] = vr;
  if (e.getLengthField() == 0) return obj;
  return BulkJson(vr, tag_path);
}

std::optional<Json> DicomJsonWriter::UnknownAsDictionaryVr(DcmElement& e, uint32_t tag,
                                                           const CharsetDecoder& charset,
                                                           const std::string& path, int depth) {
  const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
  DcmEVR dict_vr = EVR_UNKNOWN;
  {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dict.findEntry(key, nullptr);
    if (entry != nullptr) dict_vr = entry->getEVR();
    dcmDataDict.rdunlock();
  }
  const std::string vr = DcmVR(dict_vr).getVRName();
  if (!IsKnownVr(vr) || vr == "UN") return std::nullopt;
  const std::string tag_path = path + TagKey(tag);
  const std::string_view raw = RawValue(e);
  if (raw.empty()) {
    Json obj = Json::object();
    obj["vr"] = vr;
    return obj;
  }
  if (IsStringVr(vr)) return StringJson(tag, vr, raw, charset, depth);
  if (const size_t unit = NumericSize(vr); unit != 0) {
    if (raw.size() % unit != 0) return std::nullopt;
    return BinaryJson(tag, vr, raw, tag_path);
  }
  if (vr == "OB" || vr == "OW") return BulkJson(vr, tag_path);
  if (vr != "SQ") return std::nullopt;
  if (!ScanSequenceValue(raw, Encoding::kImplicitLittle, depth + 1, limits_).ok()) {
    return std::nullopt;
  }
  // Re-read as an Implicit VR LE element: the dictionary makes it a sequence.
  std::string encoded;
  encoded.reserve(raw.size() + 8);
  const uint32_t header[2] = {(tag >> 16) | ((tag & 0xFFFF) << 16),
                              static_cast<uint32_t>(raw.size())};
  for (uint32_t word : header) {
    for (int i = 0; i < 4; ++i) encoded.push_back(static_cast<char>((word >> (8 * i)) & 0xFF));
  }
  encoded.append(raw);
  DcmDataset holder;
  DcmInputBufferStream in;
  in.setBuffer(encoded.data(), static_cast<offile_off_t>(encoded.size()));
  in.setEos();
  holder.transferInit();
  const OFCondition c = holder.read(in, EXS_LittleEndianImplicit, EGL_noChange, DCM_MaxReadLength);
  holder.transferEnd();
  DcmElement* seq = holder.card() == 1 ? holder.getElement(0) : nullptr;
  if (c.bad() || seq == nullptr || seq->ident() != EVR_SQ) return std::nullopt;
  return ElementJson(*seq, charset, path, depth);
}

}  // namespace dicomstore::dicom
