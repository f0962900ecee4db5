#include "sql/exec.h"
#include "common/dicom_keywords.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "sql/dicom_values.h"
#include "sql/messages.h"
#include "sql/stow_upload.h"
#include "sql/virtual_table.h"

namespace dicomstore::sql {
namespace {

Value ToValue(const Json& v) {
  if (v.is_null()) return Value::Null();
  if (v.is_string()) return Value::Text(v.get<std::string>());
  if (v.is_boolean()) return Value::Text(v.get<bool>() ? "true" : "false");
  if (v.is_number_integer()) return Value::Integer(v.get<int64_t>());
  if (v.is_number_float()) return Value{Value::Type::kReal, v.dump()};
  return Value::Text(v.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace

ResultSet JsonRows(const std::vector<Json>& items, const std::vector<std::string>& columns) {
  ResultSet out;
  out.columns = columns;
  for (const Json& item : items) {
    if (!columns.empty()) break;
    if (!item.is_object()) continue;
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (std::find(out.columns.begin(), out.columns.end(), it.key()) == out.columns.end()) {
        out.columns.push_back(it.key());
      }
    }
  }
  if (out.columns.empty()) out.columns.push_back("response");  // e.g. Empty: {}
  for (const Json& item : items) {
    std::vector<Value> row;
    for (const std::string& c : out.columns) {
      row.push_back(item.is_object() && item.contains(c) ? ToValue(item[c]) : Value::Null());
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

ResultSet DicomRows(const std::vector<Json>& datasets) {
  std::set<uint32_t> tags;
  for (const Json& d : datasets) {
    if (!d.is_object()) continue;
    for (auto it = d.begin(); it != d.end(); ++it) {
      if (std::optional<uint32_t> tag = ParseHexTag(it.key())) tags.insert(*tag);
    }
  }
  ResultSet out;
  for (uint32_t tag : tags) {
    std::string_view keyword = KnownKeyword(tag);
    out.columns.push_back(keyword.empty() ? HexTag(tag) : std::string(keyword));
  }
  for (const Json& d : datasets) {
    std::vector<Value> row;
    for (uint32_t tag : tags) row.push_back(ToValue(DicomValue(d, tag)));
    out.rows.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<ResultSet> ExecuteExec(const Statement& st, const ServiceSpec& service,
                                      ApiClient* api) {
  if (st.provider != service.provider || st.service != service.name) {
    return absl::NotFoundError(absl::StrCat("no such service: ", st.provider, ".", st.service));
  }
  const ResourceSpec* resource = service.FindResource(st.resource);
  if (resource == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("could not locate resource '", st.resource, "' in service 'healthcare'"));
  }
  const MethodSpec* method = resource->FindMethod(st.method);
  if (method == nullptr) {
    return absl::NotFoundError(absl::StrCat("method '", st.method, "' not found in resource '",
                                            st.resource, "'; run SHOW METHODS IN ",
                                            resource->TableName()));
  }

  CallArgs args;
  std::vector<std::string> path_params = method->PathParams();
  std::string file;
  for (const auto& [name, value] : st.args) {
    if (std::find(path_params.begin(), path_params.end(), name) != path_params.end()) {
      args.path[name] = value;
    } else if (name == "file" && method->name == "store_instances") {
      file = value;
    } else if (method->IsQidoSearch() ||
               std::find(method->query.begin(), method->query.end(), name) != method->query.end()) {
      args.query.emplace_back(name, value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown parameter @", name, " for method ", Av(method->name), " of ",
          Av(resource->TableName()), "; run SHOW METHODS IN ", Av(resource->TableName())));
    }
  }
  std::vector<std::string> missing;
  for (const std::string& p : path_params) {
    if (args.path[p].empty()) missing.push_back(p);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        NoMatchingMethodMessage(resource->name, SqlVerb::kExec, missing));
  }
  if (st.json.has_value()) {
    Json body = Json::parse(*st.json, nullptr, false);
    if (body.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat("@@json is not valid JSON: ", *st.json));
    }
    args.has_body = true;
    args.body = std::move(body);
  } else if (!method->request.empty()) {
    args.has_body = true;
    args.body = Json::object();
  }

  if (method->name == "store_instances") {
    if (file.empty()) {
      return absl::InvalidArgumentError(
          "store_instances needs @file='PATH' (a DICOM file or a folder of them)");
    }
    absl::StatusOr<std::vector<std::string>> files = FilesToUpload(file);
    if (!files.ok()) return files.status();
    absl::StatusOr<std::vector<Json>> rows = UploadFiles(api, *method, args, *files);
    if (!rows.ok()) return rows.status();
    ResultSet out = JsonRows(*rows);
    if (rows->empty()) {
      out.columns = {"status", "SOPInstanceUID", "SOPClassUID", "RetrieveURL", "FailureReason"};
    }
    size_t stored = 0;
    for (const Json& r : *rows) stored += r.value("status", "") == "stored" ? 1 : 0;
    out.message = absl::StrCat(stored, " of ", rows->size(), " instances stored from ",
                               files->size(), " files");
    return out;
  }

  if (method->IsQidoSearch()) {
    absl::StatusOr<std::vector<Json>> items = api->Fetch(*method, args, resource->TableName());
    if (!items.ok()) return items.status();
    return DicomRows(*items);
  }

  absl::StatusOr<client::Response> response = api->Call(*method, args);
  if (!response.ok()) return response.status();
  std::vector<Json> items;
  bool awaited = false;
  if (st.HasHint("AWAIT")) {
    Json body = Json::parse(response->body, nullptr, false);
    if (IsOperation(body)) {
      absl::StatusOr<Json> done = api->Await(std::move(body), st.HasHint("NOSTATUS"));
      if (!done.ok()) return done.status();
      items.push_back(*std::move(done));
      awaited = true;
    }
  }
  if (!st.HasHint("SHOWRESULTS")) {
    ResultSet out;
    out.message = std::string(awaited ? kCompletedMessage : kDespatchedMessage);
    return out;
  }
  if (!awaited) {
    absl::StatusOr<std::vector<Json>> parsed = ResponseItems(*method, *response);
    if (!parsed.ok()) return parsed.status();
    items = *std::move(parsed);
  }
  if (!awaited && method->shape == ResponseShape::kDicomJson) return DicomRows(items);
  return JsonRows(items);
}

}  // namespace dicomstore::sql
