#include "server/request_target.h"

#include "gtest/gtest.h"

namespace dicomstore::server {
namespace {

TEST(RequestTargetTest, DecodesSegmentsAndQuery) {
  auto t = ParseRequestTarget("/v1/projects/p/a%2Fb/frames/1%2C2?x=a+b&y=%3D&z");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->segments.size(), 6u);
  EXPECT_EQ(t->segments[3], "a/b");  // an encoded slash stays inside its segment
  EXPECT_EQ(t->segments[5], "1,2");
  EXPECT_EQ(t->Param("x"), "a b");
  EXPECT_EQ(t->Param("y"), "=");
  EXPECT_TRUE(t->Has("z"));
  EXPECT_FALSE(t->Has("w"));
}

TEST(RequestTargetTest, StripsSystemParameters) {
  auto t = ParseRequestTarget(
      "/v1/x?alt=&prettyPrint=false&%24.xgafv=2&fields=a&key=k&access_token=t&PatientID=1");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->query.size(), 1u);
  EXPECT_EQ(t->query[0].name, "PatientID");
}

TEST(RequestTargetTest, RejectsMalformedTargets) {
  EXPECT_FALSE(ParseRequestTarget("/v1/%zz").ok());
  EXPECT_FALSE(ParseRequestTarget("/v1/%4").ok());
  EXPECT_FALSE(ParseRequestTarget("/v1/x?a=%").ok());
  EXPECT_FALSE(ParseRequestTarget("v1/x").ok());
  EXPECT_FALSE(ParseRequestTarget("").ok());
  EXPECT_FALSE(ParseRequestTarget("/" + std::string(kMaxTargetLength, 'a')).ok());
}

}  // namespace
}  // namespace dicomstore::server
