// EXEC google.healthcare.<resource>.<method> @a='x', ... [@@json='{...}'] (spec/stackql.md
// §1.6): any method of the provider by either naming, path and query parameters from the
// @ arguments, the request body from @@json.
//
//  - Without hints the call is made and "The operation was despatched successfully" is the
//    result; /*+ SHOWRESULTS */ returns the response as rows (items of list responses; one
//    row per dataset of DICOM JSON; content type and size of binary responses).
//  - /*+ AWAIT */: a google.longrunning.Operation response is polled until done (progress
//    lines through the engine's notice, unless /*+ NOSTATUS */); its error becomes the
//    statement's error; with SHOWRESULTS the finished operation is the row.
//  - DICOMweb searches (search_for_studies/series/instances) take QIDO match keys, limit,
//    offset, includefield and fuzzymatching as @ arguments and always return rows whose
//    columns are the DICOM keywords present in the results.
//  - store_instances takes @file='PATH' (a file or a folder) and returns one row per
//    instance stored or refused.
#ifndef DICOMSTORE_SQL_EXEC_H_
#define DICOMSTORE_SQL_EXEC_H_

#include "absl/status/statusor.h"
#include "sql/api_call.h"
#include "sql/preparser.h"
#include "sql/provider.h"
#include "sql/result_set.h"

namespace dicomstore::sql {

absl::StatusOr<ResultSet> ExecuteExec(const Statement& statement, const ServiceSpec& service,
                                      ApiClient* api);

// Rows from JSON objects: the given columns, or else the union of their keys in order of
// appearance; objects and arrays as JSON text, absent keys as NULL.
ResultSet JsonRows(const std::vector<Json>& items, const std::vector<std::string>& columns = {});
// Rows from DICOM JSON datasets: one column per attribute present, in tag order, named by
// keyword when known (else the tag, "00100030").
ResultSet DicomRows(const std::vector<Json>& datasets);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_EXEC_H_
