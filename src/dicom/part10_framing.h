// Where the dataset starts and how it is encoded: Part 10 preamble + File Meta, File Meta
// without preamble, or a raw dataset (no preamble, no File Meta).
//
// The File Meta group is read here (explicit VR LE; implicit VR tolerated), while elements
// of group 0002 follow — its group length is not trusted. The dataset encoding comes from
// the meta TransferSyntaxUID: 1.2.840.10008.1.2 implicit LE, .1.2.2 explicit BE, .1.2.1.99
// (and JPIP deflate .4.95) deflated explicit LE, anything else explicit LE (all
// encapsulated syntaxes). Without a TransferSyntaxUID, or for a raw dataset, the encoding
// is detected from the first element: explicit when bytes 4-5 are a known VR (byte order
// from the smaller group number), else implicit LE.
//
// A raw dataset is only believed when its first element's group is even and in
// 0002..0008 (a storable dataset starts with group 0008 at the latest); anything else —
// gzip, text, an empty file, a misaligned dataset — is "not a DICOM file".
#ifndef DICOMSTORE_DICOM_PART10_FRAMING_H_
#define DICOMSTORE_DICOM_PART10_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "dicom/dataset_scanner.h"

namespace dicomstore::dicom {

struct Framing {
  bool has_meta = false;                // File Meta present (with or without preamble)
  size_t dataset_offset = 0;            // first byte after the File Meta
  std::string meta_transfer_syntax;     // (0002,0010) as stored, trimmed; "" when absent
  std::string media_storage_sop_class;  // (0002,0002), trimmed
  Encoding encoding = Encoding::kImplicitLittle;
  bool deflated = false;
  // The meta TransferSyntaxUID, or the UID of the detected encoding when there is none.
  std::string transfer_syntax_uid;
};

absl::StatusOr<Framing> DetectFraming(std::string_view bytes);

// Inflates a deflated dataset (raw deflate, PS3.5 A.5). Refuses output beyond max_size.
absl::StatusOr<std::string> InflateDataset(std::string_view deflated, uint64_t max_size);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_PART10_FRAMING_H_
