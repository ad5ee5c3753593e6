// Test-only: a fresh, empty directory under the test's scratch space.
#ifndef LRA_DATASETS_COMMON_TEST_DIR_H_
#define LRA_DATASETS_COMMON_TEST_DIR_H_

#include <string>

namespace lra {

// TEST_TMPDIR/name (or /tmp/name outside Bazel), removed with its contents
// if it exists, not created.
std::string FreshTestDir(const std::string& name);

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_TEST_DIR_H_
