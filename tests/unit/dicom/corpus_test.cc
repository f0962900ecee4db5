// Every file of the shared corpus (shared/corpus/dicom): the valid ones are parsed and
// compared with MANIFEST.tsv and MANIFEST-json; every other one has a deliberate decision
// below (accept or refuse, and why).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/proto_json.h"
#include "dicom/instance_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "unit/dicom/test_support.h"

namespace dicomstore::dicom {
namespace {

using ::dicomstore::dicom::testing::CorpusDir;
using ::dicomstore::dicom::testing::ReadFile;
using ::dicomstore::dicom::testing::ReadManifest;
using ::testing::HasSubstr;

using Row = std::map<std::string, std::string>;

int64_t IntOrZero(const std::string& s) { return s.empty() ? 0 : std::stoll(s); }

// Whether JSON text has white space between tokens (the stored text must be compact).
bool HasSpaceBetweenTokens(std::string_view json) {
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      return true;
    }
  }
  return false;
}

// Decisions for every file that has no MANIFEST-json (i.e. is not "valid" in the
// manifest's strict sense). `accept` files must parse; the others must be refused with
// INVALID_ARGUMENT and a message containing `message`.
struct Decision {
  bool accept;
  std::string message;  // refused: expected substring; accepted: expected TS UID
};
const std::map<std::string, Decision>& Decisions() {
  static const auto* decisions = new std::map<std::string, Decision>{
      // Raw dataset whose first byte is a stray 0x20: every tag is misaligned, the first
      // "element" is (0820,0500) — no plausible dataset start.
      {"raw-ct-small-no-meta-misaligned.dcm", {false, "not a DICOM file"}},
      // Raw datasets (no preamble, no File Meta) with all four UIDs: accepted, the
      // encoding is detected (this one is explicit VR LE)...
      {"raw-rtionplan-le-no-meta.dcm", {true, "1.2.840.10008.1.2.1"}},
      // ...and this one implicit VR LE.
      {"raw-rtstruct-implicit-no-meta.dcm", {true, "1.2.840.10008.1.2"}},
      // File Meta without group length is tolerated, but the dataset (an RT Image header
      // fragment) has no SOP/Study/Series UIDs.
      {"meta-no-group-length.dcm", {false, "missing StudyInstanceUID"}},
      // Pixel Data declares 8192 bytes, 8130 remain: refused, the stored bytes would be
      // unusable for frame retrieval and transcoding.
      {"bad-truncated-pixeldata.dcm", {false, "truncated element (7FE0,0010)"}},
      // NumberOfFrames "1A" is not a valid IS, but the structure is fine and the UIDs are
      // present: accepted; NumberOfFrames stays the string "1A" in the JSON and
      // number_of_frames falls back to 1 (pixel data present).
      {"bad-invalid-is-value.dcm", {true, "1.2.840.10008.1.2.1"}},
      // Missing TransferSyntaxUID is tolerated (encoding detected), but the SOP UIDs are
      // empty and Study/Series UIDs absent.
      {"bad-meta-missing-tsuid.dcm", {false, "missing StudyInstanceUID"}},
      // Meta says JPEG Baseline (explicit VR) but the dataset is implicit VR: read as
      // declared, an element runs past the end. Refused rather than guessed: the stored
      // file would lie about its own encoding to every client.
      {"bad-ts-mismatch.dcm", {false, "truncated element"}},
      // Only a private UN sequence in the dataset; UIDs only in the File Meta.
      {"bad-no-dataset-uids-un-sequence.dcm", {false, "missing StudyInstanceUID"}},
      // Minimal private-sequence regression file without UIDs.
      {"bad-private-sq-no-uids.dcm", {false, "missing StudyInstanceUID"}},
      // gzip stream.
      {"bad-gzip-wrapped-mr.dcm.gz", {false, "not a DICOM file"}},
      // Zero bytes.
      {"bad-empty-file.dcm", {false, "not a DICOM file"}},
      // Well-formed Color Palette: no Patient/Study/Series, cannot be filed in a study.
      {"nonpatient-color-palette.dcm", {false, "missing StudyInstanceUID, SeriesInstanceUID"}},
      // Media Storage Directory: not a storable composite instance.
      {"dicomdir.dcm", {false, "DICOMDIR"}},
  };
  return *decisions;
}

class CorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitializeDicom().ok()); }
  void SetUp() override {
    if (!std::filesystem::exists(CorpusDir() / "MANIFEST.tsv")) {
      GTEST_FAIL() << "corpus not found at " << CorpusDir()
                   << " (set DICOMSTORE_CORPUS to shared/corpus)";
    }
  }
};

TEST_F(CorpusTest, EveryFileHasAnExpectation) {
  const std::vector<Row> rows = ReadManifest();
  ASSERT_GT(rows.size(), 80u);
  std::set<std::string> listed;
  for (const Row& row : rows) listed.insert(row.at("file"));
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir() / "dicom")) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(listed.contains(name)) << name << " is not in MANIFEST.tsv";
    const bool has_json = std::filesystem::exists(CorpusDir() / "MANIFEST-json" / (name + ".json"));
    EXPECT_TRUE(has_json || Decisions().contains(name))
        << name << " has neither expected JSON nor a decision in this test";
  }
}

TEST_F(CorpusTest, ValidFilesMatchManifestAndExpectedJson) {
  int compared_files = 0;
  int compared_tags = 0;
  for (const Row& row : ReadManifest()) {
    const std::string& name = row.at("file");
    const std::filesystem::path json_path = CorpusDir() / "MANIFEST-json" / (name + ".json");
    if (!std::filesystem::exists(json_path)) continue;
    SCOPED_TRACE(name);
    const std::string bytes = ReadFile(CorpusDir() / "dicom" / name);
    absl::StatusOr<ParsedInstance> parsed = ParseInstance(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ++compared_files;

    EXPECT_EQ(parsed->sop_class_uid, row.at("sop_class_uid"));
    EXPECT_EQ(parsed->study_uid, row.at("study_uid"));
    EXPECT_EQ(parsed->series_uid, row.at("series_uid"));
    EXPECT_EQ(parsed->sop_instance_uid, row.at("sop_instance_uid"));
    EXPECT_EQ(parsed->transfer_syntax_uid, row.at("transfer_syntax_uid"));
    EXPECT_EQ(parsed->modality, row.at("modality"));
    EXPECT_EQ(parsed->rows, IntOrZero(row.at("rows")));
    EXPECT_EQ(parsed->columns, IntOrZero(row.at("cols")));
    EXPECT_EQ(parsed->bits_allocated, IntOrZero(row.at("bits_allocated")));
    EXPECT_EQ(parsed->number_of_frames, IntOrZero(row.at("frames")));
    EXPECT_EQ(parsed->has_pixel_data, row.at("frames") != "0");

    EXPECT_FALSE(HasSpaceBetweenTokens(parsed->json));
    // Every tag of the expected JSON, compared as (unordered) JSON values.
    const nlohmann::json expected = nlohmann::json::parse(ReadFile(json_path));
    const nlohmann::json ours = nlohmann::json::parse(parsed->json);
    for (const auto& [key, value] : expected.items()) {
      SCOPED_TRACE(key);
      ASSERT_TRUE(ours.contains(key)) << "missing in our JSON";
      EXPECT_EQ(ours.at(key), value)
          << "ours: " << ours.at(key).dump() << "\nexpected: " << value.dump();
      ++compared_tags;
    }
    // Keys are 8 upper-case hex digits in ascending order.
    std::string previous;
    const Json ordered = Json::parse(parsed->json);
    for (const auto& [key, value] : ordered.items()) {
      EXPECT_EQ(key.size(), 8u);
      EXPECT_EQ(key.find_first_not_of("0123456789ABCDEF"), std::string::npos) << key;
      EXPECT_LT(previous, key);
      previous = key;
      EXPECT_TRUE(value.contains("vr")) << key;
    }
  }
  EXPECT_GE(compared_files, 76);
  EXPECT_GT(compared_tags, 600);
}

TEST_F(CorpusTest, DecisionsForInvalidFiles) {
  std::map<std::string, Row> manifest;
  for (const Row& row : ReadManifest()) manifest[row.at("file")] = row;
  for (const auto& [name, decision] : Decisions()) {
    SCOPED_TRACE(name);
    const std::string bytes = ReadFile(CorpusDir() / "dicom" / name);
    absl::StatusOr<ParsedInstance> parsed = ParseInstance(bytes);
    if (decision.accept) {
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      const Row& row = manifest.at(name);
      EXPECT_EQ(parsed->transfer_syntax_uid, decision.message);
      EXPECT_EQ(parsed->study_uid, row.at("study_uid"));
      EXPECT_EQ(parsed->series_uid, row.at("series_uid"));
      EXPECT_EQ(parsed->sop_instance_uid, row.at("sop_instance_uid"));
      EXPECT_EQ(parsed->sop_class_uid, row.at("sop_class_uid"));
    } else {
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
      EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(decision.message));
    }
  }
}

TEST_F(CorpusTest, InvalidIsValueKeptAsString) {
  absl::StatusOr<ParsedInstance> parsed =
      ParseInstance(testing::CorpusFile("bad-invalid-is-value.dcm"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Json::parse(parsed->json).at("00280008"), Json::parse(R"({"vr":"IS","Value":["1A"]})"));
  EXPECT_EQ(parsed->number_of_frames, 1);
  EXPECT_TRUE(parsed->has_pixel_data);
}

}  // namespace
}  // namespace dicomstore::dicom
