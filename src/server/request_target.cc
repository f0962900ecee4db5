#include "server/request_target.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"

namespace dicomstore::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      bool complete = i + 2 < in.size();
      int hi = complete ? HexValue(in[i + 1]) : -1;
      int lo = complete ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("malformed percent-escape in request target at offset ", i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool IsSystemParameter(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kSystem = {
      "$.xgafv",     "access_token", "alt",       "callback",   "fields",         "key",
      "oauth_token", "prettyPrint",  "quotaUser", "uploadType", "upload_protocol"};
  for (std::string_view s : kSystem) {
    if (s == name) return true;
  }
  return false;
}

std::string RequestTarget::Param(std::string_view name) const {
  for (const QueryParam& p : query) {
    if (p.name == name) return p.value;
  }
  return "";
}

bool RequestTarget::Has(std::string_view name) const {
  for (const QueryParam& p : query) {
    if (p.name == name) return true;
  }
  return false;
}

absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target) {
  if (target.size() > kMaxTargetLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("request target exceeds ", kMaxTargetLength, " bytes"));
  }
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError("request target must be an absolute path");
  }
  RequestTarget result;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  std::string_view raw_query = q == std::string_view::npos ? "" : target.substr(q + 1);

  // Segments are decoded one by one so an encoded '/' (%2F) stays inside its segment.
  for (absl::string_view raw : absl::StrSplit(Av(raw_path), '/', absl::SkipEmpty())) {
    absl::StatusOr<std::string> seg = PercentDecode(Sv(raw), false);
    if (!seg.ok()) return seg.status();
    result.segments.push_back(*std::move(seg));
  }
  absl::StatusOr<std::string> path = PercentDecode(raw_path, false);
  if (!path.ok()) return path.status();
  result.path = *std::move(path);

  for (absl::string_view apair : absl::StrSplit(Av(raw_query), '&', absl::SkipEmpty())) {
    std::string_view pair = Sv(apair);
    size_t eq = pair.find('=');
    absl::StatusOr<std::string> name = PercentDecode(pair.substr(0, eq), true);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value =
        PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!value.ok()) return value.status();
    if (IsSystemParameter(*name)) continue;
    result.query.push_back({*std::move(name), *std::move(value)});
  }
  return result;
}

}  // namespace dicomstore::server
