#include "sql/output.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::sql {
namespace {

ResultSet Sample() {
  ResultSet r;
  r.columns = {"name", "labels", "count"};
  r.rows.push_back({Value::Text("a"), Value::Text("{\"env\":\"dev\"}"), Value::Integer(7)});
  r.rows.push_back({Value::Text("bb"), Value::Null(), Value::Integer(12)});
  return r;
}

TEST(OutputTest, Table) {
  EXPECT_EQ(FormatTable(Sample()),
            "|------|---------------|-------|\n"
            "| name |    labels     | count |\n"
            "|------|---------------|-------|\n"
            "| a    | {\"env\":\"dev\"} |     7 |\n"
            "|------|---------------|-------|\n"
            "| bb   |               |    12 |\n"
            "|------|---------------|-------|\n");
}

TEST(OutputTest, TableWithoutRowsAndWithWrappedCells) {
  ResultSet r;
  r.columns = {"v"};
  EXPECT_EQ(FormatTable(r), "|---|\n| v |\n|---|\n");
  r.rows.push_back({Value::Text("aaa bbb ccc ddd eee fff ggg hhh iii")});
  EXPECT_EQ(FormatTable(r),
            "|-----------------------------|\n"
            "|              v              |\n"
            "|-----------------------------|\n"
            "| aaa bbb ccc ddd eee fff ggg |\n"
            "| hhh iii                     |\n"
            "|-----------------------------|\n");
}

TEST(OutputTest, Json) {
  EXPECT_EQ(FormatJson(Sample()),
            "[{\"count\":7,\"labels\":\"{\\\"env\\\":\\\"dev\\\"}\",\"name\":\"a\"},"
            "{\"count\":12,\"labels\":null,\"name\":\"bb\"}]");
  ResultSet r;
  r.columns = {"x"};
  EXPECT_EQ(FormatJson(r), "null");
  r.rows.push_back({Value::Text("a<b && c>d")});
  EXPECT_EQ(FormatJson(r), "[{\"x\":\"a\\u003cb \\u0026\\u0026 c\\u003ed\"}]");
}

TEST(OutputTest, Csv) {
  EXPECT_EQ(FormatCsv(Sample()),
            "name,labels,count\n"
            "a,\"{\"\"env\"\":\"\"dev\"\"}\",7\n"
            "bb,,12\n");
  ResultSet r;
  r.columns = {"x"};
  r.rows.push_back({Value::Text(" lead")});
  r.rows.push_back({Value::Text("a,b")});
  r.rows.push_back({Value::Text("line\nbreak")});
  EXPECT_EQ(FormatCsv(r), "x\n\" lead\"\n\"a,b\"\n\"line\nbreak\"\n");
}

TEST(OutputTest, JsonLines) {
  EXPECT_EQ(FormatJsonLines(Sample()),
            "{\"count\":7,\"labels\":\"{\\\"env\\\":\\\"dev\\\"}\",\"name\":\"a\"}\n"
            "{\"count\":12,\"labels\":null,\"name\":\"bb\"}\n");
  ResultSet r;
  r.columns = {"x"};
  EXPECT_EQ(FormatJsonLines(r), "");
  r.rows.push_back({Value::Text("<&>")});
  EXPECT_EQ(FormatJsonLines(r), "{\"x\":\"\\u003c\\u0026\\u003e\"}\n");
}

TEST(OutputTest, Text) {
  EXPECT_EQ(FormatText(Sample()), "name\tlabels\tcount\na\t{\"env\":\"dev\"}\t7\nbb\t\t12\n");
  EXPECT_EQ(FormatText(ResultSet{}), "");
}

TEST(OutputTest, FormatNames) {
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(*ParseOutputFormat("jsonl"), OutputFormat::kJsonLines);
  EXPECT_EQ(*ParseOutputFormat("ndjson"), OutputFormat::kJsonLines);
  EXPECT_EQ(*ParseOutputFormat("text"), OutputFormat::kText);
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_THAT(ParseOutputFormat("xml"),
              ::dicomstore::testing::IsInvalidArgument("output format = 'xml'"));
}

}  // namespace
}  // namespace dicomstore::sql
