// The ceiling of durable STOW ingest on this machine: an HTTP server that does only what any
// server must do with a STOW request before acknowledging it, and nothing else. It receives
// the body, appends it to one file per connection (pwrite through the page cache, as both
// dicomstore and Orthanc do), fdatasyncs it and answers with a STOW-RS JSON response listing
// one referenced instance per multipart part (so dicomweb_bench.py counts them as stored). No
// parsing, no hashing, no index. Driven by the same client as the servers, its MB/s is the
// most a server writing the bytes this way reaches in that setting (bench/run.sh).
//
//   stow_sink PORT DIR [--sha256]     (--sha256 also hashes the body, as dicomstore does)
//
// Blocking sockets and a thread per connection: the benchmark uses at most a few keep-alive
// connections. Limits: request heads up to 64 KiB, Content-Length bodies only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr size_t kHeadLimit = 64 * 1024;
constexpr size_t kChunk = 1 << 20;

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Case-insensitive header value from a request head ("" when absent).
std::string Header(std::string_view head, std::string_view name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos > name.size() && head[pos + name.size()] == ':' &&
        strncasecmp(head.data() + pos, name.data(), name.size()) == 0) {
      size_t start = pos + name.size() + 1;
      const size_t end = head.find("\r\n", start);
      while (start < end && head[start] == ' ') ++start;
      return std::string(head.substr(start, end - start));
    }
  }
  return "";
}

// Counts "--boundary" delimiters across chunk borders (a delimiter can straddle two chunks).
class DelimiterCounter {
 public:
  explicit DelimiterCounter(std::string boundary) : delimiter_("--" + std::move(boundary)) {}
  void Feed(std::string_view chunk) {
    std::string joined = carry_;
    joined.append(chunk.substr(0, std::min(chunk.size(), delimiter_.size())));
    // Delimiters that start in the carried tail.
    for (size_t p = joined.find(delimiter_); p != std::string::npos && p < carry_.size();
         p = joined.find(delimiter_, p + 1)) {
      ++count_;
    }
    for (size_t p = chunk.find(delimiter_); p != std::string_view::npos;
         p = chunk.find(delimiter_, p + delimiter_.size())) {
      ++count_;
    }
    const size_t keep = std::min(chunk.size(), delimiter_.size() - 1);
    carry_.assign(chunk.substr(chunk.size() - keep));
  }
  // Parts = delimiters minus the closing one.
  size_t parts() const { return count_ > 0 ? count_ - 1 : 0; }

 private:
  std::string delimiter_, carry_;
  size_t count_ = 0;
};

std::string StowResponse(size_t parts) {
  std::string items;
  for (size_t i = 0; i < parts; ++i) {
    items += i ? ",{}" : "{}";
  }
  return "{\"00081199\":{\"vr\":\"SQ\",\"Value\":[" + items + "]}}";
}

void Serve(int conn, const std::string& path, bool sha256) {
  const int file = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (file < 0) {
    ::close(conn);
    return;
  }
  std::vector<char> buf(kChunk);
  std::string pending;  // bytes read past a request head
  off_t offset = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  while (true) {
    // Head.
    size_t head_end;
    while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
      if (pending.size() > kHeadLimit) goto done;
      const ssize_t n = ::recv(conn, buf.data(), buf.size(), 0);
      if (n <= 0) goto done;
      pending.append(buf.data(), static_cast<size_t>(n));
    }
    {
      const std::string head = pending.substr(0, head_end + 2);
      pending.erase(0, head_end + 4);
      uint64_t remaining = std::strtoull(Header(head, "Content-Length").c_str(), nullptr, 10);
      const std::string type = Header(head, "Content-Type");
      const size_t b = type.find("boundary=");
      std::string boundary = b == std::string::npos ? "" : type.substr(b + 9);
      if (!boundary.empty() && boundary.front() == '"') {
        boundary = boundary.substr(1, boundary.find('"', 1) - 1);
      }
      boundary = boundary.substr(0, boundary.find(';'));
      DelimiterCounter counter(boundary);
      if (sha256) EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
      auto consume = [&](const char* data, size_t size) {
        counter.Feed(std::string_view(data, size));
        if (sha256) EVP_DigestUpdate(ctx, data, size);
        if (::pwrite(file, data, size, offset) != static_cast<ssize_t>(size)) return false;
        offset += static_cast<off_t>(size);
        return true;
      };
      const size_t first = static_cast<size_t>(std::min<uint64_t>(remaining, pending.size()));
      if (!consume(pending.data(), first)) goto done;
      pending.erase(0, first);
      remaining -= first;
      while (remaining > 0) {
        const ssize_t n =
            ::recv(conn, buf.data(), static_cast<size_t>(std::min<uint64_t>(remaining, kChunk)), 0);
        if (n <= 0 || !consume(buf.data(), static_cast<size_t>(n))) goto done;
        remaining -= static_cast<uint64_t>(n);
      }
      if (sha256) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_DigestFinal_ex(ctx, digest, &length);
      }
      if (::fdatasync(file) != 0) goto done;
      const std::string body = StowResponse(counter.parts());
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      if (!SendAll(conn, response)) goto done;
    }
  }
done:
  EVP_MD_CTX_free(ctx);
  ::close(file);
  ::unlink(path.c_str());
  ::close(conn);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: stow_sink PORT DIR [--sha256]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string dir = argv[2];
  const bool sha256 = argc > 3 && std::string_view(argv[3]) == "--sha256";
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0) {
    std::perror("stow_sink: listen");
    return 1;
  }
  std::atomic<int> next{0};
  while (true) {
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string path = dir + "/conn-" + std::to_string(next++);
    std::thread(Serve, conn, path, sha256).detach();
  }
}
