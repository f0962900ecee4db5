// A fresh directory for one test, removed when the object goes away.
#ifndef DICOMSTORE_TESTS_TESTING_TEMP_DIR_H_
#define DICOMSTORE_TESTS_TESTING_TEMP_DIR_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace dicomstore::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "dicomstore_test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace dicomstore::testing

#endif  // DICOMSTORE_TESTS_TESTING_TEMP_DIR_H_
