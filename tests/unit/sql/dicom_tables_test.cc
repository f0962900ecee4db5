// studies / series / instances and the DICOMweb resources over real corpus files stored
// with EXEC store_instances @file: columns are DICOM keywords, match keys are pushed down
// to QIDO without changing results, QIDO pages are followed, search EXECs take match keys.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "unit/dicom/test_support.h"
#include "unit/sql/engine_fixture.h"

namespace dicomstore::sql {
namespace {

using ::dicomstore::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr char kStore[] =
    "projectsId = 'p' AND locationsId = 'us' AND datasetsId = 'd1' AND dicomStoresId = 's'";
constexpr char kArgs[] =
    "@projectsId = 'p', @locationsId = 'us', @datasetsId = 'd1', "
    "@dicomStoresId = 's'";

using Manifest = std::vector<std::map<std::string, std::string>>;

// The qido-* files: two patients, five studies, eight series, nine instances.
Manifest QidoRows() {
  Manifest out;
  for (auto& row : dicom::testing::ReadManifest()) {
    if (row["file"].rfind("qido-", 0) == 0) out.push_back(row);
  }
  return out;
}

std::set<std::string> Distinct(const Manifest& rows, const std::string& column) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.at(column));
  return out;
}

class DicomTablesTest : public testing::EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    CreateStore("s");
    manifest_ = QidoRows();
    ASSERT_EQ(manifest_.size(), 9u);
    std::filesystem::create_directories(dir_.path() / "upload");
    for (const auto& row : manifest_) {
      std::filesystem::copy_file(dicom::testing::CorpusDir() / "dicom" / row.at("file"),
                                 dir_.path() / "upload" / row.at("file"));
    }
    ResultSet stored = Run(std::string("EXEC google.healthcare.dicom_stores.store_instances ") +
                           kArgs + ", @file = '" + (dir_.path() / "upload").string() + "'");
    ASSERT_EQ(stored.rows.size(), 9u);
    EXPECT_THAT(Column(stored, "status"), ::testing::Each(std::string("stored")));
    EXPECT_EQ(stored.message, "9 of 9 instances stored from 9 files");
    recorder_->targets.clear();
  }
  bool Sent(const std::string& fragment) const {
    for (const std::string& t : recorder_->targets) {
      if (t.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  Manifest manifest_;
};

TEST_F(DicomTablesTest, StudiesAreRowsWithKeywordColumns) {
  ResultSet r = Run(std::string("SELECT StudyInstanceUID, PatientName, ModalitiesInStudy, "
                                "NumberOfStudyRelatedInstances FROM google.healthcare.studies "
                                "WHERE ") +
                    kStore + " ORDER BY StudyInstanceUID");
  std::set<std::string> studies = Distinct(manifest_, "study_uid");
  ASSERT_EQ(r.rows.size(), studies.size());
  EXPECT_THAT(Column(r, 0), ::testing::ElementsAreArray(studies));
  for (const auto& row : r.rows) {
    Manifest of_study;
    for (const auto& m : manifest_) {
      if (m.at("study_uid") == row[0].text) of_study.push_back(m);
    }
    EXPECT_EQ(row[1].text, of_study.front().at("patient_name"));  // PN -> Alphabetic
    EXPECT_EQ(row[3].type, Value::Type::kInteger);
    EXPECT_EQ(row[3].text, std::to_string(of_study.size()));
    std::set<std::string> modalities = Distinct(of_study, "modality");
    EXPECT_EQ(row[2].text, *modalities.begin());  // one modality per qido study
  }
  EXPECT_TRUE(Sent("/dicomWeb/studies?"));
  EXPECT_TRUE(Sent("includefield="));
}

TEST_F(DicomTablesTest, MatchKeysArePushedDownAndResultsUnchanged) {
  ResultSet r = Run(std::string("SELECT StudyInstanceUID FROM google.healthcare.studies WHERE ") +
                    kStore + " AND PatientID = '98890234'");
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_TRUE(Sent("PatientID=98890234"));

  recorder_->targets.clear();
  r = Run(std::string("SELECT StudyDate FROM google.healthcare.studies WHERE ") + kStore +
          " AND StudyDate BETWEEN '20000101' AND '20021231'");
  EXPECT_THAT(Column(r, 0), ElementsAre("20010101", "20010101"));
  EXPECT_TRUE(Sent("StudyDate=20000101-20021231"));

  // A strict bound is sent inclusive; SQLite drops the extra day.
  r = Run(std::string("SELECT StudyDate FROM google.healthcare.studies WHERE ") + kStore +
          " AND StudyDate > '20010101'");
  EXPECT_THAT(Column(r, 0), ElementsAre("20030505", "20030505"));

  // Not pushed (PN matching differs from '='), same answer as the manifest.
  recorder_->targets.clear();
  r = Run(std::string("SELECT PatientID FROM google.healthcare.studies WHERE ") + kStore +
          " AND PatientName = 'Doe^Archibald'");
  EXPECT_THAT(Column(r, 0), ElementsAre("77654033", "77654033"));
  EXPECT_FALSE(Sent("PatientName="));

  // Series level: Modality pushed; the counts are the manifest's.
  Manifest mr;
  for (const auto& m : manifest_) {
    if (m.at("modality") == "MR") mr.push_back(m);
  }
  r = Run(std::string("SELECT SeriesInstanceUID FROM google.healthcare.series WHERE ") + kStore +
          " AND Modality = 'MR'");
  EXPECT_THAT(Column(r, 0), UnorderedElementsAreArray(Distinct(mr, "series_uid")));
  EXPECT_TRUE(Sent("Modality=MR"));

  // A value QIDO would refuse (a UID list) is filtered locally only.
  r = Run(std::string("SELECT * FROM google.healthcare.instances WHERE ") + kStore +
          " AND SOPInstanceUID = '1.2,3.4'");
  EXPECT_THAT(r.rows, IsEmpty());
}

TEST_F(DicomTablesTest, InstancesJoinAndIdentityParameters) {
  const std::string study = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.1";
  ResultSet r = Run(std::string("SELECT SOPInstanceUID, Modality, Rows, studiesId, seriesId, "
                                "instancesId FROM google.healthcare.instances WHERE ") +
                    kStore + " AND studiesId = '" + study + "' ORDER BY SOPInstanceUID");
  Manifest of_study;
  for (const auto& m : manifest_) {
    if (m.at("study_uid") == study) of_study.push_back(m);
  }
  ASSERT_EQ(r.rows.size(), of_study.size());
  for (const auto& row : r.rows) {
    EXPECT_EQ(row[1].text, "CT");
    EXPECT_EQ(row[2].type, Value::Type::kInteger);
    EXPECT_EQ(row[3].text, study);
    EXPECT_EQ(row[5].text, row[0].text);
  }
  EXPECT_TRUE(Sent("StudyInstanceUID=" + study));

  // A join and a GROUP BY, all local.
  r = Run(std::string("SELECT st.PatientID, COUNT(*) FROM google.healthcare.studies st JOIN "
                      "google.healthcare.series se ON se.StudyInstanceUID = st.StudyInstanceUID "
                      "WHERE st.") +
          "projectsId = 'p' AND st.locationsId = 'us' AND st.datasetsId = 'd1' AND "
          "st.dicomStoresId = 's' AND se.projectsId = 'p' AND se.locationsId = 'us' AND "
          "se.datasetsId = 'd1' AND se.dicomStoresId = 's' GROUP BY 1 ORDER BY 1");
  EXPECT_THAT(Column(r, 1), ElementsAre("3", "5"));  // p1: 3 series, p2: 5 series
}

TEST_F(DicomTablesTest, QidoPagesAreFollowedAndLimited) {
  MakeEngine(Options(0, 2));
  ResultSet r =
      Run(std::string("SELECT SOPInstanceUID FROM google.healthcare.instances WHERE ") + kStore);
  EXPECT_EQ(r.rows.size(), 9u);
  EXPECT_TRUE(Sent("limit=2&offset=8"));
  EXPECT_THAT(notices_, IsEmpty());

  MakeEngine(Options(2, 2));
  r = Run(std::string("SELECT SOPInstanceUID FROM google.healthcare.instances WHERE ") + kStore);
  EXPECT_EQ(r.rows.size(), 4u);
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_THAT(notices_[0], HasSubstr("page limit of 2 reached"));
}

TEST_F(DicomTablesTest, MetadataAndMetricsResources) {
  const std::string study = "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.1";
  ResultSet r = Run(std::string("SELECT SOPInstanceUID, Modality, json_extract(metadata, "
                                "'$.00100020.Value[0]') AS pid FROM "
                                "google.healthcare.studies_metadata WHERE ") +
                    kStore + " AND studiesId = '" + study + "' ORDER BY 1");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0][1].text, "CR");
  EXPECT_EQ(r.rows[0][2].text, "77654033");

  r = Run(std::string("SELECT instanceCount, seriesCount FROM google.healthcare.study_metrics "
                      "WHERE ") +
          kStore + " AND studiesId = '" + study + "'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "2");
  EXPECT_EQ(r.rows[0][1].text, "2");

  r = Run(std::string("SELECT studyCount, seriesCount, instanceCount FROM "
                      "google.healthcare.dicom_store_metrics WHERE ") +
          kStore);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_THAT(r.rows[0], ElementsAre(Value::Text("5"), Value::Text("8"), Value::Text("9")));

  const auto& one = manifest_.front();
  const std::string in_study =
      std::string(kStore) + " AND studiesId = '" + one.at("study_uid") + "'";
  const std::string in_series = in_study + " AND seriesId = '" + one.at("series_uid") + "'";
  const std::string where = in_series + " AND instancesId = '" + one.at("sop_instance_uid") + "'";
  r =
      Run("SELECT json_extract(blobStorageInfo, '$.sizeBytes') FROM "
          "google.healthcare.instances_storage_info WHERE " +
          where);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, one.at("size_bytes"));
  r = Run("SELECT SOPInstanceUID FROM google.healthcare.instances_metadata WHERE " + where);
  EXPECT_THAT(Column(r, 0), ElementsAre(one.at("sop_instance_uid")));
  r = Run("SELECT instanceCount FROM google.healthcare.series_metrics WHERE " + in_series);
  EXPECT_EQ(r.rows.size(), 1u);
  // A binary resource: content type and size.
  r = Run("SELECT contentType, size FROM google.healthcare.studies_study WHERE " + in_study);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_THAT(r.rows[0][0].text, HasSubstr("multipart/related"));

  EXPECT_THAT(RunError(std::string("SELECT * FROM google.healthcare.study_metrics WHERE ") +
                       kStore + " AND studiesId = '1.2.3'"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DicomTablesTest, SearchExecTakesMatchKeysInBothNamings) {
  ResultSet r = Run(std::string("EXEC google.healthcare.dicom_stores.search_for_studies ") + kArgs +
                    ", @PatientID = '98890234'");
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_THAT(r.columns, Contains("StudyInstanceUID"));
  EXPECT_THAT(Column(r, "PatientID"), ::testing::Each(std::string("98890234")));

  r = Run(std::string("EXEC google.healthcare.dicom_stores."
                      "projects_locations_datasets_dicomStores_searchForStudies ") +
          kArgs + ", @StudyDate = '20030101-20031231', @includefield = 'ModalitiesInStudy'");
  EXPECT_EQ(r.rows.size(), 2u);
  EXPECT_THAT(Column(r, "ModalitiesInStudy"), ElementsAre("MR", "MR"));

  r = Run(std::string("EXEC google.healthcare.dicom_stores.search_for_instances ") + kArgs +
          ", @limit = '3'");
  EXPECT_EQ(r.rows.size(), 3u);

  r = Run(std::string("EXEC google.healthcare.studies.search_for_series ") + kArgs +
          ", @studiesId = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.133'");
  EXPECT_EQ(r.rows.size(), 2u);

  EXPECT_THAT(RunError(std::string("EXEC google.healthcare.dicom_stores.search_for_studies ") +
                       kArgs + ", @Bogus = '1'"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DicomTablesTest, DeletesAndAwaitedOperations) {
  const std::string study = "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.427";
  // EXEC of a DELETE-mapped method under AWAIT: a real study-delete operation.
  ResultSet r =
      Run(std::string("EXEC /*+ AWAIT, SHOWRESULTS */ google.healthcare.studies.delete ") + kArgs +
          ", @studiesId = '" + study + "'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][ColumnIndex(r, "done")].text, "true");
  ASSERT_FALSE(notices_.empty());
  EXPECT_THAT(notices_.back(), HasSubstr("/operations/"));
  EXPECT_THAT(notices_.back(), HasSubstr("done (success=1)"));

  const std::string other = "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.1";
  r = Run(std::string("DELETE /*+ AWAIT */ FROM google.healthcare.studies WHERE ") + kStore +
          " AND studiesId = '" + other + "'");
  EXPECT_EQ(r.message, "The operation completed successfully");
  r = Run(std::string("SELECT COUNT(*) FROM google.healthcare.studies WHERE ") + kStore);
  EXPECT_EQ(r.rows[0][0].text, "3");

  // Deleting again: the API's own error, not an empty success.
  EXPECT_THAT(RunError(std::string("DELETE FROM google.healthcare.studies WHERE ") + kStore +
                       " AND studiesId = '" + other + "'"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DicomTablesTest, StoreInstancesReportsRefusedFilesAndApiErrors) {
  ResultSet r = Run(
      std::string("EXEC google.healthcare.dicom_stores.store_instances ") + kArgs + ", @file = '" +
      (dicom::testing::CorpusDir() / "dicom" / "bad-private-sq-no-uids.dcm").string() + "'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][ColumnIndex(r, "status")].text, "failed");

  EXPECT_THAT(RunError("EXEC google.healthcare.dicom_stores.store_instances @projectsId = 'p', "
                       "@locationsId = 'us', @datasetsId = 'd1', @dicomStoresId = 'nope', "
                       "@file = '" +
                       (dir_.path() / "upload").string() + "'"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RunError(std::string("EXEC google.healthcare.dicom_stores.store_instances ") + kArgs +
                       ", @file = '/no/such/file'"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace dicomstore::sql
