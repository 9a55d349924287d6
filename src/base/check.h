#pragma once
// CHECK for the impossible (always on), DCHECK for debug-only invariants.

#include <cstdio>
#include <cstdlib>

#define PARLEY_CHECK(cond)                                                          \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (false)

#ifdef NDEBUG
#define PARLEY_DCHECK(cond) \
  do {                      \
  } while (false && (cond))
#else
#define PARLEY_DCHECK(cond) PARLEY_CHECK(cond)
#endif
