// JsonTextWriter: compact structure, string escaping, UTF-8 repair and number forms, each
// checked against the exact text and against nlohmann's dump(), which wrote the stored
// JSON before this writer existed.
#include "dicom/json_text_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "common/proto_json.h"
#include "gtest/gtest.h"

namespace dicomstore::dicom {
namespace {

std::string StringText(std::string_view s) {
  JsonTextWriter w;
  w.String(s);
  return w.Take();
}

std::string DoubleText(double d) {
  JsonTextWriter w;
  w.Double(d);
  return w.Take();
}

// What the code before this writer stored for a string: nlohmann's dump with invalid
// UTF-8 replaced.
std::string NlohmannText(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(JsonTextWriterTest, NestedContainersAreCompact) {
  JsonTextWriter w;
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.Int(-2);
  w.String("x");
  w.Null();
  w.BeginObject();
  w.Key("b");
  w.BeginArray();
  w.EndArray();
  w.EndObject();
  w.BeginArray();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.EndArray();
  w.Key("c");
  w.BeginObject();
  w.EndObject();
  w.Key("d");
  w.Uint(3);
  w.EndObject();
  const std::string expected = R"({"a":[1,-2,"x",null,{"b":[]},[[]]],"c":{},"d":3})";
  EXPECT_EQ(w.text(), expected);
  EXPECT_EQ(w.size(), expected.size());
  EXPECT_EQ(NlohmannText(Json::parse(w.text())), expected);
  EXPECT_EQ(w.Take(), expected);
  EXPECT_EQ(w.text(), "");
}

TEST(JsonTextWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(StringText("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(StringText(std::string("\0\x01\b\t\n\v\f\r\x1b\x1f", 10)),
            R"("\u0000\u0001\b\t\n\u000b\f\r\u001b\u001f")");
  // Nothing else is escaped: '/', DEL, non-ASCII.
  EXPECT_EQ(StringText("a/b\x7f caf\xc3\xa9 \xe5\xb1\xb1 \xf0\x9f\x98\x80"),
            "\"a/b\x7f caf\xc3\xa9 \xe5\xb1\xb1 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(StringText(""), R"("")");
  for (int c = 0; c < 0x80; ++c) {
    const std::string s = {'x', static_cast<char>(c), 'y'};
    EXPECT_EQ(StringText(s), NlohmannText(Json(s))) << "character " << c;
  }
}

TEST(JsonTextWriterTest, KeysAreEscapedLikeStrings) {
  JsonTextWriter w;
  w.BeginObject();
  w.Key("k\"\n");
  w.Int(0);
  w.EndObject();
  EXPECT_EQ(w.text(), R"({"k\"\n":0})");
}

TEST(JsonTextWriterTest, IllFormedUtf8IsReplaced) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(StringText("a\xff"
                       "b"),
            "\"a" + kFffd + "b\"");
  // A truncated sequence is one replacement, at the end or before another character.
  EXPECT_EQ(StringText("\xe2\x82"), "\"" + kFffd + "\"");
  EXPECT_EQ(StringText("\xe2\x82"
                       "A"),
            "\"" + kFffd + "A\"");
  // Overlong forms and surrogates: each byte that cannot continue is its own replacement.
  EXPECT_EQ(StringText("\xc0\xaf"), "\"" + kFffd + kFffd + "\"");
  EXPECT_EQ(StringText("\xed\xa0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");
  // The shortest and longest well-formed sequences pass.
  EXPECT_EQ(StringText("\xc2\x80\xf4\x8f\xbf\xbf"), "\"\xc2\x80\xf4\x8f\xbf\xbf\"");
  // Beyond U+10FFFF.
  EXPECT_EQ(StringText("\xf4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");

  // The same replacements as nlohmann's dump, on a mix of broken sequences.
  for (const std::string s : {"\x80",         "\xbf\xbf",
                              "\xc1\xbf",     "\xc2",
                              "\xc2\xc2\x80", "\xe0\x80\x80",
                              "\xe0\xa0",     "\xe0\xa0\x80",
                              "\xed\x9f\xbf", "\xed\xbf\xbf",
                              "\xef\xbf",     "\xf0\x80\x80\x80",
                              "\xf0\x90\x80", "\xf0\x90\x80\x80",
                              "\xf4\x8f\xbf", "\xf5\x80\x80\x80",
                              "\xfe\xff",     "ok\xe2\x82\xac\xe2\x82",
                              "\x22\xe2\x5c", "\xf1\x80\x80\xe1\x80\xc2"}) {
    EXPECT_EQ(StringText(s), NlohmannText(Json(s)))
        << Json(s).dump(-1, ' ', true, Json::error_handler_t::replace);
    EXPECT_TRUE(Json::parse(StringText(s)).is_string());  // valid UTF-8: the parser is strict
  }
}

TEST(JsonTextWriterTest, Integers) {
  JsonTextWriter w;
  w.BeginArray();
  w.Int(0);
  w.Int(-1);
  w.Int(std::numeric_limits<int64_t>::min());
  w.Int(std::numeric_limits<int64_t>::max());
  w.Uint(std::numeric_limits<uint64_t>::max());
  w.EndArray();
  EXPECT_EQ(w.text(), "[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615]");
  const Json parsed = Json::parse(w.text());
  EXPECT_EQ(parsed[2].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parsed[4].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
}

TEST(JsonTextWriterTest, DoublesInNlohmannsLayout) {
  EXPECT_EQ(DoubleText(1.5), "1.5");
  EXPECT_EQ(DoubleText(2.0), "2.0");
  EXPECT_EQ(DoubleText(-300.0), "-300.0");
  EXPECT_EQ(DoubleText(0.0), "0.0");
  EXPECT_EQ(DoubleText(-0.0), "-0.0");
  EXPECT_EQ(DoubleText(0.1), "0.1");
  EXPECT_EQ(DoubleText(0.0001), "0.0001");
  EXPECT_EQ(DoubleText(0.00001), "1e-05");
  EXPECT_EQ(DoubleText(-1.25e-7), "-1.25e-07");
  EXPECT_EQ(DoubleText(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(DoubleText(1e15), "1e+15");
  EXPECT_EQ(DoubleText(1.5e16), "1.5e+16");
  EXPECT_EQ(DoubleText(1e100), "1e+100");
  EXPECT_EQ(DoubleText(12345.678), "12345.678");
  EXPECT_EQ(DoubleText(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::lowest()), "-1.7976931348623157e+308");
  // Shortest digits, where nlohmann's Grisu2 writes "48.188015367187496" (same value).
  EXPECT_EQ(DoubleText(48.1880153671875), "48.1880153671875");
  EXPECT_EQ(DoubleText(-180.53579711914062), "-180.53579711914062");
  // Not JSON numbers: null, as nlohmann writes them.
  EXPECT_EQ(DoubleText(std::nan("")), "null");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(DoubleText(-std::numeric_limits<double>::infinity()), "null");

  for (double d : {1.5, 2.0, -0.0, 0.0001, 0.00001, 1e15, 1e21, 1e-300, 3.14159, 0.3,
                   static_cast<double>(1.1f), 2.5e-5, 123.0e10, 987654321.125}) {
    EXPECT_EQ(DoubleText(d), NlohmannText(Json(d))) << d;
  }
}

TEST(JsonTextWriterTest, DoublesReadBackToTheSameValue) {
  // Deterministic spread of bit patterns over the whole finite range.
  uint64_t state = 0x9E3779B97F4A7C15ull;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double d;
    std::memcpy(&d, &state, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = DoubleText(d);
    double back = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(ec, std::errc()) << text;
    ASSERT_EQ(ptr, text.data() + text.size()) << text;
    ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << text;
    ASSERT_EQ(Json::parse(text).get<double>(), d) << text;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
}

}  // namespace
}  // namespace dicomstore::dicom
