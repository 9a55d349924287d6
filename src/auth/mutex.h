#pragma once
// A mutex that clang's -Wthread-safety understands (libstdc++'s std::mutex carries no
// annotations), and the annotation macros. Fields guarded by a Mutex are declared
// `T field_ PARLEY_GUARDED_BY(mu_);` and clang checks every access holds the lock.

#include <mutex>

#if defined(__clang__)
#define PARLEY_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PARLEY_THREAD_ANNOTATION(x)
#endif

#define PARLEY_CAPABILITY(x) PARLEY_THREAD_ANNOTATION(capability(x))
#define PARLEY_SCOPED_CAPABILITY PARLEY_THREAD_ANNOTATION(scoped_lockable)
#define PARLEY_GUARDED_BY(x) PARLEY_THREAD_ANNOTATION(guarded_by(x))
#define PARLEY_REQUIRES(...) PARLEY_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define PARLEY_ACQUIRE(...) PARLEY_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define PARLEY_RELEASE(...) PARLEY_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define PARLEY_EXCLUDES(...) PARLEY_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace parley::auth {

class PARLEY_CAPABILITY("mutex") Mutex {
 public:
  void Lock() PARLEY_ACQUIRE() { mu_.lock(); }
  void Unlock() PARLEY_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class PARLEY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) PARLEY_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() PARLEY_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace parley::auth
