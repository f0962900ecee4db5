#include "sql/statement_end.h"

#include "gtest/gtest.h"

namespace dicomstore::sql {
namespace {

TEST(StatementEndTest, EndsAtSemicolonOutsideQuotesAndComments) {
  EXPECT_TRUE(EndsStatement("SHOW SERVICES;"));
  EXPECT_TRUE(EndsStatement("SELECT 1;  \n"));
  EXPECT_TRUE(EndsStatement("SELECT 1; -- done"));
  EXPECT_TRUE(EndsStatement("SELECT 'a;b';"));
  EXPECT_TRUE(EndsStatement("SELECT 'it''s';"));
  EXPECT_FALSE(EndsStatement(""));
  EXPECT_FALSE(EndsStatement("SELECT 1"));
  EXPECT_FALSE(EndsStatement("SELECT 'a;"));
  EXPECT_FALSE(EndsStatement("SELECT \"x;\""));
  EXPECT_FALSE(EndsStatement("SELECT 1 /* ; */"));
  EXPECT_FALSE(EndsStatement("SELECT 1; /* open"));
  EXPECT_FALSE(EndsStatement("SELECT 1 -- ;"));
  EXPECT_FALSE(EndsStatement("SELECT 1;\nSELECT 2"));
}

}  // namespace
}  // namespace dicomstore::sql
