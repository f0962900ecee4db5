#include "blobs/blob_store.h"

#include <algorithm>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/absl_view.h"

namespace dicomstore::blobs {

// An open segment file and who it belongs to.
struct Segment {
  int64_t store_id = 0;
  std::string name;  // 16 lower-case hex digits
  std::unique_ptr<WritableFile> file;
  bool reusable = true;  // false once its end is uncertain (a failed write or truncation)
};

namespace {

constexpr size_t kSegmentNameLength = 16;
// Appends are written in pieces ending on multiples of this in the segment. The bytes of a
// request come in slices of the server's read buffer (at most 64 KiB, at any offset); on
// this kernel a page-cache write of fresh pages costs about 40% less CPU per byte when
// 64 KiB slices are copied into a 1 MiB buffer first, or in unaligned 512 KiB pieces, than
// in unaligned 64 KiB ones (docs/PERFORMANCE.md).
constexpr size_t kWriteUnit = size_t{1} << 20;
constexpr size_t kNumberLength = 12;  // offsets and sizes: up to 2^48 bytes

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsSegmentName(std::string_view name) {
  return name.size() == kSegmentNameLength && IsLowerHex(name);
}

std::string NewSegmentName() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  uint64_t value;
  {
    std::lock_guard<std::mutex> lock(mu);
    value = rng();
  }
  return absl::StrFormat("%016x", value);
}

std::string MakeKey(std::string_view segment, uint64_t offset, uint64_t size) {
  return absl::StrFormat("%s.%012x.%012x", Av(segment), offset, size);
}

struct ParsedKey {
  std::string_view segment;
  uint64_t offset = 0, size = 0;
};

std::optional<ParsedKey> ParseKey(std::string_view key) {
  if (!IsBlobKey(key)) return std::nullopt;
  ParsedKey parsed;
  parsed.segment = key.substr(0, kSegmentNameLength);
  if (!absl::SimpleHexAtoi(Av(key.substr(kSegmentNameLength + 1, kNumberLength)), &parsed.offset) ||
      !absl::SimpleHexAtoi(Av(key.substr(kSegmentNameLength + 2 + kNumberLength)), &parsed.size)) {
    return std::nullopt;
  }
  return parsed;
}

absl::Status MalformedKey() { return absl::InvalidArgumentError("malformed blob key"); }

// A blob seen as a file of its own: offsets shifted, reads stopped at its end.
class BlobFile : public ReadableFile {
 public:
  BlobFile(std::unique_ptr<ReadableFile> file, uint64_t offset, uint64_t size)
      : file_(std::move(file)), offset_(offset), size_(size) {}
  absl::Status ReadAt(uint64_t offset, size_t n, std::string* out) override {
    if (offset >= size_) {
      out->clear();
      return absl::OkStatus();
    }
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    return file_->ReadAt(offset_ + offset, n, out);
  }
  uint64_t size() const override { return size_; }

 private:
  std::unique_ptr<ReadableFile> file_;
  uint64_t offset_, size_;
};

}  // namespace

bool IsBlobKey(std::string_view key) {
  constexpr size_t kLength = kSegmentNameLength + 1 + kNumberLength + 1 + kNumberLength;
  if (key.size() != kLength) return false;
  const size_t dot1 = kSegmentNameLength, dot2 = kSegmentNameLength + 1 + kNumberLength;
  return key[dot1] == '.' && key[dot2] == '.' && IsLowerHex(key.substr(0, dot1)) &&
         IsLowerHex(key.substr(dot1 + 1, kNumberLength)) && IsLowerHex(key.substr(dot2 + 1));
}

// ---------------------------------------------------------------------------- BlobWriter

BlobWriter::BlobWriter(BlobStore* store, int64_t store_id) : store_(store), store_id_(store_id) {}

BlobWriter::~BlobWriter() {
  if (in_blob_) AbandonBlob();
  for (auto& full : full_) store_->ReleaseSegment(std::move(full), /*reusable=*/false);
  if (segment_) store_->ReleaseSegment(std::move(segment_), /*reusable=*/true);
}

absl::Status BlobWriter::BeginBlob() {
  if (in_blob_) return absl::FailedPreconditionError("a blob is already being written");
  if (segment_ &&
      (!segment_->reusable || segment_->file->size() >= store_->options_.segment_target_bytes)) {
    // Synced (and then closed) with the others at the next Sync.
    if (segment_dirty_) {
      full_.push_back(std::move(segment_));
    } else {
      store_->ReleaseSegment(std::move(segment_), false);
    }
    segment_dirty_ = false;
  }
  if (!segment_) {
    absl::StatusOr<std::unique_ptr<Segment>> segment = store_->AcquireSegment(store_id_);
    if (!segment.ok()) return segment.status();
    segment_ = *std::move(segment);
  }
  in_blob_ = true;
  blob_start_ = segment_->file->size();
  blob_size_ = 0;
  return absl::OkStatus();
}

absl::Status BlobWriter::Append(std::string_view data) {
  if (!in_blob_) return absl::FailedPreconditionError("no blob is being written");
  blob_size_ += data.size();
  while (!data.empty()) {
    const uint64_t end = segment_->file->size() + pending_.size();  // where `data` goes
    const size_t to_boundary = kWriteUnit - static_cast<size_t>(end % kWriteUnit);
    if (pending_.empty() && data.size() >= to_boundary) {
      // Nothing buffered and enough to reach the boundary: write straight from `data`.
      absl::Status s = segment_->file->Append(data.substr(0, to_boundary));
      if (!s.ok()) {
        segment_->reusable = false;  // how much of `data` landed is unknown
        return s;
      }
      data.remove_prefix(to_boundary);
      continue;
    }
    const size_t n = std::min(to_boundary, data.size());
    pending_.append(data.data(), n);
    data.remove_prefix(n);
    if (n == to_boundary) {
      if (absl::Status s = WritePending(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status BlobWriter::WritePending() {
  if (pending_.empty()) return absl::OkStatus();
  absl::Status s = segment_->file->Append(pending_);
  if (!s.ok()) segment_->reusable = false;  // how much landed is unknown
  pending_.clear();
  return s;
}

absl::StatusOr<BlobRef> BlobWriter::EndBlob() {
  if (!in_blob_) return absl::FailedPreconditionError("no blob is being written");
  in_blob_ = false;
  segment_dirty_ = true;  // earlier blobs of the segment need the Sync even if this one fails
  if (absl::Status s = WritePending(); !s.ok()) return s;
  // The device starts on these bytes now, while the request goes on (parsing, more parts);
  // the Sync before the commit then mostly waits for what is already under way.
  segment_->file->StartWriteback(blob_start_, blob_size_);
  BlobRef ref;
  ref.store_id = store_id_;
  ref.key = MakeKey(segment_->name, blob_start_, blob_size_);
  ref.location = BlobLocation{absl::StrCat(store_->StoreDir(store_id_), "/", segment_->name),
                              blob_start_, blob_size_};
  return ref;
}

void BlobWriter::AbandonBlob() {
  if (!in_blob_) return;
  in_blob_ = false;
  pending_.clear();
  if (!segment_->file->Truncate(blob_start_).ok()) segment_->reusable = false;
}

absl::Status BlobWriter::Sync() {
  for (auto& full : full_) {
    absl::Status s = full->file->Sync();
    store_->ReleaseSegment(std::move(full), false);
    if (!s.ok()) {
      full_.clear();
      return s;
    }
  }
  full_.clear();
  if (segment_ && segment_dirty_) {
    if (absl::Status s = segment_->file->Sync(); !s.ok()) {
      segment_->reusable = false;
      return s;
    }
    segment_dirty_ = false;
  }
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------- BlobStore

BlobStore::BlobStore(Env* env, std::string root, Options options)
    : env_(env), root_(std::move(root)), options_(options) {}

BlobStore::~BlobStore() = default;

absl::Status BlobStore::Open() { return env_->CreateDirs(root_); }

std::string BlobStore::StoreDir(int64_t store_id) const {
  return absl::StrCat(root_, "/", store_id);
}

absl::StatusOr<std::unique_ptr<BlobWriter>> BlobStore::NewWriter(int64_t store_id) {
  return std::unique_ptr<BlobWriter>(new BlobWriter(this, store_id));
}

absl::StatusOr<std::unique_ptr<Segment>> BlobStore::AcquireSegment(int64_t store_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(store_id);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<Segment> segment = std::move(it->second.back());
      it->second.pop_back();
      return segment;
    }
  }
  return CreateSegment(store_id);
}

absl::StatusOr<std::unique_ptr<Segment>> BlobStore::CreateSegment(int64_t store_id) {
  const std::string dir = StoreDir(store_id);
  if (absl::Status s = env_->CreateDirs(dir); !s.ok()) return s;
  for (int attempt = 0;; ++attempt) {
    auto segment = std::make_unique<Segment>();
    segment->store_id = store_id;
    segment->name = NewSegmentName();
    absl::StatusOr<std::unique_ptr<WritableFile>> file =
        env_->NewWritableFile(absl::StrCat(dir, "/", segment->name));
    if (absl::IsAlreadyExists(file.status()) && attempt < 3) continue;
    if (!file.ok()) return file.status();
    segment->file = *std::move(file);
    // The new directory entry must survive a crash with the blobs soon synced into it.
    if (absl::Status s = env_->SyncDir(dir); !s.ok()) return s;
    return segment;
  }
}

void BlobStore::ReleaseSegment(std::unique_ptr<Segment> segment, bool reusable) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reusable && segment->reusable && !removed_stores_.contains(segment->store_id) &&
      segment->file->size() < options_.segment_target_bytes) {
    idle_[segment->store_id].push_back(std::move(segment));
    return;
  }
  (void)segment->file->Close();
}

absl::StatusOr<BlobLocation> BlobStore::Locate(int64_t store_id, std::string_view key) const {
  std::optional<ParsedKey> parsed = ParseKey(key);
  if (!parsed) return MalformedKey();
  return BlobLocation{absl::StrCat(StoreDir(store_id), "/", Av(parsed->segment)), parsed->offset,
                      parsed->size};
}

absl::StatusOr<std::unique_ptr<ReadableFile>> BlobStore::Read(int64_t store_id,
                                                              std::string_view key) {
  absl::StatusOr<BlobLocation> where = Locate(store_id, key);
  if (!where.ok()) return where.status();
  absl::StatusOr<std::unique_ptr<ReadableFile>> file = env_->NewReadableFile(where->path);
  if (!file.ok()) return file.status();
  if ((*file)->size() < where->offset + where->size) {
    return absl::DataLossError(
        absl::StrCat("blob ", Av(key), " extends past the end of its segment"));
  }
  return std::unique_ptr<ReadableFile>(
      std::make_unique<BlobFile>(*std::move(file), where->offset, where->size));
}

absl::Status BlobStore::Remove(int64_t store_id, std::string_view key) {
  absl::StatusOr<BlobLocation> where = Locate(store_id, key);
  if (!where.ok()) return where.status();
  return env_->PunchHole(where->path, where->offset, where->size);
}

absl::Status BlobStore::RemoveStore(int64_t store_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    removed_stores_.insert(store_id);
    auto it = idle_.find(store_id);
    if (it != idle_.end()) {
      for (auto& segment : it->second) (void)segment->file->Close();
      idle_.erase(it);
    }
  }
  return env_->RemoveTree(StoreDir(store_id));
}

absl::StatusOr<BlobStore::TrimReport> BlobStore::TrimSegments(
    const LastIndexedKey& last_indexed_key) {
  TrimReport report;
  absl::StatusOr<std::vector<std::string>> stores = env_->ListDir(root_);
  if (!stores.ok()) return stores.status();
  for (const std::string& store : *stores) {
    int64_t store_id = 0;
    if (!absl::SimpleAtoi(store, &store_id)) continue;
    const std::string dir = StoreDir(store_id);
    absl::StatusOr<std::vector<std::string>> names = env_->ListDir(dir);
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      if (!IsSegmentName(name)) continue;
      ++report.segments;
      const std::string path = absl::StrCat(dir, "/", name);
      absl::StatusOr<std::optional<std::string>> last = last_indexed_key(name + ".");
      if (!last.ok()) return last.status();
      absl::StatusOr<uint64_t> size = env_->FileSize(path);
      if (!size.ok()) return size.status();
      if (!last->has_value()) {
        if (absl::Status s = env_->Remove(path); !s.ok()) return s;
        ++report.removed;
        report.bytes_cut += *size;
        continue;
      }
      std::optional<ParsedKey> parsed = ParseKey(**last);
      if (!parsed)
        return absl::DataLossError(absl::StrCat("malformed blob key in index: ", **last));
      const uint64_t end = parsed->offset + parsed->size;
      if (*size > end) {
        if (absl::Status s = env_->TruncateFile(path, end); !s.ok()) return s;
        ++report.trimmed;
        report.bytes_cut += *size - end;
      }
    }
  }
  return report;
}

}  // namespace dicomstore::blobs
