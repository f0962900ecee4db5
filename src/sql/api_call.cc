#include "sql/api_call.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace dicomstore::sql {
namespace {

absl::StatusOr<std::string> Target(const MethodSpec& method, const CallArgs& args) {
  std::string out;
  std::string_view path = method.path;
  size_t at = 0;
  while (at < path.size()) {
    size_t open = path.find('{', at);
    if (open == std::string_view::npos) {
      out.append(path.substr(at));
      break;
    }
    out.append(path.substr(at, open - at));
    size_t close = path.find('}', open);
    std::string name(path.substr(open + 1, close - open - 1));
    auto it = args.path.find(name);
    if (it == args.path.end() || it->second.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing required parameter ", name, " of method ", Av(method.name)));
    }
    out += client::UrlEncode(it->second);
    at = close + 1;
  }
  char sep = '?';
  for (const auto& [name, value] : args.query) {
    absl::StrAppend(&out, std::string(1, sep), client::UrlEncode(name), "=",
                    client::UrlEncode(value));
    sep = '&';
  }
  return out;
}

std::string OperationProgress(const Json& op) {
  std::string line = absl::StrCat("operation ", op.value("name", std::string("?")), ": ",
                                  op.value("done", false) ? "done" : "in progress");
  const Json metadata = op.value("metadata", Json::object());
  if (metadata.is_object() && metadata.contains("counter") && metadata["counter"].is_object()) {
    std::vector<std::string> counts;
    for (std::string_view key : {"success", "failure", "pending"}) {
      auto it = metadata["counter"].find(std::string(key));
      if (it == metadata["counter"].end()) continue;
      counts.push_back(
          absl::StrCat(Av(key), "=", it->is_string() ? it->get<std::string>() : it->dump()));
    }
    if (!counts.empty()) absl::StrAppend(&line, " (", absl::StrJoin(counts, ", "), ")");
  }
  return line;
}

}  // namespace

bool IsOperation(const Json& value) {
  return value.is_object() && value.contains("name") &&
         (value.contains("done") || value.contains("metadata")) && value["name"].is_string() &&
         value["name"].get<std::string>().find("/operations/") != std::string::npos;
}

ApiClient::ApiClient(client::Transport* transport, const EngineOptions* options)
    : transport_(transport), options_(options) {}

void ApiClient::Notice(std::string_view line) const {
  if (options_->notice) options_->notice(line);
}

absl::StatusOr<client::Response> ApiClient::Call(const MethodSpec& method, const CallArgs& args) {
  absl::StatusOr<client::Response> response = Send(method, args);
  if (!response.ok()) return response.status();
  if (absl::Status s = client::StatusFromResponse(*response); !s.ok()) return s;
  return response;
}

absl::StatusOr<client::Response> ApiClient::Send(const MethodSpec& method, const CallArgs& args) {
  client::Request request;
  request.method = std::string(method.http_method);
  absl::StatusOr<std::string> target = Target(method, args);
  if (!target.ok()) return target.status();
  request.target = *std::move(target);
  switch (method.shape) {
    case ResponseShape::kDicomJson:
      request.headers.push_back({"Accept", "application/dicom+json"});
      break;
    case ResponseShape::kObject:
      request.headers.push_back({"Accept", "application/json"});
      break;
    case ResponseShape::kBinary:
      break;
  }
  if (!args.raw_body.empty() || !args.content_type.empty()) {
    request.headers.push_back({"Content-Type", args.content_type});
    request.body = args.raw_body;
  } else if (args.has_body) {
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = args.body.dump();
  }
  return transport_->Send(request);
}

absl::StatusOr<std::vector<Json>> ResponseItems(const MethodSpec& method,
                                                const client::Response& response) {
  std::vector<Json> items;
  if (method.shape == ResponseShape::kBinary) {
    Json item = Json::object();
    item["contentType"] = std::string(response.FindHeader("Content-Type"));
    item["size"] = static_cast<int64_t>(response.body.size());
    items.push_back(std::move(item));
    return items;
  }
  if (response.status == 204 || response.body.empty()) {
    if (method.shape == ResponseShape::kObject && method.items_key.empty()) {
      items.push_back(Json::object());
    }
    return items;
  }
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return absl::InternalError(absl::StrCat("the response of ", Av(method.name), " is not JSON (",
                                            Av(response.FindHeader("Content-Type")), ")"));
  }
  if (method.shape == ResponseShape::kDicomJson) {
    if (body.is_array()) {
      for (Json& item : body) items.push_back(std::move(item));
    } else {
      items.push_back(std::move(body));  // a STOW response dataset
    }
    return items;
  }
  if (!method.items_key.empty()) {
    auto it = body.find(std::string(method.items_key));
    if (it != body.end() && it->is_array()) {
      for (Json& item : *it) items.push_back(std::move(item));
    }
    return items;
  }
  items.push_back(std::move(body));
  return items;
}

absl::StatusOr<std::vector<Json>> ApiClient::Fetch(const MethodSpec& method, CallArgs args,
                                                   std::string_view what) {
  std::vector<Json> rows;
  const int limit = options_->page_limit;
  auto warn = [&](int pages) {
    Notice(absl::StrCat("warning: page limit of ", pages, " reached listing ", Av(what),
                        "; the results are truncated"));
  };
  if (method.paging == Paging::kPageToken) {
    std::string token;
    for (int pages = 1;; ++pages) {
      CallArgs page = args;
      if (!token.empty()) page.query.emplace_back("pageToken", token);
      absl::StatusOr<client::Response> response = Call(method, page);
      if (!response.ok()) return response.status();
      absl::StatusOr<std::vector<Json>> items = ResponseItems(method, *response);
      if (!items.ok()) return items.status();
      for (Json& item : *items) rows.push_back(std::move(item));
      Json body = Json::parse(response->body, nullptr, false);
      token = body.is_object() ? body.value("nextPageToken", std::string()) : std::string();
      if (token.empty()) break;
      if (limit > 0 && pages >= limit) {
        warn(pages);
        break;
      }
    }
    return rows;
  }
  bool paged_by_user = false;
  for (const auto& [name, value] : args.query) {
    paged_by_user = paged_by_user || name == "limit" || name == "offset";
  }
  if (method.paging == Paging::kQidoOffset && !paged_by_user) {
    const int size = options_->qido_page_size > 0 ? options_->qido_page_size : 1000;
    for (int pages = 1;; ++pages) {
      CallArgs page = args;
      page.query.emplace_back("limit", std::to_string(size));
      if (!rows.empty()) page.query.emplace_back("offset", std::to_string(rows.size()));
      absl::StatusOr<client::Response> response = Call(method, page);
      if (!response.ok()) return response.status();
      absl::StatusOr<std::vector<Json>> items = ResponseItems(method, *response);
      if (!items.ok()) return items.status();
      const size_t got = items->size();
      for (Json& item : *items) rows.push_back(std::move(item));
      if (got < static_cast<size_t>(size)) break;
      if (limit > 0 && pages >= limit) {
        warn(pages);
        break;
      }
    }
    return rows;
  }
  absl::StatusOr<client::Response> response = Call(method, args);
  if (!response.ok()) return response.status();
  return ResponseItems(method, *response);
}

absl::StatusOr<Json> ApiClient::Await(Json operation, bool quiet) {
  while (true) {
    if (!quiet) Notice(OperationProgress(operation));
    if (operation.value("done", false)) break;
    std::this_thread::sleep_for(options_->await_poll_interval);
    // GET /v1/{name}: the name's slashes are path separators, so it is not encoded.
    client::Request request;
    request.method = "GET";
    request.target = absl::StrCat("/v1/", operation.value("name", std::string()));
    request.headers.push_back({"Accept", "application/json"});
    absl::StatusOr<client::Response> response = transport_->Send(request);
    if (!response.ok()) return response.status();
    if (absl::Status s = client::StatusFromResponse(*response); !s.ok()) return s;
    Json next = Json::parse(response->body, nullptr, false);
    if (!next.is_object()) return absl::InternalError("the operation poll did not return JSON");
    operation = std::move(next);
  }
  if (operation.contains("error") && operation["error"].is_object()) {
    const Json& error = operation["error"];
    int code = error.value("code", 2);
    if (code <= 0 || code > 16) code = 2;
    return absl::Status(static_cast<absl::StatusCode>(code),
                        Av(error.value("message", std::string("the operation failed"))));
  }
  return operation;
}

}  // namespace dicomstore::sql
