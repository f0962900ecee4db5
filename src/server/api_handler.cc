#include "server/api_handler.h"

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/api_response.h"
#include "server/request_target.h"

namespace dicomstore::server {
namespace {

using service::ListRequest;

// The resource a path addresses, from the collection words at fixed positions of
// projects/{p}/locations/{l}/datasets/{d}/(dicomStores|operations)/{x}.
enum class Route {
  kUnknown,
  kDatasets,     // .../locations/{l}/datasets
  kDataset,      // .../datasets/{d}
  kDicomStores,  // .../datasets/{d}/dicomStores
  kDicomStore,   // .../dicomStores/{s}
  kOperations,   // .../datasets/{d}/operations
  kOperation,    // .../operations/{id}
};

Route Classify(const std::vector<std::string>& s) {
  if (s.size() < 5 || s[0] != "projects" || s[2] != "locations" || s[4] != "datasets")
    return Route::kUnknown;
  switch (s.size()) {
    case 5:
      return Route::kDatasets;
    case 6:
      return Route::kDataset;
    case 7:
      if (s[6] == "dicomStores") return Route::kDicomStores;
      if (s[6] == "operations") return Route::kOperations;
      return Route::kUnknown;
    case 8:
      if (s[6] == "dicomStores") return Route::kDicomStore;
      if (s[6] == "operations") return Route::kOperation;
      return Route::kUnknown;
    default:
      return Route::kUnknown;
  }
}

// A parsed API call: method, resource path (without "v1/" and the custom verb), verb.
struct Call {
  const HttpRequest& http;
  const RequestTarget& target;
  std::vector<std::string> segments;  // after "v1", custom verb removed
  std::string name;                   // segments joined by '/'
  std::string verb;                   // custom verb after ':' ("" = none)
};

// Splits "/v1/<segments>[:verb]" into a Call; false when the path is not under /v1/.
bool MakeCall(const std::vector<std::string>& seg, Call* call) {
  if (seg.empty() || seg[0] != "v1") return false;
  call->segments.assign(seg.begin() + 1, seg.end());
  if (!call->segments.empty()) {
    std::string& last = call->segments.back();
    if (size_t colon = last.rfind(':'); colon != std::string::npos) {
      call->verb = last.substr(colon + 1);
      last.resize(colon);
    }
  }
  call->name = absl::StrJoin(call->segments, "/");
  return true;
}

// A DICOMweb call: projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb/...
std::optional<DicomWebPath> AsDicomWeb(const Call& call) {
  const std::vector<std::string>& s = call.segments;
  if (s.size() < 9 || s[8] != "dicomWeb" ||
      Classify({s.begin(), s.begin() + 8}) != Route::kDicomStore)
    return std::nullopt;
  DicomWebPath path;
  path.store_name = absl::StrJoin(s.begin(), s.begin() + 8, "/");
  path.rest.assign(s.begin() + 9, s.end());
  path.verb = call.verb;
  return path;
}

// Google rejects unknown query parameters; so do we, after system parameters were
// removed, so a typo is an error instead of being silently ignored.
absl::Status CheckQuery(const Call& call, std::initializer_list<std::string_view> allowed) {
  for (const QueryParam& p : call.target.query) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || p.name == a;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("unknown query parameter \"", p.name, "\""));
    }
  }
  return absl::OkStatus();
}

ListRequest ListParams(const Call& call) {
  return {call.target.Param("pageSize"), call.target.Param("pageToken"),
          call.target.Param("filter")};
}

HttpResponse Respond(const absl::StatusOr<Json>& result) {
  return result.ok() ? JsonResponse(*result) : ErrorResponse(result.status());
}

absl::StatusOr<Json> Body(const Call& call) { return ParseJsonBody(call.http.body); }

// Runs `fn(body)` after checking the query and parsing the body.
HttpResponse WithBody(const Call& call, std::initializer_list<std::string_view> allowed,
                      const std::function<absl::StatusOr<Json>(const Json&)>& fn) {
  if (absl::Status s = CheckQuery(call, allowed); !s.ok()) return ErrorResponse(s);
  absl::StatusOr<Json> body = Body(call);
  if (!body.ok()) return ErrorResponse(body.status());
  return Respond(fn(*body));
}

HttpResponse WithoutBody(const Call& call, std::initializer_list<std::string_view> allowed,
                         const std::function<absl::StatusOr<Json>()>& fn) {
  if (absl::Status s = CheckQuery(call, allowed); !s.ok()) return ErrorResponse(s);
  return Respond(fn());
}

std::string ParentOf(const Call& call) {
  std::vector<std::string> parent(call.segments.begin(), call.segments.end() - 1);
  return absl::StrJoin(parent, "/");
}

// IAM custom verbs, shared by datasets and DICOM stores.
std::optional<HttpResponse> IamCall(service::AdminService* admin, const Call& call) {
  const std::string& m = call.http.method;
  if (call.verb == "getIamPolicy" && m == "GET") {
    return WithoutBody(call, {"options.requestedPolicyVersion"}, [&] {
      return admin->GetIamPolicy(call.name, call.target.Param("options.requestedPolicyVersion"));
    });
  }
  if (call.verb == "setIamPolicy" && m == "POST") {
    return WithBody(call, {}, [&](const Json& b) { return admin->SetIamPolicy(call.name, b); });
  }
  if (call.verb == "testIamPermissions" && m == "POST") {
    return WithBody(call, {},
                    [&](const Json& b) { return admin->TestIamPermissions(call.name, b); });
  }
  return std::nullopt;
}

std::optional<HttpResponse> Dispatch(service::AdminService* admin,
                                     service::DicomWebService* dicomweb, const Call& call) {
  const std::string& m = call.http.method;
  const Route route = Classify(call.segments);
  if (!call.verb.empty()) {
    if (route == Route::kDicomStore && call.verb == "getDICOMStoreMetrics" && m == "GET") {
      return WithoutBody(call, {}, [&] { return dicomweb->StoreMetrics(call.name); });
    }
    if (route == Route::kDataset || route == Route::kDicomStore) return IamCall(admin, call);
    if (route == Route::kOperation && call.verb == "cancel" && m == "POST") {
      return WithBody(call, {}, [&](const Json&) { return admin->CancelOperation(call.name); });
    }
    return std::nullopt;
  }
  switch (route) {
    case Route::kDatasets:
      if (m == "POST") {
        return WithBody(call, {"datasetId"}, [&](const Json& b) {
          return admin->CreateDataset(ParentOf(call), call.target.Param("datasetId"), b);
        });
      }
      if (m == "GET") {
        return WithoutBody(call, {"pageSize", "pageToken"},
                           [&] { return admin->ListDatasets(ParentOf(call), ListParams(call)); });
      }
      break;
    case Route::kDataset:
      if (m == "GET") return WithoutBody(call, {}, [&] { return admin->GetDataset(call.name); });
      if (m == "PATCH") {
        return WithBody(call, {"updateMask"}, [&](const Json& b) {
          return admin->PatchDataset(call.name, call.target.Param("updateMask"), b);
        });
      }
      if (m == "DELETE") {
        return WithoutBody(call, {}, [&] { return admin->DeleteDataset(call.name); });
      }
      break;
    case Route::kDicomStores:
      if (m == "POST") {
        return WithBody(call, {"dicomStoreId"}, [&](const Json& b) {
          return admin->CreateDicomStore(ParentOf(call), call.target.Param("dicomStoreId"), b);
        });
      }
      if (m == "GET") {
        return WithoutBody(call, {"pageSize", "pageToken", "filter"}, [&] {
          return admin->ListDicomStores(ParentOf(call), ListParams(call));
        });
      }
      break;
    case Route::kDicomStore:
      if (m == "GET") {
        return WithoutBody(call, {}, [&] { return admin->GetDicomStore(call.name); });
      }
      if (m == "PATCH") {
        return WithBody(call, {"updateMask"}, [&](const Json& b) {
          return admin->PatchDicomStore(call.name, call.target.Param("updateMask"), b);
        });
      }
      if (m == "DELETE") {
        return WithoutBody(call, {}, [&] { return admin->DeleteDicomStore(call.name); });
      }
      break;
    case Route::kOperations:
      if (m == "GET") {
        return WithoutBody(call, {"pageSize", "pageToken", "filter"},
                           [&] { return admin->ListOperations(ParentOf(call), ListParams(call)); });
      }
      break;
    case Route::kOperation:
      if (m == "GET") {
        return WithoutBody(call, {}, [&] { return admin->GetOperation(call.name); });
      }
      break;
    case Route::kUnknown:
      break;
  }
  return std::nullopt;
}

}  // namespace

ApiHandler::ApiHandler(service::AdminService* admin, service::DicomWebService* dicomweb)
    : admin_(admin), dicomweb_service_(dicomweb), dicomweb_(dicomweb) {}

BodyPlan ApiHandler::Plan(const HttpRequest& head) {
  // STOW bodies are streamed (any size); everything else is buffered up to 10 MB.
  if (absl::StatusOr<RequestTarget> target = ParseRequestTarget(head.target); target.ok()) {
    Call call{head, *target, {}, "", ""};
    if (MakeCall(target->segments, &call)) {
      if (std::optional<DicomWebPath> dw = AsDicomWeb(call)) {
        if (std::optional<BodyPlan> stow = dicomweb_.PlanStow(head, *dw)) return *std::move(stow);
      }
    }
  }
  BodyPlan plan;
  plan.buffer_limit = kMaxAdminBodyBytes;
  return plan;
}

HttpResponse ApiHandler::Error(const absl::Status& status) { return ErrorResponse(status); }

HttpResponse ApiHandler::Handle(const HttpRequest& request) {
  absl::StatusOr<RequestTarget> target = ParseRequestTarget(request.target);
  if (!target.ok()) return ErrorResponse(target.status());
  const std::vector<std::string>& seg = target->segments;

  if (seg.size() == 1 && seg[0] == "healthz" && request.method == "GET") {
    // The server only starts listening once the store is open, so reaching here is ready.
    return JsonResponse(Json{{"status", "ok"}});
  }
  Call call{request, *target, {}, "", ""};
  if (MakeCall(seg, &call)) {
    if (std::optional<DicomWebPath> dw = AsDicomWeb(call)) {
      return dicomweb_.Handle(request, *target, *dw);
    }
    if (std::optional<HttpResponse> response = Dispatch(admin_, dicomweb_service_, call))
      return *std::move(response);
  }
  return ErrorResponse(absl::NotFoundError(
      absl::StrCat("no method ", request.method, " ", target->path, " in this API")));
}

}  // namespace dicomstore::server
