#include "service/recovery.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include "dicom/instance_parser.h"
#include "gtest/gtest.h"
#include "service/admin_service.h"
#include "service/dicomweb_service.h"
#include "unit/dicom/test_support.h"

namespace dicomstore::service {
namespace {

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/recovery-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RecoveryTest, MarkerTellsCleanFromCrashed) {
  {
    CleanShutdownMarker fresh(dir_);
    EXPECT_TRUE(fresh.WasClean());  // nothing stored yet
  }
  std::filesystem::create_directories(dir_ + "/blobs");
  { std::ofstream(dir_ + "/index.sqlite") << ""; }
  CleanShutdownMarker running(dir_);
  EXPECT_FALSE(running.WasClean());  // data but no marker: the last run did not finish
  running.MarkClean();
  CleanShutdownMarker after_clean(dir_);
  EXPECT_TRUE(after_clean.WasClean());
  after_clean.MarkRunning();
  EXPECT_FALSE(CleanShutdownMarker(dir_).WasClean());
}

TEST_F(RecoveryTest, RemovesOnlyUnreferencedBlobs) {
  ASSERT_TRUE(dicom::InitializeDicom().ok());
  auto index = index::OpenSqliteIndex(dir_ + "/index.sqlite");
  ASSERT_TRUE(index.ok());
  blobs::BlobStore blobs(blobs::DefaultEnv(), dir_ + "/blobs");
  ASSERT_TRUE(blobs.Open().ok());
  AdminService admin(index->get(), &blobs);
  ASSERT_TRUE(admin.CreateDataset("projects/p/locations/l", "d", Json::object()).ok());
  ASSERT_TRUE(
      admin.CreateDicomStore("projects/p/locations/l/datasets/d", "s", Json::object()).ok());
  const std::string store = "projects/p/locations/l/datasets/d/dicomStores/s";
  {
    DicomWebService dicomweb(index->get(), &blobs, 1);
    auto stow = dicomweb.BeginStow(store, std::nullopt, "http://x");
    ASSERT_TRUE(stow.ok());
    (*stow)->BeginPart("application/dicom");
    ASSERT_TRUE((*stow)->PartData(dicom::testing::CorpusFile("ct-small.dcm")).ok());
    (*stow)->EndPart();
    auto result = (*stow)->Finish();
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->http_status, 200);
  }
  // A blob published without its row: what a crash between the two steps leaves.
  auto store_id = (*index)->GetStore({{"p", "l", "d"}, "s"});
  ASSERT_TRUE(store_id.ok());
  auto writer = blobs.Create(store_id->store_id);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("orphan").ok());
  auto orphan = (*writer)->Finish();
  ASSERT_TRUE(orphan.ok());
  ASSERT_TRUE(blobs.Publish({*orphan}).ok());

  ASSERT_EQ(blobs.ListKeys()->size(), 2u);
  ASSERT_TRUE(RemoveUnreferencedBlobs(index->get(), &blobs).ok());
  auto left = blobs.ListKeys();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_NE((*left)[0].second, orphan->key);
}

}  // namespace
}  // namespace dicomstore::service
