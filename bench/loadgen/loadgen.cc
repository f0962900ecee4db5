// loadgen: the HTTP/1.1 client of bench/run.sh's throughput rows (STOW, whole-study WADO),
// driven by bench/native_load.py. Standard library, POSIX sockets and threads only.
//
//   loadgen --host 127.0.0.1 --port 8080 --connections N --requests FILE
//           [--count-boundary] [--keep-bodies DIR] [--timeout SECONDS]
//
// FILE holds one request per line, fields separated by tabs:
//   METHOD <tab> PATH <tab> BODY-FILE (empty: no body) [<tab> Name: value]...
// N threads, each with its own keep-alive connection, take the requests in list order from
// one shared index. A request body is sent from its file with sendfile(2); a response body
// (Content-Length, chunked or close-delimited) goes through one fixed 256 KiB buffer per
// connection and is only counted, unless --keep-bodies saves it (to DIR/<index>, after the
// timed part). --count-boundary counts "--" + the boundary of the response's Content-Type
// in the body (parts = count - 1, as dicomweb_bench.count_parts; -1 without a boundary).
//
// Output on stdout, JSON lines: one per request in list order
//   {"i":0,"status":200,"bytes":1234,"seconds":0.012345,"parts":20,"retried":false,"error":""}
// then one summary {"summary":true,"wall_s":..,"cpu_s":..,"reconnects":..,"errors":..}.
// wall_s and cpu_s (this process, user + system) cover the requests only, not the setup.
// A request whose connection fails has status 0 and an error; a reused connection that the
// server closed before answering is reopened and the request sent once more (as
// dicomweb_bench's Client does).
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string requests;
  std::string keep_dir;
  int connections = 1;
  int timeout_s = 300;
  bool count_boundary = false;
};

struct Request {
  std::string method;
  std::string head;       // request line, headers, blank line
  std::string body_path;  // empty: no body
  off_t body_size = 0;
};

struct Result {
  int status = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  long parts = -1;
  bool retried = false;
  std::string error;
  std::string body;  // --keep-bodies only
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "loadgen: %s\n", msg.c_str());
  std::exit(2);
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IContains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The boundary parameter of a Content-Type, as dicomweb_bench.count_parts finds it:
// boundary="?([^";,\s]+)"? case-insensitively; empty if there is none.
std::string_view Boundary(std::string_view ct) {
  constexpr std::string_view kKey = "boundary=";
  for (size_t i = 0; i + kKey.size() <= ct.size(); ++i) {
    if (!IEquals(ct.substr(i, kKey.size()), kKey)) continue;
    size_t b = i + kKey.size();
    if (b < ct.size() && ct[b] == '"') ++b;
    size_t e = b;
    while (e < ct.size() && !std::strchr("\";, \t\r\n\f\v", ct[e])) ++e;
    if (e > b) return ct.substr(b, e - b);
  }
  return {};
}

// Non-overlapping occurrences of a pattern in a byte stream fed in pieces; the same count as
// bytes.count() over the whole stream. Keeps the last (pattern length - 1) bytes that are not
// part of a counted match, to find matches that straddle two pieces.
class StreamCounter {
 public:
  void Reset(std::string_view pattern) {
    pat_.assign(pattern);
    tail_.clear();
    count_ = 0;
  }
  long count() const { return count_; }

  void Feed(const char* p, size_t n) {
    const size_t m = pat_.size();
    if (m == 0 || n == 0) return;
    size_t start = 0;  // bytes of p before this are part of a match
    bool matched = false;
    if (!tail_.empty()) {  // a match beginning in the tail ends within the first m-1 bytes
      const size_t k = tail_.size();
      window_.assign(tail_);
      window_.append(p, std::min(n, m - 1));
      const void* hit = memmem(window_.data(), window_.size(), pat_.data(), m);
      if (hit != nullptr) {
        ++count_;
        matched = true;
        start = static_cast<const char*>(hit) - window_.data() + m - k;
      }
    }
    for (;;) {
      const void* hit = memmem(p + start, n - start, pat_.data(), m);
      if (hit == nullptr) break;
      ++count_;
      matched = true;
      start = static_cast<const char*>(hit) - p + m;
    }
    if (matched) {  // what may begin a future match: at most m-1 bytes after the last match
      const size_t from = std::max(start, n >= m - 1 ? n - (m - 1) : size_t{0});
      tail_.assign(p + from, n - from);
    } else if (n >= m - 1) {
      tail_.assign(p + n - (m - 1), m - 1);
    } else {
      tail_.append(p, n);
      if (tail_.size() > m - 1) tail_.erase(0, tail_.size() - (m - 1));
    }
  }

 private:
  std::string pat_, tail_, window_;
  long count_ = 0;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

class Connection {
 public:
  Connection(const addrinfo* addr, const Options& opt) : addr_(addr), opt_(opt), buf_(256 << 10) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int reconnects() const { return reconnects_; }

  // Sends the request and reads its response into r.
  void Exchange(const Request& req, Result& r) {
    for (int attempt = 0;; ++attempt) {
      std::string err;
      if (fd_ < 0 && !Open(err)) {
        r.error = err;
        return;
      }
      const bool reused = used_;
      received_ = 0;
      r.status = 0;
      r.bytes = 0;
      r.parts = -1;
      r.body.clear();
      const double t0 = Now();
      bool close_after = false;
      const bool ok = Send(req, err) && Receive(req, r, close_after, err);
      r.seconds = Now() - t0;
      if (ok) {
        used_ = true;
        if (close_after) Close();
        return;
      }
      Close();
      if (attempt == 0 && reused && received_ == 0) {  // closed while idle: once more
        ++reconnects_;
        r.retried = true;
        continue;
      }
      r.status = 0;
      r.error = err;
      return;
    }
  }

 private:
  bool Open(std::string& err) {
    fd_ = socket(addr_->ai_family, addr_->ai_socktype | SOCK_CLOEXEC, addr_->ai_protocol);
    if (fd_ < 0) return Fail(err, "socket");
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const timeval tv{opt_.timeout_s, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd_, addr_->ai_addr, addr_->ai_addrlen) != 0) {
      Fail(err, "connect");
      Close();
      return false;
    }
    used_ = false;
    pos_ = end_ = 0;
    return true;
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  static bool Fail(std::string& err, const char* what) {
    err = std::string(what) + ": " + (errno == EAGAIN ? "timeout" : strerror(errno));
    return false;
  }

  bool Send(const Request& req, std::string& err) {
    const int flags = MSG_NOSIGNAL | (req.body_path.empty() ? 0 : MSG_MORE);
    for (size_t off = 0; off < req.head.size();) {
      const ssize_t k = send(fd_, req.head.data() + off, req.head.size() - off, flags);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) return Fail(err, "send");
      off += k;
    }
    if (req.body_path.empty()) return true;
    const int bfd = open(req.body_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (bfd < 0) return Fail(err, "open body");
    off_t off = 0;
    bool ok = true;
    while (ok && off < req.body_size) {
      const ssize_t k = sendfile(fd_, bfd, &off, req.body_size - off);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) ok = Fail(err, "sendfile");
      if (k == 0) {
        err = "body file shorter than when listed";
        ok = false;
      }
    }
    close(bfd);
    return ok;
  }

  // recv into the free end of the buffer (moving unread bytes to its front first).
  // > 0: bytes read; 0: the peer closed; < 0: error (errno).
  ssize_t Fill() {
    if (pos_ == end_) {
      pos_ = end_ = 0;
    } else if (end_ == buf_.size() && pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    for (;;) {
      const ssize_t k = recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k > 0) {
        end_ += k;
        received_ += k;
      }
      return k;
    }
  }

  bool FillOrFail(std::string& err, const char* where) {
    const ssize_t k = Fill();
    if (k > 0) return true;
    if (k == 0) err = std::string("connection closed ") + where;
    if (k < 0) Fail(err, "recv");
    return false;
  }

  // The next CRLF-terminated line (without the CRLF); valid until the next read.
  bool ReadLine(std::string_view& line, std::string& err) {
    for (;;) {
      const std::string_view have(buf_.data() + pos_, end_ - pos_);
      const size_t e = have.find("\r\n");
      if (e != std::string_view::npos) {
        line = have.substr(0, e);
        pos_ += e + 2;
        return true;
      }
      if (end_ - pos_ == buf_.size()) {
        err = "header line longer than the buffer";
        return false;
      }
      if (!FillOrFail(err, received_ == 0 ? "before the response" : "in the headers")) {
        return false;
      }
    }
  }

  // Passes n body bytes to the sink; n == SIZE_MAX: until the peer closes.
  template <class Sink>
  bool ReadBody(uint64_t n, Sink&& sink, std::string& err) {
    const bool to_eof = n == UINT64_MAX;
    while (n > 0) {
      if (pos_ == end_) {
        const ssize_t k = Fill();
        if (k == 0 && to_eof) return true;
        if (k == 0) err = "connection closed in the body";
        if (k < 0) Fail(err, "recv");
        if (k <= 0) return false;
      }
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
      sink(buf_.data() + pos_, take);
      pos_ += take;
      if (!to_eof) n -= take;
    }
    return true;
  }

  bool Receive(const Request& req, Result& r, bool& close_after, std::string& err) {
    std::string_view line;
    int version_minor = 1;
    bool chunked = false, conn_close = false, conn_keep = false;
    uint64_t length = UINT64_MAX;
    content_type_.clear();
    for (;;) {  // status line and headers; 1xx interim responses are skipped
      if (!ReadLine(line, err)) return false;
      if (line.size() < 12 || line.substr(0, 7) != "HTTP/1.") {
        err = "bad status line: " + std::string(line.substr(0, 80));
        return false;
      }
      version_minor = line[7] - '0';
      r.status = std::atoi(std::string(line.substr(9, 3)).c_str());
      for (;;) {
        if (!ReadLine(line, err)) return false;
        if (line.empty()) break;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = Trim(line.substr(0, colon));
        const std::string_view value = Trim(line.substr(colon + 1));
        if (IEquals(name, "content-length")) {
          length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        } else if (IEquals(name, "transfer-encoding")) {
          chunked = IContains(value, "chunked");
        } else if (IEquals(name, "connection")) {
          conn_close = IContains(value, "close");
          conn_keep = IContains(value, "keep-alive");
        } else if (IEquals(name, "content-type")) {
          content_type_.assign(value);
        }
      }
      if (r.status >= 200 || r.status == 101) break;
      chunked = conn_close = conn_keep = false;
      length = UINT64_MAX;
      content_type_.clear();
    }
    close_after = conn_close || (version_minor == 0 && !conn_keep);

    const std::string_view boundary = opt_.count_boundary ? Boundary(content_type_) : "";
    if (!boundary.empty()) {
      pattern_.assign("--");
      pattern_.append(boundary);
    } else {
      pattern_.clear();
    }
    counter_.Reset(pattern_);
    const bool keep = !opt_.keep_dir.empty();
    auto sink = [&](const char* p, size_t n) {
      r.bytes += n;
      if (!pattern_.empty()) counter_.Feed(p, n);
      if (keep) r.body.append(p, n);
    };

    bool ok = true;
    if (req.method == "HEAD" || r.status == 204 || r.status == 304) {
      // no body
    } else if (chunked) {
      for (;;) {
        if (!ReadLine(line, err)) return false;
        const uint64_t size = std::strtoull(std::string(line).c_str(), nullptr, 16);
        if (size == 0) {
          do {  // trailer fields, up to the blank line
            if (!ReadLine(line, err)) return false;
          } while (!line.empty());
          break;
        }
        if (!ReadBody(size, sink, err) || !ReadLine(line, err)) return false;
      }
    } else if (length != UINT64_MAX) {
      ok = ReadBody(length, sink, err);
    } else {
      ok = ReadBody(UINT64_MAX, sink, err);
      close_after = true;
    }
    if (ok && opt_.count_boundary) r.parts = pattern_.empty() ? -1 : counter_.count() - 1;
    return ok;
  }

  const addrinfo* addr_;
  const Options& opt_;
  int fd_ = -1;
  bool used_ = false;
  int reconnects_ = 0;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t received_ = 0;  // bytes of the current response so far
  std::string content_type_, pattern_;
  StreamCounter counter_;
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t e = s.find(sep);
    out.push_back(s.substr(0, e));
    if (e == std::string_view::npos) return out;
    s.remove_prefix(e + 1);
  }
}

std::vector<Request> LoadRequests(const Options& opt) {
  std::ifstream in(opt.requests);
  if (!in) Die("cannot read " + opt.requests);
  std::vector<Request> reqs;
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    const std::vector<std::string_view> f = Split(text, '\t');
    if (f.size() < 3) Die("want METHOD<tab>PATH<tab>BODY-FILE[<tab>header]...: " + text);
    Request q;
    q.method.assign(f[0]);
    q.body_path.assign(f[2]);
    q.head = q.method + " " + std::string(f[1]) + " HTTP/1.1\r\nHost: " + opt.host + ":" +
             opt.port + "\r\n";
    bool accept_encoding = false;
    for (size_t k = 3; k < f.size(); ++k) {
      accept_encoding |= IContains(f[k], "accept-encoding:");
      q.head.append(f[k]).append("\r\n");
    }
    if (!accept_encoding) q.head += "Accept-Encoding: identity\r\n";  // as http.client
    if (!q.body_path.empty()) {
      struct stat st {};
      if (stat(q.body_path.c_str(), &st) != 0) Die("cannot stat " + q.body_path);
      q.body_size = st.st_size;
      q.head += "Content-Length: " + std::to_string(q.body_size) + "\r\n";
    } else if (q.method == "POST" || q.method == "PUT" || q.method == "PATCH") {
      q.head += "Content-Length: 0\r\n";
    }
    q.head += "\r\n";
    reqs.push_back(std::move(q));
  }
  return reqs;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + std::string(a));
      return argv[++i];
    };
    if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = value();
    } else if (a == "--connections") {
      o.connections = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--requests") {
      o.requests = value();
    } else if (a == "--keep-bodies") {
      o.keep_dir = value();
    } else if (a == "--timeout") {
      o.timeout_s = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--count-boundary") {
      o.count_boundary = true;
    } else {
      Die("usage: loadgen --host H --port P --connections N --requests FILE "
          "[--count-boundary] [--keep-bodies DIR] [--timeout S]");
    }
  }
  if (o.requests.empty()) Die("--requests FILE is required");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);  // sendfile to a closed socket: EPIPE, not a signal
  const std::vector<Request> reqs = LoadRequests(opt);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addr = nullptr;
  if (const int rc = getaddrinfo(opt.host.c_str(), opt.port.c_str(), &hints, &addr); rc != 0) {
    Die("getaddrinfo " + opt.host + ": " + gai_strerror(rc));
  }

  std::vector<Result> results(reqs.size());
  std::atomic<size_t> next{0};
  std::atomic<int> reconnects{0};
  const double cpu0 = CpuSeconds(), t0 = Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < opt.connections; ++t) {
    threads.emplace_back([&] {
      Connection conn(addr, opt);
      for (size_t i; (i = next.fetch_add(1)) < reqs.size();) conn.Exchange(reqs[i], results[i]);
      reconnects += conn.reconnects();
    });
  }
  for (std::thread& t : threads) t.join();
  const double wall = Now() - t0, cpu = CpuSeconds() - cpu0;
  freeaddrinfo(addr);

  int errors = 0;
  std::string out;
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    errors += !r.error.empty();
    char line[160];
    std::snprintf(line, sizeof line,
                  "{\"i\":%zu,\"status\":%d,\"bytes\":%llu,\"seconds\":%.6f,\"parts\":%ld,"
                  "\"retried\":%s,\"error\":",
                  i, r.status, static_cast<unsigned long long>(r.bytes), r.seconds, r.parts,
                  r.retried ? "true" : "false");
    out += line;
    out += JsonString(r.error) + "}\n";
    if (!opt.keep_dir.empty()) {
      const std::string path = opt.keep_dir + "/" + std::to_string(i);
      std::ofstream f(path, std::ios::binary);
      f.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
      if (!f) Die("cannot write " + path);
    }
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "{\"summary\":true,\"requests\":%zu,\"connections\":%d,\"wall_s\":%.6f,"
                "\"cpu_s\":%.6f,\"reconnects\":%d,\"errors\":%d}\n",
                reqs.size(), opt.connections, wall, cpu, reconnects.load(), errors);
  out += line;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
