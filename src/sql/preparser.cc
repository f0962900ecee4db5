#include "sql/preparser.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace dicomstore::sql {
namespace {

enum class Tok { kWord, kQuotedId, kString, kNumber, kPunct, kSpace, kComment };

struct Token {
  Tok type;
  size_t begin;       // offset in the lexed text
  size_t end;         // one past the last character
  std::string value;  // identifiers and strings: unquoted; otherwise the text
};

bool IsWordStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Av(a), Av(b));
}

absl::Status SyntaxError(size_t position, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("syntax error at position ", position + 1, ": ", Av(what)));
}

// Lexes `text`; positions in errors are reported relative to `base`.
absl::StatusOr<std::vector<Token>> Lex(std::string_view text, size_t base) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t begin = i;
    if (std::isspace(c)) {
      while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      tokens.push_back({Tok::kSpace, begin, i, std::string(text.substr(begin, i - begin))});
    } else if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      while (i < n && text[i] != '\n') ++i;
      tokens.push_back({Tok::kComment, begin, i, std::string(text.substr(begin, i - begin))});
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) return SyntaxError(base + begin, "unterminated comment");
      i = close + 2;
      tokens.push_back({Tok::kComment, begin, i, std::string(text.substr(begin, i - begin))});
    } else if (c == '\'' || c == '"' || c == '`') {
      // '...' is a string; "..." (and SQLite's `...`) a quoted identifier. The delimiter
      // doubled stands for itself.
      const char quote = static_cast<char>(c);
      std::string value;
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == quote) {
          if (i + 1 < n && text[i + 1] == quote) {
            value.push_back(quote);
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        value.push_back(text[i++]);
      }
      if (!closed) {
        return SyntaxError(base + begin, quote == '\'' ? "unterminated string literal"
                                                       : "unterminated quoted identifier");
      }
      tokens.push_back({quote == '\'' ? Tok::kString : Tok::kQuotedId, begin, i, std::move(value)});
    } else if (IsWordStart(c)) {
      while (i < n && IsWordChar(static_cast<unsigned char>(text[i]))) ++i;
      tokens.push_back({Tok::kWord, begin, i, std::string(text.substr(begin, i - begin))});
    } else if (std::isdigit(c)) {
      while (i < n && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
      tokens.push_back({Tok::kNumber, begin, i, std::string(text.substr(begin, i - begin))});
    } else {
      ++i;
      tokens.push_back({Tok::kPunct, begin, i, std::string(1, static_cast<char>(c))});
    }
  }
  return tokens;
}

bool IsName(const Token& t) { return t.type == Tok::kWord || t.type == Tok::kQuotedId; }
bool IsPunct(const Token& t, char c) { return t.type == Tok::kPunct && t.value[0] == c; }
bool IsKeyword(const Token& t, std::string_view keyword) {
  return t.type == Tok::kWord && EqualsIgnoreCase(t.value, keyword);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Rewrites google.<service>.<resource> (adjacent tokens) into one quoted identifier.
std::string RewriteNames(std::string_view text, const std::vector<Token>& tokens) {
  std::string out;
  size_t i = 0;
  while (i < tokens.size()) {
    const bool preceded_by_dot = i > 0 && IsPunct(tokens[i - 1], '.');
    if (!preceded_by_dot && i + 4 < tokens.size() && IsName(tokens[i]) &&
        EqualsIgnoreCase(tokens[i].value, "google") && IsPunct(tokens[i + 1], '.') &&
        IsName(tokens[i + 2]) && IsPunct(tokens[i + 3], '.') && IsName(tokens[i + 4])) {
      out +=
          QuoteIdentifier(absl::StrCat("google.", tokens[i + 2].value, ".", tokens[i + 4].value));
      i += 5;
      continue;
    }
    out.append(text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin));
    ++i;
  }
  return out;
}

// A cursor over the significant tokens of a meta command.
class MetaParser {
 public:
  MetaParser(const std::vector<const Token*>& tokens, size_t base, size_t text_size)
      : tokens_(tokens), base_(base), text_size_(text_size) {}

  bool AtEnd() const { return pos_ >= tokens_.size(); }
  const Token& Peek() const { return *tokens_[pos_]; }
  bool ConsumeKeyword(std::string_view keyword) {
    if (!AtEnd() && IsKeyword(Peek(), keyword)) {
      ++pos_;
      return true;
    }
    return false;
  }
  size_t Position() const { return base_ + (AtEnd() ? text_size_ : Peek().begin); }
  absl::Status Error(std::string_view expected) const {
    return SyntaxError(
        Position(), AtEnd()
                        ? absl::StrCat("expected ", Av(expected), " at end of statement")
                        : absl::StrCat("expected ", Av(expected), " near \"", Peek().value, "\""));
  }
  // A dotted name: part(.part)*.
  absl::StatusOr<std::vector<std::string>> Name() {
    std::vector<std::string> parts;
    if (AtEnd() || !IsName(Peek())) return Error("a resource name");
    parts.push_back(Peek().value);
    ++pos_;
    while (!AtEnd() && IsPunct(Peek(), '.')) {
      ++pos_;
      if (AtEnd() || !IsName(Peek())) return Error("a name after \".\"");
      parts.push_back(Peek().value);
      ++pos_;
    }
    return parts;
  }
  void Advance() { ++pos_; }
  absl::Status End() const {
    if (AtEnd()) return absl::OkStatus();
    return SyntaxError(Position(), absl::StrCat("unexpected \"", Peek().value, "\""));
  }

 private:
  const std::vector<const Token*>& tokens_;
  size_t pos_ = 1;  // after the verb
  size_t base_;
  size_t text_size_;
};

absl::Status AssignName(const std::vector<std::string>& parts, size_t want, size_t position,
                        Statement* st) {
  if (parts.size() != want) {
    static constexpr std::string_view kForms[] = {"", "<provider>", "<provider>.<service>",
                                                  "<provider>.<service>.<resource>"};
    return SyntaxError(position, absl::StrCat("expected a name of the form ", Av(kForms[want])));
  }
  st->provider = parts[0];
  if (want > 1) st->service = parts[1];
  if (want > 2) st->resource = parts[2];
  return absl::OkStatus();
}

absl::Status ParseShow(MetaParser& p, Statement* st) {
  st->extended = p.ConsumeKeyword("EXTENDED");
  size_t want = 0;
  if (p.ConsumeKeyword("SERVICES")) {
    st->kind = StatementKind::kShowServices;
    want = 1;
  } else if (p.ConsumeKeyword("RESOURCES")) {
    st->kind = StatementKind::kShowResources;
    want = 2;
  } else if (p.ConsumeKeyword("METHODS")) {
    st->kind = StatementKind::kShowMethods;
    want = 3;
  } else {
    return p.Error("SERVICES, RESOURCES or METHODS");
  }
  if (p.ConsumeKeyword("IN") || p.ConsumeKeyword("FROM")) {
    const size_t position = p.Position();
    absl::StatusOr<std::vector<std::string>> name = p.Name();
    if (!name.ok()) return name.status();
    if (absl::Status s = AssignName(*name, want, position, st); !s.ok()) return s;
  } else if (want > 1) {
    return p.Error("IN");
  }
  if (p.ConsumeKeyword("LIKE")) return p.Error("a string after LIKE");
  return absl::OkStatus();
}

// EXEC [/*+ hints */] p.s.r.m [@a = v [, @b = v]...] [@@json = v] (spec/stackql.md §1.6).
// Commas between arguments are optional (the provider docs' templates lose them in
// comments); a value is a string, a number (optionally negative), NULL, TRUE or FALSE.
absl::Status ParseExec(MetaParser& p, Statement* st) {
  const size_t position = p.Position();
  absl::StatusOr<std::vector<std::string>> name = p.Name();
  if (!name.ok()) return name.status();
  if (name->size() != 4) {
    return SyntaxError(position,
                       "expected a method name of the form <provider>.<service>.<resource>."
                       "<method>");
  }
  st->provider = (*name)[0];
  st->service = (*name)[1];
  st->resource = (*name)[2];
  st->method = (*name)[3];
  bool comma_allowed = false;
  while (!p.AtEnd()) {
    if (comma_allowed && IsPunct(p.Peek(), ',')) {
      p.Advance();
      comma_allowed = false;
      continue;
    }
    if (st->json.has_value()) return p.End();
    if (!IsPunct(p.Peek(), '@')) return p.Error("@name = value");
    p.Advance();
    const bool payload = !p.AtEnd() && IsPunct(p.Peek(), '@');
    if (payload) p.Advance();
    if (p.AtEnd() || !IsName(p.Peek())) return p.Error("an argument name after @");
    std::string arg = p.Peek().value;
    p.Advance();
    while (!payload && !p.AtEnd() && IsPunct(p.Peek(), '.')) {  // @options.requestedPolicyVersion
      p.Advance();
      if (p.AtEnd() || !IsName(p.Peek())) return p.Error("a name after \".\"");
      absl::StrAppend(&arg, ".", p.Peek().value);
      p.Advance();
    }
    if (p.AtEnd() || !IsPunct(p.Peek(), '=')) return p.Error("=");
    p.Advance();
    std::string value;
    bool negative = false;
    if (!p.AtEnd() && IsPunct(p.Peek(), '-')) {
      negative = true;
      p.Advance();
    }
    if (p.AtEnd()) return p.Error("a value");
    const Token& v = p.Peek();
    if (v.type == Tok::kString || v.type == Tok::kNumber) {
      if (negative && v.type != Tok::kNumber) return p.Error("a number after -");
      value = negative ? "-" + v.value : v.value;
    } else if (!negative && v.type == Tok::kWord &&
               (IsKeyword(v, "NULL") || IsKeyword(v, "TRUE") || IsKeyword(v, "FALSE"))) {
      value = IsKeyword(v, "NULL") ? "" : Upper(v.value) == "TRUE" ? "true" : "false";
    } else {
      return p.Error("a value (a 'string' or a number)");
    }
    p.Advance();
    if (payload) {
      st->json = value;
    } else {
      st->args.emplace_back(std::move(arg), std::move(value));
    }
    comma_allowed = true;
  }
  return absl::OkStatus();
}

// Words of the /*+ ... */ comments, upper case.
std::vector<std::string> Hints(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) {
    if (t.type != Tok::kComment || t.value.rfind("/*+", 0) != 0) continue;
    std::string word;
    for (size_t i = 3; i + 2 <= t.value.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(t.value[i]);
      if (std::isalnum(c) || c == '_') {
        word.push_back(static_cast<char>(std::toupper(c)));
      } else if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) out.push_back(std::move(word));
  }
  return out;
}

// The first google.<service>.<resource> name of a statement.
bool FirstResourceName(const std::vector<const Token*>& tokens, Statement* st) {
  for (size_t i = 0; i + 4 < tokens.size(); ++i) {
    if (IsName(*tokens[i]) && EqualsIgnoreCase(tokens[i]->value, "google") &&
        IsPunct(*tokens[i + 1], '.') && IsName(*tokens[i + 2]) && IsPunct(*tokens[i + 3], '.') &&
        IsName(*tokens[i + 4])) {
      st->provider = "google";
      st->service = tokens[i + 2]->value;
      st->resource = tokens[i + 4]->value;
      return true;
    }
  }
  return false;
}

}  // namespace

bool Statement::HasHint(std::string_view hint) const {
  for (const std::string& h : hints) {
    if (EqualsIgnoreCase(h, hint)) return true;
  }
  return false;
}

bool SqlLike(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '%') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (SqlLike(pattern.substr(1), text.substr(i))) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  if (pattern[0] != '_' && std::tolower(static_cast<unsigned char>(pattern[0])) !=
                               std::tolower(static_cast<unsigned char>(text[0])))
    return false;
  return SqlLike(pattern.substr(1), text.substr(1));
}

absl::StatusOr<Statement> PreParseStatement(std::string_view text, size_t offset) {
  Statement st;
  st.text = std::string(text);
  st.offset = offset;
  absl::StatusOr<std::vector<Token>> tokens = Lex(text, offset);
  if (!tokens.ok()) return tokens.status();
  std::vector<const Token*> significant;
  for (const Token& t : *tokens) {
    if (t.type != Tok::kSpace && t.type != Tok::kComment) significant.push_back(&t);
  }
  if (significant.empty()) return st;  // blank: verb stays empty
  if (significant[0]->type == Tok::kWord) st.verb = Upper(significant[0]->value);
  st.hints = Hints(*tokens);

  if (st.verb == "SHOW" || st.verb == "DESCRIBE" || st.verb == "DESC") {
    MetaParser p(significant, offset, text.size());
    if (st.verb == "SHOW") {
      // LIKE 'pattern' is taken out first; the rest must be a known SHOW form.
      std::vector<const Token*> without_like = significant;
      for (size_t i = 0; i + 1 < without_like.size(); ++i) {
        if (IsKeyword(*without_like[i], "LIKE") && without_like[i + 1]->type == Tok::kString) {
          st.like = without_like[i + 1]->value;
          without_like.erase(without_like.begin() + static_cast<std::ptrdiff_t>(i),
                             without_like.begin() + static_cast<std::ptrdiff_t>(i + 2));
          break;
        }
      }
      MetaParser q(without_like, offset, text.size());
      if (absl::Status s = ParseShow(q, &st); !s.ok()) return s;
      if (absl::Status s = q.End(); !s.ok()) return s;
    } else {
      st.verb = "DESCRIBE";
      st.kind = StatementKind::kDescribe;
      st.extended = p.ConsumeKeyword("EXTENDED");
      const size_t position = p.Position();
      absl::StatusOr<std::vector<std::string>> name = p.Name();
      if (!name.ok()) return name.status();
      if (absl::Status s = AssignName(*name, 3, position, &st); !s.ok()) return s;
      if (absl::Status s = p.End(); !s.ok()) return s;
    }
    return st;
  }
  if (st.verb == "EXEC") {
    st.kind = StatementKind::kExec;
    MetaParser p(significant, offset, text.size());
    if (absl::Status s = ParseExec(p, &st); !s.ok()) return s;
    return st;
  }
  const bool modifying =
      st.verb == "INSERT" || st.verb == "UPDATE" || st.verb == "DELETE" || st.verb == "REPLACE";
  // RETURNING names fields of the API's responses (StackQL §1.5), which SQLite cannot
  // see: it is taken out here and answered by the engine.
  std::vector<Token> kept = *tokens;
  if (modifying) {
    int depth = 0;
    for (size_t i = 0; i < significant.size(); ++i) {
      const Token& t = *significant[i];
      if (IsPunct(t, '(')) ++depth;
      if (IsPunct(t, ')')) --depth;
      if (depth != 0 || !IsKeyword(t, "RETURNING")) continue;
      bool want_name = true;
      for (size_t j = i + 1; j < significant.size(); ++j) {
        const Token& c = *significant[j];
        if (want_name && (IsName(c) || IsPunct(c, '*'))) {
          st.returning.push_back(c.value);
        } else if (want_name || !IsPunct(c, ',')) {
          return SyntaxError(offset + c.begin, "RETURNING takes response field names or *");
        }
        want_name = !want_name;
      }
      if (st.returning.empty() || want_name) {
        return SyntaxError(offset + text.size(), "expected a field name after RETURNING");
      }
      kept.erase(std::remove_if(kept.begin(), kept.end(),
                                [&](const Token& k) { return k.begin >= t.begin; }),
                 kept.end());
      break;
    }
  }
  st.sql = RewriteNames(text, kept);
  if (modifying) FirstResourceName(significant, &st);
  // StackQL's REPLACE <resource> SET ... WHERE ... is an UPDATE served by the resource's
  // replace method; SQLite's own REPLACE INTO ... is left alone.
  if (st.verb == "REPLACE" && significant.size() > 6 && IsKeyword(*significant[6], "SET")) {
    const Token& keyword = *significant[0];
    st.sql.replace(keyword.begin, keyword.end - keyword.begin, "UPDATE");
  }
  return st;
}

absl::StatusOr<std::vector<Statement>> PreParseScript(std::string_view script) {
  absl::StatusOr<std::vector<Token>> tokens = Lex(script, 0);
  if (!tokens.ok()) return tokens.status();
  std::vector<Statement> out;
  size_t start = 0;
  auto flush = [&](size_t end) -> absl::Status {
    absl::StatusOr<Statement> st = PreParseStatement(script.substr(start, end - start), start);
    if (!st.ok()) return st.status();
    // Blank statements (only spaces and comments) have neither a verb nor SQL.
    if (!st->verb.empty() || !st->sql.empty()) out.push_back(*std::move(st));
    return absl::OkStatus();
  };
  for (const Token& t : *tokens) {
    if (IsPunct(t, ';')) {
      if (absl::Status s = flush(t.begin); !s.ok()) return s;
      start = t.end;
    }
  }
  if (absl::Status s = flush(script.size()); !s.ok()) return s;
  return out;
}

}  // namespace dicomstore::sql
