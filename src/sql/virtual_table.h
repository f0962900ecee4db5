// One SQLite virtual table per resource of the provider description (DESIGN.md §8,
// spec/stackql.md §1.3–§1.5), generic over the description:
//
//  - columns: the resource's fields; HIDDEN the path parameters of its SQL methods
//    (projectsId, ..., dicomStoresId, studiesId, ...), their optional query parameters
//    (pageSize, filter, updateMask, ...) and data__<field> for request bodies;
//  - SELECT: the first select method whose path parameters are all constrained with '='
//    (or IN: one call per value) is called, every page read; else the statement fails with
//    StackQL's "cannot find matching operation" text naming the missing parameters. Other
//    predicates, joins, ORDER BY, ... are SQLite's. On DICOM tables, predicates on QIDO
//    match keys are also sent as query parameters, but SQLite still checks every row, so
//    pushdown narrows the transfer and never the result;
//  - INSERT / UPDATE / REPLACE / DELETE: the resource's insert / update / replace / delete
//    method, once per row (INSERT ... SELECT issues one create per row). The table a
//    modifying statement names is not read first unless its select method returns the one
//    resource (a `get`), so the API's own error (404, ...) is what the user sees.
#ifndef DICOMSTORE_SQL_VIRTUAL_TABLE_H_
#define DICOMSTORE_SQL_VIRTUAL_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sql/api_call.h"
#include "sql/provider.h"

struct sqlite3;

namespace dicomstore::sql {

// What the tables need to know about the statement being run.
struct StatementState {
  std::string verb;             // SELECT, INSERT, UPDATE, DELETE, REPLACE
  std::string target;           // resource a modifying statement names ("" = none)
  bool await = false;           // /*+ AWAIT */
  bool quiet = false;           // /*+ NOSTATUS */: no progress lines
  uint64_t generation = 0;      // one per statement: row ids are only valid within it
  absl::Status pending;         // the first API error behind a failed SQLite call
  bool keep_responses = false;  // RETURNING: collect the bodies of the modifying calls
  std::vector<Json> responses;
  // The last plan that found no method: resource, SQL verb and missing parameters.
  struct Unmatched {
    std::string resource;
    SqlVerb verb = SqlVerb::kSelect;
    std::vector<std::string> missing;
  };
  std::optional<Unmatched> unmatched;
};

struct TableEnvironment {
  ApiClient* api = nullptr;
  StatementState* statement = nullptr;
};

// Registers a table "google.healthcare.<resource>" for every resource with a SQL method.
// `env` must outlive `db`; `keep` receives what the registrations point at.
absl::Status RegisterResourceTables(sqlite3* db, const ServiceSpec& service, TableEnvironment* env,
                                    std::vector<std::shared_ptr<void>>* keep);

// StackQL's text for a statement no method of `resource` can serve, with the parameters
// the nearest method lacks.
std::string NoMatchingMethodMessage(std::string_view resource, SqlVerb verb,
                                    const std::vector<std::string>& missing);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_VIRTUAL_TABLE_H_
