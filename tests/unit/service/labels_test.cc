#include "service/labels.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

using dicomstore::testing::IsInvalidArgument;

std::string Repeat(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += unit;
  return out;
}

TEST(LabelKeyTest, AcceptsLowercaseAndCaselessLetters) {
  for (const char* key : {"a", "team", "a1_-", "ключ", "日本", "ひらがな-1", "ß"}) {
    EXPECT_TRUE(ValidateLabelKey(key).ok()) << key;
  }
}

TEST(LabelKeyTest, LengthBoundaries) {
  EXPECT_TRUE(ValidateLabelKey(Repeat("a", 63)).ok());
  EXPECT_THAT(ValidateLabelKey(Repeat("a", 64)), IsInvalidArgument("64 characters long"));
  // 63 two-byte letters: 126 bytes, allowed.
  EXPECT_TRUE(ValidateLabelKey(Repeat("é", 63)).ok());
  // Three-byte letters: 42 are 126 bytes, 43 are 129 bytes (> 128) though only 43 characters.
  EXPECT_TRUE(ValidateLabelKey(Repeat("日", 42)).ok());
  EXPECT_THAT(ValidateLabelKey(Repeat("日", 43)), IsInvalidArgument("129 bytes long"));
}

TEST(LabelKeyTest, RejectsEmpty) {
  EXPECT_THAT(ValidateLabelKey(""), IsInvalidArgument("it is empty"));
}

TEST(LabelKeyTest, RejectsBadFirstCharacter) {
  for (const char* key : {"Team", "1a", "_a", "-a", "Ωmega"}) {
    EXPECT_THAT(ValidateLabelKey(key), IsInvalidArgument("must start with a lowercase letter"))
        << key;
  }
}

TEST(LabelKeyTest, RejectsBadLaterCharacters) {
  for (const char* key : {"aB", "a b", "a.b", "a/b", "a😀", "a:b"}) {
    EXPECT_THAT(ValidateLabelKey(key), IsInvalidArgument("may only contain")) << key;
  }
}

TEST(LabelKeyTest, ModifierLettersAreNotLowercaseOrOtherLetters) {
  // U+30FC (katakana prolonged sound mark) is Lm, outside [\p{Ll}\p{Lo}].
  EXPECT_THAT(ValidateLabelKey("データ"), IsInvalidArgument("may only contain"));
}

TEST(LabelKeyTest, ErrorQuotesKey) {
  EXPECT_THAT(ValidateLabelKey("Team"), IsInvalidArgument("Invalid label key \"Team\""));
}

TEST(LabelKeyTest, RejectsInvalidUtf8) {
  EXPECT_THAT(ValidateLabelKey("a\xff"), IsInvalidArgument("not valid UTF-8"));
  EXPECT_THAT(ValidateLabelKey("\xc3"), IsInvalidArgument("not valid UTF-8"));
}

TEST(LabelValueTest, AcceptsEmptyAndValidValues) {
  for (const char* value : {"", "prod", "1abc", "-", "_x", "значение", "日本", "v1-2_3"}) {
    EXPECT_TRUE(ValidateLabelValue("k", value).ok()) << value;
  }
}

TEST(LabelValueTest, LengthBoundaries) {
  EXPECT_TRUE(ValidateLabelValue("k", Repeat("a", 63)).ok());
  EXPECT_THAT(ValidateLabelValue("k", Repeat("a", 64)), IsInvalidArgument("64 characters"));
  EXPECT_TRUE(ValidateLabelValue("k", Repeat("日", 42)).ok());
  EXPECT_THAT(ValidateLabelValue("k", Repeat("日", 43)), IsInvalidArgument("129 bytes"));
}

TEST(LabelValueTest, RejectsBadCharactersNamingKey) {
  EXPECT_THAT(ValidateLabelValue("env", "Prod"),
              IsInvalidArgument("Invalid value \"Prod\" for label \"env\""));
  for (const char* value : {"a b", "a.b", "😀", "a/b", "\xff"}) {
    EXPECT_THAT(ValidateLabelValue("env", value), IsInvalidArgument("for label \"env\"")) << value;
  }
}

TEST(ParseLabelsTest, ParsesObject) {
  Json json = {{"team", "imaging"}, {"env", ""}};
  absl::StatusOr<Labels> labels = ParseLabels(json);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_THAT(*labels, ElementsAre(Pair("env", ""), Pair("team", "imaging")));
}

TEST(ParseLabelsTest, AcceptsPlainNlohmannJson) {
  // Callers holding nlohmann::json (not ordered) still compile, through a conversion.
  nlohmann::json json = {{"a", "b"}};
  absl::StatusOr<Labels> labels = ParseLabels(json);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->at("a"), "b");
}

TEST(ParseLabelsTest, NullIsEmpty) {
  absl::StatusOr<Labels> labels = ParseLabels(Json(nullptr));
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_TRUE(labels->empty());
}

TEST(ParseLabelsTest, RejectsNonObject) {
  EXPECT_THAT(ParseLabels(Json::array({"a"})).status(),
              IsInvalidArgument("'DicomStore.labels': expected an object"));
  EXPECT_THAT(ParseLabels(Json("a=b")).status(), IsInvalidArgument("got string"));
}

TEST(ParseLabelsTest, CountBoundary) {
  Json json = Json::object();
  for (int i = 0; i < kMaxLabels; ++i) json["k" + std::to_string(i)] = "v";
  absl::StatusOr<Labels> labels = ParseLabels(json);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->size(), 64u);
  json["k64"] = "v";
  EXPECT_THAT(ParseLabels(json).status(), IsInvalidArgument("65 given, at most 64"));
}

TEST(ParseLabelsTest, RejectsNonStringValueNamingKey) {
  EXPECT_THAT(ParseLabels(Json{{"env", 1}}).status(),
              IsInvalidArgument("Invalid value for label \"env\": expected a string, got number"));
  EXPECT_THAT(ParseLabels(Json{{"env", nullptr}}).status(), IsInvalidArgument("got null"));
}

TEST(ParseLabelsTest, RejectsBadKeyOrValue) {
  EXPECT_THAT(ParseLabels(Json{{"Env", "prod"}}).status(),
              IsInvalidArgument("Invalid label key \"Env\""));
  EXPECT_THAT(ParseLabels(Json{{"env", "Prod"}}).status(),
              IsInvalidArgument("Invalid value \"Prod\" for label \"env\""));
}

}  // namespace
}  // namespace dicomstore::service
