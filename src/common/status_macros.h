// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 has no public ones).
#ifndef DICOMSTORE_COMMON_STATUS_MACROS_H_
#define DICOMSTORE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

#define DS_CONCAT_INNER_(a, b) a##b
#define DS_CONCAT_(a, b) DS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define DS_RETURN_IF_ERROR(expr)                \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

// `lhs = value of expr`, or returns its status from the enclosing function.
#define DS_ASSIGN_OR_RETURN(lhs, expr) \
  DS_ASSIGN_OR_RETURN_IMPL_(DS_CONCAT_(_statusor_, __LINE__), lhs, expr)
#define DS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

#endif  // DICOMSTORE_COMMON_STATUS_MACROS_H_
