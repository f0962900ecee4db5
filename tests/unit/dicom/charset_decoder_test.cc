// The ISO 2022 splitter and the single-table character sets on hand-built byte strings.
// (The corpus cs-* files are covered by corpus_test.cc through MANIFEST-json.)
#include "dicom/charset_decoder.h"

#include <string>

#include "common/proto_json.h"
#include "dicom/dicom_json_writer.h"
#include "dicom/json_text_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dicomstore::dicom {
namespace {

std::string Decode(std::string_view charset, std::string_view bytes,
                   TextKind kind = TextKind::kPersonName) {
  return CharsetDecoder(charset).Decode(bytes, kind);
}

// The "Value" array WriteStringValues writes for an element (null when it writes none).
Json StringValues(std::string_view vr, std::string_view raw, const CharsetDecoder& charset) {
  JsonTextWriter out;
  out.BeginObject();
  std::string text;
  WriteStringValues(vr, raw, charset, &text, &out);
  out.EndObject();
  const Json element = Json::parse(out.text());
  return element.contains("Value") ? element.at("Value") : Json();
}

TEST(CharsetDecoderTest, AsciiPassesThrough) {
  EXPECT_EQ(Decode("", "Doe^John"), "Doe^John");
  EXPECT_EQ(Decode("ISO_IR 192", "Doe^John"), "Doe^John");
  EXPECT_EQ(Decode("\\ISO 2022 IR 87", "Doe^John"), "Doe^John");
}

TEST(CharsetDecoderTest, SingleByteSets) {
  EXPECT_EQ(Decode("ISO_IR 100", "Buc^J\xe9r\xf4me"), "Buc^Jérôme");
  EXPECT_EQ(Decode("ISO_IR 126", "\xe1"), "α");
  EXPECT_EQ(Decode("ISO_IR 144",
                   "\xbb\xee\xda"
                   "ce\xdc\xd1"
                   "yp\xd3"),
            "Люкceмбypг");
  EXPECT_EQ(Decode("ISO_IR 13", "\xd4\xcf\xc0\xde"), "ﾔﾏﾀﾞ");
  // No (0008,0005) and a high byte: read as ISO 8859-1 rather than dropped.
  EXPECT_EQ(CharsetDecoder().Decode("Jos\xe9", TextKind::kMultiValued), "José");
  // Unknown defined term: ISO 8859-1 as well.
  EXPECT_EQ(Decode("ISO_IR 999", "\xe9"), "é");
}

TEST(CharsetDecoderTest, WholeValueSets) {
  EXPECT_EQ(Decode("ISO_IR 192", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1="),
            "Wang^XiaoDong=王^小東=");
  EXPECT_EQ(Decode("GB18030", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab="),
            "Wang^XiaoDong=王^小东=");
  // Invalid UTF-8 becomes U+FFFD; the output stays valid UTF-8.
  EXPECT_EQ(Decode("ISO_IR 192",
                   "a\xff"
                   "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(CharsetDecoderTest, Gb18030SecondByteBackslashIsNotADelimiter) {
  // 0x81 0x5C is one GB18030 character (U+4E57); the value delimiter comes after it.
  Json values = StringValues("LO", "\x81\x5c\\A", CharsetDecoder("GB18030"));
  EXPECT_EQ(values, Json::parse(R"(["乗", "A"])"));
}

TEST(CharsetDecoderTest, Iso2022Ir87) {
  // PS3.5 H.3.1: Yamada^Tarou=山田^太郎=やまだ^たろう
  EXPECT_EQ(Decode("\\ISO 2022 IR 87",
                   "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B="
                   "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"),
            "Yamada^Tarou=山田^太郎=やまだ^たろう");
}

TEST(CharsetDecoderTest, TwoByteModeKeepsDelimiterBytesInsideCharacters) {
  // "$^" is the JIS X 0208 code of ま: the 0x5E byte is not a PN component separator.
  EXPECT_EQ(Decode("\\ISO 2022 IR 87", "\x1b$B$^\x1b(B"), "ま");
  // Likewise 0x5C ('\') inside a two-byte character is not a value delimiter.
  const Json values = StringValues("LO", "\x1b$B0\\\x1b(B", CharsetDecoder("\\ISO 2022 IR 87"));
  ASSERT_EQ(values.size(), 1u) << values.dump();
  EXPECT_EQ(values[0], "移");  // JIS 0x305C
}

TEST(CharsetDecoderTest, Iso2022Ir13WithIr87) {
  // PS3.5 H.3.2: half-width katakana through G1 (IR 13), kanji through ESC $ B, back to
  // JIS X 0201 Romaji with ESC ( J.
  EXPECT_EQ(Decode("ISO 2022 IR 13\\ISO 2022 IR 87",
                   "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J="
                   "\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J"),
            "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
}

TEST(CharsetDecoderTest, Iso2022Ir159) {
  // JIS X 0212 (supplementary kanji) designated to G0 with ESC $ ( D.
  EXPECT_EQ(Decode("\\ISO 2022 IR 87\\ISO 2022 IR 159", "\x1b$(D0!\x1b(B^\x1b$B;3\x1b(B"), "丂^山");
}

TEST(CharsetDecoderTest, Iso2022Ir149AndIr58) {
  EXPECT_EQ(Decode("\\ISO 2022 IR 149",
                   "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7="
                   "\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"),
            "Hong^Gildong=洪^吉洞=홍^길동");
  EXPECT_EQ(Decode("\\ISO 2022 IR 58", "Wang^XiaoDong=\x1b$)A\xcd\xf5^\x1b$)A\xd0\xa1\xb6\xab="),
            "Wang^XiaoDong=王^小东=");
  // High bytes without the escape: the G1 set named in (0008,0005) is assumed.
  EXPECT_EQ(Decode("\\ISO 2022 IR 149", "\xc8\xab"), "홍");
}

TEST(CharsetDecoderTest, DelimitersResetToTheInitialState) {
  // G1 starts as Latin-1 (value 1); ESC - F switches G1 to Greek. In a PN the '^'
  // returns to Latin-1; in an LO the '^' is an ordinary character and Greek stays.
  const std::string bytes = "\x1b-F\xe1^\xe1";
  EXPECT_EQ(Decode("ISO 2022 IR 100\\ISO 2022 IR 126", bytes, TextKind::kPersonName), "α^á");
  EXPECT_EQ(Decode("ISO 2022 IR 100\\ISO 2022 IR 126", bytes, TextKind::kMultiValued), "α^α");
  // '\' resets in multi-valued VRs, not in LT/ST/UT; CR/LF reset everywhere.
  EXPECT_EQ(Decode("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\\\xe1", TextKind::kMultiValued),
            "α\\á");
  EXPECT_EQ(Decode("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\\\xe1", TextKind::kText),
            "α\\α");
  EXPECT_EQ(Decode("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\r\n\xe1", TextKind::kText),
            "α\r\ná");
}

TEST(CharsetDecoderTest, MalformedInputNeverBreaksUtf8) {
  // Unknown escape, a lone half of a two-byte character, a truncated escape.
  const std::string out =
      Decode("\\ISO 2022 IR 87", "\x1b%Zab\x1b$B;\x1b(B\xff\x1b$", TextKind::kPersonName);
  EXPECT_THAT(out, ::testing::HasSubstr("\xEF\xBF\xBD"));
  // Round-trips through a JSON dump without throwing (valid UTF-8).
  EXPECT_NO_THROW((void)Json(out).dump());
}

TEST(CharsetDecoderTest, DefaultRepertoireVrsStayAscii) {
  EXPECT_EQ(CharsetDecoder::DecodeDefaultRepertoire("1.2.3"), "1.2.3");
  EXPECT_EQ(CharsetDecoder::DecodeDefaultRepertoire("A\xe9"), "Aé");
}

}  // namespace
}  // namespace dicomstore::dicom
