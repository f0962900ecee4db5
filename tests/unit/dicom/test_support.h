// Helpers for the dicom layer tests: locating the shared corpus, reading files, and
// building small encoded datasets by hand.
#ifndef DICOMSTORE_TESTS_UNIT_DICOM_TEST_SUPPORT_H_
#define DICOMSTORE_TESTS_UNIT_DICOM_TEST_SUPPORT_H_

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomstore::dicom::testing {

// The shared corpus: $DICOMSTORE_CORPUS, else <repo>/../shared/corpus where <repo> is
// found from this header's own path (<repo>/tests/unit/dicom/test_support.h).
inline std::filesystem::path CorpusDir() {
  if (const char* env = std::getenv("DICOMSTORE_CORPUS"); env != nullptr && *env != '\0') {
    return env;
  }
  const std::filesystem::path here = std::filesystem::absolute(__FILE__);
  const std::filesystem::path repo = here.parent_path().parent_path().parent_path().parent_path();
  return repo.parent_path() / "shared" / "corpus";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// MANIFEST.tsv of the corpus: one map column-name -> cell per file.
inline std::vector<std::map<std::string, std::string>> ReadManifest() {
  std::ifstream in(CorpusDir() / "MANIFEST.tsv");
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = i < cells.size() ? cells[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

inline std::string CorpusFile(std::string_view name) {
  return ReadFile(CorpusDir() / "dicom" / std::string(name));
}

// Little-endian encoder for hand-built datasets.
class DatasetBuilder {
 public:
  enum class Mode { kExplicitLittle, kImplicitLittle };
  explicit DatasetBuilder(Mode mode = Mode::kExplicitLittle) : mode_(mode) {}

  // A short-form or long-form element; the length field is value.size() unless
  // `length` is given (to forge hostile lengths).
  DatasetBuilder& Element(uint16_t group, uint16_t element, std::string_view vr,
                          std::string_view value, int64_t length = -1) {
    Tag(group, element);
    const uint32_t len =
        length < 0 ? static_cast<uint32_t>(value.size()) : static_cast<uint32_t>(length);
    if (mode_ == Mode::kImplicitLittle) {
      U32(len);
    } else {
      bytes_.append(vr);
      if (LongForm(vr)) {
        U16(0);
        U32(len);
      } else {
        U16(static_cast<uint16_t>(len));
      }
    }
    bytes_.append(value);
    return *this;
  }
  // Padded string element.
  DatasetBuilder& String(uint16_t group, uint16_t element, std::string_view vr,
                         std::string_view value) {
    std::string v(value);
    if (v.size() % 2) v.push_back(vr == "UI" ? '\0' : ' ');
    return Element(group, element, vr, v);
  }
  DatasetBuilder& Us(uint16_t group, uint16_t element, uint16_t value) {
    std::string v;
    v.push_back(static_cast<char>(value & 0xFF));
    v.push_back(static_cast<char>(value >> 8));
    return Element(group, element, "US", v);
  }
  // Sequence / item framing with undefined lengths.
  DatasetBuilder& BeginSequence(uint16_t group, uint16_t element, std::string_view vr = "SQ") {
    Tag(group, element);
    if (mode_ == Mode::kExplicitLittle) {
      bytes_.append(vr);
      U16(0);
    }
    U32(0xFFFFFFFF);
    return *this;
  }
  DatasetBuilder& BeginItem() {
    Tag(0xFFFE, 0xE000);
    U32(0xFFFFFFFF);
    return *this;
  }
  DatasetBuilder& EndItem() {
    Tag(0xFFFE, 0xE00D);
    U32(0);
    return *this;
  }
  DatasetBuilder& EndSequence() {
    Tag(0xFFFE, 0xE0DD);
    U32(0);
    return *this;
  }
  DatasetBuilder& Raw(std::string_view raw) {
    bytes_.append(raw);
    return *this;
  }
  // The four identifying UIDs.
  DatasetBuilder& Identity() {
    String(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
    String(0x0008, 0x0018, "UI", "1.2.3.4.5.6");
    String(0x0020, 0x000D, "UI", "1.2.3.4");
    String(0x0020, 0x000E, "UI", "1.2.3.4.5");
    return *this;
  }

  const std::string& bytes() const { return bytes_; }

  // Wraps `dataset` in a preamble + File Meta with the given transfer syntax.
  static std::string Part10(std::string_view dataset,
                            std::string_view transfer_syntax = "1.2.840.10008.1.2.1") {
    DatasetBuilder meta;
    meta.Element(0x0002, 0x0001, "OB", std::string("\0\1", 2));
    meta.String(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7");
    meta.String(0x0002, 0x0003, "UI", "1.2.3.4.5.6");
    meta.String(0x0002, 0x0010, "UI", transfer_syntax);
    DatasetBuilder group_length;
    std::string len(4, '\0');
    const uint32_t n = static_cast<uint32_t>(meta.bytes().size());
    for (int i = 0; i < 4; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    group_length.Element(0x0002, 0x0000, "UL", len);
    std::string out(128, '\0');
    out += "DICM";
    out += group_length.bytes();
    out += meta.bytes();
    out.append(dataset);
    return out;
  }

 private:
  static bool LongForm(std::string_view vr) {
    for (std::string_view v :
         {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}) {
      if (v == vr) return true;
    }
    return false;
  }
  void Tag(uint16_t group, uint16_t element) {
    U16(group);
    U16(element);
  }
  void U16(uint16_t v) {
    bytes_.push_back(static_cast<char>(v & 0xFF));
    bytes_.push_back(static_cast<char>(v >> 8));
  }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }

  Mode mode_;
  std::string bytes_;
};

}  // namespace dicomstore::dicom::testing

#endif  // DICOMSTORE_TESTS_UNIT_DICOM_TEST_SUPPORT_H_
