#include "common/proto_json.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using dicomstore::testing::IsInvalidArgument;

// `levels` nested containers in total, the outermost being the top-level object.
std::string NestedBody(int levels) {
  std::string inner_open(levels - 1, '[');
  std::string inner_close(levels - 1, ']');
  return "{\"a\":" + inner_open + inner_close + "}";
}

TEST(ParseJsonBodyTest, EmptyOrWhitespaceBodyIsEmptyObject) {
  for (std::string_view body : {"", "  \n\t "}) {
    absl::StatusOr<Json> parsed = ParseJsonBody(body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, Json::object());
  }
}

TEST(ParseJsonBodyTest, ParsesObjectKeepingKeyOrder) {
  absl::StatusOr<Json> parsed = ParseJsonBody(R"({"z": 1, "a": {"b": [true, "x"]}})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->dump(), R"({"z":1,"a":{"b":[true,"x"]}})");
}

TEST(ParseJsonBodyTest, RejectsNonObjectTopLevel) {
  for (std::string_view body : {"[]", "null", "3", "\"s\"", "true"}) {
    EXPECT_THAT(ParseJsonBody(body).status(), IsInvalidArgument("must be a JSON object")) << body;
  }
}

TEST(ParseJsonBodyTest, MalformedJsonReportsPosition) {
  absl::Status status = ParseJsonBody("{\"a\": }").status();
  EXPECT_THAT(status, IsInvalidArgument("Invalid JSON payload received."));
  EXPECT_THAT(status, IsInvalidArgument("line 1, column 7"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("[json.exception")));
}

TEST(ParseJsonBodyTest, RejectsTrailingGarbageAndTruncation) {
  EXPECT_THAT(ParseJsonBody("{} {}").status(), IsInvalidArgument("parse error"));
  EXPECT_THAT(ParseJsonBody("{\"a\": [1, 2").status(), IsInvalidArgument("parse error"));
}

TEST(ParseJsonBodyTest, RejectsInvalidUtf8InStrings) {
  EXPECT_THAT(ParseJsonBody("{\"a\": \"\xff\"}").status(), IsInvalidArgument("parse error"));
}

TEST(ParseJsonBodyTest, NumberOverflowDoesNotThrow) {
  EXPECT_THAT(ParseJsonBody(R"({"a": 1e400})").status(), IsInvalidArgument("overflow"));
}

TEST(ParseJsonBodyTest, DepthLimitBoundary) {
  EXPECT_TRUE(ParseJsonBody(NestedBody(kMaxJsonDepth)).ok());
  EXPECT_THAT(ParseJsonBody(NestedBody(kMaxJsonDepth + 1)).status(),
              IsInvalidArgument("deeper than the limit of 64"));
}

TEST(ParseJsonBodyTest, VeryDeepInputIsRejectedNotCrashing) {
  std::string body = "{\"a\":" + std::string(1'000'000, '[');
  EXPECT_THAT(ParseJsonBody(body).status(), IsInvalidArgument("deeper than the limit"));
}

TEST(CheckObjectFieldsTest, AcceptsKnownFields) {
  Json value = {{"name", "x"}, {"labels", Json::object()}};
  EXPECT_TRUE(CheckObjectFields(value, {"name", "labels", "streamConfigs"}, "DicomStore").ok());
  EXPECT_TRUE(CheckObjectFields(Json::object(), {}, "Empty").ok());
}

TEST(CheckObjectFieldsTest, NamesUnknownField) {
  Json value = {{"name", "x"}, {"labelz", 1}};
  absl::Status status = CheckObjectFields(value, {"name", "labels"}, "DicomStore");
  EXPECT_THAT(status, IsInvalidArgument("Unknown name \"labelz\" in DicomStore"));
}

TEST(CheckObjectFieldsTest, FieldNamesAreCaseSensitive) {
  EXPECT_THAT(CheckObjectFields(Json{{"Labels", 1}}, {"labels"}, "DicomStore"),
              IsInvalidArgument("\"Labels\""));
}

TEST(CheckObjectFieldsTest, RejectsNonObject) {
  EXPECT_THAT(CheckObjectFields(Json::array(), {"a"}, "NotificationConfig"),
              IsInvalidArgument("NotificationConfig must be a JSON object, got an array"));
}

TEST(ReadStringTest, AbsentLeavesValueUnchanged) {
  std::string out = "keep";
  EXPECT_TRUE(ReadString(Json::object(), "pubsubTopic", "NotificationConfig", &out).ok());
  EXPECT_EQ(out, "keep");
}

TEST(ReadStringTest, ReadsStringAndNullAsDefault) {
  std::string out;
  ASSERT_TRUE(ReadString(Json{{"t", "topic"}}, "t", "T", &out).ok());
  EXPECT_EQ(out, "topic");
  ASSERT_TRUE(ReadString(Json{{"t", nullptr}}, "t", "T", &out).ok());
  EXPECT_EQ(out, "");
}

TEST(ReadStringTest, WrongTypeNamesField) {
  std::string out;
  EXPECT_THAT(
      ReadString(Json{{"pubsubTopic", 5}}, "pubsubTopic", "NotificationConfig", &out),
      IsInvalidArgument("'NotificationConfig.pubsubTopic': expected a string, got a number"));
}

TEST(ReadStringTest, NonObjectContainerIsError) {
  std::string out;
  EXPECT_THAT(ReadString(Json::array(), "a", "T", &out), IsInvalidArgument("T must be"));
}

TEST(ReadBoolTest, ReadsBooleans) {
  bool out = false;
  ASSERT_TRUE(ReadBool(Json{{"f", true}}, "f", "T", &out).ok());
  EXPECT_TRUE(out);
  ASSERT_TRUE(ReadBool(Json{{"f", nullptr}}, "f", "T", &out).ok());
  EXPECT_FALSE(out);
  out = true;
  ASSERT_TRUE(ReadBool(Json::object(), "f", "T", &out).ok());
  EXPECT_TRUE(out);
}

TEST(ReadBoolTest, RejectsStringsAndNumbers) {
  bool out = false;
  EXPECT_THAT(ReadBool(Json{{"force", "true"}}, "force", "Dest", &out),
              IsInvalidArgument("'Dest.force': expected a boolean, got a string"));
  EXPECT_THAT(ReadBool(Json{{"force", 1}}, "force", "Dest", &out),
              IsInvalidArgument("expected a boolean"));
}

int64_t ReadInt64OrDie(const Json& value) {
  int64_t out = -42;
  absl::Status status = ReadInt64(Json{{"n", value}}, "n", "T", &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

absl::Status ReadInt64Status(const Json& value) {
  int64_t out = 0;
  return ReadInt64(Json{{"n", value}}, "n", "T", &out);
}

TEST(ReadInt64Test, AcceptsNumbersAndDecimalStrings) {
  EXPECT_EQ(ReadInt64OrDie(5), 5);
  EXPECT_EQ(ReadInt64OrDie(-5), -5);
  EXPECT_EQ(ReadInt64OrDie("12"), 12);
  EXPECT_EQ(ReadInt64OrDie("-12"), -12);
  EXPECT_EQ(ReadInt64OrDie(1.0), 1);
  EXPECT_EQ(ReadInt64OrDie(nullptr), 0);
  EXPECT_EQ(ReadInt64OrDie(Json::parse("1e3")), 1000);
}

TEST(ReadInt64Test, AcceptsInt64Extremes) {
  EXPECT_EQ(ReadInt64OrDie("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ReadInt64OrDie("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ReadInt64OrDie(Json::parse("9223372036854775807")),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ReadInt64OrDie(Json::parse("-9223372036854775808")),
            std::numeric_limits<int64_t>::min());
}

TEST(ReadInt64Test, RejectsOutOfRange) {
  EXPECT_THAT(ReadInt64Status("9223372036854775808"), IsInvalidArgument("int64 range"));
  EXPECT_THAT(ReadInt64Status(Json::parse("9223372036854775808")),
              IsInvalidArgument("9223372036854775808 is not an integer in the int64 range"));
  EXPECT_THAT(ReadInt64Status(Json::parse("-9223372036854775809")),
              IsInvalidArgument("int64 range"));
  EXPECT_THAT(ReadInt64Status(1e19), IsInvalidArgument("int64 range"));
}

TEST(ReadInt64Test, RejectsNonIntegers) {
  for (const char* text : {"1.5", " 5", "5 ", "+5", "", "abc", "0x10", "1e3"}) {
    EXPECT_THAT(ReadInt64Status(text), IsInvalidArgument("'T.n'")) << text;
  }
  EXPECT_THAT(ReadInt64Status(1.5), IsInvalidArgument("1.5 is not an integer"));
  EXPECT_THAT(ReadInt64Status(true), IsInvalidArgument("expected an integer"));
  EXPECT_THAT(ReadInt64Status(Json::object()), IsInvalidArgument("got an object"));
}

TEST(ReadInt64Test, AbsentLeavesValueUnchanged) {
  int64_t out = 7;
  ASSERT_TRUE(ReadInt64(Json::object(), "n", "T", &out).ok());
  EXPECT_EQ(out, 7);
}

TEST(FormatTimestampTest, Rfc3339WithMicrosecondsAndZ) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1714566896123456), "2024-05-01T12:34:56.123456Z");
  EXPECT_EQ(FormatTimestamp(1709251199000001), "2024-02-29T23:59:59.000001Z");
}

TEST(FormatTimestampTest, NegativeTimesRoundDown) {
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(FormatTimestampTest, ClampsToTimestampRange) {
  EXPECT_EQ(FormatTimestamp(std::numeric_limits<int64_t>::max()), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(std::numeric_limits<int64_t>::min()), "0001-01-01T00:00:00.000000Z");
}

TEST(NowMicrosTest, IsCurrentTime) {
  int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  int64_t now = NowMicros();
  EXPECT_GE(now, before);
  EXPECT_LT(now - before, 10'000'000);
}

TEST(QuoteForMessageTest, EscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(QuoteForMessage("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(QuoteForMessage("line\n"), "\"line\\n\"");
  EXPECT_EQ(QuoteForMessage("é"), "\"é\"");
  EXPECT_EQ(QuoteForMessage("\xff"), "\"\xEF\xBF\xBD\"");
}

TEST(Int64JsonTest, IsAString) {
  EXPECT_EQ(Int64Json(-12), Json("-12"));
  EXPECT_EQ(Int64Json(std::numeric_limits<int64_t>::max()).dump(), "\"9223372036854775807\"");
}

}  // namespace
}  // namespace dicomstore
