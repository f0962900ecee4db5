// `dicomstore shell`: the read-eval-print loop around SqlSession, with libedit for line
// editing and a history file in the home directory.
#include <editline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "cli/sql_command.h"
#include "sql/statement_end.h"

namespace dicomstore::cli {
namespace {

constexpr int kHistoryLimit = 1000;

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? std::string(home) + "/.dicomstore_history" : "";
}

bool IsQuit(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return line == "exit" || line == "quit" || line == "\\q";
}

}  // namespace

int RunShell(const SqlOptions& options) {
  absl::StatusOr<sql::OutputFormat> format = sql::ParseOutputFormat(options.output);
  if (!format.ok()) {
    std::cerr << "dicomstore: " << format.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<SqlSession>> session = SqlSession::Open(options.target, std::cerr);
  if (!session.ok()) {
    std::cerr << "dicomstore: " << session.status().message() << "\n";
    return 2;
  }
  const bool interactive = isatty(STDIN_FILENO) != 0;
  const std::string history = HistoryPath();
  if (interactive) {
    using_history();
    stifle_history(kHistoryLimit);
    if (!history.empty()) read_history(history.c_str());
    std::cout << "dicomstore shell: end statements with ';', quit with 'exit' or Ctrl-D\n";
  }

  std::string pending;  // lines of a statement not yet ended by ';'
  while (true) {
    const char* prompt = !interactive ? "" : pending.empty() ? "dicomstore> " : "        -> ";
    char* raw = readline(prompt);
    if (raw == nullptr) break;  // end of input
    std::string line(raw);
    std::free(raw);
    if (pending.empty() && IsQuit(line)) break;
    if (pending.empty() && line.find_first_not_of(" \t") == std::string::npos) continue;
    pending += pending.empty() ? line : "\n" + line;
    if (!sql::EndsStatement(pending)) continue;
    if (interactive) add_history(pending.c_str());
    (*session)->RunScript(pending, *format, std::cout);  // errors are printed; go on
    pending.clear();
  }
  // Input that ended without ';' still runs, as `dicomstore sql` would run it.
  if (pending.find_first_not_of(" \t\n") != std::string::npos) {
    (*session)->RunScript(pending, *format, std::cout);
  }
  if (interactive && !history.empty()) write_history(history.c_str());
  return 0;
}

}  // namespace dicomstore::cli
