// Paths for tests run by Bazel: the workspace's runfiles and a scratch
// folder. Test-only.
#ifndef CONFIG_TEST_PATHS_H_
#define CONFIG_TEST_PATHS_H_

#include <string>

namespace lra {

// The workspace as the test sees it: $TEST_SRCDIR/lra_harness, where the
// test's `data` files are (e.g. TestWorkspace() + "/configs/...").
std::string TestWorkspace();

// $TEST_TMPDIR/<name> (or /tmp/<name> outside Bazel); not created.
std::string TestTmpPath(const std::string& name);

// TestTmpPath(name), created with its parents; fails the current test when
// it cannot be created.
std::string MakeTestTmpDir(const std::string& name);

}  // namespace lra

#endif  // CONFIG_TEST_PATHS_H_
