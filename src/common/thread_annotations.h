#pragma once

// Clang thread-safety annotations (no-ops on GCC). Annotate every field a mutex guards.

#if defined(__clang__)
#define PINCER_TSA(x) __attribute__((x))
#else
#define PINCER_TSA(x)
#endif

#define GUARDED_BY(x) PINCER_TSA(guarded_by(x))
#define REQUIRES(...) PINCER_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) PINCER_TSA(locks_excluded(__VA_ARGS__))
