#include "service/iam_policy.h"

#include <mutex>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "service/update_mask.h"

namespace dicomstore::service {
namespace {

absl::Status CheckStringList(const Json& list, std::string_view field) {
  if (!list.is_array())
    return absl::InvalidArgumentError(absl::StrCat(Av(field), " must be a list"));
  for (const Json& item : list) {
    if (!item.is_string() || item.get<std::string>().empty())
      return absl::InvalidArgumentError(absl::StrCat(Av(field), " must hold non-empty strings"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> NormalizeBinding(const Json& in, bool* conditional) {
  constexpr std::string_view kType = "Binding";
  if (absl::Status s = CheckObjectFields(in, {"role", "members", "condition"}, kType); !s.ok())
    return s;
  std::string role;
  if (absl::Status s = ReadString(in, "role", kType, &role); !s.ok()) return s;
  if (!absl::StartsWith(role, "roles/") || role.size() == 6) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Binding.role \"", role, "\": expected roles/{name}"));
  }
  Json out = Json::object();
  out["role"] = role;
  if (in.contains("members")) {
    if (absl::Status s = CheckStringList(in["members"], "Binding.members"); !s.ok()) return s;
    for (const Json& m : in["members"]) {
      std::string member = m;
      // Members are "allUsers", "allAuthenticatedUsers" or "<kind>:<id>".
      if (member != "allUsers" && member != "allAuthenticatedUsers" &&
          member.find(':') == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid Binding.members entry \"", member,
                         "\": expected user:, serviceAccount:, group:, domain: or allUsers"));
      }
    }
    if (!in["members"].empty()) out["members"] = in["members"];
  }
  if (in.contains("condition")) {
    const Json& c = in["condition"];
    if (absl::Status s =
            CheckObjectFields(c, {"expression", "title", "description", "location"}, "Expr");
        !s.ok())
      return s;
    Json cond = Json::object();
    for (const char* f : {"expression", "title", "description", "location"}) {
      std::string v;
      if (absl::Status s = ReadString(c, f, "Expr", &v); !s.ok()) return s;
      if (!v.empty()) cond[f] = v;
    }
    if (!cond.contains("expression"))
      return absl::InvalidArgumentError("Binding.condition.expression is required");
    out["condition"] = cond;
    *conditional = true;
  }
  return out;
}

absl::StatusOr<Json> NormalizeAuditConfig(const Json& in) {
  if (absl::Status s = CheckObjectFields(in, {"service", "auditLogConfigs"}, "AuditConfig");
      !s.ok())
    return s;
  std::string service;
  if (absl::Status s = ReadString(in, "service", "AuditConfig", &service); !s.ok()) return s;
  Json out = Json::object();
  if (!service.empty()) out["service"] = service;
  if (in.contains("auditLogConfigs")) {
    if (!in["auditLogConfigs"].is_array())
      return absl::InvalidArgumentError("AuditConfig.auditLogConfigs must be a list");
    static const std::set<std::string> kLogTypes = {"LOG_TYPE_UNSPECIFIED", "ADMIN_READ",
                                                    "DATA_WRITE", "DATA_READ"};
    Json configs = Json::array();
    for (const Json& lc : in["auditLogConfigs"]) {
      if (absl::Status s = CheckObjectFields(lc, {"logType", "exemptedMembers"}, "AuditLogConfig");
          !s.ok())
        return s;
      std::string log_type;
      if (absl::Status s = ReadString(lc, "logType", "AuditLogConfig", &log_type); !s.ok())
        return s;
      if (!log_type.empty() && !kLogTypes.contains(log_type))
        return absl::InvalidArgumentError(
            absl::StrCat("invalid AuditLogConfig.logType \"", log_type, "\""));
      Json c = Json::object();
      if (!log_type.empty()) c["logType"] = log_type;
      if (lc.contains("exemptedMembers")) {
        if (absl::Status s =
                CheckStringList(lc["exemptedMembers"], "AuditLogConfig.exemptedMembers");
            !s.ok())
          return s;
        if (!lc["exemptedMembers"].empty()) c["exemptedMembers"] = lc["exemptedMembers"];
      }
      configs.push_back(c);
    }
    if (!configs.empty()) out["auditLogConfigs"] = configs;
  }
  return out;
}

}  // namespace

absl::StatusOr<Json> NormalizePolicy(const Json& policy) {
  constexpr std::string_view kType = "Policy";
  if (absl::Status s =
          CheckObjectFields(policy, {"version", "bindings", "auditConfigs", "etag"}, kType);
      !s.ok())
    return s;
  int64_t version = 0;
  if (absl::Status s = ReadInt64(policy, "version", kType, &version); !s.ok()) return s;
  if (version != 0 && version != 1 && version != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Policy.version ", version, ": must be 0, 1 or 3"));
  }
  Json out = Json::object();
  bool conditional = false;
  if (policy.contains("bindings")) {
    if (!policy["bindings"].is_array())
      return absl::InvalidArgumentError("Policy.bindings must be a list");
    Json bindings = Json::array();
    for (const Json& b : policy["bindings"]) {
      absl::StatusOr<Json> nb = NormalizeBinding(b, &conditional);
      if (!nb.ok()) return nb.status();
      bindings.push_back(*nb);
    }
    if (!bindings.empty()) out["bindings"] = bindings;
  }
  if (conditional && version != 3) {
    return absl::InvalidArgumentError(
        "a policy with conditional role bindings must have version 3");
  }
  if (policy.contains("auditConfigs")) {
    if (!policy["auditConfigs"].is_array())
      return absl::InvalidArgumentError("Policy.auditConfigs must be a list");
    Json configs = Json::array();
    for (const Json& a : policy["auditConfigs"]) {
      absl::StatusOr<Json> na = NormalizeAuditConfig(a);
      if (!na.ok()) return na.status();
      configs.push_back(*na);
    }
    if (!configs.empty()) out["auditConfigs"] = configs;
  }
  if (version != 0) out["version"] = version;
  return out;
}

absl::StatusOr<SetPolicyRequest> ParseSetIamPolicyRequest(const Json& body) {
  if (absl::Status s = CheckObjectFields(body, {"policy", "updateMask"}, "SetIamPolicyRequest");
      !s.ok())
    return s;
  if (!body.contains("policy"))
    return absl::InvalidArgumentError("SetIamPolicyRequest.policy is required");
  SetPolicyRequest request;
  absl::StatusOr<Json> policy = NormalizePolicy(body["policy"]);
  if (!policy.ok()) return policy.status();
  request.policy = *policy;
  if (absl::Status s = ReadString(body["policy"], "etag", "Policy", &request.etag); !s.ok())
    return s;
  if (!request.etag.empty()) {
    std::string raw;
    if (!absl::Base64Unescape(request.etag, &raw))
      return absl::InvalidArgumentError("Policy.etag must be base64");
  }
  std::string mask;
  if (absl::Status s = ReadString(body, "updateMask", "SetIamPolicyRequest", &mask); !s.ok())
    return s;
  if (mask.empty()) {
    request.mask = {"bindings", "etag"};
  } else {
    absl::StatusOr<std::set<std::string>> paths =
        ParseUpdateMask(mask, {"bindings", "etag", "auditConfigs", "version"});
    if (!paths.ok()) return paths.status();
    request.mask.assign(paths->begin(), paths->end());
  }
  return request;
}

Json MergePolicy(const Json& current, const SetPolicyRequest& request) {
  Json merged = current.is_object() ? current : Json::object();
  for (const std::string& field : request.mask) {
    if (field == "etag") continue;  // the etag is checked, never stored from the caller
    if (request.policy.contains(field)) {
      merged[field] = request.policy[field];
    } else {
      merged.erase(field);
    }
  }
  // A replaced policy carries the caller's version even when the mask does not say so,
  // because conditional bindings are meaningless without version 3.
  if (request.policy.contains("version")) merged["version"] = request.policy["version"];
  return merged;
}

absl::StatusOr<int> ParseRequestedPolicyVersion(std::string_view value) {
  if (value.empty()) return 0;
  int version = 0;
  if (!absl::SimpleAtoi(Av(value), &version) || (version != 0 && version != 1 && version != 3)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid options.requestedPolicyVersion \"",
                                                   Av(value), "\": must be 0, 1 or 3"));
  }
  return version;
}

Json RenderPolicy(const Json& stored, std::string_view etag) {
  Json out = Json::object();
  int64_t version =
      stored.is_object() && stored.contains("version") ? stored["version"].get<int64_t>() : 1;
  out["version"] = version;
  if (stored.is_object()) {
    if (stored.contains("bindings")) out["bindings"] = stored["bindings"];
    if (stored.contains("auditConfigs")) out["auditConfigs"] = stored["auditConfigs"];
  }
  out["etag"] = std::string(etag);
  return out;
}

std::string NewPolicyEtag() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  uint64_t bits;
  {
    std::lock_guard<std::mutex> lock(mu);
    bits = rng();
  }
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(&bits), sizeof bits));
}

absl::StatusOr<Json> TestPermissions(const Json& body, bool resource_exists) {
  if (absl::Status s = CheckObjectFields(body, {"permissions"}, "TestIamPermissionsRequest");
      !s.ok())
    return s;
  Json granted = Json::array();
  if (body.contains("permissions")) {
    if (absl::Status s = CheckStringList(body["permissions"], "permissions"); !s.ok()) return s;
    for (const Json& p : body["permissions"]) {
      std::string permission = p;
      if (permission.find('*') != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("permissions with wildcards (\"", permission, "\") are not allowed"));
      }
      std::vector<std::string> parts = absl::StrSplit(permission, '.');
      bool well_formed = parts.size() == 3;
      for (const std::string& part : parts) well_formed = well_formed && !part.empty();
      if (!well_formed) {
        return absl::InvalidArgumentError(absl::StrCat("invalid permission \"", permission,
                                                       "\": expected service.resource.verb"));
      }
      // Policies are not enforced yet, so every healthcare permission is held.
      if (resource_exists && parts[0] == "healthcare") granted.push_back(permission);
    }
  }
  Json out = Json::object();
  if (!granted.empty()) out["permissions"] = granted;
  return out;
}

}  // namespace dicomstore::service
