#include "server/multipart_parser.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "server/media_type.h"

namespace dicomstore::server {
namespace {

constexpr std::string_view kCrlf = "\r\n";

absl::StatusOr<std::vector<HttpHeader>> ParseHeaderBlock(std::string_view block) {
  std::vector<HttpHeader> headers;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find(kCrlf, pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + kCrlf.size();
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed multipart part header \"", Av(line.substr(0, 80)), "\""));
    }
    std::string name(absl::StripAsciiWhitespace(Av(line.substr(0, colon))));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed multipart part header \"", Av(line.substr(0, 80)), "\""));
    }
    headers.push_back(
        {std::move(name), std::string(absl::StripAsciiWhitespace(Av(line.substr(colon + 1))))});
  }
  return headers;
}

}  // namespace

MultipartParser::MultipartParser(std::string boundary, MultipartListener* listener,
                                 const MultipartLimits& limits)
    : delimiter_(absl::StrCat("\r\n--", boundary)), listener_(listener), limits_(limits) {
  // The first delimiter may start the body without a preceding CRLF; pretend it had one.
  buffer_ = "\r\n";
}

absl::Status MultipartParser::Fail(absl::Status status) {
  state_ = State::kFailed;
  buffer_.clear();
  return status;
}

absl::Status MultipartParser::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) return absl::FailedPreconditionError("parser already failed");
  if (state_ == State::kEpilogue) return absl::OkStatus();
  if (state_ == State::kBody) {
    std::optional<absl::Status> streamed = StreamBody(chunk);
    if (streamed) return *streamed;
  }
  buffer_.append(chunk);
  return Process();
}

std::optional<absl::Status> MultipartParser::StreamBody(std::string_view chunk) {
  // buffer_ holds at most a possible partial delimiter here (Process keeps no more in
  // kBody). A delimiter starting in it must be found with the bytes that follow: that rare
  // case, and chunks too short to tell, take the copying path.
  const size_t n = delimiter_.size();
  if (buffer_.size() >= n || chunk.size() < n) return std::nullopt;
  if (!buffer_.empty()) {
    const std::string joined = absl::StrCat(buffer_, Av(chunk.substr(0, n)));
    const size_t at = joined.find(delimiter_);
    if (at != std::string::npos && at < buffer_.size()) return std::nullopt;
  }
  const size_t at = chunk.find(delimiter_);
  // Content: the carried bytes, then the chunk up to the delimiter or, without one, up to
  // what could be the start of the next delimiter.
  const size_t content = at != std::string_view::npos ? at : chunk.size() - (n - 1);
  if (!buffer_.empty()) {
    if (absl::Status s = listener_->OnPartData(buffer_); !s.ok()) return Fail(s);
  }
  if (content > 0) {
    if (absl::Status s = listener_->OnPartData(chunk.substr(0, content)); !s.ok()) return Fail(s);
  }
  if (at == std::string_view::npos) {
    buffer_.assign(chunk.substr(content));
    return absl::OkStatus();
  }
  if (absl::Status s = listener_->OnPartEnd(); !s.ok()) return Fail(s);
  state_ = State::kAfterDelimiter;
  buffer_.assign(chunk.substr(at + n));
  return Process();
}

absl::Status MultipartParser::Process() {
  size_t pos = 0;  // consumed prefix of buffer_
  while (true) {
    std::string_view rest = std::string_view(buffer_).substr(pos);
    switch (state_) {
      case State::kPreamble: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          // Keep only what could be the start of a delimiter.
          if (rest.size() >= delimiter_.size()) pos += rest.size() - (delimiter_.size() - 1);
          buffer_.erase(0, pos);
          return absl::OkStatus();
        }
        pos += at + delimiter_.size();
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kAfterDelimiter: {
        if (rest.size() < 2) {
          buffer_.erase(0, pos);
          return absl::OkStatus();
        }
        if (rest.substr(0, 2) == "--") {
          state_ = State::kEpilogue;
          buffer_.clear();
          return absl::OkStatus();
        }
        size_t i = 0;
        while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
        if (i + 2 > rest.size()) {
          if (i > 1024) return Fail(absl::InvalidArgumentError("garbage after boundary"));
          buffer_.erase(0, pos);
          return absl::OkStatus();
        }
        if (rest.substr(i, 2) != kCrlf) {
          return Fail(absl::InvalidArgumentError(
              "malformed multipart body: garbage after boundary (expected CRLF or \"--\")"));
        }
        pos += i + 2;
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        // An empty header block is just CRLF; otherwise it ends with CRLF CRLF.
        size_t end;
        size_t skip;
        if (rest.substr(0, 2) == kCrlf) {
          end = 0;
          skip = 2;
        } else {
          end = rest.find("\r\n\r\n");
          skip = 4;
          if (end == std::string_view::npos) {
            // Up to 3 bytes of the terminator may already be here: count them out, so the
            // verdict does not depend on where the network split the body.
            if (rest.size() > limits_.max_header_bytes + 3) {
              return Fail(absl::InvalidArgumentError(absl::StrCat(
                  "multipart part headers exceed ", limits_.max_header_bytes, " bytes")));
            }
            buffer_.erase(0, pos);
            return absl::OkStatus();
          }
        }
        if (end > limits_.max_header_bytes) {
          return Fail(absl::InvalidArgumentError(
              absl::StrCat("multipart part headers exceed ", limits_.max_header_bytes, " bytes")));
        }
        if (++parts_ > limits_.max_parts) {
          return Fail(absl::InvalidArgumentError(
              absl::StrCat("multipart body has more than ", limits_.max_parts, " parts")));
        }
        absl::StatusOr<std::vector<HttpHeader>> headers = ParseHeaderBlock(rest.substr(0, end));
        if (!headers.ok()) return Fail(headers.status());
        if (absl::Status s = listener_->OnPartBegin(*headers); !s.ok()) return Fail(s);
        pos += end + skip;
        state_ = State::kBody;
        break;
      }
      case State::kBody: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          // Everything except a possible partial delimiter at the end is content.
          size_t safe =
              rest.size() >= delimiter_.size() ? rest.size() - (delimiter_.size() - 1) : 0;
          if (safe > 0) {
            if (absl::Status s = listener_->OnPartData(rest.substr(0, safe)); !s.ok())
              return Fail(s);
          }
          buffer_.erase(0, pos + safe);
          return absl::OkStatus();
        }
        if (at > 0) {
          if (absl::Status s = listener_->OnPartData(rest.substr(0, at)); !s.ok()) return Fail(s);
        }
        if (absl::Status s = listener_->OnPartEnd(); !s.ok()) return Fail(s);
        pos += at + delimiter_.size();
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kEpilogue:
        buffer_.clear();
        return absl::OkStatus();
      case State::kFailed:
        return absl::FailedPreconditionError("parser already failed");
    }
  }
}

absl::Status MultipartParser::Finish() {
  if (state_ == State::kEpilogue) return absl::OkStatus();
  if (state_ == State::kFailed) return absl::FailedPreconditionError("parser already failed");
  if (state_ == State::kPreamble && parts_ == 0) {
    return Fail(absl::InvalidArgumentError(
        "malformed multipart body: the boundary from Content-Type never appears"));
  }
  return Fail(
      absl::InvalidArgumentError("truncated multipart body: the closing boundary is missing"));
}

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  absl::StatusOr<MediaType> mt = ParseMediaType(content_type);
  if (!mt.ok()) return mt.status();
  if (mt->type != "multipart") {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a multipart content type, got \"", mt->Essence(), "\""));
  }
  std::string boundary = mt->Param("boundary");
  if (boundary.empty() || boundary.size() > 70) {
    return absl::InvalidArgumentError(
        "multipart Content-Type needs a boundary parameter of 1 to 70 characters");
  }
  return boundary;
}

}  // namespace dicomstore::server
