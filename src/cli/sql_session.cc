#include "cli/sql_session.h"

#include <filesystem>
#include <ostream>
#include <utility>
#include <vector>

#include "blobs/blob_store.h"
#include "client/credentials.h"
#include "client/curl_transport.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "dicom/instance_parser.h"
#include "index/index.h"
#include "server/api_handler.h"
#include "server/local_transport.h"
#include "service/admin_service.h"
#include "service/dicomweb_service.h"
#include "sql/preparser.h"

namespace dicomstore::cli {
namespace {

sql::EngineOptions EngineOptionsFor(const SqlTarget& target, std::ostream& err) {
  sql::EngineOptions options;
  options.page_limit = target.page_limit;
  options.notice = [&err](std::string_view line) { err << line << "\n" << std::flush; };
  return options;
}

// The server stack of `dicomstore serve`, minus the socket. Nothing is recovered or
// cleaned at open: a server may be running on the same directory, and its temporary
// files are not ours to remove.
class InProcessSession : public SqlSession {
 public:
  static absl::StatusOr<std::unique_ptr<SqlSession>> Open(const SqlTarget& target,
                                                          std::ostream& err) {
    const std::filesystem::path dir(target.data_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          Av("cannot create data directory " + dir.string() + ": " + ec.message()));
    }
    auto session = std::unique_ptr<InProcessSession>(new InProcessSession(err));
    DS_ASSIGN_OR_RETURN(session->index_, index::OpenSqliteIndex((dir / "index.sqlite").string()));
    DS_RETURN_IF_ERROR(dicom::InitializeDicom());
    session->blobs_ =
        std::make_unique<blobs::BlobStore>(blobs::DefaultEnv(), (dir / "blobs").string());
    DS_RETURN_IF_ERROR(session->blobs_->Open());
    session->admin_ =
        std::make_unique<service::AdminService>(session->index_.get(), session->blobs_.get());
    session->dicomweb_ =
        std::make_unique<service::DicomWebService>(session->index_.get(), session->blobs_.get());
    session->handler_ =
        std::make_unique<server::ApiHandler>(session->admin_.get(), session->dicomweb_.get());
    session->transport_ = std::make_unique<server::LocalTransport>(session->handler_.get());
    DS_ASSIGN_OR_RETURN(session->engine_, sql::Engine::Create(session->transport_.get(),
                                                              EngineOptionsFor(target, err)));
    return std::unique_ptr<SqlSession>(std::move(session));
  }

  ~InProcessSession() override {
    engine_.reset();  // before the transport it uses
  }

 private:
  using SqlSession::SqlSession;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<service::AdminService> admin_;
  std::unique_ptr<service::DicomWebService> dicomweb_;
  std::unique_ptr<server::ApiHandler> handler_;
  std::unique_ptr<server::LocalTransport> transport_;
};

class RemoteSession : public SqlSession {
 public:
  static absl::StatusOr<std::unique_ptr<SqlSession>> Open(const SqlTarget& target,
                                                          std::ostream& err) {
    auto session = std::unique_ptr<RemoteSession>(new RemoteSession(err));
    client::CurlTransportOptions options;
    options.endpoint = target.endpoint;
    DS_ASSIGN_OR_RETURN(options.credentials, client::CredentialsFromAuthJson(target.auth));
    options.ca_bundle = target.ca_bundle;
    options.insecure_tls = target.insecure_tls;
    DS_ASSIGN_OR_RETURN(session->transport_, client::NewCurlTransport(std::move(options)));
    DS_ASSIGN_OR_RETURN(session->engine_, sql::Engine::Create(session->transport_.get(),
                                                              EngineOptionsFor(target, err)));
    return std::unique_ptr<SqlSession>(std::move(session));
  }

  ~RemoteSession() override { engine_.reset(); }

 private:
  using SqlSession::SqlSession;
  std::unique_ptr<client::Transport> transport_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlSession>> SqlSession::Open(const SqlTarget& target,
                                                             std::ostream& err) {
  if (!target.endpoint.empty()) return RemoteSession::Open(target, err);
  if (!target.auth.empty()) {
    return absl::InvalidArgumentError("--auth applies to --endpoint only");
  }
  return InProcessSession::Open(target, err);
}

bool SqlSession::RunScript(std::string_view script, sql::OutputFormat format, std::ostream& out) {
  // Errors the pre-parser finds (unterminated strings, malformed EXEC, ...) stop the script
  // before anything runs; SQLite's own errors surface when their statement is reached.
  absl::StatusOr<std::vector<sql::Statement>> statements = sql::PreParseScript(script);
  if (!statements.ok()) {
    err_ << statements.status().message() << "\n";
    return false;
  }
  for (const sql::Statement& statement : *statements) {
    absl::StatusOr<sql::ResultSet> result = engine_->Execute(statement);
    if (!result.ok()) {
      out.flush();
      err_ << result.status().message() << "\n";
      return false;
    }
    if (result->has_rows()) {
      std::string text = sql::Format(*result, format);
      out << text;
      if (!text.empty() && text.back() != '\n') out << "\n";  // json has none of its own
    }
    out.flush();
    if (!result->message.empty()) err_ << result->message << "\n";
  }
  return true;
}

}  // namespace dicomstore::cli
