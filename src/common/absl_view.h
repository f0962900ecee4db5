// Debian's Abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is its own type and does not convert from std::string_view. Project
// code uses std::string_view; pass views to Abseil string functions through Av().
#ifndef DICOMSTORE_COMMON_ABSL_VIEW_H_
#define DICOMSTORE_COMMON_ABSL_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace dicomstore {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_ABSL_VIEW_H_
