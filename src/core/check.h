// MelodAI — licensed under the Apache License 2.0.
// Always-on assertions for programmer errors. Never CHECK data from disk, network or users:
// validate it and return a Status instead.
#pragma once

namespace melodai::core::internal {

// Prints "file:line: CHECK failed: <condition> <message>" to stderr and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* message);

}  // namespace melodai::core::internal

#define MELODAI_CHECK(condition)                                                         \
  do {                                                                                   \
    if (!(condition)) [[unlikely]]                                                       \
      ::melodai::core::internal::CheckFailed(__FILE__, __LINE__, #condition, "");        \
  } while (false)

#define MELODAI_CHECK_MSG(condition, message)                                            \
  do {                                                                                   \
    if (!(condition)) [[unlikely]]                                                       \
      ::melodai::core::internal::CheckFailed(__FILE__, __LINE__, #condition, (message)); \
  } while (false)

#define MELODAI_CHECK_EQ(a, b) MELODAI_CHECK((a) == (b))
#define MELODAI_CHECK_NE(a, b) MELODAI_CHECK((a) != (b))
#define MELODAI_CHECK_LT(a, b) MELODAI_CHECK((a) < (b))
#define MELODAI_CHECK_LE(a, b) MELODAI_CHECK((a) <= (b))
#define MELODAI_CHECK_GT(a, b) MELODAI_CHECK((a) > (b))
#define MELODAI_CHECK_GE(a, b) MELODAI_CHECK((a) >= (b))

// Expensive checks: compiled in debug builds only.
#ifdef NDEBUG
#define MELODAI_DCHECK(condition) \
  do {                            \
    if (false) (void)(condition); \
  } while (false)
#else
#define MELODAI_DCHECK(condition) MELODAI_CHECK(condition)
#endif
