// `dicomstore serve`: opens the store under --data and serves the HTTP API until SIGINT or
// SIGTERM, then finishes in-flight requests and returns 0.
#ifndef DICOMSTORE_CLI_SERVE_COMMAND_H_
#define DICOMSTORE_CLI_SERVE_COMMAND_H_

#include <string>

namespace dicomstore::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string data_dir = "./dicomstore-data";
  std::string gcs_root;  // local root for gs:// URIs ("" = none)
  bool access_log = true;
};

// Returns the process exit status.
int RunServe(const ServeOptions& options);

}  // namespace dicomstore::cli

#endif  // DICOMSTORE_CLI_SERVE_COMMAND_H_
