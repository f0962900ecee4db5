// Long-running operation records and their JSON form (spec §9.2).
#ifndef DICOMSTORE_SERVICE_OPERATION_JSON_H_
#define DICOMSTORE_SERVICE_OPERATION_JSON_H_

#include <string>
#include <string_view>

#include "common/proto_json.h"
#include "index/index.h"

namespace dicomstore::service {

inline constexpr std::string_view kTypePrefix = "type.googleapis.com/";

// A fresh operation id: 19 decimal digits, like Google's.
std::string NewOperationId();

// The google.longrunning.Operation JSON of `record` (proto3: defaults omitted).
Json RenderOperation(const index::OperationRecord& record);

// `@type`-tagged Any payload: {"@type": "type.googleapis.com/<type_name>", ...fields}.
Json AnyJson(std::string_view type_name, const Json& fields);

}  // namespace dicomstore::service

#endif  // DICOMSTORE_SERVICE_OPERATION_JSON_H_
