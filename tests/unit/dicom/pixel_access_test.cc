// Pixel access (WADO-RS transcoding, frames, rendering, bulk data) on real corpus files.
// Results are checked by re-parsing with DCMTK and against native "twins" of lossless files.
#include "dicom/pixel_access.h"

#include <png.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dicom/instance_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "unit/dicom/test_support.h"

namespace dicomstore::dicom {
namespace {

using ::dicomstore::dicom::testing::CorpusDir;
using ::dicomstore::dicom::testing::CorpusFile;
using ::dicomstore::dicom::testing::DatasetBuilder;

constexpr std::string_view kJpegBaseline = "1.2.840.10008.1.2.4.50";
constexpr std::string_view kDeflated = "1.2.840.10008.1.2.1.99";

struct ManifestRow {
  std::string file, ts;
  int64_t frames = 0, rows = 0, cols = 0, bits = 0;
};

std::vector<ManifestRow> Manifest() {
  auto num = [](const std::string& s) -> int64_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return 0;
    return std::stoll(s);
  };
  std::vector<ManifestRow> rows;
  for (auto& m : testing::ReadManifest()) {
    rows.push_back({m["file"], m["transfer_syntax_uid"], num(m["frames"]), num(m["rows"]),
                    num(m["cols"]), num(m["bits_allocated"])});
  }
  return rows;
}

// Corpus images the transcoding sweep covers: ts-/mf-/ct-/mr- files with pixel data.
std::vector<ManifestRow> PixelFiles() {
  std::vector<ManifestRow> out;
  for (const ManifestRow& r : Manifest()) {
    const bool prefix = r.file.rfind("ts-", 0) == 0 || r.file.rfind("mf-", 0) == 0 ||
                        r.file.rfind("ct-", 0) == 0 || r.file.rfind("mr-", 0) == 0;
    if (prefix && r.frames > 0 && r.rows > 0) out.push_back(r);
  }
  return out;
}

// DCMTK view of a Part 10 byte string (the test's independent reader).
struct Parsed {
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset* ds = nullptr;
  std::string ts;

  std::string String(const DcmTagKey& key) const {
    OFString v;
    ds->findAndGetOFStringArray(key, v);
    return v.c_str();
  }
  int U16(const DcmTagKey& key) const {
    Uint16 v = 0;
    ds->findAndGetUint16(key, v);
    return v;
  }
  int64_t Frames() const {
    Sint32 v = 0;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, v).bad() || v < 1) return 1;
    return v;
  }
  // Native pixel data bytes (PixelData, or Float Pixel Data), little endian.
  std::string Pixels() const {
    DcmElement* e = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, e).bad() &&
        ds->findAndGetElement(DcmTagKey(0x7FE0, 0x0008), e).bad()) {
      return "";
    }
    std::string out(e->getLength(), '\0');
    if (!out.empty()) e->getPartialValue(out.data(), 0, e->getLength(), nullptr, EBO_LittleEndian);
    return out;
  }
};

Parsed Parse(const std::string& bytes) {
  Parsed p;
  p.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  p.file->transferInit();
  OFCondition c = p.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  p.file->transferEnd();
  EXPECT_TRUE(c.good()) << c.text();
  p.ds = p.file->getDataset();
  OFString ts;
  p.file->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
  p.ts = ts.c_str();
  return p;
}

std::string Transcoded(const std::string& file, std::string_view ts = kExplicitVRLittleEndian) {
  absl::StatusOr<std::string> out = TranscodeInstance(CorpusFile(file), ts);
  EXPECT_TRUE(out.ok()) << file << ": " << out.status();
  return out.ok() ? *out : std::string();
}

class PixelAccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitializeDicom().ok()); }
};

// ---------------------------------------------------------------------------------------
// Transcoding

TEST_F(PixelAccessTest, PixelTranscodeEveryCorpusImageToExplicitAndImplicitLittleEndian) {
  const std::vector<ManifestRow> files = PixelFiles();
  ASSERT_GE(files.size(), 40u) << "corpus not found under " << CorpusDir();
  std::set<std::string> syntaxes;
  for (const ManifestRow& row : files) {
    SCOPED_TRACE(row.file);
    const std::string input = CorpusFile(row.file);
    ASSERT_FALSE(input.empty());
    syntaxes.insert(row.ts);
    for (std::string_view target : {kExplicitVRLittleEndian, kImplicitVRLittleEndian}) {
      SCOPED_TRACE(std::string(target));
      ASSERT_TRUE(CanTranscode(row.ts, target));
      absl::StatusOr<std::string> out = TranscodeInstance(input, target);
      ASSERT_TRUE(out.ok()) << out.status();
      ASSERT_GT(out->size(), 132u);
      EXPECT_EQ(out->substr(128, 4), "DICM");
      const Parsed p = Parse(*out);
      EXPECT_EQ(p.ts, target);
      EXPECT_EQ(p.U16(DCM_Rows), row.rows);
      EXPECT_EQ(p.U16(DCM_Columns), row.cols);
      EXPECT_EQ(p.Frames(), row.frames);
      const int64_t samples = p.U16(DCM_SamplesPerPixel) == 0 ? 1 : p.U16(DCM_SamplesPerPixel);
      const std::string pi = p.String(DCM_PhotometricInterpretation);
      int64_t expected = row.rows * row.cols * samples * (row.bits / 8) * row.frames;
      if (row.bits == 1) expected = (row.rows * row.cols * row.frames + 7) / 8;
      if (pi == "YBR_FULL_422") expected = expected * 2 / 3;  // native 4:2:2 subsampling
      const int64_t padded = expected + (expected & 1);
      const std::string pixels = p.Pixels();
      const Parsed original = Parse(input);
      if (DcmXfer(original.ds->getOriginalXfer()).isEncapsulated()) {
        // Decoded: exactly the computed size (padded to even).
        EXPECT_EQ(static_cast<int64_t>(pixels.size()), padded);
        EXPECT_THAT(pi, ::testing::Not(::testing::StartsWith("YBR_RCT")));
        EXPECT_THAT(pi, ::testing::Not(::testing::StartsWith("YBR_ICT")));
      } else {
        // Native: the stored value, bytes unchanged apart from byte order.
        EXPECT_GE(static_cast<int64_t>(pixels.size()), expected);
        EXPECT_EQ(pixels, original.Pixels());
      }
      // Metadata carried over.
      EXPECT_EQ(p.String(DCM_SOPInstanceUID), original.String(DCM_SOPInstanceUID));
      EXPECT_EQ(p.String(DCM_StudyInstanceUID), original.String(DCM_StudyInstanceUID));
      EXPECT_EQ(p.String(DCM_PatientName), original.String(DCM_PatientName));
    }
  }
  // The sweep really covered the compressed syntaxes.
  for (const char* ts :
       {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.53",
        "1.2.840.10008.1.2.4.55", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}) {
    EXPECT_TRUE(syntaxes.count(ts)) << ts;
  }
}

TEST_F(PixelAccessTest, PixelLosslessSyntaxesArePixelIdenticalToTheirNativeTwins) {
  const std::map<std::string, std::vector<std::string>> twins = {
      {"ts-ct-explicit-le.dcm",
       {"ts-ct-implicit-le.dcm", "ts-ct-explicit-be.dcm", "ts-ct-jpeg-lossless-sv1-70.dcm",
        "ts-ct-jpegls-lossless-80.dcm", "ts-ct-rle.dcm"}},
      {"ts-mr-explicit-le.dcm",
       {"ts-mr-implicit-le.dcm", "ts-mr-explicit-be.dcm", "ts-mr-jpegls-lossless-80.dcm",
        "ts-mr-j2k-lossless-90.dcm", "ts-mr-trailing-padding.dcm"}},
      // NEMA WG04 CT1: RLE and JPEG 2000 lossless (OpenJPEG) of the same image.
      {"ts-ct-rle-b.dcm", {"ts-ct-j2k-lossless-90.dcm"}},
  };
  for (const auto& [reference, others] : twins) {
    std::string want = Parse(Transcoded(reference)).Pixels();
    ASSERT_FALSE(want.empty()) << reference;
    for (const std::string& other : others) {
      std::string got = Parse(Transcoded(other)).Pixels();
      got.resize(std::min(got.size(), want.size()));  // trailing-padding stores extra bytes
      EXPECT_TRUE(got == want) << other << " differs from " << reference;
    }
  }
}

TEST_F(PixelAccessTest, PixelCanTranscodeOnlyToNativeSyntaxes) {
  EXPECT_TRUE(CanTranscode("1.2.840.10008.1.2.4.50", kExplicitVRLittleEndian));
  EXPECT_TRUE(CanTranscode("1.2.840.10008.1.2.4.91", kImplicitVRLittleEndian));
  EXPECT_TRUE(CanTranscode("1.2.840.10008.1.2.2", kExplicitVRLittleEndian));
  EXPECT_TRUE(CanTranscode(kExplicitVRLittleEndian, kDeflated));
  EXPECT_TRUE(CanTranscode(kJpegBaseline, kJpegBaseline));  // identity
  EXPECT_FALSE(CanTranscode(kExplicitVRLittleEndian, kJpegBaseline));
  EXPECT_FALSE(CanTranscode(kExplicitVRLittleEndian, "1.2.840.10008.1.2.4.90"));
  EXPECT_FALSE(CanTranscode(kExplicitVRLittleEndian, "1.2.840.10008.1.2.5"));
  EXPECT_FALSE(CanTranscode(kExplicitVRLittleEndian, "1.2.840.10008.1.2.4.80"));
  EXPECT_FALSE(CanTranscode("1.2.840.10008.1.2.4.100", kExplicitVRLittleEndian));  // MPEG-2
  EXPECT_FALSE(CanTranscode("1.2.840.10008.1.2.4.92", kExplicitVRLittleEndian));

  absl::StatusOr<std::string> jpeg = TranscodeInstance(CorpusFile("ct-small.dcm"), kJpegBaseline);
  EXPECT_EQ(jpeg.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PixelAccessTest, PixelIdentityReturnsTheInputUnchanged) {
  const std::string input = CorpusFile("ts-ct-jpegls-lossless-80.dcm");
  absl::StatusOr<std::string> out = TranscodeInstance(input, "1.2.840.10008.1.2.4.80");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == input);
}

TEST_F(PixelAccessTest, PixelTranscodeKeepsFileMetaAndDatasetAttributes) {
  // MediaStorageSOPInstanceUID differs from SOPInstanceUID in this file: kept as stored.
  const std::string input = CorpusFile("mr-implicit-nibabel.dcm");
  const Parsed in = Parse(input);
  const Parsed out = Parse(Transcoded("mr-implicit-nibabel.dcm"));
  OFString a, b;
  in.file->getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, a);
  out.file->getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, b);
  EXPECT_EQ(std::string(a.c_str()), std::string(b.c_str()));
  EXPECT_NE(std::string(b.c_str()), out.String(DCM_SOPInstanceUID));
  for (const DcmTagKey& key : {DCM_PatientName, DCM_PatientID, DCM_StudyDate, DCM_Modality,
                               DCM_SeriesInstanceUID, DCM_ImagePositionPatient}) {
    EXPECT_EQ(out.String(key), in.String(key)) << key.toString().c_str();
  }
}

TEST_F(PixelAccessTest, PixelTranscodeToDeflatedRoundTrips) {
  const std::string out = Transcoded("ct-small.dcm", kDeflated);
  const Parsed p = Parse(out);
  EXPECT_EQ(p.ts, kDeflated);
  EXPECT_EQ(p.Pixels(), Parse(CorpusFile("ct-small.dcm")).Pixels());
  EXPECT_LT(out.size(), CorpusFile("ct-small.dcm").size());
}

TEST_F(PixelAccessTest, PixelDecompressionFixesColourAttributes) {
  // YBR_FULL_422 JPEG comes out RGB (DCMTK converts), as does JPEG 2000 with YBR_RCT.
  for (const char* file : {"ts-sc-rgb-jpeg-baseline-ybr422.dcm", "ct-j2k-jp2-header.dcm"}) {
    SCOPED_TRACE(file);
    const Parsed p = Parse(Transcoded(file));
    EXPECT_EQ(p.String(DCM_PhotometricInterpretation), "RGB");
    EXPECT_EQ(p.U16(DCM_PlanarConfiguration), 0);
    EXPECT_EQ(p.U16(DCM_SamplesPerPixel), 3);
  }
}

TEST_F(PixelAccessTest, PixelJ2kPixelRepresentationMismatchKeepsTheDatasetSign) {
  const Parsed p = Parse(Transcoded("ct-j2k-pixelrep-mismatch-jp-charset.dcm"));
  EXPECT_EQ(p.U16(DCM_PixelRepresentation), 1);
  EXPECT_EQ(p.U16(DCM_BitsStored), 13);
  const std::string px = p.Pixels();
  ASSERT_EQ(px.size(), 512u * 512u * 2u);
  int min = 0, max = 0;
  for (size_t i = 0; i < px.size(); i += 2) {
    const int16_t v =
        static_cast<int16_t>(static_cast<uint8_t>(px[i]) | (static_cast<uint8_t>(px[i + 1]) << 8));
    min = std::min<int>(min, v);
    max = std::max<int>(max, v);
  }
  // Signed 13-bit CT: padding/air negative and sign-extended into 16 bits.
  EXPECT_EQ(min, -2000);
  EXPECT_LT(max, 4096);
}

TEST_F(PixelAccessTest, PixelInstanceWithoutPixelDataTranscodesToAnyNativeSyntax) {
  for (std::string_view ts : {kImplicitVRLittleEndian, kExplicitVRLittleEndian}) {
    const Parsed p = Parse(Transcoded("sr-basic-text.dcm", ts));
    EXPECT_EQ(p.ts, ts);
    EXPECT_FALSE(p.String(DCM_SOPInstanceUID).empty());
  }
}

// ---------------------------------------------------------------------------------------
// Frames

std::string Slice(const std::string& all, size_t frame_size, int frame) {
  return all.substr(frame_size * static_cast<size_t>(frame - 1), frame_size);
}

TEST_F(PixelAccessTest, PixelFramesOfNativeMultiFrame) {
  const std::string input = CorpusFile("mf-mr-explicit-le-16f.dcm");
  const std::string all = Parse(input).Pixels();
  const size_t size = 256 * 256;
  for (bool native : {false, true}) {
    absl::StatusOr<std::vector<FrameData>> frames = ExtractFrames(input, {1, 16, 7}, native);
    ASSERT_TRUE(frames.ok()) << frames.status();
    ASSERT_EQ(frames->size(), 3u);
    const int numbers[] = {1, 16, 7};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ((*frames)[i].bytes.size(), size);
      EXPECT_TRUE((*frames)[i].bytes == Slice(all, size, numbers[i])) << numbers[i];
      EXPECT_EQ((*frames)[i].transfer_syntax_uid, kExplicitVRLittleEndian);
    }
  }
  EXPECT_FALSE(ExtractFrames(input, {1}, false)->front().bytes ==
               ExtractFrames(input, {2}, false)->front().bytes);
}

TEST_F(PixelAccessTest, PixelFramesOfEncapsulatedJpegMultiFrame) {
  const std::string input = CorpusFile("mf-xa-jpeg-baseline-96f.dcm");
  std::vector<int> all_numbers;
  for (int i = 1; i <= 96; ++i) all_numbers.push_back(i);
  absl::StatusOr<std::vector<FrameData>> stored = ExtractFrames(input, all_numbers, false);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 96u);
  std::set<std::string> distinct;
  for (const FrameData& f : *stored) {
    EXPECT_EQ(f.transfer_syntax_uid, kJpegBaseline);
    ASSERT_GE(f.bytes.size(), 4u);
    EXPECT_EQ(static_cast<uint8_t>(f.bytes[0]), 0xFF);
    EXPECT_EQ(static_cast<uint8_t>(f.bytes[1]), 0xD8);
    distinct.insert(f.bytes);
  }
  EXPECT_GT(distinct.size(), 90u);

  const std::string decoded_all = Parse(Transcoded("mf-xa-jpeg-baseline-96f.dcm")).Pixels();
  const size_t size = 512 * 512;
  ASSERT_EQ(decoded_all.size(), size * 96);
  absl::StatusOr<std::vector<FrameData>> native = ExtractFrames(input, {96, 1, 50}, true);
  ASSERT_TRUE(native.ok()) << native.status();
  const int numbers[] = {96, 1, 50};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*native)[i].transfer_syntax_uid, kExplicitVRLittleEndian);
    EXPECT_EQ((*native)[i].bytes.size(), size);
    EXPECT_TRUE((*native)[i].bytes == Slice(decoded_all, size, numbers[i])) << numbers[i];
  }
}

TEST_F(PixelAccessTest, PixelFramesOfEncapsulatedRleColourMultiFrame) {
  const std::string input = CorpusFile("mf-sc-rgb-rle-2f.dcm");
  absl::StatusOr<std::vector<FrameData>> stored = ExtractFrames(input, {2, 1}, false);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 2u);
  for (const FrameData& f : *stored) {
    EXPECT_EQ(f.transfer_syntax_uid, "1.2.840.10008.1.2.5");
    ASSERT_GE(f.bytes.size(), 64u);  // RLE header: 3 segments (R, G, B)
    EXPECT_EQ(f.bytes.substr(0, 4), std::string("\x03\0\0\0", 4));
  }
  const std::string decoded_all = Parse(Transcoded("mf-sc-rgb-rle-2f.dcm")).Pixels();
  const size_t size = 100 * 100 * 3;
  absl::StatusOr<std::vector<FrameData>> native = ExtractFrames(input, {1, 2}, true);
  ASSERT_TRUE(native.ok()) << native.status();
  EXPECT_TRUE((*native)[0].bytes == Slice(decoded_all, size, 1));
  EXPECT_TRUE((*native)[1].bytes == Slice(decoded_all, size, 2));
  EXPECT_FALSE((*native)[0].bytes == (*native)[1].bytes);
}

TEST_F(PixelAccessTest, PixelFramesOfJpeg2000) {
  const std::string input = CorpusFile("ts-mr-j2k-lossless-90.dcm");
  absl::StatusOr<std::vector<FrameData>> stored = ExtractFrames(input, {1}, false);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->front().bytes.substr(0, 4), std::string("\xFF\x4F\xFF\x51", 4));
  absl::StatusOr<std::vector<FrameData>> native = ExtractFrames(input, {1}, true);
  ASSERT_TRUE(native.ok()) << native.status();
  EXPECT_TRUE(native->front().bytes == Parse(CorpusFile("ts-mr-explicit-le.dcm")).Pixels());
}

TEST_F(PixelAccessTest, PixelBigEndianFramesComeBackLittleEndian) {
  absl::StatusOr<std::vector<FrameData>> be =
      ExtractFrames(CorpusFile("ts-ct-explicit-be.dcm"), {1}, false);
  absl::StatusOr<std::vector<FrameData>> le =
      ExtractFrames(CorpusFile("ts-ct-explicit-le.dcm"), {1}, false);
  ASSERT_TRUE(be.ok() && le.ok());
  EXPECT_TRUE(be->front().bytes == le->front().bytes);
  EXPECT_EQ(be->front().transfer_syntax_uid, kExplicitVRLittleEndian);
}

TEST_F(PixelAccessTest, PixelFrameErrors) {
  const std::string input = CorpusFile("mf-xa-jpeg-baseline-96f.dcm");
  for (int bad : {0, 97, -1}) {
    EXPECT_EQ(ExtractFrames(input, {1, bad}, false).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(RenderFrame(input, bad, ImageFormat::kJpeg, {}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ExtractFrames(CorpusFile("ct-small.dcm"), {2}, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtractFrames(CorpusFile("sr-basic-text.dcm"), {1}, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderFrame(CorpusFile("sr-basic-text.dcm"), 1, ImageFormat::kPng, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Synthetic encapsulated pixel data: frames split over several fragments, located with the
// Basic Offset Table, and without it through JPEG SOI markers.
std::string Item(std::string_view value) {
  DatasetBuilder b;
  std::string len(4, '\0');
  for (int i = 0; i < 4; ++i) len[i] = static_cast<char>((value.size() >> (8 * i)) & 0xFF);
  return std::string("\xFE\xFF\x00\xE0", 4) + len + std::string(value);
}

std::string SyntheticEncapsulated(const std::vector<std::string>& fragments, bool with_bot,
                                  const std::vector<uint32_t>& bot) {
  DatasetBuilder ds;
  ds.Identity();
  ds.Us(0x0028, 0x0002, 1);
  ds.String(0x0028, 0x0004, "CS", "MONOCHROME2");
  ds.String(0x0028, 0x0008, "IS", "2");
  ds.Us(0x0028, 0x0010, 8);
  ds.Us(0x0028, 0x0011, 8);
  ds.Us(0x0028, 0x0100, 8);
  ds.Us(0x0028, 0x0101, 8);
  ds.Us(0x0028, 0x0102, 7);
  ds.Us(0x0028, 0x0103, 0);
  ds.BeginSequence(0x7FE0, 0x0010, "OB");
  std::string table;
  if (with_bot) {
    for (uint32_t v : bot) {
      for (int i = 0; i < 4; ++i) table.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  }
  ds.Raw(Item(table));
  for (const std::string& f : fragments) ds.Raw(Item(f));
  ds.EndSequence();
  return DatasetBuilder::Part10(ds.bytes(), kJpegBaseline);
}

TEST_F(PixelAccessTest, PixelFragmentsAreGroupedIntoFrames) {
  const std::string soi("\xFF\xD8", 2);
  const std::vector<std::string> fragments = {soi + "AAAAAA", "BBBB", soi + "CC", "DDDDDD"};
  // Offsets: item sizes are 8 + length: 16, 12, 12, 14.
  const std::string with_bot = SyntheticEncapsulated(fragments, true, {0, 28});
  const std::string without_bot = SyntheticEncapsulated(fragments, false, {});
  for (const std::string* file : {&with_bot, &without_bot}) {
    absl::StatusOr<std::vector<FrameData>> frames = ExtractFrames(*file, {2, 1}, false);
    ASSERT_TRUE(frames.ok()) << frames.status();
    EXPECT_EQ((*frames)[0].bytes, soi + "CCDDDDDD");
    EXPECT_EQ((*frames)[1].bytes, soi + "AAAAAABBBB");
  }
  // The offset table wins over markers.
  const std::string odd_split = SyntheticEncapsulated(fragments, true, {0, 40});
  absl::StatusOr<std::vector<FrameData>> frames = ExtractFrames(odd_split, {1, 2}, false);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ((*frames)[0].bytes, soi + "AAAAAABBBB" + soi + "CC");
  EXPECT_EQ((*frames)[1].bytes, "DDDDDD");
  // Neither a usable table nor markers: an error, not a guess.
  const std::vector<std::string> unmarked = {"AAAA", "BBBB", "CCCC"};
  EXPECT_FALSE(ExtractFrames(SyntheticEncapsulated(unmarked, false, {}), {1}, false).ok());
}

TEST_F(PixelAccessTest, PixelOneBitFramesAreRealignedToBitZero) {
  // 3 frames of 3x3 1-bit pixels = 27 bits, LSB first. Frame 2 = bits 9..17.
  // Frame pixels: f1 = 101010101, f2 = 111000111, f3 = 000111000 (first pixel first).
  const std::string bits =
      "101010101"
      "111000111"
      "000111000";
  std::string packed(4, '\0');
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i] == '1') packed[i / 8] = static_cast<char>(packed[i / 8] | (1 << (i % 8)));
  }
  DatasetBuilder ds;
  ds.Identity();
  ds.Us(0x0028, 0x0002, 1);
  ds.String(0x0028, 0x0004, "CS", "MONOCHROME2");
  ds.String(0x0028, 0x0008, "IS", "3");
  ds.Us(0x0028, 0x0010, 3);
  ds.Us(0x0028, 0x0011, 3);
  ds.Us(0x0028, 0x0100, 1);
  ds.Us(0x0028, 0x0101, 1);
  ds.Us(0x0028, 0x0102, 0);
  ds.Us(0x0028, 0x0103, 0);
  ds.Element(0x7FE0, 0x0010, "OB", packed);
  const std::string file = DatasetBuilder::Part10(ds.bytes());
  absl::StatusOr<std::vector<FrameData>> frames = ExtractFrames(file, {1, 2, 3}, true);
  ASSERT_TRUE(frames.ok()) << frames.status();
  for (int f = 0; f < 3; ++f) {
    std::string want(2, '\0');
    for (int i = 0; i < 9; ++i) {
      if (bits[static_cast<size_t>(f * 9 + i)] == '1') {
        want[static_cast<size_t>(i / 8)] = static_cast<char>(want[i / 8] | (1 << (i % 8)));
      }
    }
    EXPECT_EQ((*frames)[static_cast<size_t>(f)].bytes, want) << "frame " << f + 1;
  }
}

TEST_F(PixelAccessTest, PixelDeflatedFramesAreLabelledExplicitLittleEndian) {
  absl::StatusOr<std::vector<FrameData>> frames =
      ExtractFrames(CorpusFile("ts-sc-deflated.dcm"), {1}, false);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(frames->front().transfer_syntax_uid, kExplicitVRLittleEndian);
  EXPECT_EQ(frames->front().bytes.size(), 512u * 512u);
  EXPECT_TRUE(frames->front().bytes == Parse(Transcoded("ts-sc-deflated.dcm")).Pixels());
}

// ---------------------------------------------------------------------------------------
// Rendering

struct PngInfo {
  uint32_t width = 0, height = 0;
  int color_type = -1;
  std::string pixels;  // decoded 8-bit rows
};

PngInfo DecodePng(const std::string& png) {
  PngInfo info;
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return info;
  info.width = image.width;
  info.height = image.height;
  info.color_type = (image.format & PNG_FORMAT_FLAG_COLOR) ? 2 : 0;
  info.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, info.pixels.data(), 0, nullptr)) info.pixels.clear();
  png_image_free(&image);
  return info;
}

// Width and height from the first SOFn segment.
std::pair<int, int> JpegSize(const std::string& jpeg) {
  size_t i = 2;
  while (i + 9 < jpeg.size()) {
    if (static_cast<uint8_t>(jpeg[i]) != 0xFF) return {0, 0};
    const uint8_t marker = static_cast<uint8_t>(jpeg[i + 1]);
    const size_t len = (static_cast<uint8_t>(jpeg[i + 2]) << 8) | static_cast<uint8_t>(jpeg[i + 3]);
    if (marker >= 0xC0 && marker <= 0xC3) {
      const int h = (static_cast<uint8_t>(jpeg[i + 5]) << 8) | static_cast<uint8_t>(jpeg[i + 6]);
      const int w = (static_cast<uint8_t>(jpeg[i + 7]) << 8) | static_cast<uint8_t>(jpeg[i + 8]);
      return {w, h};
    }
    i += 2 + len;
  }
  return {0, 0};
}

std::string Render(const std::string& file, int frame, ImageFormat format, Viewport vp = {}) {
  absl::StatusOr<std::string> out = RenderFrame(CorpusFile(file), frame, format, vp);
  EXPECT_TRUE(out.ok()) << file << ": " << out.status();
  return out.ok() ? *out : std::string();
}

TEST_F(PixelAccessTest, PixelRenderJpegAndPngWithViewport) {
  const std::string jpeg = Render("ts-ct-explicit-le.dcm", 1, ImageFormat::kJpeg);
  ASSERT_GE(jpeg.size(), 4u);
  EXPECT_EQ(jpeg.substr(0, 2), std::string("\xFF\xD8", 2));
  EXPECT_EQ(JpegSize(jpeg), std::make_pair(512, 512));
  EXPECT_EQ(JpegSize(Render("ts-ct-explicit-le.dcm", 1, ImageFormat::kJpeg, {200, 100})),
            std::make_pair(100, 100));

  const std::string png = Render("ts-ct-jpeg-lossless-70-b.dcm", 1, ImageFormat::kPng, {256, 256});
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const PngInfo info = DecodePng(png);
  // 512 wide x 400 high fitted into 256x256 -> 256x200.
  EXPECT_EQ(info.width, 256u);
  EXPECT_EQ(info.height, 200u);
  EXPECT_EQ(info.color_type, 0);
  // Only one dimension constrains; upscaling allowed.
  const PngInfo wide = DecodePng(Render("ct-small.dcm", 1, ImageFormat::kPng, {0, 300}));
  EXPECT_EQ(wide.width, 300u);
  EXPECT_EQ(wide.height, 300u);
}

TEST_F(PixelAccessTest, PixelRenderedLosslessTwinsAreIdenticalAndNotFlat) {
  const PngInfo native = DecodePng(Render("ts-ct-explicit-le.dcm", 1, ImageFormat::kPng));
  const PngInfo jpegls = DecodePng(Render("ts-ct-jpegls-lossless-80.dcm", 1, ImageFormat::kPng));
  ASSERT_EQ(native.pixels.size(), 512u * 512u);
  EXPECT_TRUE(native.pixels == jpegls.pixels);
  std::set<char> levels(native.pixels.begin(), native.pixels.end());
  EXPECT_GT(levels.size(), 50u);
  const PngInfo j2k = DecodePng(Render("ts-mr-j2k-lossless-90.dcm", 1, ImageFormat::kPng));
  const PngInfo mr = DecodePng(Render("ts-mr-explicit-le.dcm", 1, ImageFormat::kPng));
  EXPECT_TRUE(j2k.pixels == mr.pixels);
  EXPECT_FALSE(j2k.pixels.empty());
}

TEST_F(PixelAccessTest, PixelRenderColourPaletteAndMultiFrame) {
  for (const char* file : {"ts-sc-rgb-jpeg-baseline-ybr422.dcm", "ts-us-rgb-explicit-be.dcm",
                           "mf-us-rle-palette-10f.dcm", "ts-sc-rgb-j2k-rgb.dcm",
                           "ct-j2k-jp2-header.dcm", "ts-sc-ybr-full-422-native.dcm"}) {
    SCOPED_TRACE(file);
    const PngInfo info = DecodePng(Render(file, 1, ImageFormat::kPng));
    EXPECT_EQ(info.color_type, 2);
    std::set<char> levels(info.pixels.begin(), info.pixels.end());
    EXPECT_GT(levels.size(), 3u);  // the SC "rgb" files are colour bars with few levels
    EXPECT_EQ(Render(file, 1, ImageFormat::kJpeg).substr(0, 2), std::string("\xFF\xD8", 2));
  }
  // Different frames of a multi-frame render differently.
  const PngInfo f1 = DecodePng(Render("mf-xa-jpeg-baseline-96f.dcm", 1, ImageFormat::kPng));
  const PngInfo f60 = DecodePng(Render("mf-xa-jpeg-baseline-96f.dcm", 60, ImageFormat::kPng));
  EXPECT_EQ(f60.width, 512u);
  EXPECT_FALSE(f1.pixels == f60.pixels);
  for (const char* file :
       {"mf-enhanced-mr-176f.dcm", "mf-paramap-float-20f.dcm", "mf-rtdose-implicit-15f.dcm",
        "seg-liver-1frame.dcm", "mf-sc-rgb-rle-32bit-2f.dcm", "ts-nm-j2k-lossy-91.dcm"}) {
    SCOPED_TRACE(file);
    const PngInfo info = DecodePng(Render(file, 1, ImageFormat::kPng, {64, 64}));
    EXPECT_GT(info.width, 0u);
    EXPECT_LE(info.width, 64u);
    EXPECT_LE(info.height, 64u);
  }
}

// ---------------------------------------------------------------------------------------
// Bulk data

TEST_F(PixelAccessTest, PixelBulkDataOfNativeAndEncapsulatedPixelData) {
  const std::string native = CorpusFile("ts-mr-explicit-le.dcm");
  absl::StatusOr<std::string> px = ReadBulkData(native, "7FE00010");
  ASSERT_TRUE(px.ok()) << px.status();
  EXPECT_TRUE(*px == Parse(native).Pixels());
  EXPECT_EQ(px->size(), 8192u);
  // Big endian and compressed stores give the same little-endian native bytes.
  for (const char* file :
       {"ts-mr-explicit-be.dcm", "ts-mr-jpegls-lossless-80.dcm", "ts-mr-j2k-lossless-90.dcm"}) {
    absl::StatusOr<std::string> other = ReadBulkData(CorpusFile(file), "7fe00010");
    ASSERT_TRUE(other.ok()) << file << ": " << other.status();
    EXPECT_TRUE(*other == *px) << file;
  }
  absl::StatusOr<std::string> mf = ReadBulkData(CorpusFile("mf-sc-rgb-rle-2f.dcm"), "7FE00010");
  ASSERT_TRUE(mf.ok()) << mf.status();
  EXPECT_EQ(mf->size(), 2u * 100 * 100 * 3);
}

TEST_F(PixelAccessTest, PixelBulkDataPathsIntoSequencesAndErrors) {
  const std::string icon_file = CorpusFile("sc-with-icon-sequence.dcm");
  const Parsed p = Parse(icon_file);
  DcmItem* icon = nullptr;
  ASSERT_TRUE(p.ds->findAndGetSequenceItem(DCM_IconImageSequence, icon, 0).good());
  DcmElement* e = nullptr;
  ASSERT_TRUE(icon->findAndGetElement(DCM_PixelData, e).good());
  std::string want(e->getLength(), '\0');
  e->getPartialValue(want.data(), 0, e->getLength(), nullptr, EBO_LittleEndian);
  absl::StatusOr<std::string> got = ReadBulkData(icon_file, "00880200/0/7FE00010");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->empty());
  EXPECT_TRUE(*got == want);

  const std::string mr = CorpusFile("ts-mr-explicit-le.dcm");
  absl::StatusOr<std::string> name = ReadBulkData(mr, "00100010");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->substr(0, 21), "CompressedSamples^MR1");
  for (const char* bad : {"7FE00011", "00880200/0/7FE00010", "00100010/0/00100010", "zz",
                          "7FE00010/0", "", "00880200/x/7FE00010"}) {
    EXPECT_EQ(ReadBulkData(mr, bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ReadBulkData(icon_file, "00880200/1/7FE00010").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// Corrupt input and concurrency

TEST_F(PixelAccessTest, PixelCorruptInputsFailCleanly) {
  const std::string corrupt = CorpusFile("pixel-corrupt-j2k-embedded-delimiter.dcm");
  EXPECT_FALSE(TranscodeInstance(corrupt, kExplicitVRLittleEndian).ok());
  EXPECT_FALSE(ExtractFrames(corrupt, {1}, true).ok());
  EXPECT_TRUE(ExtractFrames(corrupt, {1}, false).ok());  // stored bytes are still available
  EXPECT_FALSE(RenderFrame(corrupt, 1, ImageFormat::kPng, {}).ok());
  EXPECT_FALSE(ReadBulkData(corrupt, "7FE00010").ok());

  for (const char* file :
       {"bad-truncated-pixeldata.dcm", "bad-empty-file.dcm", "bad-gzip-wrapped-mr.dcm.gz"}) {
    SCOPED_TRACE(file);
    const std::string bytes = CorpusFile(file);
    // (Explicit VR LE would be the identity for the truncated file: bytes passed through.)
    EXPECT_FALSE(TranscodeInstance(bytes, kImplicitVRLittleEndian).ok());
    EXPECT_FALSE(ExtractFrames(bytes, {1}, true).ok());
    EXPECT_FALSE(RenderFrame(bytes, 1, ImageFormat::kJpeg, {}).ok());
    EXPECT_FALSE(ReadBulkData(bytes, "7FE00010").ok());
  }
}

TEST_F(PixelAccessTest, PixelTruncatedAndDamagedCompressedFilesNeverCrash) {
  // Cut or scramble compressed files at fixed points: any status is fine, a crash is not.
  for (const char* file :
       {"ts-mr-j2k-lossless-90.dcm", "ts-ct-jpeg-lossless-70-b.dcm", "mf-sc-rgb-rle-2f.dcm",
        "ts-mr-jpegls-lossless-80.dcm", "ct-j2k-jp2-header.dcm"}) {
    SCOPED_TRACE(file);
    const std::string bytes = CorpusFile(file);
    for (int step = 1; step <= 6; ++step) {
      const size_t cut = bytes.size() - bytes.size() * static_cast<size_t>(step) / 40;
      const std::string truncated = bytes.substr(0, cut);
      (void)TranscodeInstance(truncated, kExplicitVRLittleEndian);
      (void)ExtractFrames(truncated, {1}, true);
      (void)RenderFrame(truncated, 1, ImageFormat::kPng, {});
      std::string scrambled = bytes;
      for (size_t i = bytes.size() - 1500 + static_cast<size_t>(step) * 97; i < bytes.size();
           i += 61) {
        scrambled[i] = static_cast<char>(scrambled[i] ^ (0x5A + step));
      }
      (void)TranscodeInstance(scrambled, kExplicitVRLittleEndian);
      (void)ExtractFrames(scrambled, {1}, true);
      (void)RenderFrame(scrambled, 1, ImageFormat::kJpeg, {});
    }
  }
}

TEST_F(PixelAccessTest, PixelConcurrentCallsGiveTheSameResults) {
  const std::vector<std::string> files = {"ts-ct-jpegls-lossless-80.dcm",
                                          "ts-mr-j2k-lossless-90.dcm", "mf-sc-rgb-rle-2f.dcm",
                                          "ts-ct-rle.dcm", "ts-sc-rgb-jpeg-baseline-ybr422.dcm"};
  std::vector<std::string> inputs, transcoded, rendered;
  for (const std::string& f : files) {
    inputs.push_back(CorpusFile(f));
    transcoded.push_back(Transcoded(f));
    rendered.push_back(Render(f, 1, ImageFormat::kPng, {128, 128}));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t]() {
      for (int round = 0; round < 3; ++round) {
        const size_t i = static_cast<size_t>(t + round) % files.size();
        absl::StatusOr<std::string> out = TranscodeInstance(inputs[i], kExplicitVRLittleEndian);
        if (!out.ok() || *out != transcoded[i]) ++mismatches;
        absl::StatusOr<std::string> png = RenderFrame(inputs[i], 1, ImageFormat::kPng, {128, 128});
        if (!png.ok() || *png != rendered[i]) ++mismatches;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace dicomstore::dicom
