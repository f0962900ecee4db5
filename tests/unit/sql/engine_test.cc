// The SQL engine over a real AdminService and index on a temporary directory.
#include "sql/engine.h"

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"
#include "service/admin_service.h"
#include "sql/output.h"
#include "testing/status_matchers.h"

namespace dicomstore::sql {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::dicomstore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kWhere[] = "projectsId = 'p' AND locationsId = 'us' AND datasetsId = 'd1'";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sql_engine_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto index = index::OpenSqliteIndex((dir_ / "index.sqlite").string());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    admin_ = std::make_unique<service::AdminService>(index_.get());
    auto engine = Engine::Create(admin_.get());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ASSERT_TRUE(admin_->CreateDataset("projects/p/locations/us", "d1", Json::object()).ok());
  }
  void TearDown() override {
    engine_.reset();
    admin_.reset();
    index_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs a one-statement script and returns its result (or fails the test).
  ResultSet Run(const std::string& script) {
    absl::StatusOr<std::vector<ResultSet>> results = engine_->ExecuteScript(script);
    EXPECT_TRUE(results.ok()) << results.status() << "\n" << script;
    if (!results.ok() || results->empty()) return {};
    return results->back();
  }
  absl::Status RunError(const std::string& script) {
    return engine_->ExecuteScript(script).status();
  }
  void CreateStore(const std::string& id, const Json& body = Json::object()) {
    ASSERT_TRUE(admin_->CreateDicomStore("projects/p/locations/us/datasets/d1", id, body).ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<service::AdminService> admin_;
  std::unique_ptr<Engine> engine_;
};

std::vector<std::string> Column(const ResultSet& r, size_t c) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(row[c].text);
  return out;
}

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
  EXPECT_THAT(Column(r, 1),
              ElementsAre("google.healthcare.datasets", "google.healthcare.dicom_stores"));
  r = Run("SHOW METHODS IN google.healthcare.dicom_stores");
  EXPECT_THAT(r.columns, ElementsAre("MethodName", "RequiredParams", "SQLVerb"));
  EXPECT_EQ(r.rows[0][0].text, "get");
  EXPECT_EQ(r.rows[0][1].text, "datasetsId, dicomStoresId, locationsId, projectsId");
  EXPECT_EQ(r.rows[1][1].text, "datasetsId, locationsId, projectsId");
  r = Run("DESCRIBE google.healthcare.dicom_stores");
  EXPECT_THAT(Column(r, 0), ElementsAre("name", "labels", "notificationConfig",
                                        "notificationConfigs", "streamConfigs"));
  EXPECT_THAT(RunError("SHOW METHODS IN google.healthcare.nope"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RunError("EXEC google.healthcare.dicom_stores.search_for_studies"),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(EngineTest, SqlErrorsAreInvalidArgument) {
  EXPECT_THAT(RunError("SELEC 1"), IsInvalidArgument("syntax error"));
  EXPECT_THAT(RunError("SELECT * FROM google.compute.instances"),
              IsInvalidArgument("no such table: google.compute.instances"));
  EXPECT_THAT(RunError("ATTACH DATABASE '/tmp/x.db' AS x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dicomstore::sql
