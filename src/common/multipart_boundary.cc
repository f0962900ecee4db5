#include "common/multipart_boundary.h"

#include <cstdio>
#include <mutex>
#include <random>

namespace dicomstore {

std::string NewBoundary() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace dicomstore
