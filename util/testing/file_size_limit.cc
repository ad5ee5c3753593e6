#include "util/testing/file_size_limit.h"

#include <cerrno>
#include <cstring>

#include "gtest/gtest.h"

namespace lra {

FileSizeLimit::FileSizeLimit(rlim_t max_bytes) {
  if (getrlimit(RLIMIT_FSIZE, &saved_limit_) != 0) {
    ADD_FAILURE() << "getrlimit(RLIMIT_FSIZE): " << std::strerror(errno);
    return;
  }
  struct sigaction ignore;
  std::memset(&ignore, 0, sizeof(ignore));
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  if (sigaction(SIGXFSZ, &ignore, &saved_action_) != 0) {
    ADD_FAILURE() << "sigaction(SIGXFSZ): " << std::strerror(errno);
    return;
  }
  struct rlimit small = saved_limit_;
  small.rlim_cur = max_bytes;
  if (setrlimit(RLIMIT_FSIZE, &small) != 0) {
    ADD_FAILURE() << "setrlimit(RLIMIT_FSIZE, " << max_bytes
                  << "): " << std::strerror(errno);
    sigaction(SIGXFSZ, &saved_action_, nullptr);
    return;
  }
  active_ = true;
}

FileSizeLimit::~FileSizeLimit() {
  if (!active_) return;
  // The limit first: with SIGXFSZ back to its default, a write past the
  // small limit would kill the process.
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &saved_limit_), 0)
      << "restoring RLIMIT_FSIZE: " << std::strerror(errno);
  EXPECT_EQ(sigaction(SIGXFSZ, &saved_action_, nullptr), 0)
      << "restoring SIGXFSZ: " << std::strerror(errno);
}

}  // namespace lra
