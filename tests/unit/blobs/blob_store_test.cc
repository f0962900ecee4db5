#include "blobs/blob_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace dicomstore::blobs {
namespace {

// An Env that delegates to the real one but can fail chosen operations.
class FaultyEnv : public Env {
 public:
  bool fail_rename = false;
  bool fail_sync_dir = false;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return DefaultEnv()->NewWritableFile(p);
  }
  absl::StatusOr<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& p) override {
    return DefaultEnv()->NewReadableFile(p);
  }
  absl::Status Rename(const std::string& a, const std::string& b) override {
    if (fail_rename) return absl::InternalError("injected rename failure");
    return DefaultEnv()->Rename(a, b);
  }
  absl::Status Remove(const std::string& p) override { return DefaultEnv()->Remove(p); }
  absl::Status CreateDirs(const std::string& p) override { return DefaultEnv()->CreateDirs(p); }
  absl::Status RemoveTree(const std::string& p) override { return DefaultEnv()->RemoveTree(p); }
  absl::Status SyncDir(const std::string& p) override {
    if (fail_sync_dir) return absl::InternalError("injected fsync failure");
    return DefaultEnv()->SyncDir(p);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& p) override {
    return DefaultEnv()->ListDir(p);
  }
  bool Exists(const std::string& p) override { return DefaultEnv()->Exists(p); }
};

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/blobstore-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  PendingBlob Write(BlobStore& store, const std::string& data) {
    auto writer = store.Create(7);
    EXPECT_TRUE(writer.ok());
    EXPECT_TRUE((*writer)->Append(data.substr(0, data.size() / 2)).ok());
    EXPECT_TRUE((*writer)->Append(data.substr(data.size() / 2)).ok());
    auto blob = (*writer)->Finish();
    EXPECT_TRUE(blob.ok());
    return *blob;
  }

  std::string root_;
};

TEST_F(BlobStoreTest, WritePublishReadRemove) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  PendingBlob blob = Write(store, "hello world");
  EXPECT_TRUE(IsBlobKey(blob.key));
  EXPECT_EQ(blob.size, 11u);
  EXPECT_EQ(blob.sha256_hex, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_FALSE(store.Read(7, blob.key).ok());  // not published yet
  ASSERT_TRUE(store.Publish({blob}).ok());
  auto file = store.Read(7, blob.key);
  ASSERT_TRUE(file.ok());
  std::string out;
  ASSERT_TRUE((*file)->ReadAt(6, 100, &out).ok());
  EXPECT_EQ(out, "world");
  auto keys = store.ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0], std::make_pair(int64_t{7}, blob.key));
  ASSERT_TRUE(store.Remove(7, blob.key).ok());
  EXPECT_FALSE(store.Read(7, blob.key).ok());
}

TEST_F(BlobStoreTest, RemoveStoreDropsOnlyThatStore) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  PendingBlob a = Write(store, "a");
  ASSERT_TRUE(store.Publish({a}).ok());
  auto writer = store.Create(8);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("b").ok());
  auto b = (*writer)->Finish();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(store.Publish({*b}).ok());
  ASSERT_TRUE(store.RemoveStore(7).ok());
  EXPECT_FALSE(store.Read(7, a.key).ok());
  EXPECT_TRUE(store.Read(8, b->key).ok());
}

TEST_F(BlobStoreTest, OpenRemovesUnpublishedTempFiles) {
  {
    BlobStore store(DefaultEnv(), root_);
    ASSERT_TRUE(store.Open().ok());
    Write(store, "never acknowledged");
  }
  BlobStore reopened(DefaultEnv(), root_);
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));
}

TEST_F(BlobStoreTest, PublishReportsInjectedFailures) {
  FaultyEnv env;
  BlobStore store(&env, root_);
  ASSERT_TRUE(store.Open().ok());
  PendingBlob blob = Write(store, "x");
  env.fail_rename = true;
  EXPECT_FALSE(store.Publish({blob}).ok());
  env.fail_rename = false;
  env.fail_sync_dir = true;
  EXPECT_FALSE(store.Publish({blob}).ok());
}

TEST_F(BlobStoreTest, RejectsMalformedKeys) {
  BlobStore store(DefaultEnv(), root_);
  EXPECT_EQ(store.Read(1, "../../etc/passwd").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Remove(1, "ABC").code(), absl::StatusCode::kInvalidArgument);
}

class PosixEnvTest : public BlobStoreTest {};

TEST_F(PosixEnvTest, CreateDirsMakesEveryMissingLevelAndIsIdempotent) {
  const std::string deep = root_ + "/a/b/c";
  ASSERT_TRUE(DefaultEnv()->CreateDirs(deep).ok());
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_TRUE(DefaultEnv()->CreateDirs(deep).ok());
  EXPECT_TRUE(DefaultEnv()->CreateDirs(root_ + "/a/d").ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/a/d"));
  // A file in the way is an error naming the path, not a silent success.
  ASSERT_TRUE(DefaultEnv()->CreateDirs(root_ + "/f").ok());
  std::filesystem::remove(root_ + "/f");
  { std::ofstream(root_ + "/f") << "x"; }
  absl::Status s = DefaultEnv()->CreateDirs(root_ + "/f/g");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(root_ + "/f"), std::string::npos) << s;
}

}  // namespace
}  // namespace dicomstore::blobs
