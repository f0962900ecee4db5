// Unsigned integers read from encoded DICOM bytes, for the readers of raw datasets
// (dataset_scanner, raw_json_writer) and the binary value writers (dicom_json_writer).
#ifndef DICOMSTORE_DICOM_BYTE_ORDER_H_
#define DICOMSTORE_DICOM_BYTE_ORDER_H_

#include <cstddef>

namespace dicomstore::dicom {

template <typename U>
U ReadLe(const unsigned char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
  return v;
}

template <typename U>
U ReadBe(const unsigned char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | p[i]);
  return v;
}

}  // namespace dicomstore::dicom

#endif  // DICOMSTORE_DICOM_BYTE_ORDER_H_
