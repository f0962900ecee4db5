// Differential tests of ParseInstance's fast path (raw_json_writer.h): on every input,
// the default path must give exactly what the DCMTK-only path gives (every field, the
// JSON text byte for byte, the same status on refusal), and the fast path must actually
// be taken for the common little-endian files.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dicom/instance_parser.h"
#include "gtest/gtest.h"
#include "unit/dicom/test_support.h"

namespace dicomstore::dicom {
namespace {

using ::dicomstore::dicom::testing::CorpusDir;
using ::dicomstore::dicom::testing::DatasetBuilder;
using ::dicomstore::dicom::testing::ReadFile;

// Compares both paths on `bytes`; returns whether the default path took the fast path.
bool ExpectSameAsDcmtk(std::string_view bytes, const std::string& label) {
  bool fast = false;
  const absl::StatusOr<ParsedInstance> a =
      ParseInstanceWith(bytes, ParseLimits(), ParsePath::kAuto, &fast);
  bool dcmtk_fast = true;
  const absl::StatusOr<ParsedInstance> b =
      ParseInstanceWith(bytes, ParseLimits(), ParsePath::kDcmtkOnly, &dcmtk_fast);
  EXPECT_FALSE(dcmtk_fast) << label;
  EXPECT_EQ(a.status(), b.status()) << label;
  if (!a.ok() || !b.ok()) {
    EXPECT_FALSE(fast) << label << ": a refusal must come from the DCMTK path";
    return fast;
  }
  const ParsedInstance& x = *a;
  const ParsedInstance& y = *b;
  EXPECT_EQ(x.study_uid, y.study_uid) << label;
  EXPECT_EQ(x.series_uid, y.series_uid) << label;
  EXPECT_EQ(x.sop_instance_uid, y.sop_instance_uid) << label;
  EXPECT_EQ(x.sop_class_uid, y.sop_class_uid) << label;
  EXPECT_EQ(x.transfer_syntax_uid, y.transfer_syntax_uid) << label;
  EXPECT_EQ(x.patient_name, y.patient_name) << label;
  EXPECT_EQ(x.patient_id, y.patient_id) << label;
  EXPECT_EQ(x.accession_number, y.accession_number) << label;
  EXPECT_EQ(x.referring_physician_name, y.referring_physician_name) << label;
  EXPECT_EQ(x.study_date, y.study_date) << label;
  EXPECT_EQ(x.study_time, y.study_time) << label;
  EXPECT_EQ(x.study_id, y.study_id) << label;
  EXPECT_EQ(x.study_description, y.study_description) << label;
  EXPECT_EQ(x.modality, y.modality) << label;
  EXPECT_EQ(x.series_description, y.series_description) << label;
  EXPECT_EQ(x.series_number, y.series_number) << label;
  EXPECT_EQ(x.instance_number, y.instance_number) << label;
  EXPECT_EQ(x.number_of_frames, y.number_of_frames) << label;
  EXPECT_EQ(x.rows, y.rows) << label;
  EXPECT_EQ(x.columns, y.columns) << label;
  EXPECT_EQ(x.bits_allocated, y.bits_allocated) << label;
  EXPECT_EQ(x.has_pixel_data, y.has_pixel_data) << label;
  if (x.json != y.json) {
    const auto [i, j] = std::mismatch(x.json.begin(), x.json.end(), y.json.begin(), y.json.end());
    const size_t at = static_cast<size_t>(i - x.json.begin());
    const size_t from = at < 80 ? 0 : at - 80;
    ADD_FAILURE() << label << ": JSON differs at byte " << at
                  << "\n fast:  " << x.json.substr(from, 200)
                  << "\n dcmtk: " << y.json.substr(from, 200);
  }
  return fast;
}

std::vector<std::filesystem::path> CorpusFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir() / "dicom")) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(FastPathTest, EveryCorpusFileGivesTheDcmtkResult) {
  const std::vector<std::filesystem::path> files = CorpusFiles();
  ASSERT_GT(files.size(), 80u) << CorpusDir();
  std::set<std::string> fast;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    if (ExpectSameAsDcmtk(ReadFile(path), name)) fast.insert(name);
  }
  // Every file takes the fast path except these, each for a reason of the contract
  // (raw_json_writer.h); a change to this list is a change of coverage.
  const std::set<std::string> expected_fallback = {
      // Refused (the fast path never refuses; DCMTK decides).
      "bad-empty-file.dcm", "bad-gzip-wrapped-mr.dcm.gz", "bad-meta-missing-tsuid.dcm",
      "bad-no-dataset-uids-un-sequence.dcm", "bad-private-sq-no-uids.dcm",
      "bad-truncated-pixeldata.dcm", "bad-ts-mismatch.dcm", "dicomdir.dcm",
      "meta-no-group-length.dcm", "nonpatient-color-palette.dcm",
      "raw-ct-small-no-meta-misaligned.dcm",
      // Big endian; deflated.
      "ts-ct-explicit-be.dcm", "ts-mr-explicit-be.dcm", "ts-us-rgb-explicit-be.dcm",
      "ts-sc-deflated.dcm",
      // Implicit VR with "US or SS" dictionary VRs (e.g. (0028,0106)).
      "ct-sc-ankle-implicit.dcm", "mr-implicit-nibabel.dcm", "mr-siemens-mosaic-dwi.dcm",
      "ts-ct-implicit-le.dcm", "ts-mr-implicit-le.dcm",
      // UN on standard tags (re-read with the dictionary VR).
      "rt-struct.dcm", "vr-un-standard-tags-rtdose-rle.dcm",
      // An odd-length private creator.
      "ct-j2k-pixelrep-mismatch-jp-charset.dcm"};
  std::set<std::string> fallback;
  for (const auto& path : files) {
    if (!fast.contains(path.filename().string())) fallback.insert(path.filename().string());
  }
  EXPECT_EQ(fallback, expected_fallback);
  std::string list;
  for (const std::string& name : fast) list += name + " ";
  std::cout << "[ fast path ] " << fast.size() << " of " << files.size()
            << " corpus files: " << list << "\n";
}

// Deterministic random damage to real files: byte changes (concentrated on the first 4 KiB
// where most element headers are, anywhere, and on the last bytes), truncations,
// insertions and deletions. Whatever the
// damage, the result must be DCMTK's.
TEST(FastPathTest, MutatedFilesGiveTheDcmtkResult) {
  std::vector<std::string> seeds;
  for (const char* name : {"ts-ct-explicit-le.dcm", "ts-ct-implicit-le.dcm", "ct-small.dcm",
                           "ts-mr-explicit-le.dcm", "sr-comprehensive.dcm", "cs-jp-ir87.dcm",
                           "rt-plan-implicit.dcm", "ts-ct-jpeg-baseline-50.dcm"}) {
    const std::filesystem::path path = CorpusDir() / "dicom" / name;
    if (std::filesystem::exists(path)) seeds.push_back(ReadFile(path));
  }
  ASSERT_FALSE(seeds.empty());
  std::mt19937 rng(20261130);
  // $DICOMSTORE_FAST_PATH_MUTANTS: more rounds per seed file for a longer run by hand.
  const char* rounds_env = std::getenv("DICOMSTORE_FAST_PATH_MUTANTS");
  const int rounds = rounds_env != nullptr ? std::atoi(rounds_env) : 300;
  int fast = 0;
  int total = 0;
  for (size_t s = 0; s < seeds.size(); ++s) {
    const std::string& seed = seeds[s];
    // Only the part before the pixel data changes the JSON; keep mutations mostly there.
    const size_t head = std::min<size_t>(seed.size(), 4096);
    for (int round = 0; round < rounds; ++round) {
      std::string bytes = seed;
      const int kind = static_cast<int>(rng() % 7);
      const int count = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < count; ++k) {
        // Kinds 0-4 damage the head, 5 anywhere, 6 the last bytes (the tail after the
        // pixel data: trailing padding).
        const size_t at = kind == 5 ? rng() % bytes.size()
                          : kind == 6
                              ? bytes.size() - 1 - rng() % std::min<size_t>(bytes.size(), 160)
                              : rng() % head;
        switch (kind) {
          case 0:
          case 5:
          case 6:
            bytes[at] = static_cast<char>(rng());
            break;
          case 1: {  // characters that matter to string values and VR fields
            static constexpr char kChars[] = {' ', '\0', '\\', '^', '=', '\t', 'A',    'Z',
                                              'O', 'B',  'U',  'N', 'S', 'Q',  '\x1b', '\xe9'};
            bytes[at] = kChars[rng() % sizeof kChars];
            break;
          }
          case 2:
            bytes.resize(std::min(bytes.size(), at + 132));
            break;
          case 3:
            bytes.insert(at, 1 + rng() % 4, static_cast<char>(rng()));
            break;
          case 4:
            bytes.erase(std::min(bytes.size(), at), 1 + rng() % 4);
            break;
        }
      }
      ++total;
      if (ExpectSameAsDcmtk(bytes,
                            "seed " + std::to_string(s) + " round " + std::to_string(round))) {
        ++fast;
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
  // Many mutants keep a structure the fast path handles (so the comparison means
  // something); many others fall back.
  EXPECT_GT(fast, total / 10);
  EXPECT_LT(fast, total);
  std::cout << "[ fast path ] " << fast << " of " << total << " mutants\n";
}

std::string Le16(uint16_t v) {
  return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}
std::string Le32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Le64(uint64_t v) {
  return Le32(static_cast<uint32_t>(v)) + Le32(static_cast<uint32_t>(v >> 32));
}

// Every VR, odd and even lengths, padding, white space in UIDs, item character sets,
// private creators: hand-built datasets in both little-endian encodings.
TEST(FastPathTest, HandBuiltDatasetsGiveTheDcmtkResult) {
  struct Case {
    std::string name;
    std::string dataset;  // explicit VR LE
  };
  std::vector<Case> cases;
  const auto add = [&](std::string name, const DatasetBuilder& b) {
    cases.push_back({std::move(name), b.bytes()});
  };
  {
    DatasetBuilder b;
    b.String(0x0008, 0x0005, "CS", "ISO_IR 100");
    b.String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
    b.String(0x0008, 0x0018, "UI", "1.2.3.4.5.6");
    b.String(0x0008, 0x0020, "DA", "20240102").String(0x0008, 0x0030, "TM", "101010.5 ");
    b.Element(0x0008, 0x0050, "SH", std::string("ACC\0\0 ", 6));
    b.String(0x0008, 0x0060, "CS", " CT").String(0x0008, 0x0090, "PN", "Dr\xe9^Who");
    b.Element(0x0008, 0x0201, "SH", "+0100 ");
    b.String(0x0008, 0x1030, "LO", "Study\\two\\ ").String(0x0008, 0x103E, "LO", "");
    b.String(0x0010, 0x0010, "PN", "Doe^John=D^J").String(0x0010, 0x0020, "LO", " ID ");
    b.String(0x0010, 0x1010, "AS", "042Y").String(0x0018, 0x0050, "DS", " 1.5\\2e3\\x");
    b.String(0x0018, 0x1030, "LO", "proto").String(0x0018, 0x9004, "CS", "RESEARCH");
    b.String(0x0020, 0x000D, "UI", "1.2.3.4").String(0x0020, 0x000E, "UI", "1.2.3.4.5");
    b.String(0x0020, 0x0010, "SH", "S1").String(0x0020, 0x0011, "IS", " 7 ");
    b.String(0x0020, 0x0013, "IS", "1A").String(0x0020, 0x4000, "LT", "line\\one\r\nline two");
    b.Element(0x0028, 0x0008, "IS", "3 ").Us(0x0028, 0x0010, 16).Us(0x0028, 0x0011, 16);
    b.Element(0x0028, 0x0100, "US", Le16(16) + Le16(8));
    b.Element(0x0028, 0x0106, "SS", Le16(0xFFFF)).String(0x0028, 0x1052, "DS", "-1024");
    b.Element(0x0040, 0xA120, "DT", "20240102101010").Element(0x0040, 0xA132, "UL", Le32(7));
    b.Element(0x0040, 0xA160, "UT", std::string("text \0", 6));
    b.Element(0x0040, 0xA161, "FL", Le32(0x7F800000) + Le32(0x3FC00000));
    b.Element(0x0040, 0xA162, "SL", Le32(0xFFFFFFFE));
    b.Element(0x0040, 0xA163, "AT", Le16(0x0010) + Le16(0x0020));
    b.Element(0x0040, 0xA164, "SV", Le64(~0ull)).Element(0x0040, 0xA165, "UV", Le64(~0ull));
    b.Element(0x0040, 0xA166, "OD", Le64(1)).Element(0x0040, 0xA167, "OF", Le32(1));
    b.Element(0x0040, 0xA168, "OL", Le32(1)).Element(0x0040, 0xA169, "OV", Le64(1));
    b.Element(0x0040, 0xA16A, "UC", "uc\\value  ").Element(0x0040, 0xA16B, "UR", "http://x/ ");
    b.Element(0x0040, 0xA16C, "OB", "abc").Element(0x0040, 0xA16D, "OW", "");
    b.Element(0x0040, 0xA16E, "AE", " AET  ").Element(0x0040, 0xA16F, "ST", "");
    b.Element(0x0040, 0xA30A, "FD", Le64(0x7FF8000000000000ull) + Le64(0x3FF8000000000000ull));
    add("every VR", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0020, 0x0052, "UI", std::string("1.2. 3\0", 8));
    add("UI with white space", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0028, 0x0010, "LO", "Odd");
    add("odd string length", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0028, 0x0010, "US", "123");
    add("odd US length", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0028, 0x0030, "DS", "1\\1").Element(0x0028, 0x0030, "DS", "2\\2");
    add("duplicate tag", b);
  }
  {
    DatasetBuilder b;
    b.String(0x0008, 0x0018, "UI", "1.2.3.4.5.6").String(0x0008, 0x0016, "UI", "1.2.3");
    b.String(0x0020, 0x000D, "UI", "1.2.3.4").String(0x0020, 0x000E, "UI", "1.2.3.4.5");
    add("out of order", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0020, 0x0060, "UN", "L ");
    add("UN on a standard tag", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0021, 0x0010, "LO", "ACME 1.0").Element(0x0021, 0x1001, "UN", "1\\2 ");
    b.Element(0x0021, 0x1002, "UN", "").Element(0x0021, 0x1003, "DS", "3.25");
    add("private UN", b);
  }
  {
    DatasetBuilder b;
    b.String(0x0008, 0x0005, "CS", "ISO_IR 100").Identity();
    b.BeginSequence(0x0040, 0x0275).BeginItem();
    b.String(0x0008, 0x0005, "CS", "ISO 2022 IR 87");
    b.BeginSequence(0x0008, 0x1032).BeginItem().String(0x0008, 0x0104, "LO", "\xe9t\xe9");
    b.EndItem().BeginItem().EndItem().EndSequence();
    b.String(0x0010, 0x0010, "PN", "\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B");
    b.EndItem().BeginItem().String(0x0008, 0x0104, "LO", "caf\xe9").EndItem().EndSequence();
    b.BeginSequence(0x0040, 0x0280).EndSequence();
    b.BeginSequence(0x0088, 0x0200).BeginItem().Us(0x0028, 0x0010, 2);
    b.Element(0x7FE0, 0x0010, "OW", "abcd").EndItem().EndSequence();
    add("sequences and item character sets", b);
  }
  {
    DatasetBuilder b;
    b.Identity();
    // Defined-length sequence and items.
    DatasetBuilder item;
    item.String(0x0008, 0x0100, "SH", "121").String(0x0008, 0x0102, "SH", "DCM");
    std::string items = Le16(0xFFFE) + Le16(0xE000) +
                        Le32(static_cast<uint32_t>(item.bytes().size())) + item.bytes() +
                        Le16(0xFFFE) + Le16(0xE000) + Le32(0);
    b.Element(0x0040, 0xA043, "SQ", items);
    add("defined-length sequence", b);
  }
  {
    DatasetBuilder b;
    b.Identity().Element(0x0028, 0x0010, "US", Le16(1)).Element(0x0028, 0x0000, "UL", Le32(4));
    add("group length after other elements", b);
  }
  {
    DatasetBuilder b;
    b.Element(0x0008, 0x0000, "UL", Le32(10)).Identity();
    b.Element(0x0028, 0x0000, "UL", Le32(10)).Us(0x0028, 0x0010, 1);
    add("group lengths", b);
  }
  for (const Case& c : cases) {
    for (const bool part10 : {true, false}) {
      const std::string bytes = part10 ? DatasetBuilder::Part10(c.dataset) : c.dataset;
      ExpectSameAsDcmtk(bytes, c.name + (part10 ? " (Part 10)" : " (raw)"));
    }
    // With pixel data at the end, and with an element after it (the "tail").
    DatasetBuilder pixels;
    pixels.Element(0x7FE0, 0x0010, "OW", "abcd");
    ExpectSameAsDcmtk(DatasetBuilder::Part10(c.dataset + pixels.bytes()), c.name + " + pixels");
    DatasetBuilder trailer;
    trailer.Element(0xFFFC, 0xFFFC, "OB", "pp");
    ExpectSameAsDcmtk(DatasetBuilder::Part10(c.dataset + pixels.bytes() + trailer.bytes()),
                      c.name + " + pixels + padding");
  }
  EXPECT_TRUE(ExpectSameAsDcmtk(DatasetBuilder::Part10(cases[0].dataset), cases[0].name));
}

// Implicit VR: dictionary VRs, private creators (known and unknown), ambiguous VRs.
TEST(FastPathTest, HandBuiltImplicitDatasetsGiveTheDcmtkResult) {
  using Mode = DatasetBuilder::Mode;
  std::vector<std::pair<std::string, std::string>> cases;
  {
    DatasetBuilder b(Mode::kImplicitLittle);
    b.String(0x0008, 0x0005, "CS", "ISO_IR 100");
    b.String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.4");
    b.String(0x0008, 0x0018, "UI", "1.2.3.4.5.6").String(0x0008, 0x0060, "CS", "MR");
    b.BeginSequence(0x0008, 0x1140).BeginItem().String(0x0008, 0x1150, "UI", "1.2.3");
    b.String(0x0009, 0x0010, "LO", "GEMS_IDEN_01").String(0x0009, 0x1001, "LO", "x");
    b.EndItem().EndSequence();
    b.String(0x0010, 0x0010, "PN", "M\xfcller^Hans");
    b.String(0x0019, 0x0010, "LO", "GEMS_ACQU_01").String(0x0019, 0x100F, "DS", "1.5");
    b.Element(0x0019, 0x1011, "SS", Le16(3)).String(0x0019, 0x1030, "DS", "2");
    b.String(0x0020, 0x000D, "UI", "1.2.3.4").String(0x0020, 0x000E, "UI", "1.2.3.4.5");
    b.Us(0x0028, 0x0010, 4).Us(0x0028, 0x0011, 4);
    b.String(0x0029, 0x0010, "LO", "UNKNOWN CREATOR").Element(0x0029, 0x1010, "OB", "xyzw");
    b.Element(0x0029, 0x1020, "OB", "");
    cases.emplace_back("implicit with private creators", b.bytes());
  }
  {
    DatasetBuilder b(Mode::kImplicitLittle);
    b.Identity().Us(0x0028, 0x0103, 1).Element(0x0028, 0x0106, "", Le16(0xFFFF));
    cases.emplace_back("implicit US or SS", b.bytes());
  }
  {
    DatasetBuilder b(Mode::kImplicitLittle);
    b.Identity().Element(0x0021, 0x0010, "", std::string(" LEAD\0", 6));
    b.Element(0x0021, 0x1001, "", "ab");
    cases.emplace_back("implicit odd creator", b.bytes());
  }
  {
    DatasetBuilder b(Mode::kImplicitLittle);
    b.Identity().Element(0x0020, 0x9999, "", "ab").Element(0x0021, 0x1001, "", "cd");
    cases.emplace_back("implicit unknown tags", b.bytes());
  }
  for (const auto& [name, dataset] : cases) {
    ExpectSameAsDcmtk(DatasetBuilder::Part10(dataset, "1.2.840.10008.1.2"), name);
    ExpectSameAsDcmtk(dataset, name + " (raw)");
  }
  EXPECT_TRUE(ExpectSameAsDcmtk(DatasetBuilder::Part10(cases[0].second, "1.2.840.10008.1.2"),
                                cases[0].first));
}

}  // namespace
}  // namespace dicomstore::dicom
