// Calls to provider methods over a client::Transport: the HTTP request a method and its
// arguments make, every page of a list, responses turned into row items, and long-running
// operations awaited. Nothing here assumes the API is in-process.
#ifndef DICOMSTORE_SQL_API_CALL_H_
#define DICOMSTORE_SQL_API_CALL_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/transport.h"
#include "common/proto_json.h"
#include "sql/engine_options.h"
#include "sql/provider.h"

namespace dicomstore::sql {

struct CallArgs {
  std::map<std::string, std::string> path;                 // a value for every {param}
  std::vector<std::pair<std::string, std::string>> query;  // in order, sent URL-encoded
  // Request body: JSON (`body`), or raw bytes with their content type (STOW).
  bool has_body = false;
  Json body;
  std::string raw_body;
  std::string content_type;
};

class ApiClient {
 public:
  // Both must outlive the client.
  ApiClient(client::Transport* transport, const EngineOptions* options);

  // One request. An HTTP error is the API's own error (client::StatusFromResponse).
  absl::StatusOr<client::Response> Call(const MethodSpec& method, const CallArgs& args);
  // The same, with any HTTP status returned as a response (STOW answers 409 with a body
  // that lists the failed instances).
  absl::StatusOr<client::Response> Send(const MethodSpec& method, const CallArgs& args);

  // The row items of a method: each page read (pageToken or QIDO limit/offset paging, up
  // to the page limit, with a warning naming `what` when it cuts the list short). A JSON
  // object gives its `items_key` items or itself; DICOM JSON one item per dataset; a
  // binary response one {"contentType", "size"} item.
  absl::StatusOr<std::vector<Json>> Fetch(const MethodSpec& method, CallArgs args,
                                          std::string_view what);

  // Polls a google.longrunning.Operation (GET /v1/{name}) until done, with a progress
  // line per poll unless `quiet`. The finished operation, or its error as a status.
  absl::StatusOr<Json> Await(Json operation, bool quiet = false);

  void Notice(std::string_view line) const;

 private:
  absl::StatusOr<Json> ParseJson(const client::Response& response) const;

  client::Transport* transport_;
  const EngineOptions* options_;
};

// The items of one response of `method` (see Fetch).
absl::StatusOr<std::vector<Json>> ResponseItems(const MethodSpec& method,
                                                const client::Response& response);

// True when `value` looks like a google.longrunning.Operation.
bool IsOperation(const Json& value);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_API_CALL_H_
