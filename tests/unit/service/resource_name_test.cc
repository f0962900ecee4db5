#include "service/resource_name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace dicomstore::service {
namespace {

using dicomstore::testing::IsInvalidArgument;

TEST(ResourceNameTest, ParsesLocation) {
  absl::StatusOr<LocationName> name = ParseLocationName("projects/p1/locations/us-central1");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->project, "p1");
  EXPECT_EQ(name->location, "us-central1");
}

TEST(ResourceNameTest, ParsesDataset) {
  absl::StatusOr<index::DatasetKey> key = ParseDatasetName("projects/p/locations/l/datasets/d");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, (index::DatasetKey{"p", "l", "d"}));
}

TEST(ResourceNameTest, ParsesStore) {
  absl::StatusOr<index::StoreKey> key =
      ParseStoreName("projects/p/locations/l/datasets/d/dicomStores/s.1");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, (index::StoreKey{{"p", "l", "d"}, "s.1"}));
}

TEST(ResourceNameTest, ParsesOperation) {
  absl::StatusOr<OperationName> name =
      ParseOperationName("projects/p/locations/l/datasets/d/operations/1234567890123456789");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->dataset, (index::DatasetKey{"p", "l", "d"}));
  EXPECT_EQ(name->operation_id, "1234567890123456789");
}

TEST(ResourceNameTest, SegmentsMayHoldAnyCharacterButSlash) {
  // The shape check leaves ID rules to resource_id.h.
  absl::StatusOr<index::DatasetKey> key =
      ParseDatasetName("projects/my project/locations/l:x/datasets/データ");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->dataset, "データ");
}

TEST(ResourceNameTest, FormatIsInverseOfParse) {
  const std::string location = "projects/p/locations/l";
  const std::string dataset = location + "/datasets/d";
  const std::string store = dataset + "/dicomStores/s";
  const std::string operation = dataset + "/operations/42";
  EXPECT_EQ(FormatLocationName(*ParseLocationName(location)), location);
  EXPECT_EQ(FormatDatasetName(*ParseDatasetName(dataset)), dataset);
  EXPECT_EQ(FormatStoreName(*ParseStoreName(store)), store);
  OperationName op = *ParseOperationName(operation);
  EXPECT_EQ(FormatOperationName(op.dataset, op.operation_id), operation);
}

TEST(ResourceNameTest, RejectsMalformedDatasetNames) {
  for (const char* name : {
           "",
           "projects/p/locations/l",
           "projects/p/locations/l/datasets",
           "projects/p/locations/l/datasets/",
           "projects/p/locations/l/datasets/d/",
           "/projects/p/locations/l/datasets/d",
           "projects//locations/l/datasets/d",
           "projects/p/locations//datasets/d",
           "Projects/p/locations/l/datasets/d",
           "projects/p/location/l/datasets/d",
           "projects/p/locations/l/dataset/d",
           "projects/p/locations/l/datasets/d/dicomStores/s",
           "projects/p/locations/l/datasets/d/extra",
       }) {
    EXPECT_THAT(ParseDatasetName(name).status(), IsInvalidArgument("Invalid dataset name")) << name;
  }
}

TEST(ResourceNameTest, RejectsMalformedStoreNames) {
  for (const char* name : {
           "projects/p/locations/l/datasets/d",
           "projects/p/locations/l/datasets/d/dicomStores",
           "projects/p/locations/l/datasets/d/dicomStores/",
           "projects/p/locations/l/datasets/d/dicomstores/s",
           "projects/p/locations/l/datasets/d/fhirStores/s",
           "projects/p/locations/l/datasets/d/operations/s",
           "projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb",
       }) {
    EXPECT_THAT(ParseStoreName(name).status(), IsInvalidArgument("Invalid DICOM store name"))
        << name;
  }
}

TEST(ResourceNameTest, RejectsMalformedOperationAndLocationNames) {
  EXPECT_THAT(ParseOperationName("projects/p/locations/l/datasets/d/dicomStores/s").status(),
              IsInvalidArgument("Invalid operation name"));
  EXPECT_THAT(ParseOperationName("projects/p/locations/l/datasets/d/operations/").status(),
              IsInvalidArgument("Invalid operation name"));
  EXPECT_THAT(ParseLocationName("projects/p/locations/l/datasets/d").status(),
              IsInvalidArgument("Invalid location name"));
  EXPECT_THAT(ParseLocationName("projects/p").status(), IsInvalidArgument("Invalid location name"));
}

TEST(ResourceNameTest, ErrorQuotesNameAndShowsExpectedForm) {
  absl::Status status = ParseStoreName("projects/p/dicomStores/s").status();
  EXPECT_THAT(status, IsInvalidArgument("\"projects/p/dicomStores/s\""));
  EXPECT_THAT(status,
              IsInvalidArgument("projects/{project}/locations/{location}/datasets/{dataset}/"
                                "dicomStores/{dicomStore}"));
}

}  // namespace
}  // namespace dicomstore::service
