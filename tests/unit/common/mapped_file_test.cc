#include "common/mapped_file.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace dicomstore {
namespace {

using ::dicomstore::testing::StatusIs;

// Position-dependent bytes, so a view that starts at the wrong byte shows.
std::string Bytes(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 7 + i / 251) % 256);
  return out;
}

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    content_ = Bytes(3 * page_ + 123);
    path_ = dir_.File("segment");
    std::ofstream(path_, std::ios::binary) << content_;
  }

  testing::TempDir dir_;
  size_t page_ = 0;
  std::string content_;
  std::string path_;
};

TEST_F(MappedFileTest, WholeFile) {
  auto mapped = MappedFile::Open(path_);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE((*mapped)->view() == content_);
}

TEST_F(MappedFileTest, RangeAtUnalignedOffsetAcrossPages) {
  const uint64_t offset = page_ - 5;  // starts 5 bytes before a page boundary
  const uint64_t size = page_ + 10;
  auto mapped = MappedFile::Open(path_, offset, size);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE((*mapped)->view() == content_.substr(offset, size));
}

TEST_F(MappedFileTest, RangeAtAlignedOffsetAndToTheEnd) {
  auto mapped = MappedFile::Open(path_, 2 * page_, content_.size() - 2 * page_);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE((*mapped)->view() == content_.substr(2 * page_));
}

TEST_F(MappedFileTest, EmptyRangeIsAnEmptyView) {
  auto mapped = MappedFile::Open(path_, 17, 0);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE((*mapped)->view().empty());
}

TEST_F(MappedFileTest, RangePastTheEndIsRefused) {
  EXPECT_THAT(MappedFile::Open(path_, content_.size() - 10, 11).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(MappedFile::Open(path_, content_.size() + 1, 0).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  // offset + size would wrap around
  EXPECT_THAT(MappedFile::Open(path_, 10, ~uint64_t{0}).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(MappedFileTest, MissingFileIsAnError) {
  EXPECT_FALSE(MappedFile::Open(dir_.File("missing")).ok());
  EXPECT_FALSE(MappedFile::Open(dir_.File("missing"), 0, 1).ok());
}

}  // namespace
}  // namespace dicomstore
