#include "server/multipart_parser.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace dicomstore::server {
namespace {

struct Part {
  std::vector<HttpHeader> headers;
  std::string data;
  bool ended = false;
};

class Collector : public MultipartListener {
 public:
  absl::Status OnPartBegin(const std::vector<HttpHeader>& headers) override {
    parts.push_back({headers, "", false});
    return absl::OkStatus();
  }
  absl::Status OnPartData(std::string_view data) override {
    parts.back().data.append(data);
    ++data_calls;
    if (fail_after_bytes && parts.back().data.size() > fail_after_bytes)
      return absl::ResourceExhaustedError("too big");
    return absl::OkStatus();
  }
  absl::Status OnPartEnd() override {
    parts.back().ended = true;
    return absl::OkStatus();
  }
  std::vector<Part> parts;
  int data_calls = 0;
  size_t fail_after_bytes = 0;
};

std::string Body(const std::vector<std::string>& contents, const std::string& boundary) {
  std::string body = "preamble text\r\n";
  for (const std::string& c : contents) {
    body += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + c + "\r\n";
  }
  body += "--" + boundary + "--\r\nepilogue";
  return body;
}

// Feeds `body` in chunks of `chunk` bytes.
absl::Status FeedAll(MultipartParser& p, const std::string& body, size_t chunk) {
  for (size_t i = 0; i < body.size(); i += chunk) {
    if (absl::Status s = p.Feed(std::string_view(body).substr(i, chunk)); !s.ok()) return s;
  }
  return p.Finish();
}

TEST(MultipartParserTest, SplitsPartsAtEveryChunkSize) {
  // Contents that contain near-delimiters must come through intact.
  std::vector<std::string> contents = {"abc", "", "\r\n--BOUNDAR not it\r\n--",
                                       std::string(5000, 'x')};
  std::string body = Body(contents, "BOUNDARY");
  for (size_t chunk : {1u, 2u, 3u, 7u, 13u, 64u, 1000u, 100000u}) {
    Collector c;
    MultipartParser p("BOUNDARY", &c);
    ASSERT_TRUE(FeedAll(p, body, chunk).ok()) << "chunk " << chunk;
    ASSERT_EQ(c.parts.size(), contents.size()) << "chunk " << chunk;
    for (size_t i = 0; i < contents.size(); ++i) {
      EXPECT_EQ(c.parts[i].data, contents[i]) << "chunk " << chunk << " part " << i;
      EXPECT_TRUE(c.parts[i].ended);
      ASSERT_EQ(c.parts[i].headers.size(), 1u);
      EXPECT_EQ(c.parts[i].headers[0].name, "Content-Type");
      EXPECT_EQ(c.parts[i].headers[0].value, "application/dicom");
    }
  }
}

// Body bytes are handed over straight from the chunk when no delimiter can straddle the
// carried bytes, and through the buffer otherwise; any split of the input must give the
// same parts, including near-delimiters that cross chunk borders.
TEST(MultipartParserTest, RandomChunkingGivesTheSameParts) {
  const std::string boundary = "bd";
  std::vector<std::string> contents = {std::string(300, 'a'), "\r\n-", "\r\n--b",
                                       "x\r\n--b\r\n--",      "",      std::string(1000, '\r')};
  for (int i = 0; i < 40; ++i) contents.push_back(std::string(i, '-') + "\r\n--b" + "\r\n");
  const std::string body = Body(contents, boundary);
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    Collector c;
    MultipartParser p(boundary, &c);
    size_t pos = 0;
    while (pos < body.size()) {
      const size_t n = std::min<size_t>(body.size() - pos, 1 + rng() % (round % 3 == 0 ? 5 : 40));
      ASSERT_TRUE(p.Feed(std::string_view(body).substr(pos, n)).ok()) << "round " << round;
      pos += n;
    }
    ASSERT_TRUE(p.Finish().ok()) << "round " << round;
    ASSERT_EQ(c.parts.size(), contents.size()) << "round " << round;
    for (size_t i = 0; i < contents.size(); ++i) {
      EXPECT_EQ(c.parts[i].data, contents[i]) << "round " << round << " part " << i;
      EXPECT_TRUE(c.parts[i].ended);
    }
  }
}

TEST(MultipartParserTest, BinaryContentRoundTrips) {
  std::mt19937 rng(42);
  std::string blob(200000, '\0');
  for (char& ch : blob) ch = static_cast<char>(rng());
  std::string body = Body({blob, blob.substr(100)}, "b0undary-x");
  Collector c;
  MultipartParser p("b0undary-x", &c);
  ASSERT_TRUE(FeedAll(p, body, 65536).ok());
  ASSERT_EQ(c.parts.size(), 2u);
  EXPECT_EQ(c.parts[0].data, blob);
  EXPECT_EQ(c.parts[1].data, blob.substr(100));
}

TEST(MultipartParserTest, PartWithoutHeadersAndBodyStartingWithDelimiter) {
  Collector c;
  MultipartParser p("B", &c);
  ASSERT_TRUE(FeedAll(p, "--B\r\n\r\nhello\r\n--B--", 4).ok());
  ASSERT_EQ(c.parts.size(), 1u);
  EXPECT_TRUE(c.parts[0].headers.empty());
  EXPECT_EQ(c.parts[0].data, "hello");
}

TEST(MultipartParserTest, Errors) {
  {
    Collector c;
    MultipartParser p("B", &c);
    EXPECT_EQ(FeedAll(p, "no boundary here at all", 5).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    Collector c;
    MultipartParser p("B", &c);
    EXPECT_EQ(FeedAll(p, "--B\r\n\r\nhello", 5).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    Collector c;
    MultipartParser p("B", &c);
    EXPECT_EQ(FeedAll(p, "--B\r\n\r\nhello\r\n--Bgarbage\r\n\r\nx\r\n--B--", 100).code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    Collector c;
    MultipartParser p("B", &c);
    EXPECT_EQ(FeedAll(p, "--B\r\nbad header line\r\n\r\nx\r\n--B--", 100).code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    Collector c;
    MultipartLimits limits;
    limits.max_header_bytes = 100;
    MultipartParser p("B", &c, limits);
    std::string body = "--B\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\nx\r\n--B--";
    EXPECT_EQ(FeedAll(p, body, 7).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    Collector c;
    c.fail_after_bytes = 10;
    MultipartParser p("B", &c);
    EXPECT_EQ(FeedAll(p, Body({std::string(100, 'z')}, "B"), 3).code(),
              absl::StatusCode::kResourceExhausted);
  }
}

// Found by fuzz/fuzz_multipart (fuzz/regressions/multipart/).
TEST(MultipartParserTest, HeaderWithoutNameIsRefused) {
  Collector c;
  MultipartParser p("a", &c);
  EXPECT_EQ(FeedAll(p, "--a\r\n :\r\n\r\n", 100).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MultipartParserTest, HeaderLimitDoesNotDependOnChunking) {
  MultipartLimits limits;
  limits.max_header_bytes = 128;
  std::string header = "X: " + std::string(125, 'h');  // exactly 128 bytes
  std::string body = "--B\r\n" + header + "\r\n\r\nx\r\n--B--";
  for (size_t chunk = 1; chunk <= body.size(); ++chunk) {
    Collector c;
    MultipartParser p("B", &c, limits);
    ASSERT_TRUE(FeedAll(p, body, chunk).ok()) << "chunk " << chunk;
  }
}

TEST(MultipartParserTest, BoundaryFromContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/related; type=\"application/dicom\"; boundary=abc"),
            "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Related;boundary=\"a b;c\";type=application/dicom"),
            "a b;c");
  EXPECT_FALSE(MultipartBoundary("multipart/related; type=application/dicom").ok());
  EXPECT_FALSE(MultipartBoundary("application/dicom; boundary=x").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/related; boundary=" + std::string(71, 'a')).ok());
}

}  // namespace
}  // namespace dicomstore::server
