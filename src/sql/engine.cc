#include "sql/engine.h"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace dicomstore::sql {

namespace {

enum class Kind { kDatasets, kDicomStores };

struct Field {
  std::string_view name;
  std::string_view type;  // DESCRIBE: string, object, array
  std::string_view description;
};

struct Method {
  std::string_view name;
  std::string_view required;  // sorted, ", "-separated (SHOW METHODS)
  std::string_view verb;
  std::string_view description;
};

// One StackQL resource. Virtual table columns, in order: the fields; the path parameters
// (HIDDEN, parent's first); the create id parameter (HIDDEN); data__<field> (HIDDEN).
struct ResourceSpec {
  Kind kind;
  std::string_view name;
  std::string_view description;
  std::vector<Field> fields;
  std::vector<std::string_view> params;
  std::string_view create_id;
  std::string_view collection;  // the list response's objectKey
  std::vector<Method> methods;  // SHOW METHODS order
};

constexpr std::string_view kPLD = "datasetsId, locationsId, projectsId";
constexpr std::string_view kPLDS = "datasetsId, dicomStoresId, locationsId, projectsId";

const std::vector<ResourceSpec>& Resources() {
  static const std::vector<ResourceSpec>* const kResources = new std::vector<ResourceSpec>{
      {Kind::kDatasets,
       "datasets",
       "Healthcare datasets",
       {{"name", "string", "Identifier. Resource name of the dataset."},
        {"encryptionSpec", "object", "Customer-managed encryption keys settings."},
        {"timeZone", "string", "The default timezone used by this dataset."}},
       {"projectsId", "locationsId", "datasetsId"},
       "datasetId",
       "datasets",
       {{"get", kPLD, "SELECT", "Gets any metadata associated with a dataset."},
        {"list", "locationsId, projectsId", "SELECT", "Lists the health datasets."},
        {"create", "locationsId, projectsId", "INSERT", "Creates a new health dataset."},
        {"delete", kPLD, "DELETE", "Deletes the specified health dataset and all its data."},
        {"patch", kPLD, "UPDATE", "Updates dataset metadata."},
        {"deidentify", kPLD, "EXEC", "Creates a new dataset containing de-identified data."}}},
      {Kind::kDicomStores,
       "dicom_stores",
       "DICOM stores",
       {{"name", "string", "Resource name of the DICOM store."},
        {"labels", "object", "User-supplied key-value pairs used to organize DICOM stores."},
        {"notificationConfig", "object",
         "Specifies where to send notifications upon changes to a data store."},
        {"notificationConfigs", "array", "Specifies where and whether to send notifications."},
        {"streamConfigs", "array", "A list of streaming configs used to configure streaming."}},
       {"projectsId", "locationsId", "datasetsId", "dicomStoresId"},
       "dicomStoreId",
       "dicomStores",
       {{"get", kPLDS, "SELECT", "Gets the specified DICOM store."},
        {"list", kPLD, "SELECT", "Lists the DICOM stores in the given dataset."},
        {"create", kPLD, "INSERT", "Creates a new DICOM store within the parent dataset."},
        {"delete", kPLDS, "DELETE", "Deletes the specified DICOM store."},
        {"patch", kPLDS, "UPDATE", "Updates the specified DICOM store."},
        {"deidentify", kPLDS, "EXEC", "De-identifies data from the source store."},
        {"export", kPLDS, "EXEC", "Exports data to the specified destination."},
        {"import", kPLDS, "EXEC", "Imports data into the DICOM store."},
        {"retrieve_bulkdata",
         "bulkdataId, bulkdataId1, datasetsId, dicomStoresId, instancesId, locationsId, "
         "projectsId, seriesId, studiesId",
         "EXEC", "Returns uncompressed, unencoded bytes representing the referenced bulkdata."},
        {"retrieve_frames",
         "datasetsId, dicomStoresId, framesId, instancesId, locationsId, projectsId, seriesId, "
         "studiesId",
         "EXEC", "Returns uncompressed frames of an instance."},
        {"retrieve_rendered",
         "datasetsId, dicomStoresId, framesId, instancesId, locationsId, projectsId, seriesId, "
         "studiesId",
         "EXEC", "Returns a rendered frame of an instance."},
        {"search_for_instances", kPLDS, "EXEC", "Returns a list of matching instances."},
        {"search_for_series", kPLDS, "EXEC", "Returns a list of matching series."},
        {"search_for_studies", kPLDS, "EXEC", "Returns a list of matching studies."},
        {"set_blob_storage_settings", kPLDS, "EXEC",
         "Sets the blob storage settings of the specified resources."},
        {"store_instances", kPLDS, "EXEC", "Stores DICOM instances."}}},
  };
  return *kResources;
}

const ResourceSpec* FindResource(std::string_view name) {
  for (const ResourceSpec& r : Resources()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string TableName(const ResourceSpec& spec) {
  return absl::StrCat("google.healthcare.", Av(spec.name));
}

std::string NoMatchingMethod(std::string_view resource, std::string_view verb) {
  return absl::StrCat(
      "cannot find matching operation, possible causes include missing required parameters or "
      "an unsupported method for the resource, to find required parameters for supported "
      "methods run SHOW METHODS IN google.healthcare.",
      Av(resource), ": no appropriate method = '", Av(verb), "' for resource = '", Av(resource),
      "'");
}

}  // namespace

struct ModuleAux {
  const ResourceSpec* spec;
  EngineContext* context;
};

struct EngineContext {
  service::AdminService* admin = nullptr;
  std::string verb;         // of the running statement, upper case
  absl::Status pending;     // the service error behind a failed SQLite call
  std::string unmatched;    // a resource whose xBestIndex found no method
  uint64_t generation = 0;  // one per statement
  std::vector<std::unique_ptr<ModuleAux>> aux;
};

namespace {

constexpr std::string_view kSegments[] = {"projects", "locations", "datasets", "dicomStores"};

std::string FormatName(const std::vector<std::string>& params, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&out, i > 0 ? "/" : "", Av(kSegments[i]), "/", params[i]);
  }
  return out;
}

struct VTab : sqlite3_vtab {
  const ResourceSpec* spec = nullptr;
  EngineContext* context = nullptr;
  uint64_t generation = 0;
  std::vector<std::string> names;  // rowid -> resource name, for this statement

  sqlite3_int64 RowidFor(const std::string& name) {
    if (generation != context->generation) {
      generation = context->generation;
      names.clear();
    }
    names.push_back(name);
    return static_cast<sqlite3_int64>(names.size() - 1);
  }
  const std::string* NameOf(sqlite3_int64 rowid) const {
    if (generation != context->generation || rowid < 0 ||
        rowid >= static_cast<sqlite3_int64>(names.size()))
      return nullptr;
    return &names[static_cast<size_t>(rowid)];
  }
  int Fail(absl::Status status) {
    sqlite3_free(zErrMsg);
    zErrMsg = sqlite3_mprintf("%s", std::string(status.message()).c_str());
    context->pending = std::move(status);
    return SQLITE_ERROR;
  }
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<Json> rows;
  std::vector<sqlite3_int64> rowids;
  std::vector<std::vector<std::string>> params;  // from each row's name
  size_t pos = 0;
};

int FieldCount(const ResourceSpec& s) { return static_cast<int>(s.fields.size()); }
int ParamCount(const ResourceSpec& s) { return static_cast<int>(s.params.size()); }
int CreateIdColumn(const ResourceSpec& s) { return FieldCount(s) + ParamCount(s); }
int FirstDataColumn(const ResourceSpec& s) { return CreateIdColumn(s) + 1; }

std::string Declaration(const ResourceSpec& s) {
  std::vector<std::string> cols;
  for (const Field& f : s.fields) cols.push_back(absl::StrCat("\"", Av(f.name), "\""));
  for (std::string_view p : s.params) cols.push_back(absl::StrCat("\"", Av(p), "\" HIDDEN"));
  cols.push_back(absl::StrCat("\"", Av(s.create_id), "\" HIDDEN"));
  for (const Field& f : s.fields) cols.push_back(absl::StrCat("\"data__", Av(f.name), "\" HIDDEN"));
  return absl::StrCat("CREATE TABLE x(", absl::StrJoin(cols, ", "), ")");
}

int Connect(sqlite3* db, void* aux_ptr, int, const char* const*, sqlite3_vtab** out, char**) {
  auto* aux = static_cast<ModuleAux*>(aux_ptr);
  if (int rc = sqlite3_declare_vtab(db, Declaration(*aux->spec).c_str()); rc != SQLITE_OK) {
    return rc;
  }
  auto* vt = new VTab();
  vt->spec = aux->spec;
  vt->context = aux->context;
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
  const ResourceSpec& spec = *vt->spec;
  const int first = FieldCount(spec);
  const int nparams = ParamCount(spec);
  std::vector<int> found(static_cast<size_t>(nparams), -1);
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    const int p = c.iColumn - first;
    if (p < 0 || p >= nparams || found[static_cast<size_t>(p)] >= 0) continue;
    found[static_cast<size_t>(p)] = i;
  }
  // SELECT: get needs every path parameter, list the parent's. DELETE and UPDATE address
  // one resource: every path parameter.
  const std::string& verb = vt->context->verb;
  const bool one = verb == "DELETE" || verb == "UPDATE";
  const int required = one ? nparams : nparams - 1;
  for (int p = 0; p < required; ++p) {
    if (found[static_cast<size_t>(p)] < 0) {
      vt->context->unmatched = std::string(spec.name);
      return SQLITE_CONSTRAINT;
    }
  }
  int argv = 0;
  int mask = 0;
  for (int p = 0; p < nparams; ++p) {
    const int i = found[static_cast<size_t>(p)];
    if (i < 0) continue;
    info->aConstraintUsage[i].argvIndex = ++argv;
    info->aConstraintUsage[i].omit = 1;
    mask |= 1 << p;
  }
  const bool get = found[static_cast<size_t>(nparams - 1)] >= 0;
  info->idxNum = mask;
  info->estimatedCost = get ? 1.0 : 1000.0;
  info->estimatedRows = get ? 1 : 100;
  if (get) info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
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

absl::StatusOr<Json> Get(EngineContext* ctx, Kind kind, const std::string& name) {
  return kind == Kind::kDatasets ? ctx->admin->GetDataset(name) : ctx->admin->GetDicomStore(name);
}

int Filter(sqlite3_vtab_cursor* base, int idx_num, const char*, int argc, sqlite3_value** argv) {
  auto* cur = static_cast<Cursor*>(base);
  auto* vt = static_cast<VTab*>(cur->pVtab);
  const ResourceSpec& spec = *vt->spec;
  const int nparams = ParamCount(spec);
  cur->rows.clear();
  cur->rowids.clear();
  cur->params.clear();
  cur->pos = 0;
  std::vector<std::string> params(static_cast<size_t>(nparams));
  int a = 0;
  for (int p = 0; p < nparams; ++p) {
    if ((idx_num & (1 << p)) == 0) continue;
    if (a >= argc) return SQLITE_ERROR;
    sqlite3_value* v = argv[a++];
    if (sqlite3_value_type(v) == SQLITE_NULL) return SQLITE_OK;  // "= NULL" matches nothing
    params[static_cast<size_t>(p)] = ValueText(v);
  }
  const bool get = (idx_num & (1 << (nparams - 1))) != 0;
  if (get) {
    absl::StatusOr<Json> row = Get(vt->context, spec.kind, FormatName(params, nparams));
    if (!row.ok()) return vt->Fail(row.status());
    cur->rows.push_back(*std::move(row));
  } else {
    const std::string parent = FormatName(params, static_cast<size_t>(nparams - 1));
    service::ListRequest request;
    while (true) {
      absl::StatusOr<Json> page = spec.kind == Kind::kDatasets
                                      ? vt->context->admin->ListDatasets(parent, request)
                                      : vt->context->admin->ListDicomStores(parent, request);
      if (!page.ok()) return vt->Fail(page.status());
      const std::string key(spec.collection);
      if (page->contains(key)) {
        for (Json& item : (*page)[key]) cur->rows.push_back(std::move(item));
      }
      if (!page->contains("nextPageToken")) break;
      request.page_token = (*page)["nextPageToken"].get<std::string>();
    }
  }
  for (const Json& row : cur->rows) {
    const std::string name = row.value("name", "");
    cur->rowids.push_back(vt->RowidFor(name));
    std::vector<std::string> values(static_cast<size_t>(nparams));
    size_t start = 0;
    for (size_t i = 0; start <= name.size(); ++i) {
      size_t slash = name.find('/', start);
      if (slash == std::string::npos) slash = name.size();
      if (i % 2 == 1 && i / 2 < values.size()) values[i / 2] = name.substr(start, slash - start);
      start = slash + 1;
    }
    cur->params.push_back(std::move(values));
  }
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* base) {
  ++static_cast<Cursor*>(base)->pos;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* base) {
  auto* cur = static_cast<Cursor*>(base);
  return cur->pos >= cur->rows.size() ? 1 : 0;
}

void ResultJson(sqlite3_context* ctx, const Json& value) {
  if (value.is_null()) {
    sqlite3_result_null(ctx);
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  } else if (value.is_number_integer()) {
    sqlite3_result_int64(ctx, value.get<int64_t>());
  } else if (value.is_number_float()) {
    sqlite3_result_double(ctx, value.get<double>());
  } else {
    const std::string s = value.dump();
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
}

int Column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) {
  auto* cur = static_cast<Cursor*>(base);
  const ResourceSpec& spec = *static_cast<VTab*>(cur->pVtab)->spec;
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;  // UPDATE: unchanged columns
  const Json& row = cur->rows[cur->pos];
  if (col < FieldCount(spec)) {
    const std::string field(spec.fields[static_cast<size_t>(col)].name);
    auto it = row.find(field);
    if (it == row.end()) {
      sqlite3_result_null(ctx);
    } else {
      ResultJson(ctx, *it);
    }
  } else if (col < CreateIdColumn(spec)) {
    const std::string& v = cur->params[cur->pos][static_cast<size_t>(col - FieldCount(spec))];
    sqlite3_result_text(ctx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_result_null(ctx);
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

// The request body from the data__ columns given (non-NULL and changed).
Json Body(const ResourceSpec& spec, sqlite3_value** values, std::vector<std::string>* fields) {
  Json body = Json::object();
  for (size_t f = 0; f < spec.fields.size(); ++f) {
    sqlite3_value* v = values[FirstDataColumn(spec) + static_cast<int>(f)];
    if (sqlite3_value_nochange(v) || sqlite3_value_type(v) == SQLITE_NULL) continue;
    body[std::string(spec.fields[f].name)] = BodyValue(v);
    fields->push_back(std::string(spec.fields[f].name));
  }
  return body;
}

int Update(sqlite3_vtab* base, int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  auto* vt = static_cast<VTab*>(base);
  const ResourceSpec& spec = *vt->spec;
  service::AdminService* admin = vt->context->admin;
  const bool is_datasets = spec.kind == Kind::kDatasets;
  if (argc == 1) {  // DELETE
    const std::string* name = vt->NameOf(sqlite3_value_int64(argv[0]));
    if (name == nullptr) return vt->Fail(absl::InternalError("unknown row"));
    absl::StatusOr<Json> r =
        is_datasets ? admin->DeleteDataset(*name) : admin->DeleteDicomStore(*name);
    if (!r.ok()) return vt->Fail(r.status());
    return SQLITE_OK;
  }
  sqlite3_value** values = argv + 2;
  std::vector<std::string> fields;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {  // INSERT -> create
    const int nparams = ParamCount(spec);
    std::vector<std::string> params(static_cast<size_t>(nparams));
    for (int p = 0; p + 1 < nparams; ++p) {
      sqlite3_value* v = values[FieldCount(spec) + p];
      if (sqlite3_value_type(v) == SQLITE_NULL) {
        return vt->Fail(absl::InvalidArgumentError(NoMatchingMethod(spec.name, "insert")));
      }
      params[static_cast<size_t>(p)] = ValueText(v);
    }
    const std::string parent = FormatName(params, static_cast<size_t>(nparams - 1));
    const std::string id = ValueText(values[CreateIdColumn(spec)]);
    const Json body = Body(spec, values, &fields);
    absl::StatusOr<Json> r = is_datasets ? admin->CreateDataset(parent, id, body)
                                         : admin->CreateDicomStore(parent, id, body);
    if (!r.ok()) return vt->Fail(r.status());
    const Json& resource = is_datasets ? (*r)["response"] : *r;
    *rowid = vt->RowidFor(resource.value("name", ""));
    return SQLITE_OK;
  }
  // UPDATE -> patch, with the data__ fields set as the update mask.
  const sqlite3_int64 old_rowid = sqlite3_value_int64(argv[0]);
  if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_int64(argv[1]) != old_rowid) {
    return vt->Fail(absl::InvalidArgumentError("rowid cannot be changed"));
  }
  const std::string* name = vt->NameOf(old_rowid);
  if (name == nullptr) return vt->Fail(absl::InternalError("unknown row"));
  const Json body = Body(spec, values, &fields);
  if (fields.empty()) {
    return vt->Fail(absl::InvalidArgumentError(
        "UPDATE sets request-body fields only: SET data__<field> = value"));
  }
  const std::string mask = absl::StrJoin(fields, ",");
  absl::StatusOr<Json> r = is_datasets ? admin->PatchDataset(*name, mask, body)
                                       : admin->PatchDicomStore(*name, mask, body);
  if (!r.ok()) return vt->Fail(r.status());
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
  m.xColumn = Column;
  m.xRowid = Rowid;
  m.xUpdate = Update;
  return m;
}

const sqlite3_module kModule = MakeModule();

// ---------------------------------------------------------------------------------------
// Meta commands

absl::Status CheckProvider(const Statement& st) {
  if (!st.provider.empty() && st.provider != "google") {
    return absl::NotFoundError(absl::StrCat("provider '", st.provider, "' not found"));
  }
  if (!st.service.empty() && st.service != "healthcare") {
    return absl::NotFoundError(
        absl::StrCat("service '", st.service, "' not found in provider '", st.provider, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<const ResourceSpec*> ResourceOf(const Statement& st) {
  if (absl::Status s = CheckProvider(st); !s.ok()) return s;
  const ResourceSpec* spec = FindResource(st.resource);
  if (spec == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("could not locate resource '", st.resource, "' in service 'healthcare'"));
  }
  return spec;
}

bool Likes(const Statement& st, std::string_view value) {
  return !st.like.has_value() || SqlLike(*st.like, value);
}

absl::StatusOr<ResultSet> Meta(const Statement& st) {
  ResultSet out;
  auto text = [](std::string_view s) { return Value::Text(std::string(s)); };
  switch (st.kind) {
    case StatementKind::kShowServices: {
      if (absl::Status s = CheckProvider(st); !s.ok()) return s;
      out.columns = {"id", "name", "title"};
      if (st.extended) {
        out.columns.insert(out.columns.end(), {"description", "version", "preferred"});
      }
      if (Likes(st, "healthcare")) {
        std::vector<Value> row = {text("healthcare:v00.00.00000"), text("healthcare"),
                                  text("Cloud Healthcare API")};
        if (st.extended) {
          row.insert(row.end(), {text("Manage, store, and access healthcare data in Google "
                                      "Cloud Platform."),
                                 text("v00.00.00000"), text("true")});
        }
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kShowResources: {
      if (absl::Status s = CheckProvider(st); !s.ok()) return s;
      out.columns = {"name", "id"};
      if (st.extended) out.columns.push_back("description");
      for (const ResourceSpec& r : Resources()) {
        if (!Likes(st, r.name)) continue;
        std::vector<Value> row = {text(r.name), Value::Text(TableName(r))};
        if (st.extended) row.push_back(text(r.description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kShowMethods: {
      absl::StatusOr<const ResourceSpec*> spec = ResourceOf(st);
      if (!spec.ok()) return spec.status();
      out.columns = {"MethodName", "RequiredParams", "SQLVerb"};
      if (st.extended) out.columns.push_back("description");
      for (const Method& m : (*spec)->methods) {
        if (!Likes(st, m.name)) continue;
        std::vector<Value> row = {text(m.name), text(m.required), text(m.verb)};
        if (st.extended) row.push_back(text(m.description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kDescribe: {
      absl::StatusOr<const ResourceSpec*> spec = ResourceOf(st);
      if (!spec.ok()) return spec.status();
      out.columns = {"name", "type"};
      if (st.extended) out.columns.push_back("description");
      for (const Field& f : (*spec)->fields) {
        std::vector<Value> row = {text(f.name), text(f.type)};
        if (st.extended) row.push_back(text(f.description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    default:
      return absl::UnimplementedError(absl::StrCat(st.verb, " is not supported yet"));
  }
}

}  // namespace

Engine::Engine(sqlite3* db, std::unique_ptr<EngineContext> context)
    : db_(db), context_(std::move(context)) {}

Engine::~Engine() { sqlite3_close(db_); }

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(service::AdminService* admin) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open SQLite: ", message));
  }
  auto context = std::make_unique<EngineContext>();
  context->admin = admin;
  std::unique_ptr<Engine> engine(new Engine(db, std::move(context)));
  // No files: the SQL surface reaches the data only through the service layer.
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  for (const ResourceSpec& spec : Resources()) {
    auto aux = std::make_unique<ModuleAux>(ModuleAux{&spec, engine->context_.get()});
    const std::string module = absl::StrCat("ds_", Av(spec.name));
    if (sqlite3_create_module_v2(db, module.c_str(), &kModule, aux.get(), nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db));
    }
    engine->context_->aux.push_back(std::move(aux));
    const std::string ddl =
        absl::StrCat("CREATE VIRTUAL TABLE \"", TableName(spec), "\" USING ", module);
    if (sqlite3_exec(db, ddl.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db));
    }
  }
  return engine;
}

absl::StatusOr<ResultSet> Engine::Execute(const Statement& statement) {
  if (statement.kind != StatementKind::kSql) return Meta(statement);
  return ExecuteSql(statement);
}

absl::StatusOr<ResultSet> Engine::ExecuteSql(const Statement& statement) {
  EngineContext& ctx = *context_;
  ctx.verb = statement.verb;
  ctx.pending = absl::OkStatus();
  ctx.unmatched.clear();
  ++ctx.generation;

  auto fail = [&](sqlite3_stmt* stmt) -> absl::Status {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (!ctx.pending.ok()) return ctx.pending;
    if (!ctx.unmatched.empty() && message.find("no query solution") != std::string::npos) {
      std::string verb = ctx.verb == "DELETE"   ? "delete"
                         : ctx.verb == "UPDATE" ? "update"
                                                : "select";
      return absl::InvalidArgumentError(NoMatchingMethod(ctx.unmatched, verb));
    }
    return absl::InvalidArgumentError(message);
  };

  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, statement.sql.c_str(), static_cast<int>(statement.sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    return fail(stmt);
  }
  ResultSet out;
  if (stmt == nullptr) return out;  // comments only
  const int ncols = sqlite3_column_count(stmt);
  for (int c = 0; c < ncols; ++c) out.columns.push_back(sqlite3_column_name(stmt, c));
  while (true) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail(stmt);
    std::vector<Value> row;
    for (int c = 0; c < ncols; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          row.push_back(Value::Null());
          break;
        case SQLITE_INTEGER:
          row.push_back(Value::Integer(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.push_back(Value{Value::Type::kReal,
                              reinterpret_cast<const char*>(sqlite3_column_text(stmt, c))});
          break;
        default: {
          const unsigned char* t = sqlite3_column_text(stmt, c);
          row.push_back(
              Value::Text(std::string(reinterpret_cast<const char*>(t),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt, c)))));
        }
      }
    }
    out.rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  if (statement.verb == "INSERT" || statement.verb == "UPDATE" || statement.verb == "DELETE" ||
      statement.verb == "REPLACE") {
    out.message = std::string(kDespatchedMessage);
  }
  return out;
}

absl::StatusOr<std::vector<ResultSet>> Engine::ExecuteScript(std::string_view script) {
  absl::StatusOr<std::vector<Statement>> statements = PreParseScript(script);
  if (!statements.ok()) return statements.status();
  std::vector<ResultSet> out;
  for (const Statement& st : *statements) {
    absl::StatusOr<ResultSet> r = Execute(st);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  return out;
}

}  // namespace dicomstore::sql
