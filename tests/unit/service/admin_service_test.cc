// AdminService against the real embedded index (SQLite in memory).
#include "service/admin_service.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index.h"

namespace dicomstore::service {
namespace {

using ::testing::HasSubstr;

constexpr char kLocation[] = "projects/p/locations/us";
constexpr char kDataset[] = "projects/p/locations/us/datasets/d1";
constexpr char kStore[] = "projects/p/locations/us/datasets/d1/dicomStores/s1";

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = index::OpenSqliteIndex(":memory:");
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    admin_ = std::make_unique<AdminService>(index_.get());
  }

  void CreateDataset(const std::string& id = "d1") {
    auto op = admin_->CreateDataset(kLocation, id, Json::object());
    ASSERT_TRUE(op.ok()) << op.status();
  }
  void CreateStore(const std::string& id, const Json& body = Json::object()) {
    auto store = admin_->CreateDicomStore(kDataset, id, body);
    ASSERT_TRUE(store.ok()) << store.status();
  }

  std::unique_ptr<index::Index> index_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(AdminServiceTest, CreateDatasetReturnsFinishedOperationThatCanBeRead) {
  auto op = admin_->CreateDataset(kLocation, "d1", Json{{"timeZone", "Europe/Paris"}});
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ((*op)["done"], true);
  EXPECT_EQ((*op)["response"]["@type"],
            "type.googleapis.com/google.cloud.healthcare.v1.dataset.Dataset");
  EXPECT_EQ((*op)["response"]["name"], kDataset);
  EXPECT_EQ((*op)["response"]["timeZone"], "Europe/Paris");
  EXPECT_EQ((*op)["metadata"]["apiMethodName"],
            "google.cloud.healthcare.v1.dataset.DatasetService.CreateDataset");
  std::string name = (*op)["name"];
  EXPECT_THAT(name, HasSubstr(std::string(kDataset) + "/operations/"));
  EXPECT_EQ(name.size() - name.rfind('/') - 1, 19u);

  auto again = admin_->GetOperation(name);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *op);
}

TEST_F(AdminServiceTest, DatasetErrors) {
  CreateDataset();
  EXPECT_EQ(admin_->CreateDataset(kLocation, "d1", Json::object()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin_->CreateDataset(kLocation, "bad id", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->CreateDataset(kLocation, "", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      admin_->CreateDataset(kLocation, "tz", Json{{"timeZone", "Mars/Olympus"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->CreateDataset(kLocation, "x", Json{{"colour", "red"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->GetDataset("projects/p/locations/us/datasets/none").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(admin_->GetDataset("projects/p/datasets/d1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServiceTest, PatchDatasetNeedsAValidMask) {
  CreateDataset();
  EXPECT_EQ(admin_->PatchDataset(kDataset, "", Json{{"timeZone", "UTC"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->PatchDataset(kDataset, "name", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto patched = admin_->PatchDataset(kDataset, "time_zone", Json{{"timeZone", "Asia/Tokyo"}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["timeZone"], "Asia/Tokyo");
  EXPECT_EQ((*admin_->GetDataset(kDataset))["timeZone"], "Asia/Tokyo");
}

TEST_F(AdminServiceTest, ListDatasetsPagesWithoutTrailingToken) {
  for (int i = 0; i < 5; ++i) CreateDataset("d" + std::to_string(i));
  auto page1 = admin_->ListDatasets(kLocation, {"2", "", ""});
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ((*page1)["datasets"].size(), 2u);
  ASSERT_TRUE(page1->contains("nextPageToken"));
  auto page2 = admin_->ListDatasets(kLocation, {"2", (*page1)["nextPageToken"], ""});
  ASSERT_TRUE(page2.ok());
  auto page3 = admin_->ListDatasets(kLocation, {"2", (*page2)["nextPageToken"], ""});
  ASSERT_TRUE(page3.ok());
  EXPECT_EQ((*page3)["datasets"].size(), 1u);
  EXPECT_FALSE(page3->contains("nextPageToken"));
  EXPECT_EQ((*page3)["datasets"][0]["name"], "projects/p/locations/us/datasets/d4");
  EXPECT_EQ(admin_->ListDatasets(kLocation, {"1001", "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->ListDatasets(kLocation, {"", "garbage!", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServiceTest, EmptyStoreIsJustItsName) {
  CreateDataset();
  auto store = admin_->CreateDicomStore(kDataset, "s1", Json{{"name", "ignored"}});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*store, (Json{{"name", kStore}}));
  EXPECT_EQ(*admin_->GetDicomStore(kStore), *store);
}

TEST_F(AdminServiceTest, StoreCreateErrors) {
  EXPECT_EQ(admin_->CreateDicomStore(kDataset, "s1", Json::object()).status().code(),
            absl::StatusCode::kNotFound);
  CreateDataset();
  CreateStore("s1");
  EXPECT_EQ(admin_->CreateDicomStore(kDataset, "s1", Json::object()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin_->CreateDicomStore(kDataset, "", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      admin_->CreateDicomStore(kDataset, "s2", Json{{"labels", {{"Bad", "x"}}}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_
                ->CreateDicomStore(kDataset, "s2",
                                   Json{{"notificationConfig", {{"pubsubTopic", "nope"}}}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->CreateDicomStore(kDataset, "s2", Json{{"labels", "x"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServiceTest, StoreConfigIsNormalisedAndPatchedWholesale) {
  CreateDataset();
  Json body = {{"labels", {{"team", "imaging"}, {"env", "dev"}}},
               {"notificationConfig",
                {{"pubsubTopic", "projects/p/topics/t"}, {"sendForBulkImport", false}}},
               {"streamConfigs", Json::array({{{"bigqueryDestination",
                                                {{"tableUri", "bq://p.d.t"},
                                                 {"writeDisposition", "WRITE_APPEND"},
                                                 {"force", false}}}}})}};
  CreateStore("s1", body);
  Json store = *admin_->GetDicomStore(kStore);
  EXPECT_EQ(store["notificationConfig"], (Json{{"pubsubTopic", "projects/p/topics/t"}}));
  EXPECT_FALSE(store["streamConfigs"][0]["bigqueryDestination"].contains("force"));

  auto patched = admin_->PatchDicomStore(kStore, "labels,notification_config",
                                         Json{{"labels", {{"team", "radiology"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["labels"], (Json{{"team", "radiology"}}));
  EXPECT_FALSE(patched->contains("notificationConfig"));  // masked and absent = cleared
  EXPECT_TRUE(patched->contains("streamConfigs"));        // not masked = kept
  EXPECT_EQ(*admin_->GetDicomStore(kStore), *patched);

  EXPECT_EQ(admin_->PatchDicomStore(kStore, "name", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->PatchDicomStore(kStore, "", Json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      admin_->PatchDicomStore(kDataset + std::string("/dicomStores/zz"), "labels", Json::object())
          .status()
          .code(),
      absl::StatusCode::kNotFound);
}

TEST_F(AdminServiceTest, ListStoresFiltersOnLabelsAcrossPages) {
  CreateDataset();
  for (int i = 0; i < 30; ++i) {
    Json labels = {{"n", std::to_string(i)}};
    if (i % 3 == 0) labels["three"] = "yes";
    CreateStore("s" + std::to_string(100 + i), Json{{"labels", labels}});
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = admin_->ListDicomStores(kDataset, {"4", token, "labels.three:*"});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const Json& s : (*page)["dicomStores"]) seen.push_back(s["name"]);
    token = page->contains("nextPageToken") ? (*page)["nextPageToken"].get<std::string>() : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(pages, 3);

  auto one = admin_->ListDicomStores(kDataset, {"", "", "labels.n=\"7\" OR labels.n=8"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ((*one)["dicomStores"].size(), 2u);
  EXPECT_EQ(admin_->ListDicomStores(kDataset, {"", "", "name=s1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A token minted for one filter is refused for another.
  auto first = admin_->ListDicomStores(kDataset, {"1", "", ""});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(admin_->ListDicomStores(kDataset, {"1", (*first)["nextPageToken"], "labels.n:*"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServiceTest, DeleteDatasetRemovesStores) {
  CreateDataset();
  CreateStore("s1");
  ASSERT_TRUE(admin_->DeleteDataset(kDataset).ok());
  EXPECT_EQ(admin_->GetDicomStore(kStore).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin_->DeleteDataset(kDataset).status().code(), absl::StatusCode::kNotFound);
  CreateDataset();
  EXPECT_EQ(admin_->GetDicomStore(kStore).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AdminServiceTest, OperationsListFilterAndCancel) {
  CreateDataset();
  auto list = admin_->ListOperations(kDataset, {"", "", "done = true"});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ((*list)["operations"].size(), 1u);
  auto running = admin_->ListOperations(kDataset, {"", "", "done=false"});
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->contains("operations"));
  EXPECT_EQ(admin_->ListOperations(kDataset, {"", "", "metadata.x=1"}).status().code(),
            absl::StatusCode::kInvalidArgument);

  std::string name = (*list)["operations"][0]["name"];
  Json before = *admin_->GetOperation(name);
  ASSERT_TRUE(admin_->CancelOperation(name).ok());
  EXPECT_EQ(*admin_->GetOperation(name), before);  // finished: unchanged
  EXPECT_EQ(admin_->GetOperation(std::string(kDataset) + "/operations/123").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AdminServiceTest, IamPolicyEtagsAndVersions) {
  CreateDataset();
  CreateStore("s1");
  auto empty = admin_->GetIamPolicy(kStore, "");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, (Json{{"version", 1}, {"etag", "ACAB"}}));
  EXPECT_EQ(admin_->GetIamPolicy(kStore, "2").status().code(), absl::StatusCode::kInvalidArgument);

  Json set = {{"policy",
               {{"bindings", Json::array({{{"role", "roles/healthcare.dicomViewer"},
                                           {"members", {"user:a@example.com"}}}})},
                {"etag", "ACAB"}}}};
  auto stored = admin_->SetIamPolicy(kStore, set);
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::string etag = (*stored)["etag"];
  EXPECT_NE(etag, "ACAB");
  EXPECT_EQ(*admin_->GetIamPolicy(kStore, "3"), *stored);

  // The etag from before the change is now stale.
  EXPECT_EQ(admin_->SetIamPolicy(kStore, set).status().code(), absl::StatusCode::kAborted);
  set["policy"]["etag"] = etag;
  EXPECT_TRUE(admin_->SetIamPolicy(kStore, set).ok());

  Json bad_role = {{"policy", {{"bindings", Json::array({{{"role", "viewer"}}})}}}};
  EXPECT_EQ(admin_->SetIamPolicy(kStore, bad_role).status().code(),
            absl::StatusCode::kInvalidArgument);
  Json conditional = {{"policy",
                       {{"bindings", Json::array({{{"role", "roles/x"},
                                                   {"members", {"user:a@b.c"}},
                                                   {"condition", {{"expression", "true"}}}}})}}}};
  EXPECT_EQ(admin_->SetIamPolicy(kStore, conditional).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->SetIamPolicy(kDataset + std::string("/dicomStores/none"), set).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AdminServiceTest, TestIamPermissions) {
  CreateDataset();
  Json body = {{"permissions", {"healthcare.datasets.get", "storage.objects.get"}}};
  auto granted = admin_->TestIamPermissions(kDataset, body);
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ(*granted, (Json{{"permissions", {"healthcare.datasets.get"}}}));
  auto missing = admin_->TestIamPermissions("projects/p/locations/us/datasets/none", body);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, Json::object());
  EXPECT_EQ(
      admin_->TestIamPermissions(kDataset, Json{{"permissions", {"healthcare.*"}}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dicomstore::service
