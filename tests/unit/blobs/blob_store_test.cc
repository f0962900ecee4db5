#include "blobs/blob_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "unit/blobs/faulty_env.h"

namespace dicomstore::blobs {
namespace {

using testing::FaultyEnv;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/blobstore-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Writes `data` as one blob (in two appends) with `writer`.
  static BlobRef Write(BlobWriter& writer, const std::string& data) {
    EXPECT_TRUE(writer.BeginBlob().ok());
    EXPECT_TRUE(writer.Append(data.substr(0, data.size() / 2)).ok());
    EXPECT_TRUE(writer.Append(data.substr(data.size() / 2)).ok());
    EXPECT_EQ(writer.blob_size(), data.size());
    auto blob = writer.EndBlob();
    EXPECT_TRUE(blob.ok()) << blob.status();
    return blob.ok() ? *blob : BlobRef();
  }
  static std::unique_ptr<BlobWriter> NewWriter(BlobStore& store, int64_t store_id) {
    auto writer = store.NewWriter(store_id);
    EXPECT_TRUE(writer.ok());
    return writer.ok() ? *std::move(writer) : nullptr;
  }
  static std::string ReadAll(BlobStore& store, int64_t store_id, const std::string& key) {
    auto file = store.Read(store_id, key);
    if (!file.ok()) return "<" + std::string(file.status().message()) + ">";
    std::string out;
    EXPECT_TRUE((*file)->ReadAt(0, 1 << 20, &out).ok());
    return out;
  }
  static std::string Segment(const BlobRef& blob) { return blob.key.substr(0, 16); }

  std::string root_;
};

TEST_F(BlobStoreTest, BlobsOfOneWriterFollowEachOtherInOneSegment) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  auto writer = NewWriter(store, 7);
  BlobRef hello = Write(*writer, "hello world");
  BlobRef second = Write(*writer, "second blob");
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_TRUE(IsBlobKey(hello.key)) << hello.key;
  EXPECT_EQ(Segment(hello), Segment(second));
  EXPECT_EQ(hello.location.offset, 0u);
  EXPECT_EQ(hello.location.size, 11u);
  EXPECT_EQ(second.location.offset, 11u);
  EXPECT_EQ(hello.location.path, root_ + "/7/" + Segment(hello));
  auto located = store.Locate(7, second.key);
  ASSERT_TRUE(located.ok());
  EXPECT_EQ(located->path, second.location.path);
  EXPECT_EQ(located->offset, 11u);
  EXPECT_EQ(located->size, 11u);

  EXPECT_EQ(ReadAll(store, 7, hello.key), "hello world");
  EXPECT_EQ(ReadAll(store, 7, second.key), "second blob");
  auto file = store.Read(7, second.key);
  ASSERT_TRUE(file.ok());
  std::string out;
  ASSERT_TRUE((*file)->ReadAt(7, 100, &out).ok());
  EXPECT_EQ(out, "blob");  // stops at the blob's end, not the segment's
  ASSERT_TRUE((*file)->ReadAt(11, 100, &out).ok());
  EXPECT_EQ(out, "");

  // Removing frees the bytes in place: the neighbour is untouched, the segment keeps its size.
  ASSERT_TRUE(store.Remove(7, hello.key).ok());
  EXPECT_EQ(ReadAll(store, 7, hello.key), std::string(11, '\0'));
  EXPECT_EQ(ReadAll(store, 7, second.key), "second blob");
  EXPECT_EQ(std::filesystem::file_size(hello.location.path), 22u);
}

TEST_F(BlobStoreTest, ConcurrentWritersGetTheirOwnSegmentsAndReuseThem) {
  FaultyEnv env;
  BlobStore store(&env, root_);
  ASSERT_TRUE(store.Open().ok());
  auto a = NewWriter(store, 7);
  auto b = NewWriter(store, 7);
  BlobRef from_a = Write(*a, "aaaa");
  BlobRef from_b = Write(*b, "bb");
  EXPECT_NE(Segment(from_a), Segment(from_b));
  ASSERT_TRUE(a->Sync().ok());
  a.reset();  // hands its segment back
  auto c = NewWriter(store, 7);
  BlobRef from_c = Write(*c, "cc");
  EXPECT_EQ(Segment(from_c), Segment(from_a));
  EXPECT_EQ(from_c.location.offset, 4u);  // appended after what a wrote
  EXPECT_EQ(env.files_created, 2);
  // Another store never gets this store's segments.
  auto other = NewWriter(store, 8);
  BlobRef elsewhere = Write(*other, "x");
  EXPECT_NE(Segment(elsewhere), Segment(from_b));
  EXPECT_EQ(elsewhere.location.path, root_ + "/8/" + Segment(elsewhere));
}

TEST_F(BlobStoreTest, AbandonedBlobsLeaveNoBytes) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  BlobRef first;
  {
    auto writer = NewWriter(store, 7);
    first = Write(*writer, "kept");
    ASSERT_TRUE(writer->BeginBlob().ok());
    ASSERT_TRUE(writer->Append("cut short").ok());
    writer->AbandonBlob();
    BlobRef next = Write(*writer, "next");
    EXPECT_EQ(next.location.offset, 4u);
    ASSERT_TRUE(writer->BeginBlob().ok());
    ASSERT_TRUE(writer->Append("never ended").ok());
    EXPECT_FALSE(writer->BeginBlob().ok());  // one blob at a time
  }                                          // the destructor drops the unfinished blob
  EXPECT_EQ(std::filesystem::file_size(first.location.path), 8u);
}

TEST_F(BlobStoreTest, SegmentsRollOverAndSyncCoversEveryOne) {
  FaultyEnv env;
  BlobStore store(&env, root_, BlobStore::Options{.segment_target_bytes = 10});
  ASSERT_TRUE(store.Open().ok());
  auto writer = NewWriter(store, 7);
  BlobRef one = Write(*writer, "0123456789ab");  // over the target: the next blob moves on
  BlobRef two = Write(*writer, "xyz");
  EXPECT_NE(Segment(one), Segment(two));
  EXPECT_EQ(two.location.offset, 0u);
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_EQ(env.syncs, 2);
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_EQ(env.syncs, 2);  // nothing new written
  EXPECT_EQ(ReadAll(store, 7, one.key), "0123456789ab");
  EXPECT_EQ(ReadAll(store, 7, two.key), "xyz");
}

TEST_F(BlobStoreTest, InjectedFailuresAreReportedAndTheSegmentIsNotReused) {
  FaultyEnv env;
  BlobStore store(&env, root_);
  ASSERT_TRUE(store.Open().ok());
  std::string failed_segment;
  {
    auto writer = NewWriter(store, 7);
    BlobRef ok = Write(*writer, "fine");
    failed_segment = Segment(ok);
    env.fail_sync = true;
    EXPECT_FALSE(writer->Sync().ok());
    env.fail_sync = false;
  }
  {
    auto writer = NewWriter(store, 7);
    BlobRef fresh = Write(*writer, "fresh");
    EXPECT_NE(Segment(fresh), failed_segment);  // its durable end is unknown
    // A small append is only buffered: the failure shows when the blob ends.
    ASSERT_TRUE(writer->BeginBlob().ok());
    env.fail_append = true;
    EXPECT_TRUE(writer->Append("0123456789").ok());
    EXPECT_EQ(writer->EndBlob().status().code(), absl::StatusCode::kResourceExhausted);
    env.fail_append = false;
    failed_segment = Segment(fresh);
  }
  {
    // An append reaching a write boundary is written at once, and fails at once.
    auto writer = NewWriter(store, 7);
    BlobRef fresh = Write(*writer, "fresh");
    EXPECT_NE(Segment(fresh), failed_segment);
    ASSERT_TRUE(writer->BeginBlob().ok());
    env.fail_append = true;
    EXPECT_EQ(writer->Append(std::string(size_t{1} << 20, 'x')).code(),
              absl::StatusCode::kResourceExhausted);
    env.fail_append = false;
    failed_segment = Segment(fresh);
  }
  auto writer = NewWriter(store, 7);
  EXPECT_NE(Segment(Write(*writer, "again")), failed_segment);
  // A new segment's directory entry must be made durable; a failing fsync refuses it.
  writer.reset();
  auto other = NewWriter(store, 9);
  env.fail_sync_dir = true;
  EXPECT_FALSE(other->BeginBlob().ok());
}

// The bytes of a request arrive in small slices at any offset; the file gets them in pieces
// that end on 1 MiB boundaries of the segment or at a blob's end, and every blob reads back
// exactly as appended.
TEST_F(BlobStoreTest, AppendsReachTheFileInPiecesEndingOnMibBoundariesOrBlobEnds) {
  constexpr uint64_t kMib = uint64_t{1} << 20;
  FaultyEnv env;
  BlobStore store(&env, root_);
  ASSERT_TRUE(store.Open().ok());
  auto writer = NewWriter(store, 7);
  std::vector<std::pair<BlobRef, std::string>> written;
  std::set<uint64_t> blob_ends;
  uint32_t seed = 12345;
  auto next = [&seed](uint32_t bound) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % bound;
  };
  // Sizes from a few bytes to several MiB; slices from 1 byte to 3 MiB.
  for (size_t size : {size_t{37}, size_t{529'000}, size_t{64'000}, size_t{3'500'000}, size_t{1},
                      size_t{1'048'576}, size_t{700'001}, size_t{2'000'000}}) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(next(256));
    ASSERT_TRUE(writer->BeginBlob().ok());
    for (size_t at = 0; at < size;) {
      size_t n = std::min<size_t>(size - at, 1 + next(at % 3 == 0 ? 3'000'000 : 70'000));
      ASSERT_TRUE(writer->Append(std::string_view(data).substr(at, n)).ok());
      at += n;
    }
    auto blob = writer->EndBlob();
    ASSERT_TRUE(blob.ok()) << blob.status();
    blob_ends.insert(blob->location.offset + blob->location.size);
    written.emplace_back(*blob, std::move(data));
  }
  ASSERT_TRUE(writer->Sync().ok());
  ASSERT_FALSE(env.writes.empty());
  for (const auto& write : env.writes) {
    EXPECT_TRUE(write.end % kMib == 0 || blob_ends.count(write.end) == 1)
        << "a write of " << write.size << " bytes ending at " << write.end;
  }
  EXPECT_LT(env.writes.size(), 40u);  // not one per slice
  for (const auto& [blob, data] : written) {
    auto file = store.Read(7, blob.key);
    ASSERT_TRUE(file.ok());
    std::string out;
    ASSERT_TRUE((*file)->ReadAt(0, data.size() + 1, &out).ok());
    EXPECT_TRUE(out == data) << "blob at " << blob.location.offset << " differs";
  }
}

TEST_F(BlobStoreTest, RemoveStoreDropsOnlyThatStore) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  auto w7 = NewWriter(store, 7);
  auto w8 = NewWriter(store, 8);
  BlobRef a = Write(*w7, "a");
  BlobRef b = Write(*w8, "b");
  w7.reset();
  ASSERT_TRUE(store.RemoveStore(7).ok());
  EXPECT_FALSE(store.Read(7, a.key).ok());
  EXPECT_EQ(ReadAll(store, 8, b.key), "b");
  // A later writer of the removed store id starts from nothing rather than a stale segment.
  auto again = NewWriter(store, 7);
  EXPECT_NE(Segment(Write(*again, "c")), Segment(a));
}

TEST_F(BlobStoreTest, TrimSegmentsCutsWhatTheIndexDoesNotKnow) {
  std::set<std::string> indexed;
  BlobRef kept, tail, lone;
  {
    BlobStore store(DefaultEnv(), root_);
    ASSERT_TRUE(store.Open().ok());
    auto writer = NewWriter(store, 7);
    kept = Write(*writer, "acknowledged");
    tail = Write(*writer, "written, never indexed");
    auto other = NewWriter(store, 7);
    lone = Write(*other, "only unindexed blobs here");
    indexed.insert(kept.key);
  }
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  auto report = store.TrimSegments(
      [&](const std::string& prefix) -> absl::StatusOr<std::optional<std::string>> {
        std::optional<std::string> last;
        for (const std::string& key : indexed) {
          if (key.starts_with(prefix)) last = key;
        }
        return last;
      });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->segments, 2u);
  EXPECT_EQ(report->trimmed, 1u);
  EXPECT_EQ(report->removed, 1u);
  EXPECT_EQ(report->bytes_cut, tail.location.size + lone.location.size);
  EXPECT_EQ(ReadAll(store, 7, kept.key), "acknowledged");
  EXPECT_EQ(std::filesystem::file_size(kept.location.path), kept.location.size);
  EXPECT_FALSE(std::filesystem::exists(lone.location.path));
  // New blobs go after what is indexed.
  auto writer = NewWriter(store, 7);
  BlobRef next = Write(*writer, "next");
  EXPECT_TRUE(Segment(next) != Segment(kept) || next.location.offset == kept.location.size);
}

TEST_F(BlobStoreTest, RejectsMalformedKeys) {
  BlobStore store(DefaultEnv(), root_);
  EXPECT_EQ(store.Read(1, "../../etc/passwd").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Remove(1, "ABC").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsBlobKey("0123456789abcdef.000000000000.00000000000"));
  EXPECT_FALSE(IsBlobKey("0123456789ABCDEF.000000000000.000000000000"));
  EXPECT_FALSE(IsBlobKey("0123456789abcdef/000000000000/000000000000"));
  EXPECT_TRUE(IsBlobKey("0123456789abcdef.000000000000.000000000000"));
  EXPECT_FALSE(store.Locate(1, "0123456789abcdef..00000000000.000000000000").ok());
}

TEST_F(BlobStoreTest, ABlobPastTheEndOfItsSegmentIsDataLoss) {
  BlobStore store(DefaultEnv(), root_);
  ASSERT_TRUE(store.Open().ok());
  auto writer = NewWriter(store, 7);
  BlobRef blob = Write(*writer, "0123456789");
  std::filesystem::resize_file(blob.location.path, 5);
  EXPECT_EQ(store.Read(7, blob.key).status().code(), absl::StatusCode::kDataLoss);
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

TEST_F(PosixEnvTest, WritableFilesAreNewAppendOnlyAndTruncatable) {
  const std::string path = root_ + "/file";
  auto file = DefaultEnv()->NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(DefaultEnv()->NewWritableFile(path).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ((*file)->size(), 11u);
  ASSERT_TRUE((*file)->Truncate(5).ok());
  ASSERT_TRUE((*file)->Append("!").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  std::string content;
  std::getline(std::ifstream(path), content);
  EXPECT_EQ(content, "hello!");
  EXPECT_EQ(*DefaultEnv()->FileSize(path), 6u);
  ASSERT_TRUE(DefaultEnv()->TruncateFile(path, 2).ok());
  EXPECT_EQ(*DefaultEnv()->FileSize(path), 2u);
  EXPECT_EQ(DefaultEnv()->FileSize(root_ + "/none").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PosixEnvTest, PunchHoleZeroesExactlyTheRangeAndFreesWholeBlocks) {
  const std::string path = root_ + "/sparse";
  const std::string data(3 * 65536, 'x');
  {
    auto file = DefaultEnv()->NewWritableFile(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(data).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  ASSERT_TRUE(DefaultEnv()->PunchHole(path, 100, 2 * 65536).ok());
  auto file = DefaultEnv()->NewReadableFile(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->size(), data.size());
  std::string out;
  ASSERT_TRUE((*file)->ReadAt(0, data.size(), &out).ok());
  EXPECT_EQ(out.substr(0, 100), std::string(100, 'x'));
  EXPECT_EQ(out.substr(100, 2 * 65536), std::string(2 * 65536, '\0'));
  EXPECT_EQ(out.substr(100 + 2 * 65536), std::string(65536 - 100, 'x'));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, static_cast<long>(data.size()));
  EXPECT_TRUE(DefaultEnv()->PunchHole(root_ + "/none", 0, 10).ok());
}

}  // namespace
}  // namespace dicomstore::blobs
