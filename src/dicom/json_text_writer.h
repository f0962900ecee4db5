// Compact JSON text appended straight to a string, for the DICOM JSON of an instance
// (dicom_json_writer.h). Building an nlohmann tree per element and dumping it cost more
// CPU than reading the DICOM file; this writes the same text in one pass.
//
// The output has no white space between tokens (other code splices it: ForEachJsonMember
// in QIDO, the BulkDataURI rewrite of WADO metadata) and is the text nlohmann::json::dump()
// with error_handler_t::replace wrote before this writer existed, except that doubles get
// the shortest digits that read back to the same value where nlohmann's Grisu2 sometimes
// gives 17 (e.g. "48.1880153671875", as a DS is usually written, not
// "48.188015367187496"); the values are the same.
//  - strings: '"', '\' and control characters (< 0x20) are escaped (\b \t \n \f \r, the
//    others as \u00xx); everything else is written as is (non-ASCII as UTF-8, '/' and
//    DEL unescaped). Ill-formed UTF-8 is replaced with U+FFFD, one per maximal ill-formed
//    subsequence (Unicode's recommended practice, as nlohmann does), so the text is always
//    valid UTF-8.
//  - integers in plain decimal;
//  - doubles laid out as nlohmann does: "1.5", "2.0" (integral values keep ".0"), "-0.0",
//    "0.0001", "1e-05", "1.5e+16" (exponent form below 1e-4 and from 1e15 on). NaN and
//    infinities become null (JSON has no such numbers; the DICOM writer spells them as
//    strings before this).
//
// Commas are placed by the writer: a value or key is preceded by ',' unless it opens a
// container or follows a key. The caller is responsible for balancing Begin/End and for
// writing a key before each value inside an object.
#ifndef DICOMSTORE_DICOM_JSON_TEXT_WRITER_H_
#define DICOMSTORE_DICOM_JSON_TEXT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dicomstore::dicom {

class JsonTextWriter {
 public:
  JsonTextWriter() = default;

  void BeginObject() { Open('{'); }
  void EndObject() { out_.push_back('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { out_.push_back(']'); }

  // An object member's key (escaped like a string), followed by ':'.
  void Key(std::string_view key);
  void String(std::string_view utf8);
  void Int(int64_t value);
  void Uint(uint64_t value);
  void Double(double value);
  void Null();

  const std::string& text() const { return out_; }
  size_t size() const { return out_.size(); }
  // Moves the text out; the writer is empty afterwards.
  std::string Take();

 private:
  void Separate() {
    if (!out_.empty()) {
      const char last = out_.back();
      if (last != '{' && last != '[' && last != ':') out_.push_back(',');
    }
  }
  void Quoted(std::string_view s);
  void Open(char bracket) {
    Separate();
    out_.push_back(bracket);
  }

  std::string out_;
};

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_JSON_TEXT_WRITER_H_
