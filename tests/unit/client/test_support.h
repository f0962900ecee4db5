// Helpers for the client tests: a loopback HTTP server answering with a function, an RSA
// key generated once per test binary, and a JWT decoder that checks RS256 signatures with
// the key's public half.
#ifndef DICOMSTORE_TESTS_UNIT_CLIENT_TEST_SUPPORT_H_
#define DICOMSTORE_TESTS_UNIT_CLIENT_TEST_SUPPORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "client/jwt.h"
#include "common/proto_json.h"
#include "server/http_server.h"

namespace dicomstore::client::testing {

class TestServer : public server::HttpHandler {
 public:
  using Function = std::function<server::HttpResponse(const server::HttpRequest&)>;
  explicit TestServer(Function function) : function_(std::move(function)) {}
  ~TestServer() override { Stop(); }

  absl::Status Start() {
    server::HttpServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.worker_threads = 4;
    options.access_log = false;
    absl::StatusOr<std::unique_ptr<server::HttpServer>> server =
        server::HttpServer::Start(options, this);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    return absl::OkStatus();
  }
  void Stop() {
    if (server_ != nullptr) server_->Shutdown();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  server::BodyPlan Plan(const server::HttpRequest&) override {
    server::BodyPlan plan;
    plan.buffer_limit = 64 << 20;
    return plan;
  }
  server::HttpResponse Handle(const server::HttpRequest& request) override {
    return function_(request);
  }
  server::HttpResponse Error(const absl::Status& status) override {
    return Reply(500, std::string(status.message()));
  }

  static server::HttpResponse Reply(int status, std::string body,
                                    std::string content_type = "text/plain") {
    server::HttpResponse response;
    response.status = status;
    response.headers.push_back({"Content-Type", std::move(content_type)});
    response.body = std::move(body);
    return response;
  }
  static server::HttpResponse ReplyJson(int status, const Json& body) {
    return Reply(status, body.dump(), "application/json");
  }

 private:
  Function function_;
  std::unique_ptr<server::HttpServer> server_;
};

// "http://127.0.0.1:<port>" for a port that was just bound and closed: nothing listens there,
// so connecting is refused at once.
inline std::string ClosedPortEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

struct TestKey {
  std::string private_pem;               // PKCS#8, as in Google's key files
  std::shared_ptr<EVP_PKEY> public_key;  // the public half only
};

// A 2048-bit RSA key, generated on first use.
inline const TestKey& TestRsaKey() {
  static const TestKey key = [] {
    TestKey out;
    EVP_PKEY* pair = EVP_RSA_gen(2048);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), pair, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
    out.private_pem.assign(data, static_cast<size_t>(size));
    // Round trip the public key through PEM so verification cannot use the private half.
    std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(pub.get(), pair);
    out.public_key.reset(PEM_read_bio_PUBKEY(pub.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    EVP_PKEY_free(pair);
    return out;
  }();
  return key;
}

inline bool VerifyRs256(EVP_PKEY* public_key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

struct DecodedJwt {
  Json header;
  Json claims;
};

// INVALID_ARGUMENT naming the first problem: shape, encoding, JSON, or a bad signature.
inline absl::StatusOr<DecodedJwt> DecodeAndVerifyJwt(std::string_view jwt, EVP_PKEY* public_key) {
  size_t first = jwt.find('.');
  size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("JWT does not have three parts");
  }
  absl::StatusOr<std::string> header = Base64UrlDecode(jwt.substr(0, first));
  absl::StatusOr<std::string> claims = Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
  absl::StatusOr<std::string> signature = Base64UrlDecode(jwt.substr(second + 1));
  if (!header.ok() || !claims.ok() || !signature.ok()) {
    return absl::InvalidArgumentError("JWT part is not base64url");
  }
  if (!VerifyRs256(public_key, jwt.substr(0, second), *signature)) {
    return absl::InvalidArgumentError("JWT signature does not verify");
  }
  DecodedJwt out{Json::parse(*header, nullptr, false), Json::parse(*claims, nullptr, false)};
  if (!out.header.is_object() || !out.claims.is_object()) {
    return absl::InvalidArgumentError("JWT part is not a JSON object");
  }
  return out;
}

// Splits an application/x-www-form-urlencoded body into decoded name/value pairs.
inline std::map<std::string, std::string> ParseForm(std::string_view body) {
  auto decode = [](std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out.push_back(' ');
      } else if (text[i] == '%' && i + 2 < text.size()) {
        out.push_back(
            static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> form;
  while (!body.empty()) {
    std::string_view pair = body.substr(0, body.find('&'));
    body.remove_prefix(std::min(body.size(), pair.size() + 1));
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      form[decode(pair)] = "";
    } else {
      form[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
    }
  }
  return form;
}

}  // namespace dicomstore::client::testing

#endif  // DICOMSTORE_TESTS_UNIT_CLIENT_TEST_SUPPORT_H_
