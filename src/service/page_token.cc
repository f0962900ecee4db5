#include "service/page_token.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::service {
namespace {

// Token bytes (before base64): kVersion, the last key, then a 4-byte checksum over
// (version, kind, last key). The kind is not stored, only hashed: a token replayed against
// another collection fails the checksum, and tokens stay short whatever the parent name.
constexpr char kVersion = 1;
constexpr size_t kChecksumBytes = 4;

// FNV-1a: not a security measure, only a check that the token was made by us for this
// list; the decoded key is used as an exclusive lower bound, so a forged one does no harm.
class Fnv1a {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char b : bytes) {
      hash_ ^= b;
      hash_ *= 1099511628211ULL;
    }
  }
  // Length prefix so that ("ab", "c") and ("a", "bc") hash differently.
  void AddField(std::string_view bytes) {
    Add(std::to_string(bytes.size()));
    Add(":");
    Add(bytes);
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ULL;
};

std::string Checksum(std::string_view kind, std::string_view last_key) {
  Fnv1a h;
  h.Add(std::string_view(&kVersion, 1));
  h.AddField(kind);
  h.AddField(last_key);
  std::string out(kChecksumBytes, '\0');
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    out[i] = static_cast<char>((h.value() >> (8 * i)) & 0xff);
  }
  return out;
}

absl::Status InvalidToken() { return absl::InvalidArgumentError("invalid page token"); }

}  // namespace

std::string EncodePageToken(std::string_view kind, std::string_view last_key) {
  std::string raw =
      absl::StrCat(absl::string_view(&kVersion, 1), Av(last_key), Checksum(kind, last_key));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(std::string_view kind, std::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(Av(token), &raw)) return InvalidToken();
  if (raw.size() < 1 + kChecksumBytes || raw[0] != kVersion) return InvalidToken();
  std::string_view body(raw);
  std::string_view last_key = body.substr(1, body.size() - 1 - kChecksumBytes);
  std::string_view checksum = body.substr(body.size() - kChecksumBytes);
  if (checksum != Checksum(kind, last_key)) return InvalidToken();
  return std::string(last_key);
}

absl::StatusOr<int> ParsePageSize(std::string_view value, int default_size, int max_size) {
  if (value.empty()) return default_size;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid pageSize ", QuoteForMessage(value), ": ", why));
  };
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  bool negative = value.front() == '-';
  if (ec == std::errc::result_out_of_range) {
    return bad(negative ? "it must not be negative" : absl::StrCat("the maximum is ", max_size));
  }
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return bad(absl::StrCat("it must be an integer between 0 and ", max_size));
  }
  if (n < 0) return bad("it must not be negative");
  if (n > max_size) return bad(absl::StrCat("the maximum is ", max_size));
  return n == 0 ? default_size : static_cast<int>(n);
}

}  // namespace dicomstore::service
