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

// Writes a file atomically in pieces, for files too large to hold in memory
// at once: Open() creates the temporary file `<path>.tmp.<pid>` beside
// `path`, Append() adds bytes (buffered), Commit() flushes them to disk
// (fsync) and renames the temporary file onto `path`. Until Commit()
// succeeds `path` is untouched; a failed step, or destroying the writer
// without a successful Commit(), removes the temporary file. The first
// error is kept: later calls return it. Errors name `path` and the system's
// reason. One writer per `path` per process at a time.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  absl::Status Open();
  absl::Status Append(absl::string_view data);
  absl::Status Commit();

  const std::string& temporary_path() const { return temp_; }

 private:
  absl::Status Fail(absl::Status status);
  absl::Status Flush();

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  std::string buffer_;
  absl::Status status_;
  bool committed_ = false;
};

// Removes temporary files that WriteFileAtomic or AtomicFileWriter left in
// `dir` when their process was killed: regular files whose name starts with
// `prefix` and ends in `.tmp.<pid>`, either older than a minute with no
// process `pid` running on this machine, or older than a day (a writer on
// another machine sharing the folder; no write takes that long). Files of
// writers that may still be running are kept. Returns how many were
// removed; a missing or unreadable `dir` removes none.
int RemoveStaleTemporaries(const std::string& dir, absl::string_view prefix);

// Creates `dir` and its parents.
absl::Status MakeDirs(const std::string& dir);

bool FileExists(const std::string& path);

}  // namespace lra

#endif  // LRA_UTIL_FILES_H_
