// The provider description (spec/stackql.md §1.2, §1.8, §5): what StackQL would read from
// the registry's service document, kept as data. Resources are bags of HTTP methods; each
// method names its REST call (verb, path template, query parameters, body, response shape)
// and the SQL verb it serves. Everything else in the SQL layer — the virtual tables, EXEC,
// SHOW and DESCRIBE — is driven by these tables and holds no per-resource code.
//
// Both method namings are kept: today's snake_case names (`search_for_studies`) and the
// 2023 provider's long names (`projects_locations_datasets_dicomStores_searchForStudies`),
// which are the discovery method ids with '.' replaced by '_'.
#ifndef DICOMSTORE_SQL_PROVIDER_H_
#define DICOMSTORE_SQL_PROVIDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dicomstore::sql {

enum class SqlVerb { kSelect, kInsert, kUpdate, kReplace, kDelete, kExec };

// "SELECT", "INSERT", ... as SHOW METHODS prints them.
std::string_view SqlVerbName(SqlVerb verb);

// How a response becomes rows.
enum class ResponseShape {
  kObject,     // a JSON object: one row, or the items of `items_key` when set
  kDicomJson,  // a JSON array of DICOM JSON datasets (QIDO, metadata): one row each
  kBinary,     // bytes (instances, frames, images): one row with contentType and size
};

// How a list is read to its end.
enum class Paging {
  kNone,
  kPageToken,   // nextPageToken in the body -> pageToken query parameter
  kQidoOffset,  // QIDO: limit/offset until a page comes back short
};

struct MethodSpec {
  std::string_view name;  // today's name, e.g. "search_for_studies"
  // Discovery id below the service, e.g. "projects.locations.datasets.dicomStores.get".
  std::string_view id;
  SqlVerb verb;
  std::string_view http_method;  // "GET", "POST", ...
  // "/v1/projects/{projectsId}/locations/{locationsId}/..." — every {param} is required.
  std::string_view path;
  std::vector<std::string_view> query;        // optional query parameters
  std::vector<std::string_view> body_fields;  // top-level request-body fields (data__<f>)
  std::string_view request;                   // request schema ("" = no body)
  std::string_view response;                  // response schema, e.g. "Operation"
  ResponseShape shape = ResponseShape::kObject;
  std::string_view items_key;  // list responses: "dicomStores", "bindings", ...
  Paging paging = Paging::kNone;
  std::string_view description;

  // The 2023 provider's name: the id with '.' -> '_'.
  std::string LongName() const;
  // The {param} names of `path`, in path order.
  std::vector<std::string> PathParams() const;
  bool Named(std::string_view method_name) const;  // either naming
  bool ReturnsOperation() const { return response == "Operation"; }
  // DICOMweb searches accept QIDO match keys, limit, offset, includefield, ... as query.
  bool IsQidoSearch() const { return paging == Paging::kQidoOffset; }
};

// One column of a resource.
struct FieldSpec {
  std::string_view name;
  std::string_view type;  // DESCRIBE: string, integer, number, boolean, object, array
  std::string_view description;
  uint32_t tag = 0;  // DICOM resources: the attribute (0 = the whole dataset as JSON)
};

// Where the columns of a row come from.
enum class RowSource {
  kJson,   // top-level keys of a response object (or list item)
  kDicom,  // attributes of a DICOM JSON dataset, by keyword
};

struct ResourceSpec {
  std::string_view name;  // "dicom_stores"
  std::string_view description;
  RowSource rows = RowSource::kJson;
  std::vector<FieldSpec> fields;
  std::vector<MethodSpec> methods;  // sqlVerbs order within a verb (first match wins)

  // The method called `name` in either naming; null when none.
  const MethodSpec* FindMethod(std::string_view name) const;
  // Methods serving `verb`, in order.
  std::vector<const MethodSpec*> MethodsFor(SqlVerb verb) const;
  // The resource's table name: "google.healthcare.dicom_stores".
  std::string TableName() const;
};

struct ServiceSpec {
  std::string_view provider;  // "google"
  std::string_view name;      // "healthcare"
  std::string_view title;
  std::string_view description;
  std::string_view version;
  std::vector<ResourceSpec> resources;

  const ResourceSpec* FindResource(std::string_view name) const;
};

// google.healthcare (sql/healthcare_provider.cc).
const ServiceSpec& HealthcareService();

// DICOM resources: the path parameter that stands for a UID attribute of the row
// ("studiesId" -> StudyInstanceUID), or 0.
uint32_t IdentityTag(std::string_view param);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_PROVIDER_H_
