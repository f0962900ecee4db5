// Fuzzes DICOM ingest: dicom::ParseInstance (src/dicom/instance_parser.h).
//
// DCMTK itself is not instrumented (Debian's g++ build), so coverage guidance only sees
// src/dicom (pre-scan, Part 10 framing, charset decoding, JSON writing); ASan/UBSan still
// watch everything. Checked on success: the four identifying UIDs are present, the JSON
// text parses (nlohmann's parser refuses invalid UTF-8) as an object, and its members can
// be walked without a parser (ForEachJsonMember, as stow_request.cc and QIDO splice the
// text), pixel numbers are not negative.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_members.h"
#include "dcmtk/config/osconfig.h"  // must come first
#include "dcmtk/oflog/oflog.h"
#include "dicom/instance_parser.h"
#include "fuzz/fuzz_check.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!dicomstore::dicom::InitializeDicom().ok()) std::abort();
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dicomstore::dicom::ParseLimits limits;
  limits.max_element_length = 1 << 20;  // keep allocations small: inputs are <= 64 KiB
  auto parsed = dicomstore::dicom::ParseInstance(bytes, limits);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!parsed->study_uid.empty() && !parsed->series_uid.empty());
  FUZZ_CHECK(!parsed->sop_instance_uid.empty() && !parsed->sop_class_uid.empty());
  FUZZ_CHECK(!parsed->transfer_syntax_uid.empty());
  FUZZ_CHECK(parsed->number_of_frames >= 0 && parsed->rows >= 0 && parsed->columns >= 0);
  FUZZ_CHECK(!parsed->has_pixel_data || parsed->number_of_frames >= 1);
  try {
    FUZZ_CHECK(nlohmann::json::parse(parsed->json).is_object());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "DICOM JSON does not parse: %s\n", e.what());
    std::abort();
  }
  FUZZ_CHECK(dicomstore::ForEachJsonMember(parsed->json, [](auto, auto) { return true; }));
  (void)dicomstore::dicom::NormalizePersonNameForMatch(parsed->patient_name);
  (void)dicomstore::dicom::DateToInt(parsed->study_date);
  return 0;
}
