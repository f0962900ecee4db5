#include "service/resource_id.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using dicomstore::testing::IsInvalidArgument;

std::string Repeat(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += unit;
  return out;
}

TEST(ResourceIdTest, AcceptsAsciiLettersDigitsAndPunctuation) {
  for (const char* id : {"a", "Z", "0", "my-dataset_1.2", "...", "-", "_"}) {
    EXPECT_TRUE(ValidateResourceId(id, "datasetId").ok()) << id;
  }
}

TEST(ResourceIdTest, AcceptsUnicodeLettersAndDigits) {
  for (const char* id : {"データセット", "Ωmega", "Straße", "١٢٣", "ǅ", "ⅻ"}) {
    EXPECT_TRUE(ValidateResourceId(id, "datasetId").ok()) << id;
  }
}

TEST(ResourceIdTest, LengthIsCountedInCodePoints) {
  EXPECT_TRUE(ValidateResourceId(Repeat("a", 256), "datasetId").ok());
  EXPECT_THAT(ValidateResourceId(Repeat("a", 257), "datasetId"),
              IsInvalidArgument("it is 257 characters long"));
  // 256 two-byte letters are 512 bytes but still 256 characters.
  EXPECT_TRUE(ValidateResourceId(Repeat("é", 256), "datasetId").ok());
  EXPECT_THAT(ValidateResourceId(Repeat("é", 257), "datasetId"),
              IsInvalidArgument("257 characters"));
}

TEST(ResourceIdTest, EmptyIsRequired) {
  EXPECT_THAT(ValidateResourceId("", "dicomStoreId"),
              IsInvalidArgument("dicomStoreId is required"));
}

TEST(ResourceIdTest, RejectsDisallowedCharacters) {
  for (const char* id : {"a b", "a/b", "a:b", "a@b", "a+b", "😀", "a\tb", "a~", "a%2F"}) {
    EXPECT_THAT(ValidateResourceId(id, "datasetId"), IsInvalidArgument("is not allowed")) << id;
  }
}

TEST(ResourceIdTest, ErrorNamesParameterValueAndCharacter) {
  absl::Status status = ValidateResourceId("my store", "dicomStoreId");
  EXPECT_THAT(status, IsInvalidArgument("Invalid dicomStoreId \"my store\""));
  EXPECT_THAT(status, IsInvalidArgument("the character \" \" is not allowed"));
  EXPECT_THAT(status, IsInvalidArgument("Unicode letters, digits, '_', '-' or '.'"));
}

TEST(ResourceIdTest, RejectsInvalidUtf8) {
  for (const char* id : {"\xc3", "a\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_THAT(ValidateResourceId(id, "datasetId"), IsInvalidArgument("not valid UTF-8")) << id;
  }
}

}  // namespace
}  // namespace dicomstore::service
