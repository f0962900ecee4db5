// The value of one SQL statement: a result set (possibly empty) and/or a status message.
#ifndef DICOMSTORE_SQL_RESULT_SET_H_
#define DICOMSTORE_SQL_RESULT_SET_H_

#include <string>
#include <utility>
#include <vector>

namespace dicomstore::sql {

// One cell, as SQLite typed it. Integers and reals keep their SQL text form.
struct Value {
  enum class Type { kNull, kInteger, kReal, kText };
  Type type = Type::kNull;
  std::string text;

  static Value Null() { return Value{}; }
  static Value Text(std::string s) { return Value{Type::kText, std::move(s)}; }
  static Value Integer(long long v) { return Value{Type::kInteger, std::to_string(v)}; }
  bool operator==(const Value&) const = default;
};

struct ResultSet {
  // Empty for statements without a result set (INSERT, DELETE, UPDATE, DDL).
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  // A status line for stderr, e.g. "The operation was despatched successfully" ("" = none).
  std::string message;

  bool has_rows() const { return !columns.empty(); }
};

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_RESULT_SET_H_
