// Robustness: hostile lengths, deep nesting, truncation, random corruption, garbage, and
// concurrent parsing. Every outcome must be a parsed instance or INVALID_ARGUMENT.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "dicom/instance_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "unit/dicom/test_support.h"

// Largest single allocation made while `g_track_allocations` is set (all threads). This
// replaces the global operator new of the test binary, DCMTK's allocations included.
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};

void* TrackedAlloc(size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

// The whole non-aligned family is replaced so that every pair matches (the sanitizer
// runtime checks new/delete pairing); aligned allocations keep the default pair.
void* operator new(size_t size) { return TrackedAlloc(size); }
void* operator new[](size_t size) { return TrackedAlloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return TrackedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  try {
    return TrackedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace dicomstore::dicom {
namespace {

using ::dicomstore::dicom::testing::CorpusFile;
using ::dicomstore::dicom::testing::DatasetBuilder;
using ::testing::HasSubstr;

// Parsed, or refused with INVALID_ARGUMENT and a message.
void ExpectParsedOrInvalid(const absl::StatusOr<ParsedInstance>& r, const std::string& what) {
  if (r.ok()) return;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << what << ": " << r.status();
  EXPECT_FALSE(r.status().message().empty()) << what;
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitializeDicom().ok()); }
};

TEST_F(HostileInputTest, HugeDeclaredLengthFailsFastWithoutHugeAllocation) {
  DatasetBuilder ds;
  ds.Identity();
  ds.Element(0x0010, 0x0010, "UT", "Doe^John", 0xFFFFFFF0);  // long form, 4-byte length
  std::string file = DatasetBuilder::Part10(ds.bytes());
  file.resize(1024, '\0');

  g_largest_allocation = 0;
  g_track_allocations = true;
  absl::StatusOr<ParsedInstance> r = ParseInstance(file);
  g_track_allocations = false;

  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated element (0010,0010)"));
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 20);
}

// VR fields the standard does not define are read with DCMTK's length rules: upper-case
// letters are a "future" VR with a 4-byte length, other bytes a 2-byte length; "na", a
// DCMTK-internal VR its table matches, is refused. A wrong guess would misalign every
// following element.
TEST_F(HostileInputTest, UnknownVrFieldsUseDcmtkLengthRules) {
  const auto header = [](std::string_view vr, bool long_form, uint32_t length) {
    std::string h("\x09\x00\x01\x10", 4);  // (0009,1001)
    h.append(vr);
    const int bytes = long_form ? 4 : 2;
    if (long_form) h.append(2, '\0');
    for (int i = 0; i < bytes; ++i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    return h;
  };
  for (const auto& [vr, long_form] : std::vector<std::pair<std::string, bool>>{{"ZZ", true},
                                                                               {"QA", true},
                                                                               {"a?", false},
                                                                               {"\x01\xff", false},
                                                                               {"??", false},
                                                                               {"it", false},
                                                                               {"ps", false}}) {
    SCOPED_TRACE(vr);
    DatasetBuilder ds;
    ds.String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
    ds.String(0x0008, 0x0018, "UI", "1.2.3.4.5.6");
    ds.Raw(header(vr, long_form, 4) + "abcd");
    ds.String(0x0020, 0x000D, "UI", "1.2.3.4");
    ds.String(0x0020, 0x000E, "UI", "1.2.3.4.5");
    absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->series_uid, "1.2.3.4.5");
    EXPECT_THAT(r->json, HasSubstr(R"("00091001":{"vr":"UN","BulkDataURI":"bulkdata/00091001"})"));
  }
  {
    DatasetBuilder ds;
    ds.Identity();
    ds.Raw(header("na", false, 4) + "abcd");
    absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("invalid VR"));
  }
}

TEST_F(HostileInputTest, HugeLengthInsideASequenceItemIsRefused) {
  DatasetBuilder ds;
  ds.Identity();
  ds.BeginSequence(0x0040, 0xA730).BeginItem();
  ds.Element(0x0040, 0xA160, "UT", "text", 0x7FFFFFF0);
  ds.EndItem().EndSequence();
  g_largest_allocation = 0;
  g_track_allocations = true;
  absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
  g_track_allocations = false;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated element (0040,A160)"));
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 20);
}

TEST_F(HostileInputTest, HugeImplicitVrLengthInRawDatasetIsRefused) {
  DatasetBuilder ds(DatasetBuilder::Mode::kImplicitLittle);
  ds.Identity();
  ds.Element(0x0010, 0x0010, "", "Doe", 0xFFFFFF00);
  absl::StatusOr<ParsedInstance> r = ParseInstance(ds.bytes());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated element (0010,0010)"));
}

TEST_F(HostileInputTest, ElementLongerThanTheLimitIsRefused) {
  ParseLimits limits;
  limits.max_element_length = 1000;
  absl::StatusOr<ParsedInstance> r = ParseInstance(CorpusFile("ct-small.dcm"), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("over the limit of 1000"));
}

std::string Nested(int levels) {
  DatasetBuilder ds;
  ds.Identity();
  for (int i = 0; i < levels; ++i) ds.BeginSequence(0x0040, 0xA730).BeginItem();
  ds.String(0x0040, 0xA160, "UT", "leaf");
  for (int i = 0; i < levels; ++i) ds.EndItem().EndSequence();
  return DatasetBuilder::Part10(ds.bytes());
}

TEST_F(HostileInputTest, DeepNestingIsRefused) {
  absl::StatusOr<ParsedInstance> r = ParseInstance(Nested(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nested deeper than 16"));
}

TEST_F(HostileInputTest, NestingLimitIsExact) {
  EXPECT_TRUE(ParseInstance(Nested(16)).ok());
  EXPECT_FALSE(ParseInstance(Nested(17)).ok());
  ParseLimits limits;
  limits.max_sequence_depth = 3;
  EXPECT_TRUE(ParseInstance(Nested(3), limits).ok());
  EXPECT_FALSE(ParseInstance(Nested(4), limits).ok());
}

TEST_F(HostileInputTest, DeepNestingInsideUndefinedLengthUnIsRefused) {
  // A UN element of undefined length holds Implicit VR LE items (CP-246); nest inside it.
  DatasetBuilder inner(DatasetBuilder::Mode::kImplicitLittle);
  for (int i = 0; i < 40; ++i) inner.BeginSequence(0x0009, 0x1010).BeginItem();
  DatasetBuilder ds;
  ds.Identity();
  ds.BeginSequence(0x0009, 0x1010, "UN").BeginItem().Raw(inner.bytes());
  absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nested deeper than 16"));
}

TEST_F(HostileInputTest, SequenceWithoutDelimiterAtEndOfInputIsRefused) {
  DatasetBuilder ds;
  ds.Identity();
  ds.BeginSequence(0x0040, 0xA730).BeginItem();
  ds.String(0x0040, 0xA160, "UT", "leaf");
  absl::StatusOr<ParsedInstance> r = ParseInstance(DatasetBuilder::Part10(ds.bytes()));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated"));
}

TEST_F(HostileInputTest, GarbageIsNotADicomFile) {
  for (const std::string& garbage :
       {std::string(), std::string("hello, world\n"), std::string(1000, '\0'),
        std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10),
        std::string("<html><body>not dicom</body></html>")}) {
    absl::StatusOr<ParsedInstance> r = ParseInstance(garbage);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a DICOM file"));
  }
}

TEST_F(HostileInputTest, TruncatedAtTwoHundredLengths) {
  const std::string file = CorpusFile("ct-small.dcm");
  ASSERT_GT(file.size(), 30000u);
  for (int i = 0; i < 200; ++i) {
    // Dense near the start (preamble, meta, first elements), then spread to the end.
    const size_t length = i < 100 ? static_cast<size_t>(i) * 7 : (file.size() * (i - 99)) / 101;
    absl::StatusOr<ParsedInstance> r = ParseInstance(std::string_view(file).substr(0, length));
    ExpectParsedOrInvalid(r, "length " + std::to_string(length));
    // A cut inside the pixel data is refused as truncated, never silently accepted.
    if (r.ok()) {
      EXPECT_FALSE(r->has_pixel_data) << length;
    }
  }
}

TEST_F(HostileInputTest, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(20240501);
  for (const char* name :
       {"ct-small.dcm", "ts-ct-implicit-le.dcm", "ts-ct-explicit-be.dcm", "ts-sc-deflated.dcm",
        "sc-with-icon-sequence.dcm", "ts-ct-jpeg-baseline-50.dcm", "cs-jp-ir87.dcm",
        "sr-comprehensive.dcm"}) {
    const std::string original = CorpusFile(name);
    ASSERT_FALSE(original.empty()) << name;
    // Corrupt the header region mostly: that is where the structure is.
    const size_t region = std::min<size_t>(original.size(), 4096);
    for (int round = 0; round < 60; ++round) {
      std::string mutated = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) {
        const size_t at = round % 4 == 0 ? rng() % mutated.size() : rng() % region;
        mutated[at] = static_cast<char>(rng() & 0xFF);
      }
      ExpectParsedOrInvalid(ParseInstance(mutated),
                            std::string(name) + " round " + std::to_string(round));
    }
  }
}

TEST_F(HostileInputTest, ConcurrentParsesAgreeWithSequentialOnes) {
  const std::vector<std::string> names = {"ct-small.dcm",
                                          "cs-jp-ir87.dcm",
                                          "cs-kr-ir149.dcm",
                                          "ts-sc-deflated.dcm",
                                          "sr-comprehensive.dcm",
                                          "vr-un-standard-tags-rtdose-rle.dcm",
                                          "bad-gzip-wrapped-mr.dcm.gz",
                                          "ts-ct-explicit-be.dcm"};
  std::vector<std::string> files;
  std::vector<std::string> expected;
  for (const std::string& name : names) {
    files.push_back(CorpusFile(name));
    absl::StatusOr<ParsedInstance> r = ParseInstance(files.back());
    expected.push_back(r.ok() ? r->json : r.status().ToString());
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        const size_t i = static_cast<size_t>(t + round) % files.size();
        absl::StatusOr<ParsedInstance> r = ParseInstance(files[i]);
        const std::string got = r.ok() ? r->json : r.status().ToString();
        if (got != expected[i]) ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(HostileInputTest, InitializeIsIdempotent) {
  EXPECT_TRUE(InitializeDicom().ok());
  EXPECT_TRUE(InitializeDicom().ok());
}

}  // namespace
}  // namespace dicomstore::dicom
