// Reading one stored DICOM instance: the only place (with the rest of src/dicom) that
// includes DCMTK.
//
// ParseInstance reads a Part 10 file (or a raw dataset without preamble/File Meta) once,
// stopping before top-level pixel data, and yields everything the index needs:
//   - the identifying UIDs and the transfer syntax,
//   - the QIDO match keys, normalised (spec healthcare-api.md §10.3),
//   - the whole dataset as DICOM JSON (PS3.18 Annex F), every string converted to UTF-8,
//     with bulk data replaced by relative BulkDataURIs (see below),
//   - the pixel-description numbers WADO needs (frames, rows, columns, bits).
// The caller never sees DCMTK types. Errors are INVALID_ARGUMENT with a reason a user can
// act on ("not a DICOM file", "missing SOPInstanceUID", "truncated element (0010,0010)").
//
// Before DCMTK sees the bytes, every element header (top level, inside items, over pixel
// fragments) is pre-scanned (dataset_scanner.h): a declared length beyond the remaining
// input or over max_element_length, or nesting deeper than max_sequence_depth, is refused
// without allocating. Accepted: Part 10 files, File Meta without preamble, raw datasets
// (encoding detected), deflated datasets (inflated with a size cap), files whose meta
// lacks the TransferSyntaxUID (encoding detected). Refused: no plausible DICOM start,
// truncated elements (including truncated Pixel Data), a dataset not encoded in the
// declared transfer syntax, missing/empty Study/Series/SOP Instance/SOP Class UIDs,
// DICOMDIRs. Elements after the top-level Pixel Data are included when well formed and
// ignored otherwise. JSON rules: dicom_json_writer.h; character sets: charset_decoder.h.
#ifndef DICOMSTORE_DICOM_INSTANCE_PARSER_H_
#define DICOMSTORE_DICOM_INSTANCE_PARSER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dicomstore::dicom {

// Limits applied while parsing (explicit so they can be tested and documented).
struct ParseLimits {
  uint64_t max_element_length = 1ull << 30;  // a declared length beyond this, or beyond
                                             // the remaining input, is refused up front;
                                             // also caps the inflated size of a deflated
                                             // dataset (with 64 MiB + 64 x its size)
  int max_sequence_depth = 16;               // nested SQ deeper than this is refused
                                             // (a top-level SQ is depth 1)
};

struct ParsedInstance {
  // Identity (always present when parsing succeeds).
  std::string study_uid, series_uid, sop_instance_uid, sop_class_uid;
  // From the File Meta; when there is none (raw dataset) or it lacks the UID, the detected
  // encoding: "1.2.840.10008.1.2" (implicit VR LE, the default), "1.2.840.10008.1.2.1"
  // (explicit VR LE) or "1.2.840.10008.1.2.2" (explicit VR BE).
  std::string transfer_syntax_uid;

  // QIDO match keys, as stored after UTF-8 conversion, trailing padding removed, first
  // value when several ("" when absent).
  std::string patient_name;  // PN, all component groups as stored ("=" separated)
  std::string patient_id, accession_number, referring_physician_name;
  std::string study_date;  // DA as stored
  std::string study_time, study_id, study_description;
  std::string modality, series_description;
  int64_t series_number = 0, instance_number = 0;  // 0 when absent or invalid

  // Pixel description (0 when absent).
  int64_t number_of_frames = 0;  // NumberOfFrames if a valid IS > 0, else 1 with pixel
                                 // data, else 0
  int64_t rows = 0, columns = 0, bits_allocated = 0;
  bool has_pixel_data = false;  // top-level (7FE0,0008/0009/0010), non-empty

  // The whole dataset (File Meta and group lengths excluded) as the text of a DICOM JSON
  // object (not an array): compact (no white space between tokens), valid UTF-8, keys in
  // tag order; json_text_writer.h gives the exact text form. Bulk data elements (Google's
  // definition, spec §10.4: any pixel data, any OB/OW/UN, OD/OF/OL/OV over 2 KiB,
  // AT/FD/FL/UL/US/SV/UV with VM > 512) carry "BulkDataURI": "bulkdata/<tag path>" —
  // relative to the instance URL, where the tag path is the 8-hex-digit tag, with
  // "/<item index>/<tag>" steps for elements inside sequences, e.g. "bulkdata/7FE00010" or
  // "bulkdata/00880200/0/7FE00010". The service makes them absolute when answering.
  std::string json;
};

// One-time process setup: checks the data dictionary is loaded (refuses to run without
// it: FAILED_PRECONDITION), registers the JPEG / JPEG-LS / RLE decoders, sets DCMTK's
// console logging to errors only. Idempotent and thread-safe; ParseInstance calls it.
absl::Status InitializeDicom();

// Parses `bytes` (the whole file). `bytes` must stay valid only during the call. Safe to
// call concurrently; never throws.
absl::StatusOr<ParsedInstance> ParseInstance(std::string_view bytes,
                                             const ParseLimits& limits = {});

// How ParseInstance reads the dataset. kAuto (what ParseInstance does): the fast path
// (raw_json_writer.h) for the common little-endian case, DCMTK for everything it does
// not handle and for every refusal; both give the same result. kDcmtkOnly: DCMTK always
// (the reference the fast path is tested against). `used_fast_path`, when given, says
// whether the result came from the fast path.
enum class ParsePath { kAuto, kDcmtkOnly };
absl::StatusOr<ParsedInstance> ParseInstanceWith(std::string_view bytes, const ParseLimits& limits,
                                                 ParsePath path, bool* used_fast_path = nullptr);

// Normalisations shared by the index and QIDO so that stored keys and query values are
// compared in one form.
// PatientName words for fuzzy matching: upper-cased (Unicode, root locale), split on
// '^', '=' and white space, empty words dropped, joined by single spaces
// ("Doe^John=ド^ジョン" -> "DOE JOHN ド ジョン").
std::string NormalizePersonNameForMatch(std::string_view utf8_name);
// DA "YYYYMMDD" (also tolerates "YYYY.MM.DD" and surrounding spaces) -> YYYYMMDD as an
// integer; 0 when invalid (including impossible dates such as 20230229).
int32_t DateToInt(std::string_view da);

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_INSTANCE_PARSER_H_
