#include "common/json_members.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dicomstore {
namespace {

using Members = std::vector<std::pair<std::string, std::string>>;

bool Walk(std::string_view text, Members* out) {
  return ForEachJsonMember(text, [out](std::string_view k, std::string_view v) {
    out->emplace_back(k, v);
    return true;
  });
}

TEST(JsonMembersTest, YieldsKeysAndRawValues) {
  Members m;
  ASSERT_TRUE(
      Walk(R"( {"a":1, "b" : "x}\"]" ,"c":{"d":[1,{"e":"]"}]},"f":[],"g":null,"h":-2.5e3} )", &m));
  EXPECT_THAT(
      m, ::testing::ElementsAre(std::pair<std::string, std::string>("a", "1"),
                                std::pair<std::string, std::string>("b", R"("x}\"]")"),
                                std::pair<std::string, std::string>("c", R"({"d":[1,{"e":"]"}]})"),
                                std::pair<std::string, std::string>("f", "[]"),
                                std::pair<std::string, std::string>("g", "null"),
                                std::pair<std::string, std::string>("h", "-2.5e3")));
  m.clear();
  EXPECT_TRUE(Walk("{}", &m));
  EXPECT_TRUE(m.empty());
}

TEST(JsonMembersTest, StopsWhenAsked) {
  int seen = 0;
  EXPECT_TRUE(ForEachJsonMember(R"({"a":1,"b":2,"c":3})",
                                [&](std::string_view, std::string_view) { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
}

TEST(JsonMembersTest, RejectsMalformedObjects) {
  Members m;
  for (const char* bad : {"", "[]", "{", R"({"a")", R"({"a":})", R"({"a":1,})", R"({"a":1 "b":2})",
                          R"({"a":"x)", R"({"a":{"b":1})", R"({"a":1}x)", R"({a:1})"}) {
    m.clear();
    EXPECT_FALSE(Walk(bad, &m)) << bad;
  }
}

}  // namespace
}  // namespace dicomstore
