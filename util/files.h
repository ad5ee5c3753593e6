// Files and paths, shared by every package that reads or writes outside the
// process: user-given paths resolved against the workspace, whole-file reads,
// atomic writes, and directories.
#ifndef LRA_UTIL_FILES_H_
#define LRA_UTIL_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lra {

// Resolves a user-given path: absolute paths stay, relative ones are taken
// against `workspace_dir` (the directory `bazel run` was started from), or
// against the current directory when `workspace_dir` is empty.
std::string ResolvePath(absl::string_view workspace_dir,
                        absl::string_view path);

// The workspace directory for resolving relative paths: Bazel's
// BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the current directory.
std::string WorkspaceDir();

// Reads the whole file; errors name the path and the reason.
absl::Status ReadFile(const std::string& path, std::string* contents);

// Writes `contents` to `path` atomically (a temporary file beside it, fsync,
// then rename), so a reader never sees a half-written file and a failed write
// leaves the old file in place.
absl::Status WriteFileAtomic(const std::string& path,
                             absl::string_view contents);

// Creates `dir` and its parents.
absl::Status MakeDirs(const std::string& dir);

bool FileExists(const std::string& path);

}  // namespace lra

#endif  // LRA_UTIL_FILES_H_
