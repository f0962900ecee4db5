#include "common/proto_json.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace dicomstore {
namespace {

constexpr absl::string_view kInvalidPayload = "Invalid JSON payload received. ";

// Thrown from the parser callback to stop parsing as soon as the depth limit is crossed,
// rather than reading the rest of an adversarially deep document.
struct DepthLimitExceeded {};

// nlohmann prefixes its messages with "[json.exception.parse_error.101] "; users only need
// the part after it, which carries the line/column.
std::string_view StripExceptionId(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    size_t end = what.find("] ");
    if (end != std::string_view::npos) return what.substr(end + 2);
  }
  return what;
}

std::string TypeDescription(const Json& value) {
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return "null";
}

absl::Status WrongType(std::string_view type_name, std::string_view field,
                       std::string_view expected, const Json& got) {
  return absl::InvalidArgumentError(absl::StrCat(kInvalidPayload, "Invalid value at '",
                                                 Av(type_name), ".", Av(field), "': expected ",
                                                 Av(expected), ", got ", TypeDescription(got)));
}

// Shared by the Read* functions: finds `field` in `object`, or returns nullptr when it is
// absent. A non-object container is itself an error.
absl::StatusOr<const Json*> FindMember(const Json& object, std::string_view field,
                                       std::string_view type_name) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kInvalidPayload, Av(type_name), " must be a JSON object, got ", TypeDescription(object)));
  }
  auto it = object.find(std::string(field));
  if (it == object.end()) return nullptr;
  return &*it;
}

absl::Status Int64OutOfRange(std::string_view type_name, std::string_view field,
                             std::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(kInvalidPayload, "Invalid value at '",
                                                 Av(type_name), ".", Av(field), "': ", Av(text),
                                                 " is not an integer in the int64 range"));
}

// proto3 JSON allows a float literal for an integer field when its value is integral.
// Both bounds are exclusive: a double equal to -2^63 may come from a rounded literal such as
// -9223372036854775809 (an exact -9223372036854775808 parses as an integer, not here).
std::optional<int64_t> Int64FromDouble(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;  // exactly representable
  if (!std::isfinite(v) || std::trunc(v) != v || v <= -kTwo63 || v >= kTwo63) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

// Strict decimal: no '+', no whitespace, no exponent.
std::optional<int64_t> Int64FromString(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

absl::StatusOr<Json> ParseJsonBody(std::string_view body) {
  if (absl::StripAsciiWhitespace(Av(body)).empty()) return Json::object();
  auto limit_depth = [](int depth, Json::parse_event_t event, Json&) {
    // `depth` counts the containers enclosing the one being opened (0 for the top level).
    bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) throw DepthLimitExceeded{};
    return true;
  };
  Json parsed;
  try {
    parsed = Json::parse(body.begin(), body.end(), limit_depth);
  } catch (const DepthLimitExceeded&) {
    return absl::InvalidArgumentError(absl::StrCat(
        kInvalidPayload, "JSON nesting is deeper than the limit of ", kMaxJsonDepth, " levels"));
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(kInvalidPayload, Av(StripExceptionId(e.what()))));
  }
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kInvalidPayload, "The request body must be a JSON object, got ", TypeDescription(parsed)));
  }
  return parsed;
}

absl::Status CheckObjectFields(const Json& value, std::initializer_list<std::string_view> allowed,
                               std::string_view type_name) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kInvalidPayload, Av(type_name), " must be a JSON object, got ", TypeDescription(value)));
  }
  for (const auto& [key, member] : value.items()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(kInvalidPayload, "Unknown name ",
                                                     QuoteForMessage(key), " in ", Av(type_name),
                                                     ": Cannot find field."));
    }
  }
  return absl::OkStatus();
}

// Reading null as the default value follows the proto3 JSON mapping ("null is accepted for
// all field types and treated as the default value").
absl::Status ReadString(const Json& object, std::string_view field, std::string_view type_name,
                        std::string* out) {
  absl::StatusOr<const Json*> member = FindMember(object, field, type_name);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return absl::OkStatus();
  const Json& v = **member;
  if (v.is_null()) {
    out->clear();
  } else if (v.is_string()) {
    *out = v.get<std::string>();
  } else {
    return WrongType(type_name, field, "a string", v);
  }
  return absl::OkStatus();
}

absl::Status ReadBool(const Json& object, std::string_view field, std::string_view type_name,
                      bool* out) {
  absl::StatusOr<const Json*> member = FindMember(object, field, type_name);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return absl::OkStatus();
  const Json& v = **member;
  if (v.is_null()) {
    *out = false;
  } else if (v.is_boolean()) {
    *out = v.get<bool>();
  } else {
    return WrongType(type_name, field, "a boolean", v);
  }
  return absl::OkStatus();
}

absl::Status ReadInt64(const Json& object, std::string_view field, std::string_view type_name,
                       int64_t* out) {
  absl::StatusOr<const Json*> member = FindMember(object, field, type_name);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return absl::OkStatus();
  const Json& v = **member;
  if (v.is_null()) {
    *out = 0;
  } else if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Int64OutOfRange(type_name, field, v.dump());
    }
    *out = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    *out = v.get<int64_t>();
  } else if (v.is_number_float()) {
    std::optional<int64_t> n = Int64FromDouble(v.get<double>());
    if (!n) return Int64OutOfRange(type_name, field, v.dump());
    *out = *n;
  } else if (v.is_string()) {
    std::optional<int64_t> n = Int64FromString(v.get_ref<const std::string&>());
    if (!n) return Int64OutOfRange(type_name, field, QuoteForMessage(v.get<std::string>()));
    *out = *n;
  } else {
    return WrongType(type_name, field, "an integer (number or decimal string)", v);
  }
  return absl::OkStatus();
}

std::string FormatTimestamp(int64_t unix_micros) {
  using namespace std::chrono;
  // The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z.
  // Clamping keeps the output a valid four-digit-year RFC 3339 string for any input.
  constexpr int64_t kMinMicros = -62135596800LL * 1000000;
  constexpr int64_t kMaxMicros = 253402300799LL * 1000000 + 999999;
  unix_micros = std::clamp(unix_micros, kMinMicros, kMaxMicros);
  sys_time<microseconds> t{microseconds{unix_micros}};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string QuoteForMessage(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace dicomstore
