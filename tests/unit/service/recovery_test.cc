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
  // What a crash before the index commit leaves: bytes synced after the last indexed blob
  // of a segment (the STOW's segment, handed back and taken again), and a segment holding
  // nothing indexed.
  auto store_id = (*index)->GetStore({{"p", "l", "d"}, "s"});
  ASSERT_TRUE(store_id.ok());
  auto parsed = dicom::ParseInstance(dicom::testing::CorpusFile("ct-small.dcm"));
  ASSERT_TRUE(parsed.ok());
  auto stored =
      (*index)->instances()->ListInstances(store_id->store_id, parsed->study_uid, std::nullopt);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  const std::string stored_key = stored->front().blob_key;
  blobs::BlobRef tail_orphan, lone_orphan;
  {
    auto writer = blobs.NewWriter(store_id->store_id);
    auto second = blobs.NewWriter(store_id->store_id);
    ASSERT_TRUE(writer.ok() && second.ok());
    for (auto* w : {writer->get(), second->get()}) {
      ASSERT_TRUE(w->BeginBlob().ok());
      ASSERT_TRUE(w->Append("orphan").ok());
      auto ref = w->EndBlob();
      ASSERT_TRUE(ref.ok());
      ASSERT_TRUE(w->Sync().ok());
      (w == writer->get() ? tail_orphan : lone_orphan) = *ref;
    }
  }
  ASSERT_EQ(tail_orphan.key.substr(0, 17), stored_key.substr(0, 17));  // same segment
  ASSERT_TRUE(RemoveUnreferencedBlobs(index->get(), &blobs).ok());
  auto located = blobs.Locate(store_id->store_id, stored_key);
  ASSERT_TRUE(located.ok());
  EXPECT_EQ(std::filesystem::file_size(located->path), located->offset + located->size);
  EXPECT_FALSE(std::filesystem::exists(lone_orphan.location.path));
  auto file = blobs.Read(store_id->store_id, stored_key);
  ASSERT_TRUE(file.ok());
  std::string bytes;
  ASSERT_TRUE((*file)->ReadAt(0, located->size, &bytes).ok());
  EXPECT_EQ(bytes, dicom::testing::CorpusFile("ct-small.dcm"));
}

}  // namespace
}  // namespace dicomstore::service
