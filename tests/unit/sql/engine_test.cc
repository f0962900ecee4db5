// The SQL engine over the real in-process stack (sql/engine_fixture.h): REST resources,
// pagination, INSERT/UPDATE/DELETE/REPLACE, meta commands, errors.
#include "sql/engine.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "unit/sql/engine_fixture.h"

namespace dicomstore::sql {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::dicomstore::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kWhere[] = "projectsId = 'p' AND locationsId = 'us' AND datasetsId = 'd1'";

class EngineTest : public testing::EngineFixture {};

TEST_F(EngineTest, SelectListsEveryStoreWhenOnlyTheParentIsGiven) {
  for (int i = 0; i < 120; ++i) CreateStore("s" + std::to_string(1000 + i));  // > 1 page
  ResultSet r = Run(std::string("SELECT name FROM google.healthcare.dicom_stores WHERE ") + kWhere);
  EXPECT_THAT(r.columns, ElementsAre("name"));
  ASSERT_EQ(r.rows.size(), 120u);
  EXPECT_EQ(r.rows[0][0].text, "projects/p/locations/us/datasets/d1/dicomStores/s1000");
  EXPECT_EQ(r.rows[119][0].text, "projects/p/locations/us/datasets/d1/dicomStores/s1119");
}

TEST_F(EngineTest, SelectGetsOneStoreWhenItsIdIsGiven) {
  CreateStore("a", Json{{"labels", {{"env", "dev"}}}});
  CreateStore("b");
  ResultSet r = Run(std::string("SELECT * FROM google.healthcare.dicom_stores WHERE ") + kWhere +
                    " AND dicomStoresId = 'a'");
  EXPECT_THAT(r.columns, ElementsAre("name", "labels", "notificationConfig", "notificationConfigs",
                                     "streamConfigs"));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "projects/p/locations/us/datasets/d1/dicomStores/a");
  EXPECT_EQ(r.rows[0][1].text, "{\"env\":\"dev\"}");
  EXPECT_EQ(r.rows[0][2].type, Value::Type::kNull);

  // IN on a parameter: one get per value; parameters can be projected.
  r = Run(std::string("SELECT dicomStoresId, datasetsId FROM google.healthcare.dicom_stores "
                      "WHERE ") +
          kWhere + " AND dicomStoresId IN ('b', 'a') ORDER BY 1");
  EXPECT_THAT(Column(r, 0), ElementsAre("a", "b"));
  EXPECT_THAT(Column(r, 1), ElementsAre("d1", "d1"));

  EXPECT_THAT(RunError(std::string("SELECT * FROM google.healthcare.dicom_stores WHERE ") + kWhere +
                       " AND dicomStoresId = 'zz'"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EngineTest, MissingRequiredParametersGiveStackQLsError) {
  EXPECT_THAT(
      RunError("SELECT name FROM google.healthcare.dicom_stores WHERE projectsId = 'p'"),
      IsInvalidArgument(
          "cannot find matching operation, possible causes include missing required parameters "
          "or an unsupported method for the resource, to find required parameters for supported "
          "methods run SHOW METHODS IN google.healthcare.dicom_stores: no appropriate method = "
          "'select' for resource = 'dicom_stores'"));
  EXPECT_THAT(RunError("SELECT * FROM google.healthcare.datasets"),
              IsInvalidArgument("no appropriate method = 'select' for resource = 'datasets'"));
  EXPECT_THAT(RunError(std::string("DELETE FROM google.healthcare.dicom_stores WHERE ") + kWhere),
              IsInvalidArgument("no appropriate method = 'delete' for resource = 'dicom_stores'"));
  EXPECT_THAT(RunError("INSERT INTO google.healthcare.dicom_stores (projectsId, dicomStoreId) "
                       "VALUES ('p', 'x')"),
              IsInvalidArgument("no appropriate method = 'insert' for resource = 'dicom_stores'"));
}

TEST_F(EngineTest, InsertThenSelectThenDelete) {
  ResultSet r =
      Run("INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, "
          "dicomStoreId, data__labels) VALUES ('p', 'us', 'd1', 'new', '{\"env\":\"prod\"}')");
  EXPECT_FALSE(r.has_rows());
  EXPECT_EQ(r.message, "The operation was despatched successfully");
  absl::StatusOr<Json> store =
      admin_->GetDicomStore("projects/p/locations/us/datasets/d1/dicomStores/new");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)["labels"], (Json{{"env", "prod"}}));

  r = Run(std::string("SELECT name, json_extract(labels, '$.env') AS env FROM "
                      "google.healthcare.dicom_stores WHERE ") +
          kWhere);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][1].text, "prod");

  // Service validation errors come back with their code.
  EXPECT_THAT(RunError("INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, "
                       "datasetsId, dicomStoreId) VALUES ('p', 'us', 'd1', 'new')"),
              StatusIs(absl::StatusCode::kAlreadyExists));

  r = Run(std::string("DELETE FROM google.healthcare.dicom_stores WHERE ") + kWhere +
          " AND dicomStoresId = 'new'");
  EXPECT_EQ(r.message, "The operation was despatched successfully");
  EXPECT_THAT(admin_->GetDicomStore("projects/p/locations/us/datasets/d1/dicomStores/new"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EngineTest, UpdatePatchesTheDataFieldsSet) {
  CreateStore("a", Json{{"labels", {{"env", "dev"}}}});
  Run(std::string("UPDATE google.healthcare.dicom_stores SET data__labels = '{\"env\":\"qa\"}' "
                  "WHERE ") +
      kWhere + " AND dicomStoresId = 'a'");
  absl::StatusOr<Json> store =
      admin_->GetDicomStore("projects/p/locations/us/datasets/d1/dicomStores/a");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)["labels"], (Json{{"env", "qa"}}));
}

TEST_F(EngineTest, EachRequestIsSentOncePerStatement) {
  CreateStore("a");
  CreateStore("b");
  ResultSet r =
      Run("SELECT x.dicomStoresId, y.dicomStoresId FROM google.healthcare.dicom_stores x, "
          "google.healthcare.dicom_stores y WHERE x.projectsId = 'p' AND x.locationsId = 'us' AND "
          "x.datasetsId = 'd1' AND y.projectsId = 'p' AND y.locationsId = 'us' AND y.datasetsId = "
          "'d1' AND x.dicomStoresId < y.dicomStoresId");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(recorder_->targets.size(), 1u);
}

TEST_F(EngineTest, JsonExtractFiltersLocally) {
  CreateStore("a", Json{{"labels", {{"env", "dev"}}}});
  CreateStore("b", Json{{"labels", {{"env", "prod"}}}});
  CreateStore("c");
  ResultSet r = Run(std::string("SELECT dicomStoresId FROM google.healthcare.dicom_stores WHERE ") +
                    kWhere + " AND json_extract(labels, '$.env') = 'prod'");
  EXPECT_THAT(Column(r, 0), ElementsAre("b"));
}

TEST_F(EngineTest, Datasets) {
  Run("INSERT INTO google.healthcare.datasets (projectsId, locationsId, datasetId, "
      "data__timeZone) VALUES ('p', 'us', 'd2', 'Europe/Paris')");
  ResultSet r =
      Run("SELECT name, timeZone FROM google.healthcare.datasets WHERE projectsId = 'p' "
          "AND locationsId = 'us'");
  EXPECT_THAT(Column(r, 0), ElementsAre("projects/p/locations/us/datasets/d1",
                                        "projects/p/locations/us/datasets/d2"));
  EXPECT_EQ(r.rows[1][1].text, "Europe/Paris");
}

TEST_F(EngineTest, MetaCommands) {
  ResultSet r = Run("SHOW RESOURCES IN google.healthcare");
  EXPECT_THAT(r.columns, ElementsAre("name", "id"));
  EXPECT_THAT(
      Column(r, 1),
      ::testing::IsSupersetOf(
          {"google.healthcare.datasets", "google.healthcare.dicom_stores",
           "google.healthcare.dicom_stores_iam_policies", "google.healthcare.dicom_store_metrics",
           "google.healthcare.studies", "google.healthcare.series", "google.healthcare.instances",
           "google.healthcare.operations", "google.healthcare.instances_storage_info"}));
  r = Run("SHOW METHODS IN google.healthcare.dicom_stores");
  EXPECT_THAT(r.columns, ElementsAre("MethodName", "RequiredParams", "SQLVerb", "LongName"));
  EXPECT_THAT(r.rows[0], ElementsAre(Value::Text("get"),
                                     Value::Text("datasetsId, dicomStoresId, locationsId, "
                                                 "projectsId"),
                                     Value::Text("SELECT"),
                                     Value::Text("projects_locations_datasets_dicomStores_get")));
  EXPECT_EQ(r.rows[1][1].text, "datasetsId, locationsId, projectsId");
  EXPECT_THAT(Column(r, 2),
              ElementsAre("SELECT", "SELECT", "INSERT", "DELETE", "UPDATE", "EXEC", "EXEC", "EXEC",
                          "EXEC", "EXEC", "EXEC", "EXEC", "EXEC", "EXEC", "EXEC", "EXEC"));
  r = Run("SHOW METHODS IN google.healthcare.dicom_stores LIKE '%searchForStudies'");
  EXPECT_THAT(Column(r, 0), ElementsAre("search_for_studies"));
  r = Run("SHOW EXTENDED METHODS IN google.healthcare.dicom_stores_iam_policies");
  EXPECT_THAT(Column(r, 2), ElementsAre("SELECT", "REPLACE", "EXEC"));
  r = Run("DESCRIBE google.healthcare.dicom_stores");
  EXPECT_THAT(Column(r, 0), ElementsAre("name", "labels", "notificationConfig",
                                        "notificationConfigs", "streamConfigs"));
  r = Run("DESCRIBE EXTENDED google.healthcare.studies");
  EXPECT_THAT(Column(r, 0), Contains("PatientID"));
  EXPECT_THAT(RunError("SHOW METHODS IN google.healthcare.nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EngineTest, PageSizeIsPassedAndThePageLimitWarns) {
  for (int i = 0; i < 120; ++i) CreateStore("s" + std::to_string(1000 + i));
  ResultSet r = Run(std::string("SELECT name FROM google.healthcare.dicom_stores WHERE ") + kWhere +
                    " AND pageSize = 50");
  EXPECT_EQ(r.rows.size(), 120u);
  EXPECT_EQ(recorder_->targets.size(), 3u);
  EXPECT_THAT(recorder_->targets.back(), HasSubstr("pageSize=50&pageToken="));
  EXPECT_THAT(notices_, ::testing::IsEmpty());

  MakeEngine(Options(1, 1000));
  r = Run(std::string("SELECT name FROM google.healthcare.dicom_stores WHERE ") + kWhere);
  EXPECT_EQ(r.rows.size(), 100u);  // the service's default page size
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(notices_[0],
            "warning: page limit of 1 reached listing google.healthcare.dicom_stores; the "
            "results are truncated");
}

TEST_F(EngineTest, InsertSelectUpdateMaskAndCurrentValues) {
  CreateStore("a", Json{{"labels", {{"env", "dev"}, {"team", "x"}}}});
  // One create per row of the SELECT.
  ResultSet r =
      Run("INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, "
          "dicomStoreId, data__labels) SELECT projectsId, locationsId, datasetsId, 'copy-' || "
          "dicomStoresId, labels FROM google.healthcare.dicom_stores WHERE " +
          std::string(kWhere));
  EXPECT_EQ(r.message, "The operation was despatched successfully");
  absl::StatusOr<Json> copy =
      admin_->GetDicomStore("projects/p/locations/us/datasets/d1/dicomStores/copy-a");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)["labels"]["team"], "x");

  // SET may use the current fields (the store is read first); the mask is explicit here.
  Run(std::string("UPDATE google.healthcare.dicom_stores SET data__labels = "
                  "json_set(labels, '$.env', 'prod') WHERE ") +
      kWhere + " AND dicomStoresId = 'a' AND updateMask = 'labels'");
  absl::StatusOr<Json> a =
      admin_->GetDicomStore("projects/p/locations/us/datasets/d1/dicomStores/a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["labels"], (Json{{"env", "prod"}, {"team", "x"}}));
  EXPECT_THAT(recorder_->targets.back(), HasSubstr("PATCH "));
  EXPECT_THAT(recorder_->targets.back(), HasSubstr("?updateMask=labels"));

  EXPECT_THAT(RunError(std::string("UPDATE google.healthcare.dicom_stores SET labels = '{}' "
                                   "WHERE ") +
                       kWhere + " AND dicomStoresId = 'a'"),
              IsInvalidArgument("data__<field>"));
  EXPECT_THAT(RunError(std::string("UPDATE google.healthcare.dicom_stores SET data__labels = "
                                   "'{}' WHERE ") +
                       kWhere + " AND dicomStoresId = 'missing'"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RunError("INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, "
                       "datasetsId, data__nope) VALUES ('p', 'us', 'd1', 1)"),
              IsInvalidArgument("has no column named data__nope"));
}

TEST_F(EngineTest, ReturningShowsTheResponses) {
  ResultSet r =
      Run("INSERT INTO google.healthcare.dicom_stores (projectsId, locationsId, datasetsId, "
          "dicomStoreId, data__labels) VALUES ('p', 'us', 'd1', 'r1', '{\"a\":\"1\"}'), ('p', "
          "'us', 'd1', 'r2', '{}') RETURNING name, labels");
  EXPECT_THAT(r.columns, ElementsAre("name", "labels"));
  EXPECT_THAT(Column(r, 0), ElementsAre("projects/p/locations/us/datasets/d1/dicomStores/r1",
                                        "projects/p/locations/us/datasets/d1/dicomStores/r2"));
  EXPECT_EQ(r.rows[0][1].text, "{\"a\":\"1\"}");
  EXPECT_EQ(r.message, "The operation was despatched successfully");

  r = Run(std::string("UPDATE google.healthcare.dicom_stores SET data__labels = '{\"a\":\"2\"}' "
                      "WHERE ") +
          kWhere + " AND dicomStoresId = 'r1' RETURNING *");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][ColumnIndex(r, "labels")].text, "{\"a\":\"2\"}");
}

TEST_F(EngineTest, ReplaceSetsIamPolicies) {
  CreateStore("a");
  const std::string where = std::string(kWhere) + " AND dicomStoresId = 'a'";
  ResultSet r =
      Run("REPLACE google.healthcare.dicom_stores_iam_policies SET data__policy = "
          "'{\"bindings\":[{\"role\":\"roles/healthcare.dicomViewer\",\"members\":"
          "[\"user:a@example.com\",\"user:b@example.com\"]}]}' WHERE " +
          where);
  EXPECT_EQ(r.message, "The operation was despatched successfully");
  EXPECT_THAT(recorder_->targets.back(), HasSubstr("POST "));
  EXPECT_THAT(recorder_->targets.back(), HasSubstr("/dicomStores/a:setIamPolicy"));

  r =
      Run("SELECT role, m.value AS member FROM google.healthcare.dicom_stores_iam_policies, "
          "json_each(members) AS m WHERE " +
          where + " ORDER BY member");
  EXPECT_THAT(Column(r, 1), ElementsAre("user:a@example.com", "user:b@example.com"));
  EXPECT_THAT(Column(r, 0), ::testing::Each(std::string("roles/healthcare.dicomViewer")));

  // Datasets have the same pair of tables.
  Run("REPLACE google.healthcare.datasets_iam_policies SET data__policy = "
      "'{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":[\"user:c@example.com\"]}]}' "
      "WHERE " +
      std::string(kWhere));
  r = Run("SELECT role FROM google.healthcare.datasets_iam_policies WHERE " + std::string(kWhere));
  EXPECT_THAT(Column(r, 0), ElementsAre("roles/viewer"));
  EXPECT_THAT(RunError("REPLACE google.healthcare.dicom_stores_iam_policies SET data__policy = "
                       "'{}' WHERE " +
                       std::string(kWhere)),
              IsInvalidArgument("no appropriate method = 'replace' for resource = "
                                "'dicom_stores_iam_policies' (missing required parameters: "
                                "dicomStoresId)"));
}

TEST_F(EngineTest, ExecInBothNamingsWithShowResults) {
  CreateStore("a", Json{{"labels", {{"env", "dev"}}}});
  const std::string args =
      "@projectsId = 'p', @locationsId = 'us', @datasetsId = 'd1', @dicomStoresId = 'a'";
  ResultSet r = Run("EXEC google.healthcare.dicom_stores.get " + args);
  EXPECT_FALSE(r.has_rows());
  EXPECT_EQ(r.message, "The operation was despatched successfully");

  r =
      Run("EXEC /*+ SHOWRESULTS */ google.healthcare.dicom_stores."
          "projects_locations_datasets_dicomStores_get " +
          args);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][ColumnIndex(r, "labels")].text, "{\"env\":\"dev\"}");

  // A body with @@json (no comma before it), list responses itemised.
  r =
      Run("EXEC /*+ SHOWRESULTS */ google.healthcare.dicom_stores_iam_policies."
          "test_iam_permissions " +
          args + " @@json = '{\"permissions\": [\"healthcare.dicomStores.get\"]}'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_THAT(r.rows[0][0].text, HasSubstr("healthcare.dicomStores.get"));
  r =
      Run("EXEC /*+ SHOWRESULTS */ google.healthcare.dicom_stores.list @projectsId = 'p', "
          "@locationsId = 'us', @datasetsId = 'd1'");
  EXPECT_EQ(r.rows.size(), 1u);

  // Methods the server does not offer answer with the API's error.
  EXPECT_THAT(RunError("EXEC google.healthcare.dicom_stores.export " + args +
                       " @@json = '{\"gcsDestination\": {\"uriPrefix\": \"gs://b/p\"}}'"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RunError("EXEC google.healthcare.dicom_stores.get @projectsId = 'p'"),
              IsInvalidArgument("(missing required parameters: locationsId, datasetsId, "
                                "dicomStoresId)"));
  EXPECT_THAT(RunError("EXEC google.healthcare.dicom_stores.nope " + args),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EngineTest, AwaitFollowsDatasetOperations) {
  ResultSet r =
      Run("EXEC /*+ AWAIT, SHOWRESULTS */ google.healthcare.datasets.create @projectsId = 'p', "
          "@locationsId = 'us', @datasetId = 'd2' @@json = '{\"timeZone\": \"UTC\"}'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][ColumnIndex(r, "done")].text, "true");
  EXPECT_THAT(r.rows[0][ColumnIndex(r, "response")].text,
              HasSubstr("projects/p/locations/us/datasets/d2"));
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_THAT(notices_[0], ::testing::StartsWith("operation projects/p/locations/us/datasets/"));
  EXPECT_THAT(notices_[0], HasSubstr(": done"));

  r =
      Run("INSERT /*+ AWAIT */ INTO google.healthcare.datasets (projectsId, locationsId, "
          "datasetId) VALUES ('p', 'us', 'd3')");
  EXPECT_EQ(r.message, "The operation completed successfully");
  EXPECT_EQ(notices_.size(), 2u);
  r =
      Run("INSERT /*+ AWAIT, NOSTATUS */ INTO google.healthcare.datasets (projectsId, "
          "locationsId, datasetId) VALUES ('p', 'us', 'd4')");
  EXPECT_EQ(r.message, "The operation completed successfully");
  EXPECT_EQ(notices_.size(), 2u);

  // The operations are a table too.
  r =
      Run("SELECT name, done FROM google.healthcare.operations WHERE projectsId = 'p' AND "
          "locationsId = 'us' AND datasetsId = 'd3'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][1].text, "1");
}

TEST_F(EngineTest, SqlErrorsAreInvalidArgument) {
  EXPECT_THAT(RunError("SELECT 1; EXEC google.healthcare.dicom_stores.get @projectsId"),
              IsInvalidArgument("syntax error at position 62: expected = at end of statement"));
  EXPECT_THAT(RunError("SELEC 1"),
              IsInvalidArgument("error at position 1: near \"SELEC\": syntax error"));
  // Positions count in the statement as written, before three-part names are quoted.
  EXPECT_THAT(
      RunError("SELECT name FROM google.healthcare.datasets WHERE projectsId = 'p' AND AND x"),
      IsInvalidArgument("error at position 72: near \"AND\""));
  EXPECT_THAT(RunError("SELECT * FROM google.compute.instances"),
              IsInvalidArgument("no such table: google.compute.instances"));
  EXPECT_THAT(RunError("ATTACH DATABASE '/tmp/x.db' AS x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dicomstore::sql
