// The XML representation of a DICOM dataset (PS3.19 Native DICOM Model), rendered from its
// DICOM JSON form (PS3.18 Annex F). STOW-RS answers in XML when the client sends no Accept
// header (spec §10.2); Google writes lowercase attribute names `tag`, `vr`, `keyword`.
#ifndef DICOMSTORE_SERVER_DICOM_XML_H_
#define DICOMSTORE_SERVER_DICOM_XML_H_

#include <string>

#include "common/proto_json.h"

namespace dicomstore::server {

// `dataset` is one DICOM JSON object. Returns a complete XML document.
std::string DicomJsonToXml(const Json& dataset);

}  // namespace dicomstore::server

#endif  // DICOMSTORE_SERVER_DICOM_XML_H_
