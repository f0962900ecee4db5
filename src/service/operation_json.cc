#include "service/operation_json.h"

#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "service/resource_name.h"

namespace dicomstore::service {

std::string NewOperationId() {
  // Ids must be unique across restarts, so they are random rather than sequential;
  // 63 bits of randomness make a collision practically impossible.
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<uint64_t> dist(1'000'000'000'000'000'000ULL,
                                               9'223'372'036'854'775'807ULL);
  std::lock_guard<std::mutex> lock(mu);
  return std::to_string(dist(rng));
}

Json AnyJson(std::string_view type_name, const Json& fields) {
  Json out = Json::object();
  out["@type"] = absl::StrCat(Av(kTypePrefix), Av(type_name));
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (it.key() != "@type") out[it.key()] = it.value();
    }
  }
  return out;
}

Json RenderOperation(const index::OperationRecord& r) {
  Json metadata = Json::object();
  metadata["@type"] = absl::StrCat(Av(kTypePrefix), "google.cloud.healthcare.v1.OperationMetadata");
  if (!r.api_method_name.empty()) metadata["apiMethodName"] = r.api_method_name;
  if (r.create_time_micros) metadata["createTime"] = FormatTimestamp(r.create_time_micros);
  if (r.end_time_micros) metadata["endTime"] = FormatTimestamp(r.end_time_micros);
  if (r.cancel_requested) metadata["cancelRequested"] = true;
  Json counter = Json::object();
  if (r.success) counter["success"] = Int64Json(r.success);
  if (r.failure) counter["failure"] = Int64Json(r.failure);
  if (r.pending) counter["pending"] = Int64Json(r.pending);
  if (!counter.empty()) metadata["counter"] = counter;

  Json op = Json::object();
  op["name"] = FormatOperationName(r.dataset, r.operation_id);
  op["metadata"] = metadata;
  if (r.done) {
    op["done"] = true;
    if (!r.error_json.empty()) {
      op["error"] = Json::parse(r.error_json, nullptr, false);
    } else if (!r.response_json.empty()) {
      op["response"] = Json::parse(r.response_json, nullptr, false);
    }
  }
  return op;
}

}  // namespace dicomstore::service
