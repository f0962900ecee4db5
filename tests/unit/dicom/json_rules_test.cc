// DICOM JSON rules (dicom_json_writer.h), pixel data and tail handling, the ParsedInstance
// fields, DateToInt and NormalizePersonNameForMatch — on hand-built datasets.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/proto_json.h"
#include "dicom/instance_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "unit/dicom/test_support.h"

namespace dicomstore::dicom {
namespace {

using ::dicomstore::dicom::testing::DatasetBuilder;
using ::testing::HasSubstr;

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

// A defined-length item (tag, length, content).
std::string DefinedItem(const std::string& content) {
  return Le(0xFFFE, 2) + Le(0xE000, 2) + Le(content.size(), 4) + content;
}

class JsonRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitializeDicom().ok()); }

  // Parses Identity() + `ds` as an explicit VR LE Part 10 file.
  static ParsedInstance Parse(const DatasetBuilder& ds) {
    absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : ParsedInstance{};
  }
  static Json J(std::string_view text) { return Json::parse(text); }
  static DatasetBuilder Base() {
    DatasetBuilder ds;
    ds.Identity();
    return ds;
  }
};

TEST_F(JsonRulesTest, StringValuesAreSplitAndTrimmed) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0008, "CS", "ORIGINAL \\PRIMARY\\\\AXIAL");
  ds.Identity();
  ds.String(0x0008, 0x0020, "DA", "1999.05.24");
  ds.String(0x0008, 0x1030, "LO", "  lead\\trail  ");
  ds.Element(0x0008, 0x103E, "LO", "");
  ds.String(0x0010, 0x0020, "LO", "    ");
  ds.String(0x0010, 0x21B0, "LT", "line1\\line2  ");
  ds.String(0x0018, 0x0050, "DS", " 1.5\\2 \\-3e2");
  ds.String(0x0020, 0x0011, "IS", "+12");
  ds.String(0x0020, 0x0013, "IS", "1A");
  ds.String(0x0020, 0x0032, "DS", "abc\\1");
  const Json j = Json::parse(Parse(ds).json);
  EXPECT_EQ(j.at("00080008"), J(R"({"vr":"CS","Value":["ORIGINAL","PRIMARY",null,"AXIAL"]})"));
  EXPECT_EQ(j.at("00080018"), J(R"({"vr":"UI","Value":["1.2.3.4.5.6"]})"));  // NUL padding
  EXPECT_EQ(j.at("00080020"), J(R"({"vr":"DA","Value":["1999.05.24"]})"));
  EXPECT_EQ(j.at("00081030"), J(R"({"vr":"LO","Value":["  lead","trail"]})"));
  EXPECT_EQ(j.at("0008103E"), J(R"({"vr":"LO"})"));
  EXPECT_EQ(j.at("00100020"), J(R"({"vr":"LO"})"));
  EXPECT_EQ(j.at("001021B0"), J(R"({"vr":"LT","Value":["line1\\line2"]})"));
  EXPECT_EQ(j.at("00180050"), J(R"({"vr":"DS","Value":[1.5,2.0,-300.0]})"));
  EXPECT_EQ(j.at("00200011"), J(R"({"vr":"IS","Value":[12]})"));
  EXPECT_EQ(j.at("00200013"), J(R"({"vr":"IS","Value":["1A"]})"));
  EXPECT_EQ(j.at("00200032"), J(R"({"vr":"DS","Value":["abc",1.0]})"));
}

TEST_F(JsonRulesTest, PersonNameGroups) {
  DatasetBuilder ds = Base();
  ds.String(0x0008, 0x0090, "PN", "^^^^");
  ds.String(0x0010, 0x0010, "PN", "A^B=C^D=");
  ds.String(0x0010, 0x1001, "PN", "=C\\X^Y");
  const Json j = Json::parse(Parse(ds).json);
  EXPECT_EQ(j.at("00080090"), J(R"({"vr":"PN","Value":[{"Alphabetic":"^^^^"}]})"));
  EXPECT_EQ(j.at("00100010"),
            J(R"({"vr":"PN","Value":[{"Alphabetic":"A^B","Ideographic":"C^D"}]})"));
  EXPECT_EQ(j.at("00101001"),
            J(R"({"vr":"PN","Value":[{"Ideographic":"C"},{"Alphabetic":"X^Y"}]})"));
}

TEST_F(JsonRulesTest, BinaryValues) {
  DatasetBuilder ds = Base();
  ds.Element(0x0018, 0x1310, "US", Le(1, 2) + Le(65535, 2));
  ds.Element(0x0018, 0x9219, "SS", Le(0xFFFF, 2));
  ds.Element(0x0018, 0x9087, "FD", std::string("\0\0\0\0\0\0\xf8\x7f", 8));
  ds.Element(0x0018, 0x9089, "FD", Le(0x3FF8000000000000ull, 8));  // 1.5
  ds.Element(0x0018, 0x9180, "FL", Le(0x3FC00000, 4));             // 1.5f
  ds.Element(0x0020, 0x9165, "AT", Le(0x0010, 2) + Le(0x0020, 2));
  ds.Element(0x0028, 0x1050, "DS", "");
  ds.Element(0x0040, 0x9212, "FD", Le(0x7FF0000000000000ull, 8));  // +inf
  ds.Element(0x0066, 0x0016, "OF", Le(0x3F800000, 4));             // 1.0f
  ds.Element(0x0066, 0x0023, "OF", std::string(3000, '\0'));
  ds.Element(0x0066, 0x0040, "OL", std::string(8, '\x01'));
  ds.Element(0x0028, 0x3006, "US", std::string(513 * 2, '\0'));  // VM 513 -> bulk
  ds.Element(0x0042, 0x0011, "OB", "PDF!");
  ds.Element(0x0050, 0x0019, "OB", "");
  const Json j = Json::parse(Parse(ds).json);
  EXPECT_EQ(j.at("00181310"), J(R"({"vr":"US","Value":[1,65535]})"));
  EXPECT_EQ(j.at("00189219"), J(R"({"vr":"SS","Value":[-1]})"));
  EXPECT_EQ(j.at("00189087"), J(R"({"vr":"FD","Value":["NaN"]})"));
  EXPECT_EQ(j.at("00189089"), J(R"({"vr":"FD","Value":[1.5]})"));
  EXPECT_EQ(j.at("00189180"), J(R"({"vr":"FL","Value":[1.5]})"));
  EXPECT_EQ(j.at("00209165"), J(R"({"vr":"AT","Value":["00100020"]})"));
  EXPECT_EQ(j.at("00281050"), J(R"({"vr":"DS"})"));
  EXPECT_EQ(j.at("00409212"), J(R"({"vr":"FD","Value":["Infinity"]})"));
  EXPECT_EQ(j.at("00660016"), J(R"({"vr":"OF","InlineBinary":"AACAPw=="})"));
  EXPECT_EQ(j.at("00660023"), J(R"({"vr":"OF","BulkDataURI":"bulkdata/00660023"})"));
  EXPECT_EQ(j.at("00660040"), J(R"({"vr":"OL","InlineBinary":"AQEBAQEBAQE="})"));
  EXPECT_EQ(j.at("00283006"), J(R"({"vr":"US","BulkDataURI":"bulkdata/00283006"})"));
  EXPECT_EQ(j.at("00420011"), J(R"({"vr":"OB","BulkDataURI":"bulkdata/00420011"})"));
  EXPECT_EQ(j.at("00500019"), J(R"({"vr":"OB"})"));
}

TEST_F(JsonRulesTest, SequencesNestAndCarryTheBulkDataPath) {
  DatasetBuilder ds = Base();
  ds.BeginSequence(0x0040, 0xA730);
  ds.BeginItem().String(0x0040, 0xA160, "UT", "first").EndItem();
  ds.BeginItem().Element(0x0042, 0x0011, "OB", "DATA").EndItem();
  ds.EndSequence();
  ds.BeginSequence(0x0040, 0xA731).EndSequence();
  const Json j = Json::parse(Parse(ds).json);
  EXPECT_EQ(j.at("0040A730"), J(R"({"vr":"SQ","Value":[
      {"0040A160":{"vr":"UT","Value":["first"]}},
      {"00420011":{"vr":"OB","BulkDataURI":"bulkdata/0040A730/1/00420011"}}]})"));
  EXPECT_EQ(j.at("0040A731"), J(R"({"vr":"SQ"})"));
}

TEST_F(JsonRulesTest, UnknownVrOnStandardTagsUsesTheDictionaryVr) {
  DatasetBuilder inner(DatasetBuilder::Mode::kImplicitLittle);
  inner.String(0x0040, 0xA160, "UT", "x");
  DatasetBuilder ds = Base();
  ds.String(0x0008, 0x0050, "UN", "");
  ds.Element(0x0009, 0x1010, "UN", "ab");  // private: stays UN
  ds.Element(0x0010, 0x0010, "UN", "Doe^John");
  ds.Element(0x0028, 0x0010, "UN", Le(512, 2));
  ds.Element(0x0018, 0x9087, "UN", "abcd");  // 4 bytes cannot be FD: stays UN
  ds.Element(0x0040, 0xA730, "UN", DefinedItem(inner.bytes()));
  const ParsedInstance p = Parse(ds);
  const Json j = Json::parse(p.json);
  EXPECT_EQ(j.at("00080050"), J(R"({"vr":"SH"})"));
  EXPECT_EQ(j.at("00091010"), J(R"({"vr":"UN","BulkDataURI":"bulkdata/00091010"})"));
  EXPECT_EQ(j.at("00100010"), J(R"({"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]})"));
  EXPECT_EQ(j.at("00280010"), J(R"({"vr":"US","Value":[512]})"));
  EXPECT_EQ(j.at("00189087"), J(R"({"vr":"UN","BulkDataURI":"bulkdata/00189087"})"));
  EXPECT_EQ(j.at("0040A730"), J(R"({"vr":"SQ","Value":[{"0040A160":{"vr":"UT","Value":["x"]}}]})"));
  EXPECT_EQ(p.patient_name, "Doe^John");
  EXPECT_EQ(p.rows, 512);
}

TEST_F(JsonRulesTest, ItemCharacterSetOverridesTheDatasetOne) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0005, "CS", "ISO_IR 192");
  ds.Identity();
  ds.String(0x0008, 0x1030, "LO", "caf\xc3\xa9");
  ds.BeginSequence(0x0040, 0xA730).BeginItem();
  ds.String(0x0008, 0x0005, "CS", "ISO_IR 100");
  ds.String(0x0040, 0xA160, "UT", "caf\xe9");
  ds.EndItem().EndSequence();
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(J(p.json).at("00080005"), J(R"({"vr":"CS","Value":["ISO_IR 192"]})"));
  EXPECT_EQ(J(p.json).at("00081030"), J(R"({"vr":"LO","Value":["café"]})"));
  EXPECT_EQ(J(p.json).at("0040A730")["Value"][0].at("0040A160"),
            J(R"({"vr":"UT","Value":["café"]})"));
  EXPECT_EQ(p.study_description, "café");
}

TEST_F(JsonRulesTest, GroupLengthsAreLeftOut) {
  DatasetBuilder ds;
  ds.Element(0x0008, 0x0000, "UL", Le(100, 4));
  ds.Identity();
  const Json j = Json::parse(Parse(ds).json);
  EXPECT_FALSE(j.contains("00080000"));
  EXPECT_TRUE(j.contains("00080016"));
}

TEST_F(JsonRulesTest, NativePixelDataAndWhatFollowsIt) {
  DatasetBuilder ds = Base();
  ds.Us(0x0028, 0x0010, 2).Us(0x0028, 0x0011, 2).Us(0x0028, 0x0100, 16);
  ds.Element(0x7FE0, 0x0010, "OW", std::string(8, '\x7f'));
  ds.Element(0xFFFC, 0xFFFC, "OB", std::string(4, '\0'));
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(J(p.json).at("7FE00010"), J(R"({"vr":"OW","BulkDataURI":"bulkdata/7FE00010"})"));
  EXPECT_EQ(J(p.json).at("FFFCFFFC"), J(R"({"vr":"OB","BulkDataURI":"bulkdata/FFFCFFFC"})"));
  EXPECT_TRUE(p.has_pixel_data);
  EXPECT_EQ(p.number_of_frames, 1);
  EXPECT_EQ(p.rows, 2);
  EXPECT_EQ(p.columns, 2);
  EXPECT_EQ(p.bits_allocated, 16);
  EXPECT_EQ(J(p.json).back(), J(p.json).at("FFFCFFFC"));
}

TEST_F(JsonRulesTest, GarbageAfterPixelDataIsIgnored) {
  DatasetBuilder ds = Base();
  ds.Element(0x7FE0, 0x0010, "OW", std::string(8, '\x7f'));
  ds.Raw("\x01\x02\x03");
  const ParsedInstance p = Parse(ds);
  EXPECT_TRUE(p.has_pixel_data);
  EXPECT_EQ(J(p.json).back(), J(p.json).at("7FE00010"));
}

TEST_F(JsonRulesTest, ElementsAfterPixelDataCannotReplaceEarlierOnes) {
  DatasetBuilder ds = Base();
  ds.Element(0x7FE0, 0x0010, "OW", std::string(8, '\x7f'));
  ds.String(0x0020, 0x000D, "UI", "9.9.9");  // out of order, after the pixel data
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(p.study_uid, "1.2.3.4");
  EXPECT_EQ(J(p.json).at("0020000D"), J(R"({"vr":"UI","Value":["1.2.3.4"]})"));
  std::string previous;
  const Json j = J(p.json);
  for (const auto& [key, value] : j.items()) {
    EXPECT_LT(previous, key);
    previous = key;
  }
}

TEST_F(JsonRulesTest, ElementsAfterPixelDataAreSortedIntoPlace) {
  DatasetBuilder ds = Base();
  ds.Us(0x0028, 0x0011, 3);
  ds.Element(0x7FE0, 0x0010, "OW", std::string(8, '\x7f'));
  ds.Us(0x0028, 0x0010, 7);  // out of order, after the pixel data
  ds.Element(0xFFFC, 0xFFFC, "OB", std::string(4, '\0'));
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(p.rows, 7);
  EXPECT_EQ(p.columns, 3);
  EXPECT_EQ(p.json, R"({"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]},)"
                    R"("00080018":{"vr":"UI","Value":["1.2.3.4.5.6"]},)"
                    R"("0020000D":{"vr":"UI","Value":["1.2.3.4"]},)"
                    R"("0020000E":{"vr":"UI","Value":["1.2.3.4.5"]},)"
                    R"("00280010":{"vr":"US","Value":[7]},)"
                    R"("00280011":{"vr":"US","Value":[3]},)"
                    R"("7FE00010":{"vr":"OW","BulkDataURI":"bulkdata/7FE00010"},)"
                    R"("FFFCFFFC":{"vr":"OB","BulkDataURI":"bulkdata/FFFCFFFC"}})");
}

TEST_F(JsonRulesTest, TruncatedPixelDataIsRefused) {
  DatasetBuilder ds = Base();
  ds.Element(0x7FE0, 0x0010, "OW", std::string(10, '\x7f'), 100);
  absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated element (7FE0,0010)"));
}

TEST_F(JsonRulesTest, EncapsulatedPixelData) {
  DatasetBuilder ds = Base();
  ds.String(0x0028, 0x0008, "IS", "3");
  ds.BeginSequence(0x7FE0, 0x0010, "OB");
  ds.Raw(DefinedItem("") + DefinedItem("abcd") + DefinedItem("ef"));
  ds.EndSequence();
  absl::StatusOr<ParsedInstance> r =
      ParseInstance(DatasetBuilder::Part10(ds.bytes(), "1.2.840.10008.1.2.4.50"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(J(r->json).at("7FE00010"), J(R"({"vr":"OB","BulkDataURI":"bulkdata/7FE00010"})"));
  EXPECT_EQ(r->number_of_frames, 3);
  EXPECT_EQ(r->transfer_syntax_uid, "1.2.840.10008.1.2.4.50");

  // Without the sequence delimiter the fragments run off the end: refused.
  DatasetBuilder cut = Base();
  cut.BeginSequence(0x7FE0, 0x0010, "OB").Raw(DefinedItem("") + DefinedItem("abcd"));
  EXPECT_FALSE(ParseInstance(DatasetBuilder::Part10(cut.bytes(), "1.2.840.10008.1.2.4.50")).ok());
}

TEST_F(JsonRulesTest, RawImplicitDatasetIsAccepted) {
  DatasetBuilder ds(DatasetBuilder::Mode::kImplicitLittle);
  ds.Identity();
  ds.String(0x0010, 0x0010, "PN", "Raw^Dataset");
  absl::StatusOr<ParsedInstance> r = ParseInstance(ds.bytes());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->transfer_syntax_uid, "1.2.840.10008.1.2");
  EXPECT_EQ(r->patient_name, "Raw^Dataset");
  EXPECT_EQ(J(r->json).at("00100010"), J(R"({"vr":"PN","Value":[{"Alphabetic":"Raw^Dataset"}]})"));
}

TEST_F(JsonRulesTest, MissingUidsAreNamed) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
  ds.String(0x0008, 0x0018, "UI", "1.2.3");
  ds.String(0x0020, 0x000D, "UI", "");
  absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "missing StudyInstanceUID, SeriesInstanceUID");
}

TEST_F(JsonRulesTest, QidoKeys) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0005, "CS", "ISO_IR 192");
  ds.Identity();
  ds.String(0x0008, 0x0020, "DA", "20240131");
  ds.String(0x0008, 0x0030, "TM", "101500.25");
  ds.String(0x0008, 0x0050, "SH", "ACC-1 ");
  ds.String(0x0008, 0x0060, "CS", "MR");
  ds.String(0x0008, 0x0090, "PN", "Ref^Doc");
  ds.String(0x0008, 0x1030, "LO", "Brain \\ with contrast");
  ds.String(0x0008, 0x103E, "LO", "T1");
  ds.String(0x0010, 0x0010, "PN", "Doe^John=\xe3\x83\x89^\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3");
  ds.String(0x0010, 0x0020, "LO", "PID-7");
  ds.String(0x0020, 0x0010, "SH", "S-1");
  ds.String(0x0020, 0x0011, "IS", " 3");
  ds.String(0x0020, 0x0013, "IS", "x");
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(p.study_uid, "1.2.3.4");
  EXPECT_EQ(p.series_uid, "1.2.3.4.5");
  EXPECT_EQ(p.sop_instance_uid, "1.2.3.4.5.6");
  EXPECT_EQ(p.sop_class_uid, "1.2.840.10008.5.1.4.1.1.7");
  EXPECT_EQ(p.transfer_syntax_uid, "1.2.840.10008.1.2.1");
  EXPECT_EQ(p.patient_name, "Doe^John=ド^ジョン");
  EXPECT_EQ(p.patient_id, "PID-7");
  EXPECT_EQ(p.accession_number, "ACC-1");
  EXPECT_EQ(p.referring_physician_name, "Ref^Doc");
  EXPECT_EQ(p.study_date, "20240131");
  EXPECT_EQ(p.study_time, "101500.25");
  EXPECT_EQ(p.study_id, "S-1");
  EXPECT_EQ(p.study_description, "Brain \\ with contrast");
  EXPECT_EQ(p.modality, "MR");
  EXPECT_EQ(p.series_description, "T1");
  EXPECT_EQ(p.series_number, 3);
  EXPECT_EQ(p.instance_number, 0);
  EXPECT_FALSE(p.has_pixel_data);
  EXPECT_EQ(p.number_of_frames, 0);
}

TEST_F(JsonRulesTest, TextIsCompactAndExact) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0005, "CS", "ISO_IR 192");
  ds.String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
  ds.String(0x0008, 0x0018, "UI", "1.2.3.4.5.6");
  ds.Element(0x0008, 0x0050, "SH", "");
  ds.String(0x0008, 0x1030, "LO", "caf\xc3\xa9 \"q\"");
  ds.String(0x0010, 0x21B0, "LT", "a\\b\x01\tc");
  ds.String(0x0018, 0x0050, "DS", "2\\-0\\1e20\\.5");
  ds.Element(0x0018, 0x9087, "FD", Le(0x7FF8000000000000ull, 8) + Le(0xFFF0000000000000ull, 8));
  ds.Element(0x0018, 0x9219, "SS", Le(0x8000, 2));
  ds.String(0x0020, 0x000D, "UI", "1.2.3.4");
  ds.String(0x0020, 0x000E, "UI", "1.2.3.4.5");
  ds.String(0x0020, 0x0013, "IS", "9223372036854775807\\-9223372036854775808\\9223372036854775808");
  ds.Element(0x0020, 0x9057, "UL", Le(0xFFFFFFFF, 4));
  ds.Element(0x0028, 0x0008, "IS", "");
  ds.BeginSequence(0x0040, 0xA730);
  ds.BeginItem().String(0x0040, 0xA160, "UT", "x");
  ds.BeginSequence(0x0040, 0xA730);
  ds.BeginItem().Element(0x0042, 0x0011, "OB", "DATA").EndItem();
  ds.EndSequence().EndItem();
  ds.BeginItem().EndItem();
  ds.EndSequence();
  ds.BeginSequence(0x0040, 0xA731).EndSequence();
  const std::string expected =
      R"({"00080005":{"vr":"CS","Value":["ISO_IR 192"]},)"
      R"("00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]},)"
      R"("00080018":{"vr":"UI","Value":["1.2.3.4.5.6"]},)"
      R"("00080050":{"vr":"SH"},)"
      R"("00081030":{"vr":"LO","Value":["café \"q\""]},)"
      R"("001021B0":{"vr":"LT","Value":["a\\b\u0001\tc"]},)"
      R"("00180050":{"vr":"DS","Value":[2.0,-0.0,1e+20,0.5]},)"
      R"("00189087":{"vr":"FD","Value":["NaN","-Infinity"]},)"
      R"("00189219":{"vr":"SS","Value":[-32768]},)"
      R"("0020000D":{"vr":"UI","Value":["1.2.3.4"]},)"
      R"("0020000E":{"vr":"UI","Value":["1.2.3.4.5"]},)"
      R"("00200013":{"vr":"IS","Value":)"
      R"([9223372036854775807,-9223372036854775808,"9223372036854775808"]},)"
      R"("00209057":{"vr":"UL","Value":[4294967295]},)"
      R"("00280008":{"vr":"IS"},)"
      R"("0040A730":{"vr":"SQ","Value":[{"0040A160":{"vr":"UT","Value":["x"]},)"
      R"("0040A730":{"vr":"SQ","Value":[{"00420011":{"vr":"OB",)"
      R"("BulkDataURI":"bulkdata/0040A730/0/0040A730/0/00420011"}}]}},{}]},)"
      R"("0040A731":{"vr":"SQ"}})";
  const ParsedInstance p = Parse(ds);
  EXPECT_EQ(p.json, expected);
  // The text nlohmann would have written for the same document.
  EXPECT_EQ(J(p.json).dump(), expected);
  EXPECT_EQ(p.instance_number, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(p.number_of_frames, 0);
}

TEST_F(JsonRulesTest, InvalidUtf8InTextBecomesReplacementCharacters) {
  DatasetBuilder ds;
  ds.String(0x0008, 0x0005, "CS", "ISO_IR 192");
  ds.Identity();
  ds.String(0x0008, 0x1030, "LO", "a\xff\xc3");
  ds.String(0x0010, 0x0010, "PN", "\xe2\x82^x");
  const ParsedInstance p = Parse(ds);
  const Json j = J(p.json);  // the strict parser refuses invalid UTF-8
  EXPECT_EQ(j.at("00081030"), J(R"({"vr":"LO","Value":["a\ufffd\ufffd"]})"));
  EXPECT_EQ(j.at("00100010"), J(R"({"vr":"PN","Value":[{"Alphabetic":"\ufffd^x"}]})"));
}

TEST(DateToIntTest, ValidAndInvalidDates) {
  EXPECT_EQ(DateToInt("20240131"), 20240131);
  EXPECT_EQ(DateToInt("2024.01.31"), 20240131);
  EXPECT_EQ(DateToInt("20240131 "), 20240131);
  EXPECT_EQ(DateToInt("20240229"), 20240229);
  EXPECT_EQ(DateToInt("18000101"), 18000101);
  EXPECT_EQ(DateToInt("20230229"), 0);
  EXPECT_EQ(DateToInt("19000229"), 0);
  EXPECT_EQ(DateToInt("20000229"), 20000229);
  EXPECT_EQ(DateToInt("20241301"), 0);
  EXPECT_EQ(DateToInt("20240100"), 0);
  EXPECT_EQ(DateToInt("00000101"), 0);
  EXPECT_EQ(DateToInt("2024013"), 0);
  EXPECT_EQ(DateToInt("2024-01-31"), 0);
  EXPECT_EQ(DateToInt("abcdefgh"), 0);
  EXPECT_EQ(DateToInt(""), 0);
}

TEST(NormalizePersonNameForMatchTest, WordsUpperCasedAndSeparated) {
  EXPECT_EQ(NormalizePersonNameForMatch("John^Doe"), "JOHN DOE");
  EXPECT_EQ(NormalizePersonNameForMatch("Doe^John^^Dr.=ドウ^ジョン"), "DOE JOHN DR. ドウ ジョン");
  EXPECT_EQ(NormalizePersonNameForMatch("  müller   maría "), "MÜLLER MARÍA");
  EXPECT_EQ(NormalizePersonNameForMatch("Wang^XiaoDong=王^小東="), "WANG XIAODONG 王 小東");
  EXPECT_EQ(NormalizePersonNameForMatch("^^^^"), "");
  EXPECT_EQ(NormalizePersonNameForMatch(""), "");
}

}  // namespace
}  // namespace dicomstore::dicom
