// Routes HTTP requests of the Healthcare API v1 surface to the service layer.
//
// Translation only: it picks the method from the verb and path shape, pulls query
// parameters and the JSON body out, calls the service and turns the result into an HTTP
// response. Every rule (validation, defaults, errors) belongs to the service.
#ifndef DICOMSTORE_SERVER_API_HANDLER_H_
#define DICOMSTORE_SERVER_API_HANDLER_H_

#include <cstdint>

#include "server/dicomweb_handler.h"
#include "server/http_server.h"
#include "service/admin_service.h"

namespace dicomstore::server {

// Admin (non-DICOMweb) request bodies are limited to 10 MB, like Google's (spec §11).
inline constexpr uint64_t kMaxAdminBodyBytes = 10u << 20;

class ApiHandler : public HttpHandler {
 public:
  // The services must outlive the handler.
  ApiHandler(service::AdminService* admin, service::DicomWebService* dicomweb);

  BodyPlan Plan(const HttpRequest& head) override;
  HttpResponse Handle(const HttpRequest& request) override;
  HttpResponse Error(const absl::Status& status) override;

 private:
  service::AdminService* admin_;
  service::DicomWebService* dicomweb_service_;
  DicomWebHandler dicomweb_;
};

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_API_HANDLER_H_
