// Boundaries for multipart/related bodies (STOW requests the SQL front end sends, WADO
// responses the server sends).
#ifndef DICOMSTORE_COMMON_MULTIPART_BOUNDARY_H_
#define DICOMSTORE_COMMON_MULTIPART_BOUNDARY_H_

#include <string>

namespace dicomstore {

// A boundary that cannot occur in DICOM content by accident (random, 32 hex digits).
// Thread-safe.
std::string NewBoundary();

}  // namespace dicomstore

#endif  // DICOMSTORE_COMMON_MULTIPART_BOUNDARY_H_
