// SHOW SERVICES / RESOURCES / METHODS and DESCRIBE (spec/stackql.md §2), answered from the
// provider description alone: no API call is made.
#ifndef DICOMSTORE_SQL_META_H_
#define DICOMSTORE_SQL_META_H_

#include "absl/status/statusor.h"
#include "sql/preparser.h"
#include "sql/provider.h"
#include "sql/result_set.h"

namespace dicomstore::sql {

// SHOW METHODS: MethodName, RequiredParams, SQLVerb, LongName (the 2023 provider's name
// of the method) [+ description]; rows grouped SELECT, INSERT, DELETE, UPDATE, REPLACE,
// EXEC and sorted by name within a group. LIKE matches either name.
absl::StatusOr<ResultSet> ExecuteMeta(const Statement& statement, const ServiceSpec& service);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_META_H_
