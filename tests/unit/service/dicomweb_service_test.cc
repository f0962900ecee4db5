// DicomWebService end to end below HTTP: real SQLite index, real blob files in a temporary
// directory, real corpus instances.
#include "service/dicomweb_service.h"

#include <filesystem>
#include <memory>
#include <string>

#include "dicom/instance_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/admin_service.h"
#include "unit/blobs/faulty_env.h"
#include "unit/dicom/test_support.h"

namespace dicomstore::service {
namespace {

using dicom::testing::CorpusFile;
using ::testing::HasSubstr;

constexpr char kDataset[] = "projects/p/locations/l/datasets/d";
constexpr char kStore[] = "projects/p/locations/l/datasets/d/dicomStores/s";
constexpr char kBase[] = "http://example.test";

// Corpus facts (MANIFEST.tsv).
constexpr char kCtSmall[] = "ct-small.dcm";
constexpr char kCtStudy[] = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";

class DicomWebServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dicom::InitializeDicom().ok());
    char tmpl[] = "/tmp/dicomweb-service-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto index = index::OpenSqliteIndex(dir_ + "/index.sqlite");
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    blobs_ = std::make_unique<blobs::BlobStore>(&env_, dir_ + "/blobs");
    ASSERT_TRUE(blobs_->Open().ok());
    admin_ = std::make_unique<AdminService>(index_.get(), blobs_.get());
    service_ = std::make_unique<DicomWebService>(index_.get(), blobs_.get(), 2);
    ASSERT_TRUE(admin_->CreateDataset("projects/p/locations/l", "d", Json::object()).ok());
    ASSERT_TRUE(admin_->CreateDicomStore(kDataset, "s", Json::object()).ok());
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Stores `files` (bytes) in one request, each part fed in small chunks.
  StowResult Stow(const std::vector<std::string>& files,
                  std::optional<std::string> study = std::nullopt,
                  const std::string& part_type = "application/dicom") {
    auto request = service_->BeginStow(kStore, study, kBase);
    EXPECT_TRUE(request.ok()) << request.status();
    for (const std::string& f : files) {
      (*request)->BeginPart(part_type);
      for (size_t i = 0; i < f.size(); i += 4096) {
        EXPECT_TRUE((*request)->PartData(std::string_view(f).substr(i, 4096)).ok());
      }
      (*request)->EndPart();
    }
    auto result = (*request)->Finish();
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : StowResult{};
  }

  Json SearchStudies(const QueryParams& params) {
    auto found =
        service_->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt, params, kBase);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? Json::parse(*found) : Json::array();
  }

  std::string dir_;
  blobs::testing::FaultyEnv env_;  // the real file system unless a test injects a fault
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<DicomWebService> service_;
};

TEST_F(DicomWebServiceTest, StoreSearchRetrieveRoundTrip) {
  std::string ct = CorpusFile(kCtSmall);
  ASSERT_FALSE(ct.empty());
  StowResult result = Stow({ct});
  EXPECT_EQ(result.http_status, 200);
  ASSERT_TRUE(result.dataset.contains("00081199")) << result.dataset.dump();
  EXPECT_EQ(result.dataset["00081199"]["Value"].size(), 1u);
  EXPECT_FALSE(result.dataset.contains("00081198"));
  EXPECT_THAT(result.dataset["00081190"]["Value"][0].get<std::string>(),
              HasSubstr(std::string(kBase) + "/v1/" + kStore + "/dicomWeb/studies/" + kCtStudy));

  Json studies = SearchStudies({});
  ASSERT_EQ(studies.size(), 1u);
  EXPECT_EQ(studies[0]["0020000D"]["Value"][0], kCtStudy);
  EXPECT_TRUE(studies[0].contains("00100010"));
  EXPECT_FALSE(studies[0].contains("00201208"));  // computed attributes only when asked

  Json counted =
      SearchStudies({{"includefield", "NumberOfStudyRelatedInstances,ModalitiesInStudy"}});
  EXPECT_EQ(counted[0]["00201208"]["Value"][0], 1);
  EXPECT_EQ(counted[0]["00080061"]["Value"][0], "CT");

  auto instances = service_->Instances(kStore, kCtStudy, std::nullopt, std::nullopt);
  ASSERT_TRUE(instances.ok()) << instances.status();
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ(dicom::testing::ReadFile((*instances)[0].path), ct);  // stored bytes unchanged

  auto metadata = service_->Metadata(kStore, kCtStudy, std::nullopt, std::nullopt, kBase);
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  Json meta = Json::parse(*metadata);
  ASSERT_EQ(meta.size(), 1u);
  std::string uri = meta[0]["7FE00010"]["BulkDataURI"];
  EXPECT_THAT(uri, HasSubstr(std::string(kBase) + "/v1/" + kStore + "/dicomWeb/studies/"));
  EXPECT_THAT(uri, HasSubstr("/bulkdata/7FE00010"));
}

// Parts over the in-memory limit are parsed from the segment, and so are the small parts
// that follow one in the same request; all must be stored byte for byte.
TEST_F(DicomWebServiceTest, LargeAndSmallPartsInOneRequest) {
  const std::string mr = CorpusFile("mr-siemens-mosaic-dwi.dcm");  // 1.7 MB
  const std::string ct = CorpusFile(kCtSmall);                     // 39 KB
  const std::string ct_large = CorpusFile("ts-ct-implicit-le.dcm");
  ASSERT_GT(mr.size(), 1000000u);
  StowResult result = Stow({ct, mr, ct_large, std::string("not DICOM")});
  EXPECT_EQ(result.http_status, 409);
  EXPECT_EQ(result.dataset["00081199"]["Value"].size(), 3u);
  EXPECT_EQ(result.dataset["00081198"]["Value"].size(), 1u);
  std::vector<std::string> stored;
  for (const Json& study : SearchStudies({})) {
    auto instances = service_->Instances(kStore, study["0020000D"]["Value"][0].get<std::string>(),
                                         std::nullopt, std::nullopt);
    ASSERT_TRUE(instances.ok()) << instances.status();
    for (const InstanceToSend& i : *instances) {
      stored.push_back(dicom::testing::ReadFile(i.path).substr(
          i.offset, static_cast<size_t>(i.record.size_bytes)));
    }
  }
  EXPECT_THAT(stored, ::testing::UnorderedElementsAre(ct, mr, ct_large));
}

TEST_F(DicomWebServiceTest, DuplicatesAndMismatchedStudy) {
  std::string ct = CorpusFile(kCtSmall);
  EXPECT_EQ(Stow({ct}).http_status, 200);
  EXPECT_EQ(Stow({ct}).http_status, 200);  // identical bytes: accepted, not stored twice
  std::string changed = ct;
  changed[changed.size() - 1] ^= 0x01;  // same UIDs, different pixel byte
  StowResult conflict = Stow({changed});
  EXPECT_EQ(conflict.http_status, 409);
  ASSERT_TRUE(conflict.dataset.contains("00081198"));
  EXPECT_EQ(conflict.dataset["00081198"]["Value"][0]["00081197"]["Value"][0], 272);
  EXPECT_THAT(conflict.dataset.dump(), HasSubstr("already exists with different content"));
  // The same after a part too large to be kept in memory: its bytes are compared from the
  // files. A repeat of it, and a repeat in the same request, are accepted.
  const std::string large = CorpusFile("ts-ct-implicit-le.dcm");
  ASSERT_GT(large.size(), size_t{256} << 10);
  EXPECT_EQ(Stow({large}).http_status, 200);
  EXPECT_EQ(Stow({large, large}).http_status, 200);
  std::string large_changed = large;
  large_changed[large.size() / 2] ^= 0x01;
  EXPECT_EQ(Stow({large_changed}).http_status, 409);
  EXPECT_EQ(Stow({ct}).http_status, 200);

  StowResult mismatch = Stow({ct}, std::string("1.2.3.4"));
  EXPECT_EQ(mismatch.http_status, 409);
  EXPECT_THAT(mismatch.dataset["00081198"]["Value"][0]["00091097"]["Value"][0].get<std::string>(),
              HasSubstr("does not match"));

  auto metrics = service_->StoreMetrics(kStore);
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ((*metrics)["instanceCount"], "2");  // ct and large, once each
}

TEST_F(DicomWebServiceTest, BadPartsFailAloneAndGoodOnesAreStored) {
  StowResult result = Stow({std::string("this is not DICOM at all"), CorpusFile(kCtSmall), ""});
  EXPECT_EQ(result.http_status, 409);
  EXPECT_EQ(result.dataset["00081198"]["Value"].size(), 2u);
  EXPECT_EQ(result.dataset["00081199"]["Value"].size(), 1u);
  EXPECT_EQ(SearchStudies({}).size(), 1u);
  // Nothing of the refused parts stays on disk: the segment holds the stored instance and
  // freed (zero) bytes only.
  auto instances = service_->Instances(kStore, kCtStudy, std::nullopt, std::nullopt);
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 1u);
  const InstanceToSend& stored = instances->front();
  std::string segment = dicom::testing::ReadFile(stored.path);
  const size_t size = static_cast<size_t>(stored.record.size_bytes);
  EXPECT_EQ(segment.substr(stored.offset, size), CorpusFile(kCtSmall));
  segment.erase(stored.offset, size);
  EXPECT_EQ(segment, std::string(segment.size(), '\0'));
}

TEST_F(DicomWebServiceTest, FailedWritesAndSyncsStoreNothingAndTheNextRequestWorks) {
  const std::string ct = CorpusFile(kCtSmall);
  {  // fdatasync fails: the request fails, no row is committed
    env_.fail_sync = true;
    auto request = service_->BeginStow(kStore, std::nullopt, kBase);
    ASSERT_TRUE(request.ok());
    (*request)->BeginPart("application/dicom");
    ASSERT_TRUE((*request)->PartData(ct).ok());
    (*request)->EndPart();
    EXPECT_FALSE((*request)->Finish().ok());
    env_.fail_sync = false;
  }
  EXPECT_TRUE(SearchStudies({}).empty());
  {  // the disk fills up mid-part: the part fails when its bytes are written (at its end
     // for a part this small, whose bytes are buffered up to a 1 MiB boundary)
    auto request = service_->BeginStow(kStore, std::nullopt, kBase);
    ASSERT_TRUE(request.ok());
    (*request)->BeginPart("application/dicom");
    ASSERT_TRUE((*request)->PartData(std::string_view(ct).substr(0, 1000)).ok());
    env_.fail_append = true;
    EXPECT_TRUE((*request)->PartData(std::string_view(ct).substr(1000)).ok());
    (*request)->EndPart();
    env_.fail_append = false;
    auto result = (*request)->Finish();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->http_status, 409);
    EXPECT_THAT(result->dataset.dump(), HasSubstr("no space left"));
  }
  {  // a body cut short: the part never ends
    auto request = service_->BeginStow(kStore, std::nullopt, kBase);
    ASSERT_TRUE(request.ok());
    (*request)->BeginPart("application/dicom");
    ASSERT_TRUE((*request)->PartData(std::string_view(ct).substr(0, 5000)).ok());
  }
  EXPECT_TRUE(SearchStudies({}).empty());
  EXPECT_EQ(Stow({ct}).http_status, 200);
  EXPECT_EQ(SearchStudies({}).size(), 1u);
  // Only the stored instance occupies its segment: the failed attempts left no bytes in it
  // (their segments were retired or cut back).
  auto instances = service_->Instances(kStore, kCtStudy, std::nullopt, std::nullopt);
  ASSERT_TRUE(instances.ok());
  std::string segment = dicom::testing::ReadFile(instances->front().path);
  segment.erase(instances->front().offset, ct.size());
  EXPECT_EQ(segment, std::string(segment.size(), '\0'));
}

TEST_F(DicomWebServiceTest, QidoRejectsUnsupportedKeysAndParsesRanges) {
  Stow({CorpusFile(kCtSmall)});
  auto bad = service_->Search(kStore, QidoLevel::kInstance, std::nullopt, std::nullopt,
                              {{"SOPClassUID", "1.2"}}, kBase);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_include = service_->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt,
                                      {{"includefield", "NoSuchAttribute"}}, kBase);
  EXPECT_EQ(bad_include.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_include.status().message()),
              HasSubstr("unknown/unsupported QIDO attribute"));
  for (const char* field : {"12345678", "AvailableTransferSyntaxUID"}) {
    EXPECT_EQ(service_
                  ->Search(kStore, QidoLevel::kInstance, std::nullopt, std::nullopt,
                           {{"includefield", field}}, kBase)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << field;
  }
  // Known attributes that a level does not hold are accepted (and simply absent).
  EXPECT_TRUE(service_
                  ->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt,
                           {{"includefield", "00081030,00080060"}}, kBase)
                  .ok());
  auto bad_limit = service_->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt,
                                    {{"limit", "x"}}, kBase);
  EXPECT_EQ(bad_limit.status().code(), absl::StatusCode::kInvalidArgument);

  // ModalitiesInStudy is a study-level match key here (an addition to Google's set).
  EXPECT_EQ(SearchStudies({{"ModalitiesInStudy", "CT"}}).size(), 1u);
  EXPECT_EQ(SearchStudies({{"ModalitiesInStudy", "MR"}}).size(), 0u);
  for (QidoLevel level : {QidoLevel::kSeries, QidoLevel::kInstance}) {
    EXPECT_EQ(service_
                  ->Search(kStore, level, std::nullopt, std::nullopt, {{"ModalitiesInStudy", "CT"}},
                           kBase)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(service_
                ->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt,
                         {{"ModalitiesInStudy", "CT\\PT"}}, kBase)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  // ct-small's StudyDate is 20040119.
  EXPECT_EQ(SearchStudies({{"StudyDate", "20040101-20040131"}}).size(), 1u);
  EXPECT_EQ(SearchStudies({{"StudyDate", "20040120-"}}).size(), 0u);
  EXPECT_EQ(SearchStudies({{"StudyDate", "-20040119"}}).size(), 1u);
  EXPECT_EQ(SearchStudies({{"00080020", "20040119"}}).size(), 1u);
  EXPECT_EQ(service_
                ->Search(kStore, QidoLevel::kStudy, std::nullopt, std::nullopt,
                         {{"StudyDate", "2004-01"}}, kBase)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DicomWebServiceTest, DeletesUpdateSearchesAndFreeFiles) {
  Stow({CorpusFile(kCtSmall)});
  auto instances = service_->Instances(kStore, kCtStudy, std::nullopt, std::nullopt);
  ASSERT_TRUE(instances.ok());
  const InstanceToSend stored = (*instances)[0];
  auto op = service_->DeleteStudyOrSeries(kStore, kCtStudy, std::nullopt);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ((*op)["done"], true);
  EXPECT_TRUE(SearchStudies({}).empty());
  // The instance's bytes are freed (a hole reading as zeros).
  const size_t size = static_cast<size_t>(stored.record.size_bytes);
  EXPECT_EQ(dicom::testing::ReadFile(stored.path).substr(stored.offset, size),
            std::string(size, '\0'));
  EXPECT_EQ(service_->DeleteStudyOrSeries(kStore, kCtStudy, std::nullopt).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DicomWebServiceTest, DeletingTheStoreRemovesItsFiles) {
  Stow({CorpusFile(kCtSmall)});
  auto instances = service_->Instances(kStore, kCtStudy, std::nullopt, std::nullopt);
  ASSERT_TRUE(instances.ok());
  ASSERT_TRUE(admin_->DeleteDicomStore(kStore).ok());
  EXPECT_FALSE(std::filesystem::exists((*instances)[0].path));
}

}  // namespace
}  // namespace dicomstore::service
