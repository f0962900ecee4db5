#include "service/labels.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "absl/strings/str_cat.h"

namespace dicomstore::service {
namespace {

constexpr int kMaxLabelCodePoints = 63;
constexpr size_t kMaxLabelBytes = 128;

bool IsLowerOrCaselessLetter(UChar32 c) {
  return (U_GET_GC_MASK(c) & (U_GC_LL_MASK | U_GC_LO_MASK)) != 0;
}

bool IsLabelCodePoint(UChar32 c) {
  return c == '_' || c == '-' || IsLowerOrCaselessLetter(c) ||
         (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
}

// Shared by keys and values: they differ only in the first character and the minimum length.
// Returns an empty string when `text` is fine, else the reason.
std::string CheckLabelText(const std::string& text, bool is_key) {
  if (text.size() > kMaxLabelBytes) {
    return absl::StrCat("it is ", text.size(), " bytes long, more than ", kMaxLabelBytes);
  }
  size_t i = 0;
  int code_points = 0;
  while (i < text.size()) {
    UChar32 c;
    U8_NEXT(text.data(), i, text.size(), c);
    if (c < 0) return "it is not valid UTF-8";
    bool ok = (is_key && code_points == 0) ? IsLowerOrCaselessLetter(c) : IsLabelCodePoint(c);
    if (!ok) {
      return (is_key && code_points == 0) ? "it must start with a lowercase letter"
                                          : "it may only contain lowercase letters, digits, "
                                            "'_' and '-'";
    }
    ++code_points;
  }
  if (code_points > kMaxLabelCodePoints) {
    return absl::StrCat("it is ", code_points, " characters long, more than ", kMaxLabelCodePoints);
  }
  return "";
}

}  // namespace

absl::Status ValidateLabelKey(const std::string& key) {
  if (key.empty()) return absl::InvalidArgumentError("Invalid label key \"\": it is empty");
  std::string why = CheckLabelText(key, /*is_key=*/true);
  if (why.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "Invalid label key ", QuoteForMessage(key), ": ", why,
      " (keys are 1-63 lowercase letters, digits, '_' or '-', starting with a letter)"));
}

absl::Status ValidateLabelValue(const std::string& key, const std::string& value) {
  std::string why = CheckLabelText(value, /*is_key=*/false);
  if (why.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Invalid value ", QuoteForMessage(value), " for label ", QuoteForMessage(key),
                   ": ", why, " (values are 0-63 lowercase letters, digits, '_' or '-')"));
}

absl::StatusOr<Labels> ParseLabels(const Json& labels) {
  if (labels.is_null()) return Labels{};
  if (!labels.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid value at 'DicomStore.labels': expected an object mapping label keys to "
        "string values, got ",
        labels.type_name()));
  }
  if (labels.size() > static_cast<size_t>(kMaxLabels)) {
    return absl::InvalidArgumentError(absl::StrCat("Too many labels: ", labels.size(),
                                                   " given, at most ", kMaxLabels, " are allowed"));
  }
  Labels out;
  for (const auto& [key, value] : labels.items()) {
    if (absl::Status s = ValidateLabelKey(key); !s.ok()) return s;
    if (!value.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid value for label ", QuoteForMessage(key),
                       ": expected a string, got ", value.type_name()));
    }
    const std::string& text = value.get_ref<const std::string&>();
    if (absl::Status s = ValidateLabelValue(key, text); !s.ok()) return s;
    out.emplace(key, text);
  }
  return out;
}

}  // namespace dicomstore::service
