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

  // `sql` and `shell` take the same connection and output options.
  dicomstore::cli::SqlOptions sql;
  auto add_sql_options = [&sql](CLI::App* cmd) {
    cmd->add_option("--endpoint", sql.target.endpoint,
                    "API endpoint, e.g. http://127.0.0.1:8080 or https://healthcare.googleapis.com"
                    " (default: in-process on --data)");
    cmd->add_option(
        "--auth", sql.target.auth,
        "StackQL auth JSON for --endpoint, e.g. "
        "'{\"google\":{\"type\":\"service_account\",\"credentialsfilepath\":\"sa.json\"}}'");
    cmd->add_option("--data", sql.target.data_dir, "Data directory when no --endpoint is given")
        ->capture_default_str();
    cmd->add_option("-o,--output", sql.output, "Output format: table, json, jsonl, csv or text")
        ->capture_default_str();
    cmd->add_option("--page-limit", sql.target.page_limit,
                    "Most pages fetched per list call, with a warning when reached (0 = all)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--tls-ca-bundle", sql.target.ca_bundle, "CA certificates for --endpoint");
    cmd->add_flag("--tls-insecure", sql.target.insecure_tls,
                  "Do not verify the endpoint's TLS certificate");
  };
  CLI::App* sql_cmd = app.add_subcommand("sql", "Run StackQL statements");
  add_sql_options(sql_cmd);
  sql_cmd->add_option("-i,--infile", sql.input_file, "Read statements from FILE ('-' = stdin)");
  sql_cmd->add_option("statements", sql.script,
                      "\"STATEMENT; ...\" (default: -i FILE or standard input)");
  CLI::App* shell_cmd =
      app.add_subcommand("shell", "Interactive StackQL shell with line editing and history");
  add_sql_options(shell_cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (sql_cmd->parsed()) return dicomstore::cli::RunSql(sql, std::cin, std::cout, std::cerr);
  if (shell_cmd->parsed()) return dicomstore::cli::RunShell(sql);
  if (serve_cmd->parsed()) {
    serve.access_log = !quiet;
    return dicomstore::cli::RunServe(serve);
  }
  return 0;
}
