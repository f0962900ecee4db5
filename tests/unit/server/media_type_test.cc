#include "server/media_type.h"

#include "gtest/gtest.h"

namespace dicomstore::server {
namespace {

TEST(MediaTypeTest, ParsesParameters) {
  auto mt = ParseMediaType(
      "Multipart/Related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1");
  ASSERT_TRUE(mt.ok()) << mt.status();
  EXPECT_EQ(mt->Essence(), "multipart/related");
  EXPECT_EQ(mt->Param("type"), "application/dicom");
  EXPECT_EQ(mt->Param("transfer-syntax"), "1.2.840.10008.1.2.1");
  EXPECT_FALSE(mt->HasParam("boundary"));
}

TEST(MediaTypeTest, RejectsMalformed) {
  EXPECT_FALSE(ParseMediaType("").ok());
  EXPECT_FALSE(ParseMediaType("application").ok());
  EXPECT_FALSE(ParseMediaType("application/").ok());
  EXPECT_FALSE(ParseMediaType("a/b; x").ok());
  EXPECT_FALSE(ParseMediaType("a/b; x=\"open").ok());
  EXPECT_FALSE(ParseMediaType("a/b, c/d").ok());
}

TEST(MediaTypeTest, AcceptSortsByQualityAndDropsZero) {
  auto ranges = ParseAccept("image/png;q=0.5, application/dicom+json, */*;q=0.1, image/gif;q=0");
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  ASSERT_EQ(ranges->size(), 3u);
  EXPECT_EQ((*ranges)[0].type.Essence(), "application/dicom+json");
  EXPECT_EQ((*ranges)[1].type.Essence(), "image/png");
  EXPECT_FALSE((*ranges)[1].type.HasParam("q"));
  EXPECT_EQ((*ranges)[2].type.Essence(), "*/*");
  EXPECT_FALSE(ParseAccept("a/b;q=2").ok());
  EXPECT_TRUE(ParseAccept("").ok());
}

}  // namespace
}  // namespace dicomstore::server
