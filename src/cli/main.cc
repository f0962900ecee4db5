// dicomstore: a DICOM store speaking the Cloud Healthcare API v1 (see README.md).
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/serve_command.h"
#include "cli/sql_command.h"

int main(int argc, char** argv) {
  CLI::App app{"dicomstore: a DICOM store compatible with the Cloud Healthcare API v1"};
  app.set_version_flag("--version", std::string("dicomstore ") + DICOMSTORE_VERSION);
  app.require_subcommand(1);

  dicomstore::cli::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Serve the HTTP API");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 = any free)")
      ->capture_default_str();
  serve_cmd->add_option("--data", serve.data_dir, "Data directory (index and instances)")
      ->capture_default_str();
  serve_cmd->add_option("--gcs-root", serve.gcs_root,
                        "Local directory that gs://bucket/path URIs resolve to");
  bool quiet = false;
  serve_cmd->add_flag("--no-access-log", quiet, "Do not log one line per request");

  dicomstore::cli::SqlOptions sql;
  CLI::App* sql_cmd = app.add_subcommand("sql", "Run StackQL statements against a data directory");
  sql_cmd->add_option("--data", sql.data_dir, "Data directory (index and instances)")
      ->capture_default_str();
  sql_cmd->add_option("-o,--output", sql.output, "Output format: table, json or csv")
      ->capture_default_str();
  sql_cmd->add_option("statements", sql.script, "\"STATEMENT; ...\"")->required();

  CLI11_PARSE(app, argc, argv);
  if (sql_cmd->parsed()) return dicomstore::cli::RunSql(sql, std::cout, std::cerr);
  if (serve_cmd->parsed()) {
    serve.access_log = !quiet;
    return dicomstore::cli::RunServe(serve);
  }
  return 0;
}
