// mem_settle: puts this machine's memory in the same state before every benchmark phase, and
// says which state it found.
//
//   mem_settle MIB LABEL
//
// Touches MIB MiB of anonymous memory one page at a time, frees it, and does it again; prints
// one JSON line with the cost per page of each pass. Why: this VM's host backs guest memory
// lazily and takes back what the guest leaves free, so the first write into a page the host
// does not back costs a host fault (about 12 us per 4 KiB page here, against 2 us for a page
// it backs). A server writing new data needs new page-cache pages, so without this, how fast
// a STOW phase runs depends on how much memory earlier phases and earlier runs left touched.
// After the first pass the host backs MIB MiB, and the page cache the next phase grows reuses
// those just-freed pages; the second pass shows whether they stayed backed.
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Microseconds per page to write one byte into each page of a fresh mapping of `bytes`.
double TouchOnce(size_t bytes) {
  const size_t page = 4096;
  void* mapping = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  // Small pages, as the page cache uses: a huge-page fault would hide the per-page cost.
  madvise(mapping, bytes, MADV_NOHUGEPAGE);
  volatile char* bytes_out = static_cast<char*>(mapping);
  auto start = std::chrono::steady_clock::now();
  for (size_t offset = 0; offset < bytes; offset += page) bytes_out[offset] = 1;
  std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
  munmap(mapping, bytes);
  return took.count() / static_cast<double>(bytes / page);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || atol(argv[1]) <= 0) {
    fprintf(stderr, "usage: mem_settle MIB LABEL\n");
    return 2;
  }
  const size_t mib = static_cast<size_t>(atol(argv[1]));
  const double first = TouchOnce(mib << 20);
  const double second = TouchOnce(mib << 20);
  printf(
      "{\"cmd\":\"mem_settle\",\"label\":\"%s\",\"mib\":%zu,\"first_us_per_page\":%.2f,"
      "\"second_us_per_page\":%.2f}\n",
      argv[2], mib, first, second);
  return 0;
}
