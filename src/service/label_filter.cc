#include "service/label_filter.h"

#include <unicode/utf8.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/proto_json.h"

namespace dicomstore::service {

struct LabelFilter::Node {
  enum class Kind { kAnd, kOr, kNot, kEquals, kPresent };
  Kind kind;
  std::string key;    // kEquals, kPresent
  std::string value;  // kEquals
  // kAnd / kOr: two or more operands, kept flat so that a long chain of ANDs does not make
  // a deep tree; kNot: exactly one.
  std::vector<std::unique_ptr<Node>> children;

  bool Matches(const Labels& labels) const {
    switch (kind) {
      case Kind::kAnd:
        for (const auto& c : children) {
          if (!c->Matches(labels)) return false;
        }
        return true;
      case Kind::kOr:
        for (const auto& c : children) {
          if (c->Matches(labels)) return true;
        }
        return false;
      case Kind::kNot:
        return !children[0]->Matches(labels);
      case Kind::kEquals: {
        auto it = labels.find(key);
        return it != labels.end() && it->second == value;
      }
      case Kind::kPresent:
        return labels.contains(key);
    }
    return false;
  }
};

namespace {

using Node = LabelFilter::Node;
using NodePtr = std::unique_ptr<Node>;

// Characters of a bare word (field name, key, value, keyword). Bytes >= 0x80 are taken as
// is, so Unicode letters need no quoting; the text was checked to be valid UTF-8 first.
bool IsWordByte(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '-' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    UChar32 c;
    U8_NEXT(text.data(), i, text.size(), c);
    if (c < 0) return false;
  }
  return true;
}

NodePtr MakeNode(Node::Kind kind, std::vector<NodePtr> children) {
  if (children.size() == 1 && kind != Node::Kind::kNot) return std::move(children[0]);
  auto node = std::make_unique<Node>();
  node->kind = kind;
  node->children = std::move(children);
  return node;
}

// Recursive descent over the characters (no separate lexer: whether '-' negates or belongs
// to a word depends on where it appears). Recursion is bounded by kMaxFilterDepth because
// only NOT and '(' recurse, and each counts one level.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<NodePtr> ParseAll() {
    absl::StatusOr<NodePtr> root = ParseExpr(0);
    if (!root.ok()) return root;
    SkipSpace();
    if (!AtEnd()) {
      return Error(Peek() == ')' ? "')' has no matching '('"
                                 : "expected AND, OR or the end of the filter");
    }
    return root;
  }

 private:
  // As in Google's list filters (AIP-160), OR binds tighter than AND:
  // "a AND b OR c" is "a AND (b OR c)".
  absl::StatusOr<NodePtr> ParseExpr(int depth) {
    std::vector<NodePtr> terms;
    do {
      absl::StatusOr<NodePtr> term = ParseTerm(depth);
      if (!term.ok()) return term;
      terms.push_back(*std::move(term));
      SkipSpace();
      // Juxtaposition is AND: anything but ')' or the end starts another term.
    } while (ConsumeKeyword("AND") || !(AtEnd() || Peek() == ')'));
    return MakeNode(Node::Kind::kAnd, std::move(terms));
  }

  absl::StatusOr<NodePtr> ParseTerm(int depth) {
    std::vector<NodePtr> factors;
    do {
      absl::StatusOr<NodePtr> factor = ParseFactor(depth);
      if (!factor.ok()) return factor;
      factors.push_back(*std::move(factor));
    } while (ConsumeKeyword("OR"));
    return MakeNode(Node::Kind::kOr, std::move(factors));
  }

  absl::StatusOr<NodePtr> ParseFactor(int depth) {
    SkipSpace();
    if (AtKeyword("AND") || AtKeyword("OR")) {
      return Error(absl::StrCat("unexpected '", Av(Word()), "'"));
    }
    bool negate = ConsumeKeyword("NOT");
    if (!negate && Peek() == '-') {
      ++pos_;
      negate = true;
    }
    if (negate || Peek() == '(') {
      if (depth >= kMaxFilterDepth) {
        return Error(absl::StrCat("parentheses and NOT are nested more than ", kMaxFilterDepth,
                                  " levels deep"));
      }
    }
    if (negate) {
      absl::StatusOr<NodePtr> operand = ParseFactor(depth + 1);
      if (!operand.ok()) return operand;
      std::vector<NodePtr> children;
      children.push_back(*std::move(operand));
      return MakeNode(Node::Kind::kNot, std::move(children));
    }
    if (Peek() == '(') {
      size_t open = pos_++;
      absl::StatusOr<NodePtr> inner = ParseExpr(depth + 1);
      if (!inner.ok()) return inner;
      SkipSpace();
      if (Peek() != ')') return ErrorAt(open, "'(' is not closed");
      ++pos_;
      return inner;
    }
    return ParseCompare();
  }

  absl::StatusOr<NodePtr> ParseCompare() {
    SkipSpace();
    std::string_view field = Word();
    if (field.empty()) return Error("expected a condition such as labels.key=value");
    if (field != "labels") return Error(UnsupportedField(field));
    pos_ += field.size();
    if (Peek() != '.') return Error("expected '.' and a label key after 'labels'");
    ++pos_;
    auto node = std::make_unique<Node>();
    absl::StatusOr<std::string> key = ParseText("a label key");
    if (!key.ok()) return key.status();
    node->key = *std::move(key);
    SkipSpace();
    if (Peek() == ':') {
      ++pos_;
      SkipSpace();
      if (Peek() == '*') {
        ++pos_;
        node->kind = Node::Kind::kPresent;
        return node;
      }
    } else if (Peek() == '=') {
      ++pos_;
    } else {
      return Error(OperatorProblem());
    }
    absl::StatusOr<std::string> value = ParseText("a value");
    if (!value.ok()) return value.status();
    node->kind = Node::Kind::kEquals;
    node->value = *std::move(value);
    return node;
  }

  static std::string UnsupportedField(std::string_view field) {
    std::string lower = absl::AsciiStrToLower(Av(field));
    if (lower == "and" || lower == "or" || lower == "not") {
      return absl::StrCat("unexpected ", QuoteForMessage(field),
                          " (the keywords AND, OR and NOT are upper case)");
    }
    return absl::StrCat("cannot filter on ", QuoteForMessage(field),
                        "; only labels can be filtered, as labels.key=value or labels.key:*");
  }

  std::string OperatorProblem() const {
    if (text_.substr(pos_, 2) == "!=") return "'!=' is not supported; use NOT labels.key=value";
    if (Peek() == '<' || Peek() == '>') return "labels only support '=', ':' and ':*'";
    return "expected '=', ':' or ':*' after the label key";
  }

  // A quoted string or a non-empty bare word.
  absl::StatusOr<std::string> ParseText(std::string_view what) {
    SkipSpace();
    if (Peek() == '"') return ParseQuoted();
    std::string_view word = Word();
    if (word.empty()) return Error(absl::StrCat("expected ", Av(what)));
    pos_ += word.size();
    return std::string(word);
  }

  absl::StatusOr<std::string> ParseQuoted() {
    size_t open = pos_++;
    std::string out;
    while (!AtEnd() && Peek() != '"') {
      if (Peek() == '\\') {
        char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
        if (next != '"' && next != '\\') {
          return Error("only \\\" and \\\\ escapes are allowed in a quoted string");
        }
        ++pos_;
      }
      out.push_back(text_[pos_++]);
    }
    if (AtEnd()) return ErrorAt(open, "the quoted string is not terminated");
    ++pos_;
    return out;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd() && absl::ascii_isspace(text_[pos_])) ++pos_;
  }

  // The bare word starting at the current position (empty if none).
  std::string_view Word() const {
    size_t end = pos_;
    while (end < text_.size() && IsWordByte(text_[end])) ++end;
    return text_.substr(pos_, end - pos_);
  }

  bool AtKeyword(std::string_view keyword) {
    SkipSpace();
    return Word() == keyword;
  }

  bool ConsumeKeyword(std::string_view keyword) {
    if (!AtKeyword(keyword)) return false;
    pos_ += keyword.size();
    return true;
  }

  absl::Status Error(std::string_view what) const { return ErrorAt(pos_, what); }

  absl::Status ErrorAt(size_t pos, std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("Invalid filter ", QuoteForMessage(text_),
                                                   " at position ", pos + 1, ": ", Av(what)));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<LabelFilter> LabelFilter::Parse(std::string_view filter) {
  if (filter.size() > kMaxFilterLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid filter: it is ", filter.size(), " bytes long; the maximum is ", kMaxFilterLength));
  }
  if (!IsValidUtf8(filter)) {
    return absl::InvalidArgumentError("Invalid filter: it is not valid UTF-8");
  }
  if (absl::StripAsciiWhitespace(Av(filter)).empty()) return LabelFilter(nullptr);
  absl::StatusOr<NodePtr> root = Parser(filter).ParseAll();
  if (!root.ok()) return root.status();
  return LabelFilter(*std::move(root));
}

bool LabelFilter::Matches(const Labels& labels) const {
  return root_ == nullptr || root_->Matches(labels);
}

LabelFilter::LabelFilter(std::unique_ptr<Node> root) : root_(std::move(root)) {}
LabelFilter::LabelFilter(LabelFilter&&) noexcept = default;
LabelFilter& LabelFilter::operator=(LabelFilter&&) noexcept = default;
LabelFilter::~LabelFilter() = default;

}  // namespace dicomstore::service
