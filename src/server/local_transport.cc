#include "server/local_transport.h"

#include <exception>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dicomstore::server {
namespace {

// Like the HTTP server, nothing thrown by a handler escapes: it becomes Error(Internal).
template <typename Fn>
HttpResponse Guard(HttpHandler* handler, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return handler->Error(absl::InternalError(absl::StrCat("handler failed: ", e.what())));
  } catch (...) {
    return handler->Error(absl::InternalError("handler failed"));
  }
}

HttpResponse Exchange(HttpHandler* handler, const client::Request& request, size_t chunk_size) {
  HttpRequest head;
  head.method = request.method;
  head.target = request.target;
  head.remote = "in-process";
  bool has_host = false;
  for (const client::HttpField& f : request.headers) {
    head.headers.push_back({f.name, f.value});
    if (absl::EqualsIgnoreCase(f.name, "Host")) has_host = true;
  }
  // Absolute URLs in answers (RetrieveURL, BulkDataURI) name the default local server.
  if (!has_host) head.headers.push_back({"Host", "127.0.0.1:8080"});
  if (!request.body.empty()) {
    head.headers.push_back({"Content-Length", std::to_string(request.body.size())});
  }

  BodyPlan plan;
  try {
    plan = handler->Plan(head);
  } catch (const std::exception& e) {
    return handler->Error(absl::InternalError(absl::StrCat("handler failed: ", e.what())));
  }
  if (plan.immediate) return *std::move(plan.immediate);
  if (plan.sink) {
    return Guard(handler, [&] {
      std::string_view body = request.body;
      for (size_t at = 0; at < body.size(); at += chunk_size) {
        absl::Status s = plan.sink->Write(body.substr(at, chunk_size));
        if (!s.ok()) return plan.sink->Fail(s);
      }
      return plan.sink->Finish();
    });
  }
  if (request.body.size() > plan.buffer_limit) {
    return handler->Error(absl::InvalidArgumentError(
        absl::StrCat("request body exceeds ", plan.buffer_limit, " bytes")));
  }
  head.body = request.body;
  return Guard(handler, [&] { return handler->Handle(head); });
}

}  // namespace

LocalTransport::LocalTransport(HttpHandler* handler) : handler_(handler) {}

absl::StatusOr<client::Response> LocalTransport::Send(const client::Request& request) {
  HttpResponse response = Exchange(handler_, request, chunk_size_);
  client::Response out;
  out.status = response.status;
  for (HttpHeader& h : response.headers) out.headers.push_back({h.name, std::move(h.value)});
  if (!response.source) {
    out.body = std::move(response.body);
    return out;
  }
  // The first chunk decides like the HTTP server: a failure before anything was "sent"
  // becomes the handler's error response; a later one is a broken connection.
  bool first = true;
  while (true) {
    absl::StatusOr<bool> more;
    try {
      more = response.source->Next(&out.body);
    } catch (const std::exception& e) {
      more = absl::InternalError(absl::StrCat("response body failed: ", e.what()));
    }
    if (!more.ok()) {
      if (!first) {
        return absl::UnavailableError(
            absl::StrCat("the response body broke off: ", more.status().message()));
      }
      HttpResponse error = handler_->Error(more.status());
      client::Response replaced;
      replaced.status = error.status;
      for (HttpHeader& h : error.headers) replaced.headers.push_back({h.name, std::move(h.value)});
      replaced.body = std::move(error.body);
      return replaced;
    }
    if (!*more) break;
    first = false;
  }
  if (response.content_length && *response.content_length != out.body.size()) {
    return absl::UnavailableError(absl::StrCat("the response body has ", out.body.size(),
                                               " bytes, not the declared ",
                                               *response.content_length));
  }
  return out;
}

}  // namespace dicomstore::server
