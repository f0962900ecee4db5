#include "blobs/blob_store.h"

#include <openssl/evp.h>

#include <mutex>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dicomstore::blobs {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kTempSuffix[] = ".tmp";

std::string NewKey() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  uint64_t a, b;
  {
    std::lock_guard<std::mutex> lock(mu);
    a = rng();
    b = rng();
  }
  std::string key(32, '0');
  for (int i = 0; i < 16; ++i) {
    key[i] = kHex[(a >> (60 - 4 * i)) & 0xf];
    key[16 + i] = kHex[(b >> (60 - 4 * i)) & 0xf];
  }
  return key;
}

class FileBlobWriter : public BlobWriter {
 public:
  FileBlobWriter(int64_t store_id, std::string key, std::string temp_path,
                 std::unique_ptr<WritableFile> file)
      : store_id_(store_id),
        key_(std::move(key)),
        temp_path_(std::move(temp_path)),
        file_(std::move(file)),
        sha_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr);
  }
  ~FileBlobWriter() override { EVP_MD_CTX_free(sha_); }

  absl::Status Append(std::string_view data) override {
    if (!file_) return absl::FailedPreconditionError("blob writer already finished");
    EVP_DigestUpdate(sha_, data.data(), data.size());
    size_ += data.size();
    return file_->Append(data);
  }
  uint64_t size() const override { return size_; }
  const std::string& temp_path() const override { return temp_path_; }

  absl::StatusOr<PendingBlob> Finish() override {
    if (!file_) return absl::FailedPreconditionError("blob writer already finished");
    std::unique_ptr<WritableFile> file = std::move(file_);
    if (absl::Status s = file->Sync(); !s.ok()) return s;
    if (absl::Status s = file->Close(); !s.ok()) return s;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(sha_, digest, &len);
    PendingBlob blob{store_id_, key_, temp_path_, size_, std::string(2 * len, '0')};
    for (unsigned i = 0; i < len; ++i) {
      blob.sha256_hex[2 * i] = kHex[digest[i] >> 4];
      blob.sha256_hex[2 * i + 1] = kHex[digest[i] & 0xf];
    }
    return blob;
  }

 private:
  int64_t store_id_;
  std::string key_;
  std::string temp_path_;
  std::unique_ptr<WritableFile> file_;
  EVP_MD_CTX* sha_;
  uint64_t size_ = 0;
};

}  // namespace

bool IsBlobKey(std::string_view key) {
  if (key.size() != 32) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

BlobStore::BlobStore(Env* env, std::string root) : env_(env), root_(std::move(root)) {}

absl::Status BlobStore::Open() {
  if (absl::Status s = env_->CreateDirs(root_ + "/tmp"); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> temps = env_->ListDir(root_ + "/tmp");
  if (!temps.ok()) return temps.status();
  for (const std::string& name : *temps) {
    // Anything in tmp/ was never acknowledged: it belongs to a request cut short.
    if (absl::Status s = env_->Remove(root_ + "/tmp/" + name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string BlobStore::PathOf(int64_t store_id, std::string_view key) const {
  return absl::StrCat(root_, "/", store_id, "/", std::string(key.substr(0, 2)), "/",
                      std::string(key));
}

absl::StatusOr<std::unique_ptr<BlobWriter>> BlobStore::Create(int64_t store_id) {
  std::string key = NewKey();
  std::string temp = absl::StrCat(root_, "/tmp/", key, kTempSuffix);
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env_->NewWritableFile(temp);
  if (!file.ok()) return file.status();
  return std::unique_ptr<BlobWriter>(
      std::make_unique<FileBlobWriter>(store_id, key, temp, *std::move(file)));
}

absl::Status BlobStore::Publish(const std::vector<PendingBlob>& blobs) {
  std::set<std::string> dirs;
  for (const PendingBlob& blob : blobs) {
    std::string dir = absl::StrCat(root_, "/", blob.store_id, "/", blob.key.substr(0, 2));
    if (dirs.insert(dir).second) {
      if (absl::Status s = env_->CreateDirs(dir); !s.ok()) return s;
    }
    if (absl::Status s = env_->Rename(blob.temp_path, PathOf(blob.store_id, blob.key)); !s.ok())
      return s;
  }
  // One fsync per touched directory makes every rename of the batch durable.
  for (const std::string& dir : dirs) {
    if (absl::Status s = env_->SyncDir(dir); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void BlobStore::Discard(const PendingBlob& blob) { (void)env_->Remove(blob.temp_path); }

absl::StatusOr<std::unique_ptr<ReadableFile>> BlobStore::Read(int64_t store_id,
                                                              std::string_view key) {
  if (!IsBlobKey(key)) return absl::InvalidArgumentError("malformed blob key");
  return env_->NewReadableFile(PathOf(store_id, key));
}

absl::Status BlobStore::Remove(int64_t store_id, std::string_view key) {
  if (!IsBlobKey(key)) return absl::InvalidArgumentError("malformed blob key");
  return env_->Remove(PathOf(store_id, key));
}

absl::Status BlobStore::RemoveStore(int64_t store_id) {
  return env_->RemoveTree(absl::StrCat(root_, "/", store_id));
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> BlobStore::ListKeys() {
  std::vector<std::pair<int64_t, std::string>> keys;
  absl::StatusOr<std::vector<std::string>> stores = env_->ListDir(root_);
  if (!stores.ok()) return stores.status();
  for (const std::string& store : *stores) {
    int64_t store_id = 0;
    if (!absl::SimpleAtoi(store, &store_id)) continue;  // skips tmp/
    std::string store_dir = absl::StrCat(root_, "/", store);
    absl::StatusOr<std::vector<std::string>> shards = env_->ListDir(store_dir);
    if (!shards.ok()) return shards.status();
    for (const std::string& shard : *shards) {
      absl::StatusOr<std::vector<std::string>> files = env_->ListDir(store_dir + "/" + shard);
      if (!files.ok()) return files.status();
      for (const std::string& f : *files) {
        if (IsBlobKey(f)) keys.emplace_back(store_id, f);
      }
    }
  }
  return keys;
}

}  // namespace dicomstore::blobs
