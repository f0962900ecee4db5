// Settings of the SQL engine that the CLI exposes (page limit, status lines, AWAIT).
#ifndef DICOMSTORE_SQL_ENGINE_OPTIONS_H_
#define DICOMSTORE_SQL_ENGINE_OPTIONS_H_

#include <chrono>
#include <functional>
#include <string_view>

namespace dicomstore::sql {

struct EngineOptions {
  // Max pages fetched per list call; 0 = no limit. When hit, a warning goes to `notice`
  // and the rows read so far are used (StackQL's --http.response.pageLimit).
  int page_limit = 0;
  // Status lines for stderr: warnings, AWAIT progress. Null = dropped.
  std::function<void(std::string_view line)> notice;
  // How often AWAIT polls a long-running operation.
  std::chrono::milliseconds await_poll_interval{500};
  // QIDO results asked per request (limit); paging continues with offset until a page
  // comes back short. At most the server's maximum (Google: 5000 studies/series).
  int qido_page_size = 1000;
};

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_ENGINE_OPTIONS_H_
