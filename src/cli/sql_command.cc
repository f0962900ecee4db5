#include "cli/sql_command.h"

#include <filesystem>
#include <memory>
#include <ostream>

#include "blobs/blob_store.h"
#include "index/index.h"
#include "service/admin_service.h"
#include "sql/engine.h"
#include "sql/output.h"
#include "sql/preparser.h"

namespace dicomstore::cli {

int RunSql(const SqlOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<sql::OutputFormat> format = sql::ParseOutputFormat(options.output);
  if (!format.ok()) {
    err << "dicomstore: " << format.status().message() << "\n";
    return 2;
  }
  // Syntax errors are reported before anything runs.
  absl::StatusOr<std::vector<sql::Statement>> statements = sql::PreParseScript(options.script);
  if (!statements.ok()) {
    err << statements.status().message() << "\n";
    return 1;
  }

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    err << "dicomstore: cannot create data directory " << options.data_dir << ": " << ec.message()
        << "\n";
    return 1;
  }
  const std::filesystem::path dir(options.data_dir);
  absl::StatusOr<std::unique_ptr<index::Index>> index =
      index::OpenSqliteIndex((dir / "index.sqlite").string());
  if (!index.ok()) {
    err << "dicomstore: cannot open the index: " << index.status() << "\n";
    return 1;
  }
  // Not Open()ed: that removes temporary files, which may belong to a running server.
  // Deleting a store only needs RemoveStore.
  blobs::BlobStore blobs(blobs::DefaultEnv(), (dir / "blobs").string());
  service::AdminService admin(index->get(), &blobs);
  absl::StatusOr<std::unique_ptr<sql::Engine>> engine = sql::Engine::Create(&admin);
  if (!engine.ok()) {
    err << "dicomstore: " << engine.status() << "\n";
    return 1;
  }

  for (const sql::Statement& statement : *statements) {
    absl::StatusOr<sql::ResultSet> result = (*engine)->Execute(statement);
    if (!result.ok()) {
      err << result.status().message() << "\n";
      return 1;
    }
    if (result->has_rows()) {
      std::string text = sql::Format(*result, *format);
      out << text;
      if (!text.empty() && text.back() != '\n') out << "\n";  // json has none of its own
    }
    if (!result->message.empty()) err << result->message << "\n";
  }
  out.flush();
  return 0;
}

}  // namespace dicomstore::cli
