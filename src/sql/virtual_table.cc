#include "sql/virtual_table.h"
#include "common/dicom_keywords.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "sql/dicom_values.h"

namespace dicomstore::sql {
namespace {

// --- layout ------------------------------------------------------------------------------

enum class ColumnKind { kField, kParam, kQuery, kData };

struct Column {
  std::string name;
  ColumnKind kind;
  size_t field = 0;  // kField: index into the resource's fields; kData: the body field name
};

struct Layout {
  const ResourceSpec* resource = nullptr;
  std::vector<Column> columns;
};

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Layout MakeLayout(const ResourceSpec& r) {
  Layout layout;
  layout.resource = &r;
  std::vector<std::string> params, query, data;
  std::vector<std::string> fields;
  for (const FieldSpec& f : r.fields) fields.emplace_back(f.name);
  for (const MethodSpec& m : r.methods) {
    if (m.verb == SqlVerb::kExec) continue;
    for (std::string& p : m.PathParams()) {
      if (!Contains(params, p)) params.push_back(std::move(p));
    }
    if (!m.IsQidoSearch()) {
      for (std::string_view q : m.query) {
        if (q != "pageToken" && !Contains(query, q) && !Contains(fields, q)) {
          query.emplace_back(q);
        }
      }
    }
    if (m.verb != SqlVerb::kSelect && m.verb != SqlVerb::kDelete) {
      for (std::string_view b : m.body_fields) {
        if (!Contains(data, b)) data.emplace_back(b);
      }
    }
  }
  for (size_t i = 0; i < r.fields.size(); ++i) {
    layout.columns.push_back({std::string(r.fields[i].name), ColumnKind::kField, i});
  }
  for (std::string& p : params) layout.columns.push_back({std::move(p), ColumnKind::kParam});
  for (std::string& q : query) layout.columns.push_back({std::move(q), ColumnKind::kQuery});
  for (std::string& d : data) layout.columns.push_back({std::move(d), ColumnKind::kData});
  return layout;
}

std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string Declaration(const Layout& layout) {
  std::vector<std::string> cols;
  for (const Column& c : layout.columns) {
    switch (c.kind) {
      case ColumnKind::kField:
        cols.push_back(Quote(c.name));
        break;
      case ColumnKind::kParam:
      case ColumnKind::kQuery:
        cols.push_back(Quote(c.name) + " HIDDEN");
        break;
      case ColumnKind::kData:
        cols.push_back(Quote("data__" + c.name) + " HIDDEN");
        break;
    }
  }
  return absl::StrCat("CREATE TABLE x(", absl::StrJoin(cols, ", "), ")");
}

// --- plans -------------------------------------------------------------------------------

enum class Mode { kSelect = 0, kPreRead = 1, kSynthetic = 2 };

// A constraint handed to xFilter: the column and the SQLite operator.
struct PlanArg {
  int column;
  int op;
};

struct Plan {
  Mode mode = Mode::kSelect;
  int method = -1;  // index into the resource's methods (-1: none, synthetic rows)
  std::vector<PlanArg> args;

  std::string Encode() const {
    std::string out = absl::StrCat(static_cast<int>(mode), " ", method);
    for (const PlanArg& a : args) absl::StrAppend(&out, " ", a.column, ":", a.op);
    return out;
  }
  static Plan Decode(const char* text) {
    Plan plan;
    std::vector<std::string> parts = absl::StrSplit(text == nullptr ? "" : text, ' ');
    if (parts.size() < 2) return plan;
    plan.mode = static_cast<Mode>(std::stoi(parts[0]));
    plan.method = std::stoi(parts[1]);
    for (size_t i = 2; i < parts.size(); ++i) {
      size_t colon = parts[i].find(':');
      plan.args.push_back(
          {std::stoi(parts[i].substr(0, colon)), std::stoi(parts[i].substr(colon + 1))});
    }
    return plan;
  }
};

std::vector<std::string> Missing(const MethodSpec& m, const std::set<std::string>& have) {
  std::vector<std::string> out;
  for (const std::string& p : m.PathParams()) {
    if (!have.count(p)) out.push_back(p);
  }
  return out;
}

// The first method of `methods` whose parameters are all in `have`, or -1 with the
// missing parameters of the nearest one.
int Choose(const ResourceSpec& r, SqlVerb verb, const std::set<std::string>& have,
           std::vector<std::string>* missing) {
  std::optional<std::vector<std::string>> nearest;
  for (size_t i = 0; i < r.methods.size(); ++i) {
    const MethodSpec& m = r.methods[i];
    if (m.verb != verb) continue;
    std::vector<std::string> lack = Missing(m, have);
    if (lack.empty()) return static_cast<int>(i);
    if (!nearest || lack.size() < nearest->size()) nearest = std::move(lack);
  }
  if (missing != nullptr) *missing = nearest.value_or(std::vector<std::string>{});
  return -1;
}

SqlVerb VerbOf(std::string_view verb) {
  if (verb == "INSERT") return SqlVerb::kInsert;
  if (verb == "UPDATE") return SqlVerb::kUpdate;
  if (verb == "REPLACE") return SqlVerb::kReplace;
  if (verb == "DELETE") return SqlVerb::kDelete;
  return SqlVerb::kSelect;
}

bool IsRangeOp(int op) {
  return op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE ||
         op == SQLITE_INDEX_CONSTRAINT_LT || op == SQLITE_INDEX_CONSTRAINT_LE;
}

// A value QIDO matches at least as broadly as SQL '=' on the column: no list separators
// (a UID list is refused), no empty value.
bool Pushable(std::string_view value) {
  return !value.empty() && value.find(',') == std::string_view::npos &&
         value.find('\\') == std::string_view::npos;
}

bool IsDate(std::string_view v) {
  return v.size() == 8 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

// --- rows --------------------------------------------------------------------------------

struct Row {
  Json item;
  std::map<std::string, std::string> params;  // path and query parameter values
};

// Path parameters recovered from a resource name ("projects/p/.../dicomStores/s") by the
// resource's longest matching path template.
void ParamsFromName(const ResourceSpec& r, std::string_view name,
                    std::map<std::string, std::string>* params) {
  if (name.empty()) return;
  std::vector<std::string> segments = absl::StrSplit(Av(name), '/');
  size_t best = 0;
  std::map<std::string, std::string> found;
  for (const MethodSpec& m : r.methods) {
    std::string_view path = m.path;
    if (path.rfind("/v1/", 0) != 0) continue;
    path.remove_prefix(4);
    if (size_t colon = path.find(':'); colon != std::string_view::npos)
      path = path.substr(0, colon);
    std::vector<std::string> pattern = absl::StrSplit(Av(path), '/');
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> values;
    bool match = true;
    for (size_t i = 0; i < pattern.size() && match; ++i) {
      if (pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}') {
        values[std::string(pattern[i].substr(1, pattern[i].size() - 2))] = std::string(segments[i]);
      } else {
        match = pattern[i] == segments[i];
      }
    }
    if (match && values.size() > best) {
      best = values.size();
      found = std::move(values);
    }
  }
  for (auto& [k, v] : found) params->emplace(k, std::move(v));
}

// --- SQLite glue -------------------------------------------------------------------------

struct TableAux {
  Layout layout;
  TableEnvironment* env;
};

struct VTab : sqlite3_vtab {
  const TableAux* aux = nullptr;
  uint64_t generation = 0;
  std::vector<Row> rows;                             // of this statement; rowid = index
  std::map<std::string, std::vector<Json>> fetched;  // of this statement, by request

  StatementState& statement() const { return *aux->env->statement; }
  const ResourceSpec& resource() const { return *aux->layout.resource; }
  const Layout& layout() const { return aux->layout; }

  void Sync() {
    if (generation != statement().generation) {
      generation = statement().generation;
      rows.clear();
      fetched.clear();
    }
  }
  sqlite3_int64 Add(Row row) {
    Sync();
    rows.push_back(std::move(row));
    return static_cast<sqlite3_int64>(rows.size() - 1);
  }
  const Row* At(sqlite3_int64 rowid) {
    Sync();
    if (rowid < 0 || rowid >= static_cast<sqlite3_int64>(rows.size())) return nullptr;
    return &rows[static_cast<size_t>(rowid)];
  }
  int Fail(absl::Status status) {
    sqlite3_free(zErrMsg);
    zErrMsg = sqlite3_mprintf("%s", std::string(status.message()).c_str());
    if (statement().pending.ok()) statement().pending = std::move(status);
    return SQLITE_ERROR;
  }
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<sqlite3_int64> rowids;
  size_t pos = 0;
};

int Connect(sqlite3* db, void* aux_ptr, int, const char* const*, sqlite3_vtab** out, char**) {
  auto* aux = static_cast<TableAux*>(aux_ptr);
  if (int rc = sqlite3_declare_vtab(db, Declaration(aux->layout).c_str()); rc != SQLITE_OK) {
    return rc;
  }
  auto* vt = new VTab();
  vt->aux = aux;
  *out = vt;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* base) {
  auto* vt = static_cast<VTab*>(base);
  sqlite3_free(vt->zErrMsg);
  delete vt;
  return SQLITE_OK;
}

int BestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  auto* vt = static_cast<VTab*>(base);
  const Layout& layout = vt->layout();
  const ResourceSpec& r = vt->resource();
  StatementState& st = vt->statement();

  // Parameters given with '=' (an IN list arrives as '=' too: one xFilter per value).
  std::map<int, int> eq;  // column -> constraint
  std::set<std::string> have;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ || c.iColumn < 0) continue;
    const Column& col = layout.columns[static_cast<size_t>(c.iColumn)];
    if (col.kind != ColumnKind::kParam && col.kind != ColumnKind::kQuery) continue;
    if (eq.emplace(c.iColumn, i).second) have.insert(col.name);
  }

  Plan plan;
  const bool modifying = st.target == r.name && st.verb != "SELECT" && st.verb != "INSERT";
  std::vector<std::string> missing;
  if (modifying) {
    const SqlVerb verb = VerbOf(st.verb);
    if (Choose(r, verb, have, &missing) < 0) {
      st.unmatched = StatementState::Unmatched{std::string(r.name), verb, missing};
      return SQLITE_CONSTRAINT;
    }
    // Read the resource first only when the select method returns exactly it (a get), so
    // SET expressions and WHERE predicates can use its current fields.
    plan.mode = Mode::kSynthetic;
    for (size_t i = 0; i < r.methods.size(); ++i) {
      const MethodSpec& m = r.methods[i];
      if (m.verb == SqlVerb::kSelect && m.shape == ResponseShape::kObject && m.items_key.empty() &&
          Missing(m, have).empty()) {
        plan.mode = Mode::kPreRead;
        plan.method = static_cast<int>(i);
        break;
      }
    }
  } else {
    plan.method = Choose(r, SqlVerb::kSelect, have, &missing);
    if (plan.method < 0) {
      st.unmatched = StatementState::Unmatched{std::string(r.name), SqlVerb::kSelect, missing};
      return SQLITE_CONSTRAINT;
    }
  }

  int argv = 0;
  for (const auto& [column, i] : eq) {
    info->aConstraintUsage[i].argvIndex = ++argv;
    info->aConstraintUsage[i].omit = 1;
    plan.args.push_back({column, SQLITE_INDEX_CONSTRAINT_EQ});
  }
  // QIDO pushdown: match keys the select method declares, plus the identity parameters
  // (studiesId = StudyInstanceUID, ...). SQLite re-checks these (omit = 0).
  if (plan.mode == Mode::kSelect) {
    const MethodSpec& m = r.methods[static_cast<size_t>(plan.method)];
    if (m.IsQidoSearch()) {
      for (int i = 0; i < info->nConstraint; ++i) {
        const auto& c = info->aConstraint[i];
        if (!c.usable || c.iColumn < 0) continue;
        const Column& col = layout.columns[static_cast<size_t>(c.iColumn)];
        if (col.kind != ColumnKind::kField) continue;
        const bool key = std::find(m.query.begin(), m.query.end(), col.name) != m.query.end();
        const bool ok = key && (c.op == SQLITE_INDEX_CONSTRAINT_EQ ||
                                (col.name == "StudyDate" && IsRangeOp(c.op)));
        if (!ok) continue;
        info->aConstraintUsage[i].argvIndex = ++argv;
        info->aConstraintUsage[i].omit = 0;
        plan.args.push_back({c.iColumn, c.op});
      }
    }
  }
  const bool one =
      plan.mode != Mode::kSelect || r.methods[static_cast<size_t>(plan.method)].items_key.empty();
  info->estimatedCost = (one ? 10.0 : 1000.0) / (1.0 + static_cast<double>(argv));
  info->estimatedRows = one ? 1 : 100;
  info->idxNum = static_cast<int>(plan.mode);
  info->idxStr = sqlite3_mprintf("%s", plan.Encode().c_str());
  info->needToFreeIdxStr = 1;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = new Cursor();
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  delete static_cast<Cursor*>(cur);
  return SQLITE_OK;
}

std::string ValueText(sqlite3_value* v) {
  const unsigned char* text = sqlite3_value_text(v);
  return text == nullptr ? ""
                         : std::string(reinterpret_cast<const char*>(text),
                                       static_cast<size_t>(sqlite3_value_bytes(v)));
}

// The query string of a QIDO select: pushed-down match keys (first value per key; two
// different '=' values on one key match nothing), StudyDate ranges, and includefield for
// the table's columns beyond the level's defaults.
bool QidoQuery(const ResourceSpec& r, const Layout& layout, const Plan& plan,
               const std::vector<std::string>& values,
               const std::map<std::string, std::string>& params,
               std::vector<std::pair<std::string, std::string>>* query) {
  std::map<std::string, std::string> keys;
  std::string date_from, date_to;
  bool date_eq = false;
  auto put = [&](const std::string& key, const std::string& value) {
    auto [it, inserted] = keys.emplace(key, value);
    return inserted || it->second == value;
  };
  for (const auto& [param, value] : params) {
    if (uint32_t tag = IdentityTag(param); tag != 0 && Pushable(value)) {
      if (!put(std::string(KnownKeyword(tag)), value)) return false;
    }
  }
  for (size_t i = 0; i < plan.args.size(); ++i) {
    const Column& col = layout.columns[static_cast<size_t>(plan.args[i].column)];
    if (col.kind != ColumnKind::kField) continue;
    const std::string& v = values[i];
    const int op = plan.args[i].op;
    if (op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (!Pushable(v)) continue;
      if (col.name == "StudyDate") {
        if (!IsDate(v)) continue;
        date_eq = true;
      }
      if (!put(col.name, v)) return false;
    } else if (col.name == "StudyDate" && IsDate(v)) {
      // QIDO ranges are inclusive: a strict bound fetches one day more, SQLite drops it.
      if (op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE) {
        date_from = std::max(date_from, v);
      } else if (date_to.empty() || v < date_to) {
        date_to = v;
      }
    }
  }
  if (!date_eq && (!date_from.empty() || !date_to.empty())) {
    keys["StudyDate"] = absl::StrCat(date_from, "-", date_to);
  }
  for (auto& [k, v] : keys) query->emplace_back(k, v);
  std::vector<std::string> include;
  for (const FieldSpec& f : r.fields) {
    if (f.tag != 0) include.emplace_back(f.name);
  }
  if (!include.empty()) query->emplace_back("includefield", absl::StrJoin(include, ","));
  return true;
}

int Filter(sqlite3_vtab_cursor* base, int, const char* idx_str, int argc, sqlite3_value** argv) {
  auto* cur = static_cast<Cursor*>(base);
  auto* vt = static_cast<VTab*>(cur->pVtab);
  const Layout& layout = vt->layout();
  const ResourceSpec& r = vt->resource();
  vt->Sync();
  cur->rowids.clear();
  cur->pos = 0;
  const Plan plan = Plan::Decode(idx_str);
  if (static_cast<int>(plan.args.size()) != argc) return SQLITE_ERROR;

  std::map<std::string, std::string> params;
  std::vector<std::string> values;
  for (int i = 0; i < argc; ++i) {
    const Column& col =
        layout.columns[static_cast<size_t>(plan.args[static_cast<size_t>(i)].column)];
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
      if (col.kind != ColumnKind::kField) return SQLITE_OK;  // "= NULL" matches nothing
      values.emplace_back();
      continue;
    }
    values.push_back(ValueText(argv[i]));
    if (col.kind == ColumnKind::kParam || col.kind == ColumnKind::kQuery) {
      params.emplace(col.name, values.back());
    }
  }
  if (plan.mode == Mode::kSynthetic) {
    cur->rowids.push_back(vt->Add(Row{Json::object(), params}));
    return SQLITE_OK;
  }
  const MethodSpec& m = r.methods[static_cast<size_t>(plan.method)];
  CallArgs args;
  for (const std::string& p : m.PathParams()) args.path[p] = params[p];
  if (m.IsQidoSearch()) {
    if (!QidoQuery(r, layout, plan, values, params, &args.query)) return SQLITE_OK;
  } else {
    for (std::string_view q : m.query) {
      auto it = params.find(std::string(q));
      if (it != params.end()) args.query.emplace_back(it->first, it->second);
    }
  }
  // SQLite re-runs a scan for each row of an outer loop; the API is asked once per
  // statement and distinct request.
  std::string key = absl::StrCat(plan.method);
  for (const auto& [name, value] : args.path) absl::StrAppend(&key, "\n", name, "=", value);
  for (const auto& [name, value] : args.query) absl::StrAppend(&key, "\n?", name, "=", value);
  auto cached = vt->fetched.find(key);
  if (cached == vt->fetched.end()) {
    absl::StatusOr<std::vector<Json>> items =
        vt->aux->env->api->Fetch(m, std::move(args), r.TableName());
    if (!items.ok()) return vt->Fail(items.status());
    cached = vt->fetched.emplace(std::move(key), *std::move(items)).first;
  }
  for (const Json& fetched : cached->second) {
    Json item = fetched;
    Row row{std::move(item), params};
    if (r.rows == RowSource::kDicom) {
      for (const Column& c : layout.columns) {
        if (c.kind != ColumnKind::kParam) continue;
        if (uint32_t tag = IdentityTag(c.name); tag != 0) {
          Json uid = DicomValue(row.item, tag);
          if (uid.is_string()) row.params[c.name] = uid.get<std::string>();
        }
      }
    } else if (row.item.is_object() && row.item.contains("name") && row.item["name"].is_string()) {
      ParamsFromName(r, row.item["name"].get<std::string>(), &row.params);
    }
    cur->rowids.push_back(vt->Add(std::move(row)));
  }
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* base) {
  ++static_cast<Cursor*>(base)->pos;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* base) {
  auto* cur = static_cast<Cursor*>(base);
  return cur->pos >= cur->rowids.size() ? 1 : 0;
}

void ResultJson(sqlite3_context* ctx, const Json& value) {
  if (value.is_null()) {
    sqlite3_result_null(ctx);
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  } else if (value.is_boolean()) {
    sqlite3_result_int(ctx, value.get<bool>() ? 1 : 0);
  } else if (value.is_number_integer()) {
    sqlite3_result_int64(ctx, value.get<int64_t>());
  } else if (value.is_number_float()) {
    sqlite3_result_double(ctx, value.get<double>());
  } else {
    const std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
}

int ColumnValue(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) {
  auto* cur = static_cast<Cursor*>(base);
  auto* vt = static_cast<VTab*>(cur->pVtab);
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;  // UPDATE: unchanged columns
  const Row* row = vt->At(cur->rowids[cur->pos]);
  if (row == nullptr) return SQLITE_ERROR;
  const Column& c = vt->layout().columns[static_cast<size_t>(col)];
  switch (c.kind) {
    case ColumnKind::kField: {
      const FieldSpec& f = vt->resource().fields[c.field];
      if (vt->resource().rows == RowSource::kDicom) {
        ResultJson(ctx, f.tag == 0 ? row->item : DicomValue(row->item, f.tag));
      } else if (row->item.is_object() && row->item.contains(c.name)) {
        ResultJson(ctx, row->item[c.name]);
      } else {
        sqlite3_result_null(ctx);
      }
      break;
    }
    case ColumnKind::kParam:
    case ColumnKind::kQuery: {
      auto it = row->params.find(c.name);
      if (it == row->params.end()) {
        sqlite3_result_null(ctx);
      } else {
        sqlite3_result_text(ctx, it->second.data(), static_cast<int>(it->second.size()),
                            SQLITE_TRANSIENT);
      }
      break;
    }
    case ColumnKind::kData:
      sqlite3_result_null(ctx);
      break;
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  auto* cur = static_cast<Cursor*>(base);
  *rowid = cur->rowids[cur->pos];
  return SQLITE_OK;
}

// A data__ value: JSON text of an object or array is sent as JSON (stackql.md §1.5).
Json BodyValue(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return sqlite3_value_int64(v);
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    default: {
      std::string text = ValueText(v);
      Json parsed = Json::parse(text, nullptr, false);
      if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) return parsed;
      return text;
    }
  }
}

// Calls `m` and, under AWAIT, follows the operation it returns to its end.
absl::Status Despatch(VTab* vt, const MethodSpec& m, const CallArgs& args) {
  ApiClient* api = vt->aux->env->api;
  StatementState& st = vt->statement();
  absl::StatusOr<client::Response> response = api->Call(m, args);
  if (!response.ok()) return response.status();
  if (!st.await && !st.keep_responses) return absl::OkStatus();
  Json body = Json::parse(response->body, nullptr, false);
  if (body.is_discarded()) body = Json::object();
  if (st.await && IsOperation(body)) {
    absl::StatusOr<Json> done = api->Await(std::move(body), st.quiet);
    if (!done.ok()) return done.status();
    body = *std::move(done);
  }
  if (st.keep_responses) st.responses.push_back(std::move(body));
  return absl::OkStatus();
}

CallArgs ArgsFor(const MethodSpec& m, const std::map<std::string, std::string>& params) {
  CallArgs args;
  for (const std::string& p : m.PathParams()) {
    auto it = params.find(p);
    if (it != params.end()) args.path[p] = it->second;
  }
  for (std::string_view q : m.query) {
    auto it = params.find(std::string(q));
    if (it != params.end()) args.query.emplace_back(it->first, it->second);
  }
  return args;
}

std::set<std::string> Keys(const std::map<std::string, std::string>& params) {
  std::set<std::string> out;
  for (const auto& [k, v] : params) {
    if (!v.empty()) out.insert(k);
  }
  return out;
}

int Update(sqlite3_vtab* base, int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  auto* vt = static_cast<VTab*>(base);
  const Layout& layout = vt->layout();
  const ResourceSpec& r = vt->resource();
  std::vector<std::string> missing;

  if (argc == 1) {  // DELETE
    const Row* row = vt->At(sqlite3_value_int64(argv[0]));
    if (row == nullptr) return vt->Fail(absl::InternalError("unknown row"));
    const int method = Choose(r, SqlVerb::kDelete, Keys(row->params), &missing);
    if (method < 0) {
      return vt->Fail(
          absl::InvalidArgumentError(NoMatchingMethodMessage(r.name, SqlVerb::kDelete, missing)));
    }
    const MethodSpec& m = r.methods[static_cast<size_t>(method)];
    if (absl::Status s = Despatch(vt, m, ArgsFor(m, row->params)); !s.ok()) return vt->Fail(s);
    return SQLITE_OK;
  }

  sqlite3_value** values = argv + 2;
  const bool insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  const Row* old = nullptr;
  if (!insert) {
    const sqlite3_int64 old_rowid = sqlite3_value_int64(argv[0]);
    if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER ||
        sqlite3_value_int64(argv[1]) != old_rowid) {
      return vt->Fail(absl::InvalidArgumentError("rowid cannot be changed"));
    }
    old = vt->At(old_rowid);
    if (old == nullptr) return vt->Fail(absl::InternalError("unknown row"));
  }
  std::map<std::string, std::string> params =
      insert ? std::map<std::string, std::string>{} : old->params;
  Json body = Json::object();
  std::vector<std::string> fields;
  for (size_t c = 0; c < layout.columns.size(); ++c) {
    const Column& col = layout.columns[c];
    sqlite3_value* v = values[c];
    if (sqlite3_value_nochange(v) || sqlite3_value_type(v) == SQLITE_NULL) continue;
    switch (col.kind) {
      case ColumnKind::kField:
        return vt->Fail(absl::InvalidArgumentError(
            absl::StrCat(r.TableName(), ".", col.name,
                         " is a response field; request-body fields are set as data__<field>")));
      case ColumnKind::kParam:
      case ColumnKind::kQuery: {
        std::string text = ValueText(v);
        if (!insert && params[col.name] != text) {
          return vt->Fail(absl::InvalidArgumentError(
              absl::StrCat("parameter ", col.name, " cannot be SET; give it in the WHERE clause")));
        }
        params[col.name] = std::move(text);
        break;
      }
      case ColumnKind::kData:
        body[col.name] = BodyValue(v);
        fields.push_back(col.name);
        break;
    }
  }
  const SqlVerb verb = insert ? SqlVerb::kInsert : VerbOf(vt->statement().verb);
  const int method = Choose(r, verb, Keys(params), &missing);
  if (method < 0) {
    return vt->Fail(absl::InvalidArgumentError(NoMatchingMethodMessage(r.name, verb, missing)));
  }
  const MethodSpec& m = r.methods[static_cast<size_t>(method)];
  if (!insert && fields.empty()) {
    return vt->Fail(absl::InvalidArgumentError(absl::StrCat(
        Av(SqlVerbName(verb)), " sets request-body fields: SET data__<field> = value")));
  }
  CallArgs args = ArgsFor(m, params);
  // The update mask defaults to the fields set.
  if (verb == SqlVerb::kUpdate &&
      std::find(m.query.begin(), m.query.end(), "updateMask") != m.query.end() &&
      !params.count("updateMask")) {
    args.query.emplace_back("updateMask", absl::StrJoin(fields, ","));
  }
  args.has_body = true;
  args.body = std::move(body);
  if (absl::Status s = Despatch(vt, m, args); !s.ok()) return vt->Fail(s);
  if (insert) *rowid = vt->Add(Row{Json::object(), std::move(params)});
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 1;
  m.xCreate = Connect;
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = ColumnValue;
  m.xRowid = Rowid;
  m.xUpdate = Update;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

std::string NoMatchingMethodMessage(std::string_view resource, SqlVerb verb,
                                    const std::vector<std::string>& missing) {
  std::string verb_name(SqlVerbName(verb));
  for (char& c : verb_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string out = absl::StrCat(
      "cannot find matching operation, possible causes include missing required parameters or "
      "an unsupported method for the resource, to find required parameters for supported "
      "methods run SHOW METHODS IN google.healthcare.",
      Av(resource), ": no appropriate method = '", verb_name, "' for resource = '", Av(resource),
      "'");
  if (!missing.empty()) {
    absl::StrAppend(&out, " (missing required parameters: ", absl::StrJoin(missing, ", "), ")");
  }
  return out;
}

absl::Status RegisterResourceTables(sqlite3* db, const ServiceSpec& service, TableEnvironment* env,
                                    std::vector<std::shared_ptr<void>>* keep) {
  for (const ResourceSpec& r : service.resources) {
    bool has_sql = false;
    for (const MethodSpec& m : r.methods) has_sql = has_sql || m.verb != SqlVerb::kExec;
    if (!has_sql) continue;
    auto aux = std::make_shared<TableAux>(TableAux{MakeLayout(r), env});
    const std::string module = absl::StrCat("ds_", Av(r.name));
    if (sqlite3_create_module_v2(db, module.c_str(), &kModule, aux.get(), nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db));
    }
    keep->push_back(aux);
    const std::string ddl =
        absl::StrCat("CREATE VIRTUAL TABLE ", Quote(r.TableName()), " USING ", module);
    if (sqlite3_exec(db, ddl.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db));
    }
  }
  return absl::OkStatus();
}

}  // namespace dicomstore::sql
