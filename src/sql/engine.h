// The SQL engine (DESIGN.md §8): an in-memory SQLite connection in which every StackQL
// resource is a virtual table over the service layer.
//
//  - google.healthcare.datasets      hidden params projectsId, locationsId, datasetsId
//  - google.healthcare.dicom_stores  hidden params projectsId, locationsId, datasetsId,
//                                    dicomStoresId
//
// SELECT chooses `get` when every path parameter is constrained with '=' (or IN, one call
// per value), `list` (all pages) when only the parent's are; otherwise the statement fails
// with StackQL's "cannot find matching operation ..." text. INSERT maps to create (columns
// projectsId, locationsId, datasetsId, dicomStoreId/datasetId and data__<field>; a string
// that parses as a JSON object or array is sent as JSON), UPDATE ... SET data__<field> to
// patch (the update mask is the set of fields given), DELETE to delete. Object and array
// fields (labels, notificationConfig, ...) are columns holding JSON text, so json_extract
// works on them. SHOW SERVICES / RESOURCES / METHODS and DESCRIBE are answered from a
// built-in description of the provider.
#ifndef DICOMSTORE_SQL_ENGINE_H_
#define DICOMSTORE_SQL_ENGINE_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/admin_service.h"
#include "sql/preparser.h"
#include "sql/result_set.h"

struct sqlite3;

namespace dicomstore::sql {

inline constexpr std::string_view kDespatchedMessage = "The operation was despatched successfully";

struct EngineContext;

class Engine {
 public:
  // `admin` must outlive the engine.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(service::AdminService* admin);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one pre-parsed statement. Service errors keep their status code; SQL errors are
  // INVALID_ARGUMENT.
  absl::StatusOr<ResultSet> Execute(const Statement& statement);

  // Pre-parses and runs a ';'-separated script, stopping at the first error.
  absl::StatusOr<std::vector<ResultSet>> ExecuteScript(std::string_view script);

 private:
  Engine(sqlite3* db, std::unique_ptr<EngineContext> context);
  absl::StatusOr<ResultSet> ExecuteSql(const Statement& statement);

  sqlite3* db_;
  std::unique_ptr<EngineContext> context_;
};

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_ENGINE_H_
