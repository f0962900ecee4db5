#include "sql/meta.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace dicomstore::sql {
namespace {

absl::Status CheckProvider(const Statement& st, const ServiceSpec& service) {
  if (!st.provider.empty() && st.provider != service.provider) {
    return absl::NotFoundError(absl::StrCat("provider '", st.provider, "' not found"));
  }
  if (!st.service.empty() && st.service != service.name) {
    return absl::NotFoundError(
        absl::StrCat("service '", st.service, "' not found in provider '", st.provider, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<const ResourceSpec*> ResourceOf(const Statement& st, const ServiceSpec& service) {
  if (absl::Status s = CheckProvider(st, service); !s.ok()) return s;
  const ResourceSpec* r = service.FindResource(st.resource);
  if (r == nullptr) {
    return absl::NotFoundError(absl::StrCat("could not locate resource '", st.resource,
                                            "' in service '", Av(service.name), "'"));
  }
  return r;
}

bool Likes(const Statement& st, std::string_view value) {
  return !st.like.has_value() || SqlLike(*st.like, value);
}

Value Text(std::string_view s) { return Value::Text(std::string(s)); }

int GroupOf(SqlVerb verb) {
  switch (verb) {
    case SqlVerb::kSelect:
      return 0;
    case SqlVerb::kInsert:
      return 1;
    case SqlVerb::kDelete:
      return 2;
    case SqlVerb::kUpdate:
      return 3;
    case SqlVerb::kReplace:
      return 4;
    case SqlVerb::kExec:
      break;
  }
  return 5;
}

}  // namespace

absl::StatusOr<ResultSet> ExecuteMeta(const Statement& st, const ServiceSpec& service) {
  ResultSet out;
  switch (st.kind) {
    case StatementKind::kShowServices: {
      if (absl::Status s = CheckProvider(st, service); !s.ok()) return s;
      out.columns = {"id", "name", "title"};
      if (st.extended)
        out.columns.insert(out.columns.end(), {"description", "version", "preferred"});
      if (Likes(st, service.name)) {
        std::vector<Value> row = {
            Value::Text(absl::StrCat(Av(service.name), ":", Av(service.version))),
            Text(service.name), Text(service.title)};
        if (st.extended) {
          row.insert(row.end(), {Text(service.description), Text(service.version), Text("true")});
        }
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kShowResources: {
      if (absl::Status s = CheckProvider(st, service); !s.ok()) return s;
      out.columns = {"name", "id"};
      if (st.extended) out.columns.push_back("description");
      for (const ResourceSpec& r : service.resources) {
        if (!Likes(st, r.name)) continue;
        std::vector<Value> row = {Text(r.name), Value::Text(r.TableName())};
        if (st.extended) row.push_back(Text(r.description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kShowMethods: {
      absl::StatusOr<const ResourceSpec*> r = ResourceOf(st, service);
      if (!r.ok()) return r.status();
      out.columns = {"MethodName", "RequiredParams", "SQLVerb", "LongName"};
      if (st.extended) out.columns.push_back("description");
      std::vector<const MethodSpec*> methods;
      for (const MethodSpec& m : (*r)->methods) {
        if (Likes(st, m.name) || Likes(st, m.LongName())) methods.push_back(&m);
      }
      std::stable_sort(methods.begin(), methods.end(),
                       [](const MethodSpec* a, const MethodSpec* b) {
                         const int ga = GroupOf(a->verb), gb = GroupOf(b->verb);
                         return ga != gb ? ga < gb : a->name < b->name;
                       });
      for (const MethodSpec* m : methods) {
        std::vector<std::string> required = m->PathParams();
        std::sort(required.begin(), required.end());
        std::vector<Value> row = {Text(m->name), Value::Text(absl::StrJoin(required, ", ")),
                                  Text(SqlVerbName(m->verb)), Value::Text(m->LongName())};
        if (st.extended) row.push_back(Text(m->description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    case StatementKind::kDescribe: {
      absl::StatusOr<const ResourceSpec*> r = ResourceOf(st, service);
      if (!r.ok()) return r.status();
      out.columns = {"name", "type"};
      if (st.extended) out.columns.push_back("description");
      for (const FieldSpec& f : (*r)->fields) {
        std::vector<Value> row = {Text(f.name), Text(f.type)};
        if (st.extended) row.push_back(Text(f.description));
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(st.verb, " is not a meta command"));
  }
}

}  // namespace dicomstore::sql
