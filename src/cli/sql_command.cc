#include "cli/sql_command.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

namespace dicomstore::cli {
namespace {

// The script: the positional argument, else -i FILE ("-" = standard input), else
// standard input.
bool ReadScript(const SqlOptions& options, std::istream& in, std::string* script,
                std::ostream& err) {
  if (!options.script.empty()) {
    *script = options.script;
    return true;
  }
  if (options.input_file.empty() || options.input_file == "-") {
    script->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream file(options.input_file, std::ios::binary);
  if (!file) {
    err << "dicomstore: cannot read " << options.input_file << "\n";
    return false;
  }
  script->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int RunSql(const SqlOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  absl::StatusOr<sql::OutputFormat> format = sql::ParseOutputFormat(options.output);
  if (!format.ok()) {
    err << "dicomstore: " << format.status().message() << "\n";
    return 2;
  }
  std::string script;
  if (!ReadScript(options, in, &script, err)) return 2;
  absl::StatusOr<std::unique_ptr<SqlSession>> session = SqlSession::Open(options.target, err);
  if (!session.ok()) {
    err << "dicomstore: " << session.status().message() << "\n";
    return 2;
  }
  return (*session)->RunScript(script, *format, out) ? 0 : 1;
}

}  // namespace dicomstore::cli
