// HTTP translation of DICOMweb (spec §10): routes under
// /v1/projects/.../dicomStores/{s}/dicomWeb/..., content negotiation (Accept), multipart
// framing in both directions, and rendering of service results (JSON, XML, streamed
// instances). Rules live in service/dicomweb_service.
#ifndef DICOMSTORE_SERVER_DICOMWEB_HANDLER_H_
#define DICOMSTORE_SERVER_DICOMWEB_HANDLER_H_

#include <optional>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/request_target.h"
#include "service/dicomweb_service.h"

namespace dicomstore::server {

// A request path below a store's dicomWeb root.
struct DicomWebPath {
  std::string store_name;         // projects/.../dicomStores/{s}
  std::vector<std::string> rest;  // segments after "dicomWeb", custom verb removed
  std::string verb;               // ":getStudyMetrics" etc. without the colon
};

class DicomWebHandler {
 public:
  explicit DicomWebHandler(service::DicomWebService* service);

  // A streaming plan for STOW requests (POST studies[/{uid}]); nullopt for other routes.
  std::optional<BodyPlan> PlanStow(const HttpRequest& head, const DicomWebPath& path);
  // Every other DICOMweb request (body buffered).
  HttpResponse Handle(const HttpRequest& request, const RequestTarget& target,
                      const DicomWebPath& path);

 private:
  service::DicomWebService* service_;
};

// scheme://host[:port] as the client addressed this server (for RetrieveURL, BulkDataURI).
std::string BaseUrl(const HttpRequest& request);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_DICOMWEB_HANDLER_H_
