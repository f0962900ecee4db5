// Whether shell input typed so far ends a statement: its last significant character is a
// ';' outside quotes ('…', "…", `…`) and comments (-- to end of line, /* … */). Lets the
// shell read multi-line statements and semicolons inside strings.
#ifndef DICOMSTORE_SQL_STATEMENT_END_H_
#define DICOMSTORE_SQL_STATEMENT_END_H_

#include <string_view>

namespace dicomstore::sql {

bool EndsStatement(std::string_view text);

}  // namespace dicomstore::sql

#endif  // DICOMSTORE_SQL_STATEMENT_END_H_
