// A full disk for a test: while a FileSizeLimit lives, no file this process
// writes may grow past a given size, and write() fails part-way the way it
// does on a full disk (EFBIG instead of ENOSPC). Test-only.
#ifndef LRA_UTIL_TESTING_FILE_SIZE_LIMIT_H_
#define LRA_UTIL_TESTING_FILE_SIZE_LIMIT_H_

#include <signal.h>
#include <sys/resource.h>

namespace lra {

// Lowers this process's RLIMIT_FSIZE soft limit to `max_bytes` and ignores
// SIGXFSZ (whose default action would kill the test at the limit), so a
// write past the limit returns an error instead. The destructor restores
// the earlier limit and the earlier SIGXFSZ disposition.
//
// Both are process-wide. Keep the object's scope to the write under test:
// while it lives, the test's own log (a file under Bazel) cannot grow
// either, so a failure message printed inside the scope may be lost.
//
//   absl::Status status;
//   {
//     FileSizeLimit limit(4096);
//     ASSERT_TRUE(limit.active());
//     status = WriteSomething(path);
//   }
//   ASSERT_FALSE(status.ok());
class FileSizeLimit {
 public:
  // Fails the current test (and stays inactive) when the limit or the signal
  // disposition cannot be set, or when `max_bytes` is above the current
  // hard limit.
  explicit FileSizeLimit(rlim_t max_bytes);
  ~FileSizeLimit();

  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  // Whether the limit is in force.
  bool active() const { return active_; }

 private:
  struct rlimit saved_limit_;
  struct sigaction saved_action_;
  bool active_ = false;
};

}  // namespace lra

#endif  // LRA_UTIL_TESTING_FILE_SIZE_LIMIT_H_
