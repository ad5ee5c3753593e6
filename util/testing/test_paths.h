// Paths for tests run by Bazel: the workspace's runfiles, scratch folders
// under $TEST_TMPDIR, and small files written into them. The one home for
// these helpers; no test reads TEST_SRCDIR or TEST_TMPDIR itself. Test-only.
#ifndef LRA_UTIL_TESTING_TEST_PATHS_H_
#define LRA_UTIL_TESTING_TEST_PATHS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace lra {

// The workspace as the test sees it: $TEST_SRCDIR/lra_harness, where the
// test's `data` files are (e.g. TestWorkspace() + "/configs/...").
std::string TestWorkspace();

// $TEST_TMPDIR/<name> (or /tmp/<name> outside Bazel); not created.
std::string TestTmpPath(const std::string& name);

// TestTmpPath(name), created with its parents (what it holds is kept); fails
// the current test when it cannot be created.
std::string MakeTestTmpDir(const std::string& name);

// TestTmpPath(name), removed with its contents if it exists, and not created:
// for code under test that must make the folder itself.
std::string FreshTestDir(const std::string& name);

// TestTmpPath(name) as an empty folder: removed with its contents, then
// created; fails the current test when it cannot be created.
std::string EmptyTestDir(const std::string& name);

// Writes `contents` to `path` (replacing it), creating its parent folders;
// fails the current test when that fails. Returns `path`.
std::string WriteTestFile(const std::string& path, absl::string_view contents);

}  // namespace lra

#endif  // LRA_UTIL_TESTING_TEST_PATHS_H_
