// Text values to UTF-8 according to Specific Character Set (0008,0005).
//
// One path for every character set, built on ICU converters (no DCMTK/iconv conversion):
// Debian's DCMTK converts with glibc iconv, which cannot open ISO 2022 IR 87 / IR 159, and
// when one value of (0008,0005) is unsupported DCMTK leaves the whole dataset unconverted.
//
//  - "ISO_IR 192" (UTF-8), "GB18030", "GBK": the whole value is decoded with that table
//    (these sets never use escape sequences; their second bytes may be 0x5C '\' or 0x5E
//    '^', so values are split only after decoding).
//  - Everything else runs through a DICOM-aware ISO 2022 splitter (PS3.5 6.1.2.5):
//    G0/G1 designations are tracked (ESC ( B, ESC ( J, ESC $ B, ESC $ @, ESC $ ( D,
//    ESC ) I, ESC $ ) C, ESC $ ) A, ESC - A..M/T/b); they return to the state given by the
//    first value of (0008,0005) at CR, LF, TAB, FF, at '\' in multi-valued VRs and at '^'
//    and '=' in PN — but only while G0 is a single-byte set, because in JIS X 0208/0212
//    mode 0x5C/0x5E/0x3D are halves of two-byte characters. Runs are decoded with plain
//    tables: JIS X 0208 -> EUC-JP (bytes | 0x80), JIS X 0212 -> EUC-JP (0x8F prefix),
//    JIS X 0201 katakana -> U+FF61.., KS X 1001 -> EUC-KR, GB 2312 -> GB2312,
//    ISO 8859-n / TIS 620 -> their ICU tables. JIS X 0201 Romaji is read as ASCII (as
//    pydicom does; 0x5C stays '\').
//  - High bytes with no G1 set designated: decoded with the first G1-capable set named in
//    (0008,0005) (writers that omit the escape), else as ISO 8859-1. Unknown defined
//    terms are treated as ISO 8859-1. Invalid sequences become U+FFFD; the output is
//    always valid UTF-8.
//
// Thread-safe: converters are cached per thread.
#ifndef DICOMSTORE_DICOM_CHARSET_DECODER_H_
#define DICOMSTORE_DICOM_CHARSET_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomstore::dicom {

// How delimiters reset the ISO 2022 state for a VR.
enum class TextKind {
  kText,         // ST, LT, UT: only CR, LF, TAB, FF
  kMultiValued,  // SH, LO, UC: also '\'
  kPersonName,   // PN: also '\', '^', '='
};

class CharsetDecoder {
 public:
  // Default character repertoire (no (0008,0005)): ASCII, high bytes as ISO 8859-1.
  CharsetDecoder();
  // `specific_character_set`: the value of (0008,0005) as stored (values separated by
  // '\', padding allowed).
  explicit CharsetDecoder(std::string_view specific_character_set);

  // Decodes one element value (all its values, delimiters included) to UTF-8.
  std::string Decode(std::string_view bytes, TextKind kind) const;

  // For VRs restricted to the default repertoire (AE, CS, DA, UI, ...): ASCII, with any
  // stray high byte read as ISO 8859-1 so the result is valid UTF-8.
  static std::string DecodeDefaultRepertoire(std::string_view bytes);

  // Character-set codes (internal; exposed for tests and the decoder's own tables).
  enum class Set : uint8_t {
    kNone,
    kAscii,
    kJisX0208,
    kJisX0212,
    kJisKatakana,
    kKsX1001,
    kGb2312,
    kLatin1,
    kLatin2,
    kLatin3,
    kLatin4,
    kCyrillic,
    kArabic,
    kGreek,
    kHebrew,
    kLatin5,
    kLatin9,
    kThai,
    kUtf8,
    kGb18030,
    kGbk,
  };

 private:
  std::string DecodeIso2022(std::string_view bytes, TextKind kind) const;

  Set whole_value_set_ = Set::kNone;  // UTF-8 / GB18030 / GBK: no escape processing
  Set initial_g0_ = Set::kAscii;
  Set initial_g1_ = Set::kNone;
  Set fallback_g1_ = Set::kLatin1;  // for high bytes while no G1 set is designated
};

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_CHARSET_DECODER_H_
