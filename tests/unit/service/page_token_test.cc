#include "service/page_token.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using dicomstore::testing::IsInvalidArgument;

constexpr std::string_view kKind = "projects/p/locations/l/datasets/d/dicomStores";

TEST(PageTokenTest, RoundTrips) {
  for (std::string_view key :
       {std::string_view("store-1"), std::string_view("データ"), std::string_view(""),
        std::string_view("with\0nul", 8), std::string_view("a/b:c")}) {
    std::string token = EncodePageToken(kKind, key);
    absl::StatusOr<std::string> decoded = DecodePageToken(kKind, token);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, key);
  }
}

TEST(PageTokenTest, EmptyTokenIsFirstPage) {
  absl::StatusOr<std::string> decoded = DecodePageToken(kKind, "");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "");
}

TEST(PageTokenTest, TokenIsUrlSafeWithoutPadding) {
  for (int len = 0; len < 8; ++len) {
    std::string token = EncodePageToken(kKind, std::string(len, '\xfb'));
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << token;
  }
}

TEST(PageTokenTest, RejectsTokenOfAnotherKind) {
  std::string token = EncodePageToken(kKind, "s1");
  EXPECT_THAT(DecodePageToken("projects/p/locations/l/datasets/other/dicomStores", token).status(),
              IsInvalidArgument("invalid page token"));
  EXPECT_THAT(DecodePageToken("projects/p/locations/l/datasets", token).status(),
              IsInvalidArgument("invalid page token"));
}

TEST(PageTokenTest, RejectsGarbage) {
  for (const char* token : {"x", "abc", "not a token!", "====", "AQ", "AAAAAAAAAA"}) {
    EXPECT_THAT(DecodePageToken(kKind, token).status(), IsInvalidArgument("invalid page token"))
        << token;
  }
}

TEST(PageTokenTest, RejectsTruncatedAndAlteredTokens) {
  std::string token = EncodePageToken(kKind, "store-with-a-long-name");
  for (size_t keep = 0; keep < token.size(); ++keep) {
    if (keep == 0) continue;  // "" is the first page, by design
    EXPECT_THAT(DecodePageToken(kKind, token.substr(0, keep)).status(),
                IsInvalidArgument("invalid page token"))
        << keep;
  }
  for (size_t i = 0; i < token.size(); ++i) {
    std::string altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_THAT(DecodePageToken(kKind, altered).status(), IsInvalidArgument("invalid page token"))
        << i;
  }
}

TEST(PageSizeTest, EmptyAndZeroMeanDefault) {
  EXPECT_EQ(*ParsePageSize("", 100, 1000), 100);
  EXPECT_EQ(*ParsePageSize("0", 100, 1000), 100);
}

TEST(PageSizeTest, AcceptsValuesUpToMax) {
  EXPECT_EQ(*ParsePageSize("1", 100, 1000), 1);
  EXPECT_EQ(*ParsePageSize("1000", 100, 1000), 1000);
}

TEST(PageSizeTest, RejectsOverMax) {
  EXPECT_THAT(ParsePageSize("1001", 100, 1000).status(),
              IsInvalidArgument("Invalid pageSize \"1001\": the maximum is 1000"));
  EXPECT_THAT(ParsePageSize("99999999999999999999", 100, 1000).status(),
              IsInvalidArgument("the maximum is 1000"));
}

TEST(PageSizeTest, RejectsNegative) {
  EXPECT_THAT(ParsePageSize("-1", 100, 1000).status(), IsInvalidArgument("must not be negative"));
  EXPECT_THAT(ParsePageSize("-99999999999999999999", 100, 1000).status(),
              IsInvalidArgument("must not be negative"));
}

TEST(PageSizeTest, RejectsNonIntegers) {
  for (const char* value : {"abc", "1.5", " 5", "5 ", "+5", "0x10", "1e3", "-"}) {
    EXPECT_THAT(ParsePageSize(value, 100, 1000).status(),
                IsInvalidArgument("must be an integer between 0 and 1000"))
        << value;
  }
}

}  // namespace
}  // namespace dicomstore::service
