// LocalTransport drives the HttpHandler contract of server/http_server.h without a socket.
#include "server/local_transport.h"

#include <memory>
#include <string>
#include <vector>

#include "blobs/blob_store.h"
#include "common/proto_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "server/api_handler.h"
#include "service/admin_service.h"
#include "service/dicomweb_service.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace dicomstore::server {
namespace {

using ::dicomstore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain"});
  r.body = std::move(body);
  return r;
}

// Produces the given chunks, or fails when reaching `fail_at`.
class ChunkSource : public BodySource {
 public:
  ChunkSource(std::vector<std::string> chunks, int fail_at = -1)
      : chunks_(std::move(chunks)), fail_at_(fail_at) {}
  absl::StatusOr<bool> Next(std::string* out) override {
    if (next_ == fail_at_) return absl::InternalError("disk on fire");
    if (next_ >= static_cast<int>(chunks_.size())) return false;
    out->append(chunks_[static_cast<size_t>(next_++)]);
    return true;
  }

 private:
  std::vector<std::string> chunks_;
  int fail_at_;
  int next_ = 0;
};

// Records what it was given; behaviour chosen by the request path.
class RecordingSink : public BodySink {
 public:
  explicit RecordingSink(std::vector<std::string>* chunks, bool refuse)
      : chunks_(chunks), refuse_(refuse) {}
  absl::Status Write(std::string_view chunk) override {
    if (refuse_) return absl::InvalidArgumentError("not this body");
    chunks_->emplace_back(chunk);
    return absl::OkStatus();
  }
  HttpResponse Finish() override { return Text(201, "stored " + std::to_string(chunks_->size())); }
  HttpResponse Fail(const absl::Status& status) override {
    return Text(400, "failed: " + std::string(status.message()));
  }

 private:
  std::vector<std::string>* chunks_;
  bool refuse_;
};

class FakeHandler : public HttpHandler {
 public:
  BodyPlan Plan(const HttpRequest& head) override {
    heads.push_back(head);
    BodyPlan plan;
    plan.buffer_limit = 8;
    if (head.target == "/immediate") plan.immediate = Text(404, "nope");
    if (head.target == "/stream") plan.sink = std::make_unique<RecordingSink>(&chunks, false);
    if (head.target == "/refuse") plan.sink = std::make_unique<RecordingSink>(&chunks, true);
    if (head.target == "/plan-throws") throw std::runtime_error("boom");
    return plan;
  }
  HttpResponse Handle(const HttpRequest& request) override {
    if (request.target == "/throws") throw std::runtime_error("bad handler");
    if (request.target == "/source") {
      HttpResponse r;
      r.source = std::make_unique<ChunkSource>(std::vector<std::string>{"ab", "cd", "ef"});
      r.content_length = 6;
      return r;
    }
    if (request.target == "/source-fails-first") {
      HttpResponse r;
      r.source = std::make_unique<ChunkSource>(std::vector<std::string>{"ab"}, 0);
      return r;
    }
    if (request.target == "/source-fails-later") {
      HttpResponse r;
      r.source = std::make_unique<ChunkSource>(std::vector<std::string>{"ab", "cd"}, 1);
      return r;
    }
    return Text(200, request.method + " " + request.body);
  }
  HttpResponse Error(const absl::Status& status) override {
    return Text(status.code() == absl::StatusCode::kInternal ? 500 : 400,
                "error: " + std::string(status.message()));
  }

  std::vector<HttpRequest> heads;
  std::vector<std::string> chunks;
};

client::Request Post(std::string target, std::string body) {
  client::Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers.push_back({"Content-Type", "text/plain"});
  r.body = std::move(body);
  return r;
}

TEST(LocalTransportTest, BufferedBodyGoesToHandleWithHeaders) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  absl::StatusOr<client::Response> r = transport.Send(Post("/echo", "hello"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST hello");
  EXPECT_EQ(r->FindHeader("content-type"), "text/plain");
  ASSERT_EQ(handler.heads.size(), 1u);
  EXPECT_TRUE(handler.heads[0].body.empty());  // Plan sees the head only
  EXPECT_EQ(handler.heads[0].Header("Content-Type"), "text/plain");
  EXPECT_EQ(handler.heads[0].Header("Host"), "127.0.0.1:8080");
}

TEST(LocalTransportTest, BodyOverTheBufferLimitIsTheHandlersError) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  absl::StatusOr<client::Response> r = transport.Send(Post("/echo", "123456789"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "error: request body exceeds 8 bytes");
}

TEST(LocalTransportTest, ImmediateResponseSkipsTheBody) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  absl::StatusOr<client::Response> r = transport.Send(Post("/immediate", "ignored"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "nope");
}

TEST(LocalTransportTest, StreamedBodyArrivesInChunks) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  transport.set_chunk_size(4);
  absl::StatusOr<client::Response> r = transport.Send(Post("/stream", "0123456789"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_THAT(handler.chunks, ElementsAre("0123", "4567", "89"));

  r = transport.Send(Post("/refuse", "0123456789"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "failed: not this body");
}

TEST(LocalTransportTest, StreamedResponseIsDrained) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  absl::StatusOr<client::Response> r = transport.Send(Post("/source", ""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "abcdef");

  // A failure before anything was sent is an error response; later, a broken exchange.
  r = transport.Send(Post("/source-fails-first", ""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "error: disk on fire");
  EXPECT_THAT(transport.Send(Post("/source-fails-later", "")),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(LocalTransportTest, ExceptionsBecomeInternalErrors) {
  FakeHandler handler;
  LocalTransport transport(&handler);
  absl::StatusOr<client::Response> r = transport.Send(Post("/throws", ""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("bad handler"));
  r = transport.Send(Post("/plan-throws", ""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
}

TEST(LocalTransportTest, DrivesTheApiHandler) {
  dicomstore::testing::TempDir dir("local_transport");
  auto index = index::OpenSqliteIndex(dir.File("index.sqlite"));
  ASSERT_TRUE(index.ok());
  blobs::BlobStore blobs(blobs::DefaultEnv(), dir.File("blobs"));
  ASSERT_TRUE(blobs.Open().ok());
  service::AdminService admin(index->get(), &blobs);
  service::DicomWebService dicomweb(index->get(), &blobs, 1);
  ApiHandler handler(&admin, &dicomweb);
  LocalTransport transport(&handler);

  absl::StatusOr<client::Response> r =
      transport.Send(Post("/v1/projects/p/locations/l/datasets?datasetId=d", "{}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  client::Request get;
  get.target = "/v1/projects/p/locations/l/datasets/d";
  r = transport.Send(get);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Json::parse(r->body)["name"], "projects/p/locations/l/datasets/d");
  get.target = "/v1/projects/p/locations/l/datasets/nope";
  r = transport.Send(get);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(client::StatusFromResponse(*r), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace dicomstore::server
