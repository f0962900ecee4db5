#include "server/multipart_source.h"

#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace dicomstore::server {
namespace {

using ::dicomstore::testing::StatusIs;

std::string Bytes(size_t size, unsigned seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 13 + seed + i / 253) % 256);
  return out;
}

// The multipart body as RFC 2046 frames it, built independently of the source.
std::string Framed(const std::string& boundary,
                   const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string out;
  for (const auto& [type, content] : parts) {
    out += "--" + boundary + "\r\nContent-Type: " + type + "\r\n\r\n" + content + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

absl::StatusOr<std::string> DrainNext(BodySource& source) {
  std::string out;
  for (;;) {
    absl::StatusOr<bool> more = source.Next(&out);
    if (!more.ok()) return more.status();
    if (!*more) return out;
  }
}

// What NextPiece hands out: the body with each file range's content read here, and the ranges.
struct Pieces {
  std::string body;
  std::vector<FileRange> files;
};

Pieces DrainPieces(BodySource& source) {
  Pieces pieces;
  for (;;) {
    std::optional<FileRange> file;
    absl::StatusOr<bool> more = source.NextPiece(&pieces.body, &file);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) return pieces;
    if (file) {
      std::ifstream in(file->path, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(file->offset));
      std::string content(file->size, '\0');
      in.read(content.data(), static_cast<std::streamsize>(content.size()));
      pieces.body += content;
      pieces.files.push_back(*file);
    }
  }
}

class MultipartSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    segment_ = Bytes(3 << 20, 1);
    path_ = dir_.File("segment");
    std::ofstream(path_, std::ios::binary) << segment_;
  }

  // A part of the segment file.
  OutgoingPart FilePart(uint64_t offset, uint64_t size, const std::string& type = "a/b") {
    OutgoingPart part;
    part.content_type = type;
    part.file_path = path_;
    part.file_offset = offset;
    part.file_size = size;
    return part;
  }
  std::string Content(uint64_t offset, uint64_t size) const {
    return segment_.substr(offset, size);
  }

  testing::TempDir dir_;
  std::string segment_;
  std::string path_;
};

TEST_F(MultipartSourceTest, FileRangesReadWithNext) {
  std::vector<OutgoingPart> parts;
  parts.push_back(FilePart(4097, 100, "x/one"));
  parts.push_back(FilePart(1, (1 << 20) + 5, "x/two"));  // over one read chunk
  parts.push_back(FilePart(2 << 20, 0, "x/empty"));
  MultipartSource source("BND", std::move(parts));
  const std::string expected = Framed(
      "BND",
      {{"x/one", Content(4097, 100)}, {"x/two", Content(1, (1 << 20) + 5)}, {"x/empty", ""}});
  ASSERT_EQ(source.KnownLength(), expected.size());
  absl::StatusOr<std::string> body = DrainNext(source);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(*body == expected);
}

TEST_F(MultipartSourceTest, NextPieceHandsOutFileRangesBetweenTheFraming) {
  std::vector<OutgoingPart> parts;
  parts.push_back(FilePart(4097, 100, "x/one"));
  parts.push_back(FilePart(1, (1 << 20) + 5, "x/two"));
  MultipartSource source("BND", std::move(parts));
  Pieces pieces = DrainPieces(source);
  EXPECT_TRUE(pieces.body ==
              Framed("BND", {{"x/one", Content(4097, 100)}, {"x/two", Content(1, (1 << 20) + 5)}}));
  ASSERT_EQ(pieces.files.size(), 2u);
  EXPECT_EQ(pieces.files[0].path, path_);
  EXPECT_EQ(pieces.files[0].offset, 4097u);
  EXPECT_EQ(pieces.files[0].size, 100u);
  EXPECT_EQ(pieces.files[1].offset, 1u);
  EXPECT_EQ(pieces.files[1].size, (1u << 20) + 5);
}

TEST_F(MultipartSourceTest, ProducedPartsStayInline) {
  std::vector<OutgoingPart> parts;
  parts.push_back(FilePart(10, 20, "x/file"));
  OutgoingPart produced;
  produced.content_type = "x/made";
  produced.produce = []() -> absl::StatusOr<std::string> { return std::string("made here"); };
  parts.push_back(std::move(produced));
  MultipartSource source("B", std::move(parts));
  EXPECT_EQ(source.KnownLength(), std::nullopt);
  Pieces pieces = DrainPieces(source);
  EXPECT_EQ(pieces.body, Framed("B", {{"x/file", Content(10, 20)}, {"x/made", "made here"}}));
  EXPECT_EQ(pieces.files.size(), 1u);
}

TEST_F(MultipartSourceTest, FileShorterThanItsRangeFailsWithNext) {
  std::vector<OutgoingPart> parts;
  parts.push_back(FilePart(segment_.size() - 10, 11));
  MultipartSource source("B", std::move(parts));
  EXPECT_THAT(DrainNext(source).status(), StatusIs(absl::StatusCode::kInternal));
}

TEST_F(MultipartSourceTest, MissingFileFailsWithNext) {
  OutgoingPart part = FilePart(0, 1);
  part.file_path = dir_.File("gone");
  std::vector<OutgoingPart> parts;
  parts.push_back(std::move(part));
  MultipartSource source("B", std::move(parts));
  EXPECT_THAT(DrainNext(source).status(), StatusIs(absl::StatusCode::kInternal));
}

TEST_F(MultipartSourceTest, FileSourceReadsItsRange) {
  FileSource source(path_, 777, (2 << 20) + 3);  // over two read chunks
  absl::StatusOr<std::string> body = DrainNext(source);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(*body == Content(777, (2 << 20) + 3));
}

TEST_F(MultipartSourceTest, FileSourceHandsOutItsRange) {
  FileSource source(path_, 777, 1000);
  Pieces pieces = DrainPieces(source);
  EXPECT_EQ(pieces.body, Content(777, 1000));
  ASSERT_EQ(pieces.files.size(), 1u);
  EXPECT_EQ(pieces.files[0].offset, 777u);
}

}  // namespace
}  // namespace dicomstore::server
