#include "sql/preparser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::sql {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::testing::SizeIs;

Statement One(std::string_view text) {
  absl::StatusOr<Statement> st = PreParseStatement(text);
  EXPECT_TRUE(st.ok()) << st.status();
  return st.ok() ? *st : Statement{};
}

TEST(PreParserTest, RewritesThreePartNamesIntoQuotedIdentifiers) {
  Statement st = One("SELECT name FROM google.healthcare.dicom_stores WHERE projectsId = 'p'");
  EXPECT_EQ(st.kind, StatementKind::kSql);
  EXPECT_EQ(st.verb, "SELECT");
  EXPECT_EQ(st.sql, "SELECT name FROM \"google.healthcare.dicom_stores\" WHERE projectsId = 'p'");
}

TEST(PreParserTest, RewritesQuotedPartsAndKeepsAFourthPart) {
  EXPECT_EQ(One("select google.healthcare.\"dicom_stores\".name from Google.healthcare.x").sql,
            "select \"google.healthcare.dicom_stores\".name from \"google.healthcare.x\"");
}

TEST(PreParserTest, LeavesStringsCommentsAndOtherNamesAlone) {
  const std::string text =
      "SELECT 'google.healthcare.dicom_stores', main.t.c -- google.healthcare.x\n"
      "/* google.a.b */ FROM t";
  EXPECT_EQ(One(text).sql, text);
}

TEST(PreParserTest, SplitsOnSemicolonsOutsideQuotes) {
  absl::StatusOr<std::vector<Statement>> script = PreParseScript(
      "SELECT ';' AS a; SELECT \"x;y\" FROM t -- ; not here\n; ; /* only a comment */ ;"
      "SHOW SERVICES");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_THAT(*script, SizeIs(3));
  EXPECT_EQ((*script)[0].sql, "SELECT ';' AS a");
  EXPECT_EQ((*script)[0].offset, 0u);
  EXPECT_EQ((*script)[1].sql, " SELECT \"x;y\" FROM t -- ; not here\n");
  EXPECT_EQ((*script)[1].offset, 16u);
  EXPECT_EQ((*script)[2].kind, StatementKind::kShowServices);
}

TEST(PreParserTest, ShowAndDescribe) {
  Statement st = One("SHOW SERVICES IN google");
  EXPECT_EQ(st.kind, StatementKind::kShowServices);
  EXPECT_EQ(st.provider, "google");

  st = One("show extended resources in google.healthcare like 'dicom%'");
  EXPECT_EQ(st.kind, StatementKind::kShowResources);
  EXPECT_TRUE(st.extended);
  EXPECT_EQ(st.service, "healthcare");
  EXPECT_EQ(st.like, "dicom%");

  st = One("SHOW METHODS IN google.healthcare.dicom_stores");
  EXPECT_EQ(st.kind, StatementKind::kShowMethods);
  EXPECT_EQ(st.resource, "dicom_stores");

  st = One("DESCRIBE EXTENDED google.healthcare.dicom_stores");
  EXPECT_EQ(st.kind, StatementKind::kDescribe);
  EXPECT_TRUE(st.extended);
  EXPECT_EQ(st.resource, "dicom_stores");

  st = One("EXEC google.healthcare.dicom_stores.search_for_studies @x='1'");
  EXPECT_EQ(st.kind, StatementKind::kExec);
  EXPECT_EQ(st.method, "search_for_studies");
}

TEST(PreParserTest, ExecArgumentsHintsAndPayload) {
  Statement st =
      One("EXEC /*+ AWAIT, SHOWRESULTS */ google.healthcare.dicom_stores.import\n"
          "  @projectsId = 'p', @locationsId='us' -- a comment\n"
          "  @\"options.x\" = 3, @limit = -1, @flag = TRUE\n"
          "  @@json = '{\"gcsSource\": {\"uri\": \"gs://b/**.dcm\"}}'");
  EXPECT_EQ(st.kind, StatementKind::kExec);
  EXPECT_EQ(st.resource, "dicom_stores");
  EXPECT_EQ(st.method, "import");
  EXPECT_TRUE(st.HasHint("AWAIT"));
  EXPECT_TRUE(st.HasHint("showresults"));
  EXPECT_FALSE(st.HasHint("NOSTATUS"));
  using Arg = std::pair<std::string, std::string>;
  EXPECT_THAT(st.args, ::testing::ElementsAre(Arg{"projectsId", "p"}, Arg{"locationsId", "us"},
                                              Arg{"options.x", "3"}, Arg{"limit", "-1"},
                                              Arg{"flag", "true"}));
  EXPECT_EQ(st.json, "{\"gcsSource\": {\"uri\": \"gs://b/**.dcm\"}}");

  EXPECT_THAT(PreParseStatement("EXEC google.healthcare.dicom_stores @a = 'x'"),
              IsInvalidArgument("position 6: expected a method name"));
  EXPECT_THAT(PreParseStatement("EXEC google.healthcare.dicom_stores.get @a 'x'"),
              IsInvalidArgument("position 44: expected = near \"x\""));
  EXPECT_THAT(PreParseStatement("EXEC google.healthcare.dicom_stores.get @@json = '{}' @a = 'x'"),
              IsInvalidArgument("unexpected \"@\""));
}

TEST(PreParserTest, ModifyingStatementsNameTheirTargetAndReplaceBecomesUpdate) {
  Statement st =
      One("INSERT /*+ AWAIT */ INTO google.healthcare.datasets (projectsId) SELECT "
          "projectsId FROM google.healthcare.dicom_stores");
  EXPECT_EQ(st.resource, "datasets");
  EXPECT_TRUE(st.HasHint("AWAIT"));
  st =
      One("REPLACE google.healthcare.dicom_stores_iam_policies SET data__policy = '{}' WHERE "
          "projectsId = 'p'");
  EXPECT_EQ(st.verb, "REPLACE");
  EXPECT_EQ(st.resource, "dicom_stores_iam_policies");
  EXPECT_EQ(st.sql,
            "UPDATE \"google.healthcare.dicom_stores_iam_policies\" SET data__policy = '{}' "
            "WHERE projectsId = 'p'");
  EXPECT_EQ(One("REPLACE INTO t VALUES (1)").sql, "REPLACE INTO t VALUES (1)");

  st =
      One("INSERT INTO google.healthcare.datasets (a) SELECT x FROM (SELECT 1 AS x) RETURNING "
          "name, \"timeZone\"");
  EXPECT_EQ(st.sql,
            "INSERT INTO \"google.healthcare.datasets\" (a) SELECT x FROM (SELECT 1 AS x) ");
  EXPECT_THAT(st.returning, ::testing::ElementsAre("name", "timeZone"));
  EXPECT_THAT(PreParseStatement("DELETE FROM t WHERE a = 1 RETURNING upper(name)"),
              IsInvalidArgument("RETURNING takes response field names or *"));
}

TEST(PreParserTest, SyntaxErrorsCarryAPosition) {
  EXPECT_THAT(PreParseScript("SELECT 1; SELECT 'abc"),
              IsInvalidArgument("syntax error at position 18: unterminated string literal"));
  EXPECT_THAT(PreParseScript("SELECT /* x"),
              IsInvalidArgument("syntax error at position 8: unterminated comment"));
  EXPECT_THAT(PreParseScript("SELECT 1;\nSHOW TABLES"),
              IsInvalidArgument("syntax error at position 16: expected SERVICES, RESOURCES or "
                                "METHODS near \"TABLES\""));
  EXPECT_THAT(PreParseStatement("SHOW METHODS IN google.healthcare"),
              IsInvalidArgument("position 17: expected a name of the form "
                                "<provider>.<service>.<resource>"));
  EXPECT_THAT(PreParseStatement("DESCRIBE google.healthcare.dicom_stores extra"),
              IsInvalidArgument("position 41: unexpected \"extra\""));
  EXPECT_THAT(PreParseStatement("SHOW RESOURCES"),
              IsInvalidArgument("expected IN at end of statement"));
}

TEST(PreParserTest, Like) {
  EXPECT_TRUE(SqlLike("dicom%", "dicom_stores"));
  EXPECT_TRUE(SqlLike("%STORE_", "dicom_stores"));
  EXPECT_FALSE(SqlLike("data%", "dicom_stores"));
}

}  // namespace
}  // namespace dicomstore::sql
