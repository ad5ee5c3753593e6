#include "util/testing/file_size_limit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

// Writes `size` bytes to a new file at `path`, one write() at a time until
// one fails. Returns the bytes written; `error` is the failing write's errno
// (0 when every byte was written).
size_t WriteBytes(const std::string& path, size_t size, int* error) {
  *error = 0;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    *error = errno;
    return 0;
  }
  const std::string data(size, 'x');
  size_t done = 0;
  while (done < size) {
    const ssize_t written = write(fd, data.data() + done, size - done);
    if (written < 0) {
      *error = errno;
      break;
    }
    done += static_cast<size_t>(written);
  }
  close(fd);
  return done;
}

// Inside the scope a write stops at the limit with EFBIG (the process is not
// killed by SIGXFSZ); after it the same write goes through.
TEST(FileSizeLimitTest, WritesStopAtTheLimitOnlyInsideTheScope) {
  const std::string path = TestTmpPath("limited.bin");
  bool active = false;
  size_t written = 0;
  int error = 0;
  {
    FileSizeLimit limit(100);
    active = limit.active();
    written = WriteBytes(path, 1000, &error);
  }
  ASSERT_TRUE(active);
  EXPECT_EQ(written, 100u);
  EXPECT_EQ(error, EFBIG);
  EXPECT_EQ(WriteBytes(path, 1000, &error), 1000u);
  EXPECT_EQ(error, 0);
}

void CountSignal(int) {}

// The destructor puts back the limit and the SIGXFSZ handler that were in
// force before, not defaults.
TEST(FileSizeLimitTest, RestoresTheEarlierLimitAndHandler) {
  struct sigaction custom;
  custom.sa_handler = CountSignal;
  sigemptyset(&custom.sa_mask);
  custom.sa_flags = 0;
  struct sigaction original;
  ASSERT_EQ(sigaction(SIGXFSZ, &custom, &original), 0);
  struct rlimit before;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  // A soft limit below infinity, so that restoring "unlimited" would show.
  struct rlimit lowered = before;
  lowered.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  {
    FileSizeLimit limit(100);
    ASSERT_TRUE(limit.active());
  }
  struct rlimit after;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &after), 0);
  struct sigaction restored;
  ASSERT_EQ(sigaction(SIGXFSZ, &original, &restored), 0);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &before), 0);
  EXPECT_EQ(after.rlim_cur, lowered.rlim_cur);
  EXPECT_EQ(after.rlim_max, lowered.rlim_max);
  EXPECT_EQ(restored.sa_handler, &CountSignal);
}

}  // namespace
}  // namespace lra
