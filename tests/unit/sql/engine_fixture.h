// The SQL engine over the real in-process stack, as `dicomstore sql --data DIR` builds it:
// SQLite index + blob store in a temporary directory, AdminService, DicomWebService,
// ApiHandler, LocalTransport. No mocks: every statement goes through the REST surface.
#ifndef DICOMSTORE_TESTS_UNIT_SQL_ENGINE_FIXTURE_H_
#define DICOMSTORE_TESTS_UNIT_SQL_ENGINE_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "blobs/blob_store.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "server/api_handler.h"
#include "server/local_transport.h"
#include "service/admin_service.h"
#include "service/dicomweb_service.h"
#include "sql/engine.h"
#include "testing/temp_dir.h"

namespace dicomstore::sql::testing {

// Forwards to the in-process transport and records each request target, so tests can see
// what was sent (pushdown, paging) without replacing anything.
class RecordingTransport : public client::Transport {
 public:
  explicit RecordingTransport(client::Transport* next) : next_(next) {}
  absl::StatusOr<client::Response> Send(const client::Request& request) override {
    targets.push_back(request.method + " " + request.target);
    return next_->Send(request);
  }
  std::vector<std::string> targets;

 private:
  client::Transport* next_;
};

class EngineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = index::OpenSqliteIndex(dir_.File("index.sqlite"));
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    blobs_ = std::make_unique<blobs::BlobStore>(blobs::DefaultEnv(), dir_.File("blobs"));
    ASSERT_TRUE(blobs_->Open().ok());
    admin_ = std::make_unique<service::AdminService>(index_.get(), blobs_.get());
    dicomweb_ = std::make_unique<service::DicomWebService>(index_.get(), blobs_.get(), 2);
    handler_ = std::make_unique<server::ApiHandler>(admin_.get(), dicomweb_.get());
    transport_ = std::make_unique<server::LocalTransport>(handler_.get());
    recorder_ = std::make_unique<RecordingTransport>(transport_.get());
    MakeEngine(EngineOptions{});
    ASSERT_TRUE(admin_->CreateDataset("projects/p/locations/us", "d1", Json::object()).ok());
  }
  void TearDown() override {
    engine_.reset();
    recorder_.reset();
    transport_.reset();
    handler_.reset();
    dicomweb_.reset();
    admin_.reset();
    blobs_.reset();
    index_.reset();
  }

  // Rebuilds the engine with `options`; notices are collected in notices_.
  void MakeEngine(EngineOptions options) {
    options.notice = [this](std::string_view line) { notices_.emplace_back(line); };
    if (options.await_poll_interval == std::chrono::milliseconds(500)) {
      options.await_poll_interval = std::chrono::milliseconds(1);
    }
    auto engine = Engine::Create(recorder_.get(), std::move(options));
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  static EngineOptions Options(int page_limit, int qido_page_size) {
    EngineOptions options;
    options.page_limit = page_limit;
    options.qido_page_size = qido_page_size;
    return options;
  }

  // Runs a script and returns the result of its last statement (or fails the test).
  ResultSet Run(const std::string& script) {
    absl::StatusOr<std::vector<ResultSet>> results = engine_->ExecuteScript(script);
    EXPECT_TRUE(results.ok()) << results.status() << "\n" << script;
    if (!results.ok() || results->empty()) return {};
    return results->back();
  }
  absl::Status RunError(const std::string& script) {
    return engine_->ExecuteScript(script).status();
  }
  void CreateStore(const std::string& id, const Json& body = Json::object()) {
    ASSERT_TRUE(admin_->CreateDicomStore("projects/p/locations/us/datasets/d1", id, body).ok());
  }

  static std::vector<std::string> Column(const ResultSet& r, size_t c) {
    std::vector<std::string> out;
    for (const auto& row : r.rows) out.push_back(row[c].text);
    return out;
  }
  static int ColumnIndex(const ResultSet& r, const std::string& name) {
    for (size_t i = 0; i < r.columns.size(); ++i) {
      if (r.columns[i] == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  static std::vector<std::string> Column(const ResultSet& r, const std::string& name) {
    return Column(r, static_cast<size_t>(ColumnIndex(r, name)));
  }

  dicomstore::testing::TempDir dir_{"sql_engine"};
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<service::AdminService> admin_;
  std::unique_ptr<service::DicomWebService> dicomweb_;
  std::unique_ptr<server::ApiHandler> handler_;
  std::unique_ptr<server::LocalTransport> transport_;
  std::unique_ptr<RecordingTransport> recorder_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::string> notices_;
};

}  // namespace dicomstore::sql::testing

#endif  // DICOMSTORE_TESTS_UNIT_SQL_ENGINE_FIXTURE_H_
