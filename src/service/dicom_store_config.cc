#include "service/dicom_store_config.h"

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "service/labels.h"

namespace dicomstore::service {
namespace {

constexpr size_t kMaxTableUriLength = 2000;

// A Pub/Sub topic name: projects/{project}/topics/{topic}, both segments non-empty.
absl::Status ValidateTopic(const std::string& topic, std::string_view field) {
  constexpr std::string_view kProjects = "projects/";
  size_t topics = topic.find("/topics/");
  if (!absl::StartsWith(topic, Av(kProjects)) || topics == std::string::npos ||
      topics == kProjects.size() || topics + 8 >= topic.size() ||
      topic.find('/', topics + 8) != std::string::npos ||
      topic.find('/', kProjects.size()) != topics) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", Av(field), " \"", topic, "\": expected projects/{project}/topics/{topic}"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> NormalizeNotificationConfig(const Json& in, std::string_view type,
                                                 bool topic_required) {
  if (absl::Status s = CheckObjectFields(in, {"pubsubTopic", "sendForBulkImport"}, type); !s.ok())
    return s;
  std::string topic;
  bool bulk = false;
  if (absl::Status s = ReadString(in, "pubsubTopic", type, &topic); !s.ok()) return s;
  if (absl::Status s = ReadBool(in, "sendForBulkImport", type, &bulk); !s.ok()) return s;
  Json out = Json::object();
  if (topic.empty()) {
    if (topic_required)
      return absl::InvalidArgumentError(absl::StrCat(Av(type), ".pubsubTopic is required"));
  } else {
    if (absl::Status s = ValidateTopic(topic, absl::StrCat(Av(type), ".pubsubTopic")); !s.ok())
      return s;
    out["pubsubTopic"] = topic;
  }
  if (bulk) out["sendForBulkImport"] = true;
  return out;
}

absl::StatusOr<Json> NormalizeBigQueryDestination(const Json& in) {
  constexpr std::string_view kType = "DicomBigQueryDestination";
  if (absl::Status s = CheckObjectFields(in,
                                         {"tableUri", "force", "writeDisposition",
                                          "schemaFlattened", "schemaJson", "includeSourceStore"},
                                         kType);
      !s.ok())
    return s;
  std::string table_uri, disposition;
  bool force = false, include_source = false;
  if (absl::Status s = ReadString(in, "tableUri", kType, &table_uri); !s.ok()) return s;
  if (absl::Status s = ReadString(in, "writeDisposition", kType, &disposition); !s.ok()) return s;
  if (absl::Status s = ReadBool(in, "force", kType, &force); !s.ok()) return s;
  if (absl::Status s = ReadBool(in, "includeSourceStore", kType, &include_source); !s.ok())
    return s;
  if (!absl::StartsWith(table_uri, "bq://") || table_uri.size() > kMaxTableUriLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid DicomBigQueryDestination.tableUri \"", table_uri,
                     "\": expected bq://projectId.bqDatasetId.tableId of at most 2000 characters"));
  }
  static const std::set<std::string> kDispositions = {
      "WRITE_DISPOSITION_UNSPECIFIED", "WRITE_EMPTY", "WRITE_TRUNCATE", "WRITE_APPEND"};
  if (!disposition.empty() && !kDispositions.contains(disposition)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid DicomBigQueryDestination.writeDisposition \"", disposition, "\""));
  }
  Json out = Json::object();
  out["tableUri"] = table_uri;
  if (force) out["force"] = true;
  if (!disposition.empty() && disposition != "WRITE_DISPOSITION_UNSPECIFIED")
    out["writeDisposition"] = disposition;
  // schemaFlattened / schemaJson are empty messages used as flags: presence matters.
  for (const char* flag : {"schemaFlattened", "schemaJson"}) {
    if (!in.contains(flag)) continue;
    if (absl::Status s = CheckObjectFields(in[flag], {}, flag); !s.ok()) return s;
    out[flag] = Json::object();
  }
  if (include_source) out["includeSourceStore"] = true;
  return out;
}

absl::StatusOr<Json> NormalizeStreamConfigs(const Json& in) {
  if (!in.is_array()) return absl::InvalidArgumentError("DicomStore.streamConfigs must be a list");
  Json out = Json::array();
  std::set<std::string> destinations;
  for (const Json& item : in) {
    if (absl::Status s = CheckObjectFields(item, {"bigqueryDestination"}, "DicomStreamConfig");
        !s.ok())
      return s;
    if (!item.contains("bigqueryDestination"))
      return absl::InvalidArgumentError("DicomStreamConfig.bigqueryDestination is required");
    absl::StatusOr<Json> dest = NormalizeBigQueryDestination(item["bigqueryDestination"]);
    if (!dest.ok()) return dest.status();
    std::string uri = (*dest)["tableUri"];
    if (!destinations.insert(uri).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "each stream config must name a unique destination; \"", uri, "\" appears twice"));
    }
    out.push_back(Json{{"bigqueryDestination", *dest}});
  }
  return out;
}

}  // namespace

const std::set<std::string>& DicomStoreMutableFields() {
  static const std::set<std::string> kFields = {"labels", "notificationConfig",
                                                "notificationConfigs", "streamConfigs"};
  return kFields;
}

absl::StatusOr<Json> NormalizeDicomStoreConfig(const Json& body) {
  if (absl::Status s = CheckObjectFields(
          body, {"name", "labels", "notificationConfig", "notificationConfigs", "streamConfigs"},
          "DicomStore");
      !s.ok())
    return s;
  if (body.contains("name") && !body["name"].is_string())
    return absl::InvalidArgumentError("DicomStore.name must be a string");
  Json config = Json::object();
  if (body.contains("labels")) {
    absl::StatusOr<Labels> labels = ParseLabels(body["labels"]);
    if (!labels.ok()) return labels.status();
    if (!labels->empty()) config["labels"] = *labels;
  }
  if (body.contains("notificationConfig")) {
    absl::StatusOr<Json> nc =
        NormalizeNotificationConfig(body["notificationConfig"], "NotificationConfig", false);
    if (!nc.ok()) return nc.status();
    if (!nc->empty()) config["notificationConfig"] = *nc;
  }
  if (body.contains("notificationConfigs")) {
    const Json& list = body["notificationConfigs"];
    if (!list.is_array())
      return absl::InvalidArgumentError("DicomStore.notificationConfigs must be a list");
    Json out = Json::array();
    for (const Json& item : list) {
      absl::StatusOr<Json> nc = NormalizeNotificationConfig(item, "DicomNotificationConfig", true);
      if (!nc.ok()) return nc.status();
      out.push_back(*nc);
    }
    if (!out.empty()) config["notificationConfigs"] = out;
  }
  if (body.contains("streamConfigs")) {
    absl::StatusOr<Json> streams = NormalizeStreamConfigs(body["streamConfigs"]);
    if (!streams.ok()) return streams.status();
    if (!streams->empty()) config["streamConfigs"] = *streams;
  }
  return config;
}

Json ApplyDicomStoreMask(const Json& current, const Json& patch,
                         const std::set<std::string>& fields) {
  Json result = current.is_object() ? current : Json::object();
  for (const std::string& field : fields) {
    if (patch.contains(field)) {
      result[field] = patch[field];
    } else {
      result.erase(field);
    }
  }
  // Keep a stable field order regardless of patch history.
  Json ordered = Json::object();
  for (const char* f : {"labels", "notificationConfig", "notificationConfigs", "streamConfigs"}) {
    if (result.contains(f)) ordered[f] = result[f];
  }
  return ordered;
}

Json RenderDicomStore(const std::string& name, const Json& config) {
  Json out = Json::object();
  out["name"] = name;
  if (config.is_object()) {
    for (auto it = config.begin(); it != config.end(); ++it) out[it.key()] = it.value();
  }
  return out;
}

}  // namespace dicomstore::service
