#include "cli/serve_command.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "blobs/blob_store.h"
#include "dicom/instance_parser.h"
#include "index/index.h"
#include "server/api_handler.h"
#include "server/http_server.h"
#include "service/admin_service.h"
#include "service/dicomweb_service.h"
#include "service/recovery.h"

namespace dicomstore::cli {
namespace {

bool ParseListen(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  uint32_t p = 0;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &p) || p > 65535) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);  // [::1]:8080
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

// Each part of a STOW request in flight holds its temporary file open until a worker has
// synced it, so allow as many descriptors as the system lets this process have.
void RaiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int RunServe(const ServeOptions& options) {
  RaiseFileLimit();
  server::HttpServerOptions http;
  if (!ParseListen(options.listen, &http.host, &http.port)) {
    std::cerr << "dicomstore: invalid --listen \"" << options.listen << "\" (want HOST:PORT)\n";
    return 2;
  }
  http.access_log = options.access_log;

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    std::cerr << "dicomstore: cannot create data directory " << options.data_dir << ": "
              << ec.message() << "\n";
    return 1;
  }
  // Read before the index and blob store create their files, so a new directory is clean.
  service::CleanShutdownMarker marker(options.data_dir);
  absl::StatusOr<std::unique_ptr<index::Index>> index =
      index::OpenSqliteIndex((std::filesystem::path(options.data_dir) / "index.sqlite").string());
  if (!index.ok()) {
    std::cerr << "dicomstore: cannot open the index: " << index.status() << "\n";
    return 1;
  }
  if (absl::Status s = dicom::InitializeDicom(); !s.ok()) {
    std::cerr << "dicomstore: " << s << "\n";
    return 1;
  }
  blobs::BlobStore blobs(blobs::DefaultEnv(),
                         (std::filesystem::path(options.data_dir) / "blobs").string());
  if (absl::Status s = blobs.Open(); !s.ok()) {
    std::cerr << "dicomstore: cannot open the blob store: " << s << "\n";
    return 1;
  }
  // After a crash, files published but never indexed are removed (DESIGN.md §5).
  if (!marker.WasClean()) {
    if (absl::Status s = service::RemoveUnreferencedBlobs(index->get(), &blobs); !s.ok()) {
      std::cerr << "dicomstore: recovery failed: " << s << "\n";
      return 1;
    }
  }
  marker.MarkRunning();

  service::AdminService admin(index->get(), &blobs);
  service::DicomWebService dicomweb(index->get(), &blobs);
  server::ApiHandler handler(&admin, &dicomweb);

  // Block the termination signals in every thread (the server threads inherit the mask),
  // then wait for them here: a clean, race-free shutdown path.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<server::HttpServer>> srv =
      server::HttpServer::Start(http, &handler);
  if (!srv.ok()) {
    std::cerr << "dicomstore: cannot listen on " << options.listen << ": " << srv.status() << "\n";
    return 1;
  }
  // Tests and scripts wait for this exact line on stdout.
  std::printf("listening on %s:%u\n", http.host.c_str(), static_cast<unsigned>((*srv)->port()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "dicomstore: received signal " << sig << ", finishing in-flight requests\n";
  (*srv)->Shutdown();
  marker.MarkClean();
  return 0;
}

}  // namespace dicomstore::cli
