#include "dicom/dicom_json_writer.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
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
#include "dicom/byte_order.h"
#include "dicom/dataset_scanner.h"
#include "dicom/person_name.h"

namespace dicomstore::dicom {

bool IsStringVr(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("AE"):
    case VrCode("AS"):
    case VrCode("CS"):
    case VrCode("DA"):
    case VrCode("DS"):
    case VrCode("DT"):
    case VrCode("IS"):
    case VrCode("LO"):
    case VrCode("LT"):
    case VrCode("PN"):
    case VrCode("SH"):
    case VrCode("ST"):
    case VrCode("TM"):
    case VrCode("UC"):
    case VrCode("UI"):
    case VrCode("UR"):
    case VrCode("UT"):
      return true;
    default:
      return false;
  }
}

size_t NumericSize(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("US"):
    case VrCode("SS"):
      return 2;
    case VrCode("UL"):
    case VrCode("SL"):
    case VrCode("FL"):
    case VrCode("OF"):
    case VrCode("OL"):
    case VrCode("AT"):
      return 4;
    case VrCode("FD"):
    case VrCode("OD"):
    case VrCode("SV"):
    case VrCode("UV"):
    case VrCode("OV"):
      return 8;
    default:
      return 0;
  }
}

namespace {

bool IsTextVr(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("SH"):
    case VrCode("LO"):
    case VrCode("ST"):
    case VrCode("LT"):
    case VrCode("UT"):
    case VrCode("PN"):
    case VrCode("UC"):
      return true;
    default:
      return false;
  }
}

bool IsSingleValuedVr(std::string_view vr) {
  switch (VrCode(vr)) {
    case VrCode("LT"):
    case VrCode("ST"):
    case VrCode("UT"):
    case VrCode("UR"):
      return true;
    default:
      return false;
  }
}

std::string_view TrimTrailing(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.remove_suffix(1);
  return v;
}
std::string_view TrimLeading(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

// IS value: a JSON integer when it is one, else the string as stored (as pydicom does).
void WriteIntegerString(std::string_view v, JsonTextWriter* out) {
  std::string_view digits = v;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty()) {
    out->Int(n);
  } else {
    out->String(v);
  }
}

// DS value: a JSON number when it is a finite decimal, else the string as stored.
void WriteDecimalString(std::string_view v, JsonTextWriter* out) {
  std::string_view digits = v;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double d = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty() &&
      std::isfinite(d)) {
    out->Double(d);
  } else {
    out->String(v);
  }
}

void WriteFloat(double d, JsonTextWriter* out) {
  if (std::isnan(d)) {
    out->String("NaN");
  } else if (std::isinf(d)) {
    out->String(d > 0 ? "Infinity" : "-Infinity");
  } else {
    out->Double(d);
  }
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

// "<path><tag>": the element's bulk data path (built only when needed).
std::string TagPath(const std::string& path, uint32_t tag) { return path + TagKey(tag); }

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
  const uint16_t code = VrCode(vr);
  if (code == VrCode("US") || code == VrCode("AT")) {
    Uint16* v = nullptr;
    if (e.getUint16Array(v).good() && v) return ToLittleEndian(v, length / 2);
  } else if (code == VrCode("SS")) {
    Sint16* v = nullptr;
    if (e.getSint16Array(v).good() && v) return ToLittleEndian(v, length / 2);
  } else if (code == VrCode("UL") || code == VrCode("OL")) {
    Uint32* v = nullptr;
    if (e.getUint32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (code == VrCode("SL")) {
    Sint32* v = nullptr;
    if (e.getSint32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (code == VrCode("FL") || code == VrCode("OF")) {
    Float32* v = nullptr;
    if (e.getFloat32Array(v).good() && v) return ToLittleEndian(v, length / 4);
  } else if (code == VrCode("FD") || code == VrCode("OD")) {
    Float64* v = nullptr;
    if (e.getFloat64Array(v).good() && v) return ToLittleEndian(v, length / 8);
  } else if (code == VrCode("SV")) {
    Sint64* v = nullptr;
    if (e.getSint64Array(v).good() && v) return ToLittleEndian(v, length / 8);
  } else if (code == VrCode("UV") || code == VrCode("OV")) {
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

size_t BeginMember(uint32_t tag, JsonTextWriter* out) {
  out->Key(TagKey(tag));
  return out->size() - 11;  // '"' + 8 hex digits + '"' + ':' (nothing to escape)
}

void BeginElement(std::string_view vr, JsonTextWriter* out) {
  out->BeginObject();
  out->Key("vr");
  out->String(vr);
}

void WriteBulkElement(std::string_view vr, const std::string& tag_path, JsonTextWriter* out) {
  BeginElement(vr, out);
  out->Key("BulkDataURI");
  out->String(BulkDataUri(tag_path));
  out->EndObject();
}

// A numeric/binary element from its little-endian bytes (length a multiple of the size).
void WriteBinaryElement(uint32_t tag, std::string_view vr, std::string_view le,
                        const std::string& path, JsonTextWriter* out) {
  const size_t unit = NumericSize(vr);
  if (le.empty() || unit == 0) {
    BeginElement(vr, out);
    out->EndObject();
    return;
  }
  const size_t vm = le.size() / unit;
  if (IsBulkData(tag, vr, le.size(), vm)) {
    WriteBulkElement(vr, TagPath(path, tag), out);
    return;
  }
  BeginElement(vr, out);
  const uint16_t code = VrCode(vr);
  if (code == VrCode("OF") || code == VrCode("OD") || code == VrCode("OL") ||
      code == VrCode("OV")) {
    out->Key("InlineBinary");
    out->String(absl::Base64Escape(Av(le)));
    out->EndObject();
    return;
  }
  out->Key("Value");
  out->BeginArray();
  const auto* p = reinterpret_cast<const unsigned char*>(le.data());
  const auto each = [&](auto write_one) {
    for (size_t i = 0; i < vm; ++i, p += unit) write_one(p);
  };
  switch (code) {
    case VrCode("US"):
      each([out](const unsigned char* v) { out->Uint(ReadLe<uint16_t>(v)); });
      break;
    case VrCode("SS"):
      each([out](const unsigned char* v) { out->Int(static_cast<int16_t>(ReadLe<uint16_t>(v))); });
      break;
    case VrCode("UL"):
      each([out](const unsigned char* v) { out->Uint(ReadLe<uint32_t>(v)); });
      break;
    case VrCode("SL"):
      each([out](const unsigned char* v) { out->Int(static_cast<int32_t>(ReadLe<uint32_t>(v))); });
      break;
    case VrCode("UV"):
      each([out](const unsigned char* v) { out->Uint(ReadLe<uint64_t>(v)); });
      break;
    case VrCode("SV"):
      each([out](const unsigned char* v) { out->Int(static_cast<int64_t>(ReadLe<uint64_t>(v))); });
      break;
    case VrCode("FL"):
      each([out](const unsigned char* v) {
        const uint32_t bits = ReadLe<uint32_t>(v);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        WriteFloat(f, out);
      });
      break;
    case VrCode("FD"):
      each([out](const unsigned char* v) {
        const uint64_t bits = ReadLe<uint64_t>(v);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        WriteFloat(d, out);
      });
      break;
    case VrCode("AT"):
      each([out](const unsigned char* v) {
        out->String(TagKey(uint32_t{ReadLe<uint16_t>(v)} << 16 | ReadLe<uint16_t>(v + 2)));
      });
      break;
    default:
      break;
  }
  out->EndArray();
  out->EndObject();
}

void WriteStringValues(std::string_view vr, std::string_view raw, const CharsetDecoder& charset,
                       std::string* text, JsonTextWriter* out) {
  const uint16_t code = VrCode(vr);
  const bool single_valued = IsSingleValuedVr(vr);
  const TextKind kind = code == VrCode("PN") ? TextKind::kPersonName
                        : single_valued      ? TextKind::kText
                                             : TextKind::kMultiValued;
  const std::string decoded =
      IsTextVr(vr) ? charset.Decode(raw, kind) : CharsetDecoder::DecodeDefaultRepertoire(raw);
  const std::string_view whole = TrimTrailing(decoded);
  if (text != nullptr) *text = std::string(whole);
  const bool is_number = code == VrCode("DS") || code == VrCode("IS");
  const auto trim = [&](std::string_view v) {
    v = TrimTrailing(v);
    return is_number ? TrimLeading(v) : v;
  };
  // A single value that is empty (a PN: no non-empty group) makes the element empty.
  if (single_valued || whole.find('\\') == std::string_view::npos) {
    const std::string_view only = trim(whole);
    if (only.empty()) return;
    if (code == VrCode("PN")) {
      const auto groups = PersonNameGroups(only);
      if (std::all_of(groups.begin(), groups.end(), [](auto g) { return g.empty(); })) return;
    }
  }
  const auto write_value = [&](std::string_view v) {
    v = trim(v);
    if (v.empty()) {
      out->Null();
    } else if (code == VrCode("PN")) {
      WritePersonName(v, out);
    } else if (code == VrCode("IS")) {
      WriteIntegerString(v, out);
    } else if (code == VrCode("DS")) {
      WriteDecimalString(v, out);
    } else {
      out->String(v);
    }
  };
  out->Key("Value");
  out->BeginArray();
  if (single_valued) {
    write_value(whole);
  } else {
    size_t start = 0;
    while (true) {
      const size_t end = whole.find('\\', start);
      write_value(whole.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  out->EndArray();
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
                                const std::string& path, int depth, JsonTextWriter* out,
                                std::vector<MemberSpan>* spans) {
  const std::optional<CharsetDecoder> own = OwnCharset(item);
  const CharsetDecoder& charset = own ? *own : inherited;
  // nextInContainer walks the list; getElement(i) would seek from the start each time.
  for (DcmObject* obj = item.nextInContainer(nullptr); obj != nullptr;
       obj = item.nextInContainer(obj)) {
    auto* e = dynamic_cast<DcmElement*>(obj);
    if (e == nullptr) continue;
    const uint32_t tag = TagOf(*e);
    if ((tag & 0xFFFF) == 0) continue;  // group length
    const size_t begin = BeginMember(tag, out);
    WriteElement(*e, charset, path, depth, out);
    if (spans != nullptr) spans->push_back({tag, begin, out->size()});
  }
}

void DicomJsonWriter::WriteString(uint32_t tag, std::string_view vr, std::string_view raw,
                                  const CharsetDecoder& charset, int depth, JsonTextWriter* out) {
  const bool record = depth == 0 && recorded_tags_.contains(tag);
  std::string text;
  BeginElement(vr, out);
  WriteStringValues(vr, raw, charset, record ? &text : nullptr, out);
  out->EndObject();
  if (record) recorded_[tag] = std::move(text);
}

void DicomJsonWriter::WriteElement(DcmElement& e, const CharsetDecoder& charset,
                                   const std::string& path, int depth, JsonTextWriter* out) {
  const uint32_t tag = TagOf(e);
  if (e.ident() == EVR_SQ) {
    BeginElement("SQ", out);
    auto* seq = dynamic_cast<DcmSequenceOfItems*>(&e);
    if (seq != nullptr && seq->card() > 0) {
      const std::string tag_path = TagPath(path, tag);
      out->Key("Value");
      out->BeginArray();
      unsigned long index = 0;
      for (DcmObject* obj = seq->nextInContainer(nullptr); obj != nullptr;
           obj = seq->nextInContainer(obj), ++index) {
        out->BeginObject();
        if (auto* item = dynamic_cast<DcmItem*>(obj); item != nullptr) {
          WriteItem(*item, charset, absl::StrCat(tag_path, "/", index, "/"), depth + 1, out);
        }
        out->EndObject();
      }
      out->EndArray();
    }
    out->EndObject();
    return;
  }
  const std::string vr = VrLabel(e);
  if (IsStringVr(vr)) return WriteString(tag, vr, RawValue(e), charset, depth, out);
  if (NumericSize(vr) != 0)
    return WriteBinaryElement(tag, vr, NumericLittleEndian(e, vr), path, out);
  // OB, OW, UN.
  if (vr == "UN" && ((tag >> 16) & 1) == 0) {
    if (WriteUnknownAsDictionaryVr(e, tag, charset, path, depth, out)) return;
  }
  if (e.getLengthField() == 0) {
    BeginElement(vr, out);
    out->EndObject();
    return;
  }
  WriteBulkElement(vr, TagPath(path, tag), out);
}

bool DicomJsonWriter::WriteUnknownAsDictionaryVr(DcmElement& e, uint32_t tag,
                                                 const CharsetDecoder& charset,
                                                 const std::string& path, int depth,
                                                 JsonTextWriter* out) {
  const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
  DcmEVR dict_vr = EVR_UNKNOWN;
  {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dict.findEntry(key, nullptr);
    if (entry != nullptr) dict_vr = entry->getEVR();
    dcmDataDict.rdunlock();
  }
  const std::string vr = DcmVR(dict_vr).getVRName();
  if (!IsKnownVr(vr) || vr == "UN") return false;
  const std::string_view raw = RawValue(e);
  if (raw.empty()) {
    BeginElement(vr, out);
    out->EndObject();
    return true;
  }
  if (IsStringVr(vr)) {
    WriteString(tag, vr, raw, charset, depth, out);
    return true;
  }
  if (const size_t unit = NumericSize(vr); unit != 0) {
    if (raw.size() % unit != 0) return false;
    WriteBinaryElement(tag, vr, raw, path, out);
    return true;
  }
  if (vr == "OB" || vr == "OW") {
    WriteBulkElement(vr, TagPath(path, tag), out);
    return true;
  }
  if (vr != "SQ") return false;
  if (!ScanSequenceValue(raw, Encoding::kImplicitLittle, depth + 1, limits_).ok()) return false;
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
  if (c.bad() || seq == nullptr || seq->ident() != EVR_SQ) return false;
  WriteElement(*seq, charset, path, depth, out);
  return true;
}

}  // namespace dicomstore::dicom
