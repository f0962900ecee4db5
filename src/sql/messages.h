// StackQL's status lines for statements without a result set (spelling as in StackQL).
#ifndef DICOMSTORE_SQL_MESSAGES_H_
#define DICOMSTORE_SQL_MESSAGES_H_

#include <string_view>

namespace dicomstore::sql {

inline constexpr std::string_view kDespatchedMessage = "The operation was despatched successfully";
// With /*+ AWAIT */ once the long-running operation finished.
inline constexpr std::string_view kCompletedMessage = "The operation completed successfully";

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_MESSAGES_H_
