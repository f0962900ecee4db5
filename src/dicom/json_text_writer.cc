#include "dicom/json_text_writer.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace dicomstore::dicom {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0 when
// it is ill-formed; `*bad_end` is then the end of the maximal ill-formed subsequence (the
// bytes one U+FFFD replaces).
size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* bad_end) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte (Unicode table 3-7)
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    *bad_end = i + 1;
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const bool ok = i + k < s.size() && byte(i + k) >= (k == 1 ? lo : 0x80) &&
                    byte(i + k) <= (k == 1 ? hi : 0xBF);
    if (!ok) {
      *bad_end = i + k;
      return 0;
    }
  }
  return length;
}

void AppendEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t bad_end = 0;
      if (const size_t n = Utf8SequenceLength(s, i, &bad_end); n != 0) {
        i += n;
        continue;
      }
      out->append(s.substr(run, i - run));
      out->append(kReplacement);
      i = run = bad_end;
      continue;
    }
    out->append(s.substr(run, i - run));
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(u, sizeof u);
        break;
      }
    }
    run = ++i;
  }
  out->append(s.substr(run));
}

template <typename T>
void AppendInteger(T value, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end);
}

// Appends |value| (finite) in nlohmann's layout from the shortest round-trip digits.
void AppendDouble(double value, std::string* out) {
  if (std::signbit(value)) out->push_back('-');
  value = std::fabs(value);
  // Shortest digits in scientific form "d[.ddd]e<sign><exponent>".
  char sci[32];
  const auto [sci_end, ec] =
      std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
  const std::string_view text(sci, sci_end - sci);
  const size_t e = text.find('e');
  char digits[20];
  int k = 0;  // number of significant digits
  for (char c : text.substr(0, e)) {
    if (c != '.') digits[k++] = c;
  }
  std::string_view exponent_text = text.substr(e + 1);
  if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  // value = 0.<digits> x 10^n
  const int n = exponent + 1;
  constexpr int kMinExp = -4;  // nlohmann's bounds for the plain decimal form
  constexpr int kMaxExp = 15;
  const std::string_view d(digits, k);
  if (k <= n && n <= kMaxExp) {
    out->append(d);
    out->append(n - k, '0');
    out->append(".0");
  } else if (0 < n && n <= kMaxExp) {
    out->append(d.substr(0, n));
    out->push_back('.');
    out->append(d.substr(n));
  } else if (kMinExp < n && n <= 0) {
    out->append("0.");
    out->append(-n, '0');
    out->append(d);
  } else {
    out->push_back(d[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(d.substr(1));
    }
    out->push_back('e');
    const int shown = n - 1;
    out->push_back(shown < 0 ? '-' : '+');
    const int magnitude = shown < 0 ? -shown : shown;
    if (magnitude < 10) out->push_back('0');  // at least two exponent digits
    AppendInteger(magnitude, out);
  }
}

}  // namespace

void JsonTextWriter::Quoted(std::string_view s) {
  out_.push_back('"');
  AppendEscaped(s, &out_);
  out_.push_back('"');
}

void JsonTextWriter::Key(std::string_view key) {
  Separate();
  Quoted(key);
  out_.push_back(':');
}

void JsonTextWriter::String(std::string_view utf8) {
  Separate();
  Quoted(utf8);
}

void JsonTextWriter::Int(int64_t value) {
  Separate();
  AppendInteger(value, &out_);
}

void JsonTextWriter::Uint(uint64_t value) {
  Separate();
  AppendInteger(value, &out_);
}

void JsonTextWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_.append("null");
    return;
  }
  AppendDouble(value, &out_);
}

void JsonTextWriter::Null() {
  Separate();
  out_.append("null");
}

std::string JsonTextWriter::Take() {
  std::string text = std::move(out_);
  out_.clear();
  return text;
}

}  // namespace dicomstore::dicom
