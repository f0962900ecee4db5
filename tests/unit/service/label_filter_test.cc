#include "service/label_filter.h"

#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using dicomstore::testing::IsInvalidArgument;

LabelFilter ParseOrDie(std::string_view text) {
  absl::StatusOr<LabelFilter> filter = LabelFilter::Parse(text);
  EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
  if (!filter.ok()) return *LabelFilter::Parse("");
  return *std::move(filter);
}

bool Matches(std::string_view text, const Labels& labels) {
  return ParseOrDie(text).Matches(labels);
}

absl::Status ParseError(std::string_view text) { return LabelFilter::Parse(text).status(); }

std::string Repeat(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += unit;
  return out;
}

TEST(LabelFilterTest, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(Matches("", {}));
  EXPECT_TRUE(Matches(" \t\n", {{"a", "b"}}));
}

TEST(LabelFilterTest, EqualityIsExact) {
  EXPECT_TRUE(Matches("labels.env=prod", {{"env", "prod"}}));
  EXPECT_FALSE(Matches("labels.env=prod", {{"env", "production"}}));
  EXPECT_FALSE(Matches("labels.env=prod", {{"env", "pro"}}));
  EXPECT_FALSE(Matches("labels.env=prod", {{"other", "prod"}}));
  EXPECT_FALSE(Matches("labels.env=prod", {}));
}

TEST(LabelFilterTest, ColonValueIsEquality) {
  EXPECT_TRUE(Matches("labels.env:prod", {{"env", "prod"}}));
  EXPECT_FALSE(Matches("labels.env:prod", {{"env", "prod2"}}));
}

TEST(LabelFilterTest, ColonStarIsPresence) {
  EXPECT_TRUE(Matches("labels.env:*", {{"env", ""}}));
  EXPECT_TRUE(Matches("labels.env : *", {{"env", "x"}}));
  EXPECT_FALSE(Matches("labels.env:*", {{"envx", "x"}}));
}

TEST(LabelFilterTest, QuotedKeysAndValues) {
  EXPECT_TRUE(Matches(R"(labels."env"="prod")", {{"env", "prod"}}));
  EXPECT_TRUE(Matches(R"(labels."env":*)", {{"env", "prod"}}));
  EXPECT_TRUE(Matches(R"(labels.k="a \"b\" \\c")", {{"k", R"(a "b" \c)"}}));
  EXPECT_TRUE(Matches(R"(labels.k="AND")", {{"k", "AND"}}));
}

TEST(LabelFilterTest, EmptyQuotedValueMatchesEmptyValueOnly) {
  EXPECT_TRUE(Matches(R"(labels.k="")", {{"k", ""}}));
  EXPECT_FALSE(Matches(R"(labels.k="")", {{"k", "v"}}));
  EXPECT_FALSE(Matches(R"(labels.k="")", {}));
}

TEST(LabelFilterTest, UnicodeBareWords) {
  EXPECT_TRUE(Matches("labels.ключ=значение", {{"ключ", "значение"}}));
  EXPECT_TRUE(Matches("labels.日本=データ-1", {{"日本", "データ-1"}}));
}

TEST(LabelFilterTest, WhitespaceAroundOperators) {
  EXPECT_TRUE(Matches("  labels.env = prod  ", {{"env", "prod"}}));
}

TEST(LabelFilterTest, OrBindsTighterThanAnd) {
  // AIP-160: "a OR b AND c" is "(a OR b) AND c".
  const std::string filter = "labels.a:* OR labels.b:* AND labels.c:*";
  EXPECT_FALSE(Matches(filter, {{"a", ""}}));
  EXPECT_FALSE(Matches(filter, {{"b", ""}}));
  EXPECT_TRUE(Matches(filter, {{"b", ""}, {"c", ""}}));
  EXPECT_TRUE(Matches(filter, {{"a", ""}, {"c", ""}}));
  EXPECT_FALSE(Matches(filter, {{"c", ""}}));
}

TEST(LabelFilterTest, JuxtapositionIsAnd) {
  EXPECT_TRUE(Matches("labels.a:* labels.b:*", {{"a", ""}, {"b", ""}}));
  EXPECT_FALSE(Matches("labels.a:* labels.b:*", {{"a", ""}}));
  EXPECT_FALSE(Matches("labels.a:* labels.b:* OR labels.c:*", {{"a", ""}}));
  EXPECT_FALSE(Matches("labels.a:* labels.b:* OR labels.c:*", {{"c", ""}}));
  EXPECT_TRUE(Matches("labels.a:* labels.b:* OR labels.c:*", {{"a", ""}, {"c", ""}}));
}

TEST(LabelFilterTest, Parentheses) {
  const std::string filter = "(labels.a:* OR labels.b:*) AND labels.c:*";
  EXPECT_FALSE(Matches(filter, {{"a", ""}}));
  EXPECT_TRUE(Matches(filter, {{"a", ""}, {"c", ""}}));
  EXPECT_TRUE(Matches(filter, {{"b", ""}, {"c", ""}}));
  EXPECT_TRUE(Matches("((labels.a=1))", {{"a", "1"}}));
}

TEST(LabelFilterTest, Not) {
  EXPECT_TRUE(Matches("NOT labels.a:*", {}));
  EXPECT_FALSE(Matches("NOT labels.a:*", {{"a", ""}}));
  EXPECT_TRUE(Matches("-labels.a=x", {{"a", "y"}}));
  EXPECT_FALSE(Matches("-labels.a=x", {{"a", "x"}}));
  EXPECT_TRUE(Matches("NOT NOT labels.a:*", {{"a", ""}}));
  EXPECT_TRUE(Matches("NOT(labels.a:* OR labels.b:*)", {{"c", ""}}));
  EXPECT_FALSE(Matches("NOT (labels.a:* OR labels.b:*)", {{"b", ""}}));
  // NOT applies to the factor only, not the whole conjunction.
  EXPECT_TRUE(Matches("NOT labels.a:* AND labels.b:*", {{"b", ""}}));
  EXPECT_FALSE(Matches("NOT labels.a:* AND labels.b:*", {{"a", ""}, {"b", ""}}));
}

TEST(LabelFilterTest, HyphenInsideWordsIsNotNegation) {
  EXPECT_TRUE(Matches("labels.my-key=my-value", {{"my-key", "my-value"}}));
  EXPECT_TRUE(Matches("labels.k=-1", {{"k", "-1"}}));
}

TEST(LabelFilterTest, RejectsOtherFields) {
  EXPECT_THAT(ParseError("name=foo"), IsInvalidArgument("cannot filter on \"name\""));
  EXPECT_THAT(ParseError("labels.a:* AND createTime:*"),
              IsInvalidArgument("only labels can be filtered"));
  EXPECT_THAT(ParseError("label.a=b"), IsInvalidArgument("cannot filter on \"label\""));
}

TEST(LabelFilterTest, RejectsUnsupportedOperators) {
  EXPECT_THAT(ParseError("labels.a!=b"), IsInvalidArgument("'!=' is not supported"));
  EXPECT_THAT(ParseError("labels.a<b"), IsInvalidArgument("only support '=', ':' and ':*'"));
  EXPECT_THAT(ParseError("labels.a>=b"), IsInvalidArgument("only support"));
  EXPECT_THAT(ParseError("labels.a"), IsInvalidArgument("expected '=', ':' or ':*'"));
  EXPECT_THAT(ParseError("labels.a.b=c"), IsInvalidArgument("expected '=', ':' or ':*'"));
}

TEST(LabelFilterTest, RejectsIncompleteComparisons) {
  EXPECT_THAT(ParseError("labels"), IsInvalidArgument("expected '.' and a label key"));
  EXPECT_THAT(ParseError("labels:*"), IsInvalidArgument("expected '.' and a label key"));
  EXPECT_THAT(ParseError("labels.=x"), IsInvalidArgument("expected a label key"));
  EXPECT_THAT(ParseError("labels.a="), IsInvalidArgument("expected a value"));
  EXPECT_THAT(ParseError("labels.a=*"), IsInvalidArgument("expected a value"));
}

TEST(LabelFilterTest, RejectsBadStrings) {
  EXPECT_THAT(ParseError(R"(labels.a="abc)"),
              IsInvalidArgument("at position 10: the quoted string is not terminated"));
  EXPECT_THAT(ParseError(R"(labels."a=b)"), IsInvalidArgument("not terminated"));
  EXPECT_THAT(ParseError(R"(labels.a="\n")"), IsInvalidArgument("escapes are allowed"));
  EXPECT_THAT(ParseError("labels.a=\"\\"), IsInvalidArgument("escapes are allowed"));
}

TEST(LabelFilterTest, RejectsBadStructure) {
  EXPECT_THAT(ParseError("(labels.a:*"), IsInvalidArgument("at position 1: '(' is not closed"));
  EXPECT_THAT(ParseError("labels.a:*)"), IsInvalidArgument("')' has no matching '('"));
  EXPECT_THAT(ParseError("labels.a:* AND"), IsInvalidArgument("expected a condition"));
  EXPECT_THAT(ParseError("labels.a:* OR"), IsInvalidArgument("expected a condition"));
  EXPECT_THAT(ParseError("AND labels.a:*"), IsInvalidArgument("unexpected 'AND'"));
  EXPECT_THAT(ParseError("labels.a:* OR OR labels.b:*"), IsInvalidArgument("unexpected 'OR'"));
  EXPECT_THAT(ParseError("NOT"), IsInvalidArgument("expected a condition"));
  EXPECT_THAT(ParseError("()"), IsInvalidArgument("expected a condition"));
  EXPECT_THAT(ParseError("labels.a=b\"c\""), IsInvalidArgument("expected a condition"));
}

TEST(LabelFilterTest, KeywordsAreCaseSensitive) {
  EXPECT_THAT(ParseError("labels.a:* and labels.b:*"),
              IsInvalidArgument("the keywords AND, OR and NOT are upper case"));
  EXPECT_THAT(ParseError("not labels.b:*"), IsInvalidArgument("upper case"));
}

TEST(LabelFilterTest, ErrorQuotesFilterAndPosition) {
  EXPECT_THAT(ParseError("labels.a!=b"),
              IsInvalidArgument("Invalid filter \"labels.a!=b\" at position 9:"));
}

TEST(LabelFilterTest, RejectsInvalidUtf8) {
  EXPECT_THAT(ParseError("labels.a=\xff"), IsInvalidArgument("not valid UTF-8"));
}

TEST(LabelFilterTest, DepthLimitForParentheses) {
  auto nested = [](int depth) { return Repeat("(", depth) + "labels.a:*" + Repeat(")", depth); };
  EXPECT_TRUE(Matches(nested(kMaxFilterDepth), {{"a", ""}}));
  EXPECT_THAT(ParseError(nested(kMaxFilterDepth + 1)), IsInvalidArgument("more than 32 levels"));
}

TEST(LabelFilterTest, DepthLimitForNot) {
  EXPECT_TRUE(Matches(Repeat("NOT ", kMaxFilterDepth) + "labels.a:*", {{"a", ""}}));
  EXPECT_FALSE(Matches(Repeat("-", kMaxFilterDepth - 1) + "labels.a:*", {{"a", ""}}));
  EXPECT_THAT(ParseError(Repeat("-", kMaxFilterDepth + 1) + "labels.a:*"),
              IsInvalidArgument("more than 32 levels"));
  EXPECT_THAT(ParseError(Repeat("NOT (", 17) + "labels.a:*" + Repeat(")", 17)),
              IsInvalidArgument("more than 32 levels"));
}

TEST(LabelFilterTest, LengthLimit) {
  const std::string prefix = "labels.a=";
  std::string at_limit = prefix + std::string(kMaxFilterLength - prefix.size(), 'x');
  EXPECT_TRUE(LabelFilter::Parse(at_limit).ok());
  EXPECT_THAT(ParseError(at_limit + "x"),
              IsInvalidArgument("4097 bytes long; the maximum is 4096"));
}

TEST(LabelFilterTest, LongChainsDoNotCountAsDepth) {
  std::string filter = "labels.k0:*";
  for (int i = 1; i < 200; ++i) filter += " AND labels.k" + std::to_string(i % 10) + ":*";
  Labels all;
  for (int i = 0; i < 10; ++i) all["k" + std::to_string(i)] = "";
  EXPECT_TRUE(Matches(filter, all));
  EXPECT_FALSE(Matches(filter, {{"k0", ""}}));
}

TEST(LabelFilterTest, MovedFilterKeepsWorking) {
  LabelFilter filter = ParseOrDie("labels.a=b");
  LabelFilter moved = std::move(filter);
  EXPECT_TRUE(moved.Matches({{"a", "b"}}));
  LabelFilter assigned = ParseOrDie("");
  assigned = std::move(moved);
  EXPECT_FALSE(assigned.Matches({{"a", "c"}}));
}

}  // namespace
}  // namespace dicomstore::service
