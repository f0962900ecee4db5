#include "service/update_mask.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using ::testing::ElementsAre;

using dicomstore::testing::IsInvalidArgument;

const std::set<std::string> kStoreFields = {"labels", "notificationConfig", "notificationConfigs",
                                            "streamConfigs"};

TEST(SnakeToCamelTest, ConvertsSnakeCase) {
  EXPECT_EQ(SnakeToCamel("notification_config"), "notificationConfig");
  EXPECT_EQ(SnakeToCamel("stream_configs"), "streamConfigs");
  EXPECT_EQ(SnakeToCamel("a.b_c.d_e_f"), "a.bC.dEF");
}

TEST(SnakeToCamelTest, LeavesCamelCaseAndOddUnderscoresAlone) {
  EXPECT_EQ(SnakeToCamel("notificationConfig"), "notificationConfig");
  EXPECT_EQ(SnakeToCamel("labels"), "labels");
  EXPECT_EQ(SnakeToCamel(""), "");
  EXPECT_EQ(SnakeToCamel("labels_"), "labels_");
  EXPECT_EQ(SnakeToCamel("a_1"), "a_1");
  EXPECT_EQ(SnakeToCamel("a_B"), "a_B");
}

TEST(ParseUpdateMaskTest, AcceptsCamelAndSnakePaths) {
  absl::StatusOr<std::set<std::string>> paths =
      ParseUpdateMask("notification_config,labels", kStoreFields);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(*paths, ElementsAre("labels", "notificationConfig"));

  paths = ParseUpdateMask("streamConfigs", kStoreFields);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(*paths, ElementsAre("streamConfigs"));
}

TEST(ParseUpdateMaskTest, TrimsSpacesAndMergesDuplicates) {
  absl::StatusOr<std::set<std::string>> paths =
      ParseUpdateMask(" labels , notificationConfigs,labels ", kStoreFields);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(*paths, ElementsAre("labels", "notificationConfigs"));
}

TEST(ParseUpdateMaskTest, EmptyMaskIsRequiredError) {
  for (const char* mask : {"", "   "}) {
    EXPECT_THAT(ParseUpdateMask(mask, kStoreFields).status(),
                IsInvalidArgument("updateMask is required"))
        << mask;
  }
}

TEST(ParseUpdateMaskTest, EmptyPathIsError) {
  for (const char* mask : {"labels,,streamConfigs", ",labels", "labels,", "labels, "}) {
    EXPECT_THAT(ParseUpdateMask(mask, kStoreFields).status(),
                IsInvalidArgument("it has an empty path"))
        << mask;
  }
}

TEST(ParseUpdateMaskTest, UnknownPathIsNamedWithAllowedList) {
  absl::Status status = ParseUpdateMask("labels,name", kStoreFields).status();
  EXPECT_THAT(status, IsInvalidArgument("Invalid updateMask path \"name\""));
  EXPECT_THAT(status, IsInvalidArgument("allowed: labels, notificationConfig, notificationConfigs, "
                                        "streamConfigs"));
}

TEST(ParseUpdateMaskTest, RejectsSubPathsAndWrongCase) {
  for (const char* mask : {"labels.team", "Labels", "NOTIFICATION_CONFIG", "labels_"}) {
    EXPECT_THAT(ParseUpdateMask(mask, kStoreFields).status(),
                IsInvalidArgument("not a field that can be updated"))
        << mask;
  }
}

}  // namespace
}  // namespace dicomstore::service
