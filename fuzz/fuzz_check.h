// Shared by the harnesses: an invariant check that aborts (a libFuzzer crash) with a message.
#ifndef DICOMSTORE_FUZZ_FUZZ_CHECK_H_
#define DICOMSTORE_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#endif  // DICOMSTORE_FUZZ_FUZZ_CHECK_H_
