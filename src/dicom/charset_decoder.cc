#include "dicom/charset_decoder.h"

#include <unicode/ucnv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dicomstore::dicom {
namespace {

using Set = CharsetDecoder::Set;

constexpr char kEsc = 0x1B;

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\0')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

// Defined terms of PS3.3 C.12.1.1.2, with and without code extensions.
Set TermToSet(std::string_view term) {
  term = TrimSpaces(term);
  if (term.empty()) return Set::kAscii;
  struct Entry {
    std::string_view number;
    Set set;
  };
  static constexpr Entry kIsoIr[] = {
      {"6", Set::kAscii},        {"100", Set::kLatin1},  {"101", Set::kLatin2},
      {"109", Set::kLatin3},     {"110", Set::kLatin4},  {"144", Set::kCyrillic},
      {"127", Set::kArabic},     {"126", Set::kGreek},   {"138", Set::kHebrew},
      {"148", Set::kLatin5},     {"203", Set::kLatin9},  {"166", Set::kThai},
      {"13", Set::kJisKatakana}, {"87", Set::kJisX0208}, {"159", Set::kJisX0212},
      {"149", Set::kKsX1001},    {"58", Set::kGb2312},   {"192", Set::kUtf8},
  };
  std::string_view number;
  if (term.starts_with("ISO_IR ")) {
    number = term.substr(7);
  } else if (term.starts_with("ISO 2022 IR ")) {
    number = term.substr(12);
  } else if (term == "GB18030") {
    return Set::kGb18030;
  } else if (term == "GBK") {
    return Set::kGbk;
  } else {
    return Set::kLatin1;  // unknown term: lenient
  }
  number = TrimSpaces(number);
  for (const Entry& e : kIsoIr) {
    if (e.number == number) return e.set;
  }
  return Set::kLatin1;
}

bool IsWholeValueSet(Set s) { return s == Set::kUtf8 || s == Set::kGb18030 || s == Set::kGbk; }
bool IsG1Set(Set s) {
  switch (s) {
    case Set::kJisKatakana:
    case Set::kKsX1001:
    case Set::kGb2312:
    case Set::kLatin1:
    case Set::kLatin2:
    case Set::kLatin3:
    case Set::kLatin4:
    case Set::kCyrillic:
    case Set::kArabic:
    case Set::kGreek:
    case Set::kHebrew:
    case Set::kLatin5:
    case Set::kLatin9:
    case Set::kThai:
      return true;
    default:
      return false;
  }
}
bool IsTwoByteG1(Set s) { return s == Set::kKsX1001 || s == Set::kGb2312; }

const char* IcuName(Set s) {
  switch (s) {
    case Set::kLatin1:
      return "ISO-8859-1";
    case Set::kLatin2:
      return "ISO-8859-2";
    case Set::kLatin3:
      return "ISO-8859-3";
    case Set::kLatin4:
      return "ISO-8859-4";
    case Set::kCyrillic:
      return "ISO-8859-5";
    case Set::kArabic:
      return "ISO-8859-6";
    case Set::kGreek:
      return "ISO-8859-7";
    case Set::kHebrew:
      return "ISO-8859-8";
    case Set::kLatin5:
      return "ISO-8859-9";
    case Set::kLatin9:
      return "ISO-8859-15";
    case Set::kThai:
      return "TIS-620";
    case Set::kJisX0208:
    case Set::kJisX0212:
      return "EUC-JP";
    case Set::kKsX1001:
      return "EUC-KR";
    case Set::kGb2312:
      return "GB2312";
    case Set::kUtf8:
      return "UTF-8";
    case Set::kGb18030:
      return "GB18030";
    case Set::kGbk:
      return "GBK";
    default:
      return nullptr;
  }
}

void AppendCodePoint(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr uint32_t kReplacement = 0xFFFD;

void AppendLatin1(std::string* out, std::string_view bytes) {
  for (unsigned char c : bytes) AppendCodePoint(out, c);
}

// One ICU converter per set and thread (UConverter objects are stateful).
class ConverterCache {
 public:
  ~ConverterCache() {
    for (UConverter* c : converters_) {
      if (c != nullptr) ucnv_close(c);
    }
  }
  UConverter* Get(Set s) {
    const size_t index = static_cast<size_t>(s);
    if (index >= converters_.size()) converters_.resize(index + 1, nullptr);
    if (converters_[index] == nullptr) {
      const char* name = IcuName(s);
      if (name == nullptr) return nullptr;
      UErrorCode status = U_ZERO_ERROR;
      UConverter* c = ucnv_open(name, &status);
      if (U_FAILURE(status)) return nullptr;
      converters_[index] = c;
    }
    ucnv_resetToUnicode(converters_[index]);
    return converters_[index];
  }

 private:
  std::vector<UConverter*> converters_;
};

// Appends `bytes` (encoded in the table of `s`) to `out` as UTF-8.
void AppendWithTable(std::string* out, Set s, std::string_view bytes) {
  if (bytes.empty()) return;
  if (s == Set::kLatin1) {
    AppendLatin1(out, bytes);
    return;
  }
  thread_local ConverterCache cache;
  UConverter* cnv = cache.Get(s);
  if (cnv == nullptr) {
    AppendLatin1(out, bytes);
    return;
  }
  // Every input byte yields at most 3 UTF-8 bytes (4-byte GB18030 sequences yield 4).
  const size_t old_size = out->size();
  const size_t capacity = bytes.size() * 3 + 4;
  out->resize(old_size + capacity);
  UErrorCode status = U_ZERO_ERROR;
  const int32_t written =
      ucnv_toAlgorithmic(UCNV_UTF8, cnv, out->data() + old_size, static_cast<int32_t>(capacity),
                         bytes.data(), static_cast<int32_t>(bytes.size()), &status);
  if (U_FAILURE(status) || written < 0) {
    out->resize(old_size);
    AppendLatin1(out, bytes);
    return;
  }
  out->resize(old_size + static_cast<size_t>(written));
}

bool IsResetByte(unsigned char c, TextKind kind) {
  switch (c) {
    case '\r':
    case '\n':
    case '\t':
    case '\f':
      return true;
    case '\\':
      return kind != TextKind::kText;
    case '^':
    case '=':
      return kind == TextKind::kPersonName;
    default:
      return false;
  }
}

// Recognises the escape sequence at the start of `s` (which begins with ESC). Returns its
// length (0 when unknown) and the designation it makes.
struct Designation {
  size_t length = 0;
  bool g0 = false;  // designates G0 (else G1)
  Set set = Set::kNone;
};
Designation ParseEscape(std::string_view s) {
  auto match = [&](std::string_view seq) { return s.substr(1).starts_with(seq); };
  if (match("(B") || match("(J")) return {3, true, Set::kAscii};
  if (match("$B") || match("$@")) return {3, true, Set::kJisX0208};
  if (match("$(D")) return {4, true, Set::kJisX0212};
  if (match(")I")) return {3, false, Set::kJisKatakana};
  if (match("$)C")) return {4, false, Set::kKsX1001};
  if (match("$)A")) return {4, false, Set::kGb2312};
  if (s.size() >= 3 && s[1] == '-') {
    switch (s[2]) {
      case 'A':
        return {3, false, Set::kLatin1};
      case 'B':
        return {3, false, Set::kLatin2};
      case 'C':
        return {3, false, Set::kLatin3};
      case 'D':
        return {3, false, Set::kLatin4};
      case 'F':
        return {3, false, Set::kGreek};
      case 'G':
        return {3, false, Set::kArabic};
      case 'H':
        return {3, false, Set::kHebrew};
      case 'L':
        return {3, false, Set::kCyrillic};
      case 'M':
        return {3, false, Set::kLatin5};
      case 'T':
        return {3, false, Set::kThai};
      case 'b':
        return {3, false, Set::kLatin9};
      default:
        break;
    }
  }
  return {};
}

// Accumulates bytes of one table and flushes them when the table changes.
class RunWriter {
 public:
  explicit RunWriter(std::string* out) : out_(out) {}
  void Ascii(char c) {
    Flush();
    out_->push_back(c);
  }
  void CodePoint(uint32_t cp) {
    Flush();
    AppendCodePoint(out_, cp);
  }
  void Bytes(Set s, std::string_view bytes) {
    if (s != run_set_) Flush();
    run_set_ = s;
    run_.append(bytes);
  }
  void Flush() {
    if (!run_.empty()) AppendWithTable(out_, run_set_, run_);
    run_.clear();
    run_set_ = Set::kNone;
  }

 private:
  std::string* out_;
  Set run_set_ = Set::kNone;
  std::string run_;
};

}  // namespace

CharsetDecoder::CharsetDecoder() = default;

CharsetDecoder::CharsetDecoder(std::string_view specific_character_set) {
  std::vector<Set> sets;
  size_t start = 0;
  while (true) {
    const size_t end = specific_character_set.find('\\', start);
    sets.push_back(TermToSet(specific_character_set.substr(
        start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  for (Set s : sets) {
    if (IsWholeValueSet(s)) {
      whole_value_set_ = s;
      return;
    }
  }
  const Set first = sets.front();
  if (IsG1Set(first)) initial_g1_ = first;
  for (Set s : sets) {
    if (IsG1Set(s)) {
      fallback_g1_ = s;
      break;
    }
  }
}

std::string CharsetDecoder::Decode(std::string_view bytes, TextKind kind) const {
  bool ascii = true;
  for (unsigned char c : bytes) {
    if (c >= 0x80 || c == static_cast<unsigned char>(kEsc)) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(bytes);
  if (whole_value_set_ != Set::kNone) {
    std::string out;
    AppendWithTable(&out, whole_value_set_, bytes);
    return out;
  }
  return DecodeIso2022(bytes, kind);
}

std::string CharsetDecoder::DecodeIso2022(std::string_view bytes, TextKind kind) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  RunWriter w(&out);
  Set g0 = initial_g0_;
  Set g1 = initial_g1_;
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == static_cast<unsigned char>(kEsc)) {
      const Designation d = ParseEscape(bytes.substr(i));
      if (d.length == 0) {
        w.CodePoint(kReplacement);
        ++i;
        continue;
      }
      if (d.g0) {
        g0 = d.set;
      } else {
        g1 = d.set;
      }
      i += d.length;
      continue;
    }
    const bool two_byte_g0 = g0 == Set::kJisX0208 || g0 == Set::kJisX0212;
    if (two_byte_g0 && c >= 0x21 && c <= 0x7E) {
      if (i + 1 < n && static_cast<unsigned char>(bytes[i + 1]) >= 0x21 &&
          static_cast<unsigned char>(bytes[i + 1]) <= 0x7E) {
        const char pair[3] = {static_cast<char>(0x8F), static_cast<char>(c | 0x80),
                              static_cast<char>(bytes[i + 1] | 0x80)};
        if (g0 == Set::kJisX0212) {
          w.Bytes(Set::kJisX0212, std::string_view(pair, 3));
        } else {
          w.Bytes(Set::kJisX0208, std::string_view(pair + 1, 2));
        }
        i += 2;
      } else {
        w.CodePoint(kReplacement);
        ++i;
      }
      continue;
    }
    if (c < 0x80) {
      w.Ascii(static_cast<char>(c));
      if (IsResetByte(c, kind)) {
        g0 = initial_g0_;
        g1 = initial_g1_;
      }
      ++i;
      continue;
    }
    // High byte: G1 (or the fallback when nothing is designated).
    const Set set = g1 != Set::kNone ? g1 : fallback_g1_;
    if (set == Set::kJisKatakana) {
      w.CodePoint(c >= 0xA1 && c <= 0xDF ? 0xFF61 + (c - 0xA1) : kReplacement);
      ++i;
    } else if (IsTwoByteG1(set)) {
      if (i + 1 < n && static_cast<unsigned char>(bytes[i + 1]) >= 0xA1) {
        w.Bytes(set, bytes.substr(i, 2));
        i += 2;
      } else {
        w.CodePoint(kReplacement);
        ++i;
      }
    } else {
      w.Bytes(set, bytes.substr(i, 1));
      ++i;
    }
  }
  w.Flush();
  return out;
}

std::string CharsetDecoder::DecodeDefaultRepertoire(std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (c >= 0x80) {
      std::string out;
      AppendLatin1(&out, bytes);
      return out;
    }
  }
  return std::string(bytes);
}

}  // namespace dicomstore::dicom
