// IAM policies of datasets and DICOM stores (spec §7): validation of Policy objects and
// SetIamPolicy / TestIamPermissions requests. Policies are stored, not yet enforced.
#ifndef DICOMSTORE_SERVICE_IAM_POLICY_H_
#define DICOMSTORE_SERVICE_IAM_POLICY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/proto_json.h"

namespace dicomstore::service {

// The etag reported for a resource that never had a policy set.
inline constexpr std::string_view kEmptyPolicyEtag = "ACAB";

// Validates a Policy (version, bindings, auditConfigs, etag) and returns it normalised
// without `etag` (defaults omitted). Conditional bindings require version 3.
absl::StatusOr<Json> NormalizePolicy(const Json& policy);

struct SetPolicyRequest {
  Json policy;                    // normalised, without etag
  std::string etag;               // the caller's etag ("" = unconditional)
  std::vector<std::string> mask;  // policy fields to replace (default bindings, etag)
};
absl::StatusOr<SetPolicyRequest> ParseSetIamPolicyRequest(const Json& body);

// Applies the masked fields of `request.policy` onto `current`.
Json MergePolicy(const Json& current, const SetPolicyRequest& request);

// Validates options.requestedPolicyVersion ("" or 0, 1, 3) and returns it (0 when unset).
absl::StatusOr<int> ParseRequestedPolicyVersion(std::string_view value);

// The Policy JSON returned to callers: stored policy + etag; version defaults to 1.
Json RenderPolicy(const Json& stored, std::string_view etag);

// A fresh etag (base64 of random bytes).
std::string NewPolicyEtag();

// TestIamPermissions: the requested permissions this caller holds (all valid healthcare
// permissions for now). Wildcards or malformed names are INVALID_ARGUMENT.
absl::StatusOr<Json> TestPermissions(const Json& body, bool resource_exists);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_IAM_POLICY_H_
