#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace lra {

std::string ResolvePath(absl::string_view workspace_dir,
                        absl::string_view path) {
  if (path.empty() || path[0] == '/' || workspace_dir.empty()) {
    return std::string(path);
  }
  return absl::StrCat(workspace_dir, "/", path);
}

std::string WorkspaceDir() {
  const char* dir = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (dir != nullptr && dir[0] != '\0') return dir;
  char buffer[4096];
  if (getcwd(buffer, sizeof(buffer)) != nullptr) return buffer;
  return ".";
}

absl::Status ReadFile(const std::string& path, std::string* contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  *contents = buffer.str();
  return absl::OkStatus();
}

namespace {

// Test hook: LRA_TEST_WRITE_DELAY_MS=N sleeps N ms between writing the
// temporary file and renaming it, so that kill tests land inside writes.
int WriteDelayMs() {
  static const int delay = [] {
    const char* text = std::getenv("LRA_TEST_WRITE_DELAY_MS");
    return text != nullptr ? std::atoi(text) : 0;
  }();
  return delay;
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path,
                             absl::string_view contents) {
  // Every error names the file the caller asked for, the temporary file
  // when it matters, and the system's reason (e.g. "No space left on
  // device", "Permission denied"); the temporary file is always removed, so
  // nothing half-written is left behind and an older `path` stays intact.
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot write (creating ", temp, ": ",
                     std::strerror(errno), ")"));
  }
  auto fail = [&](const char* what, int error) {
    close(fd);
    unlink(temp.c_str());
    return absl::DataLossError(absl::StrCat(path, ": ", what, " failed (",
                                            std::strerror(error),
                                            "); the file was left as it was"));
  };
  const char* data = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t written = write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail("write", errno);
    }
    data += written;
    left -= written;
  }
  // Disk full often shows only here, when the data reaches the disk.
  if (fsync(fd) != 0) return fail("flush to disk", errno);
  if (close(fd) != 0) {
    const int error = errno;
    unlink(temp.c_str());
    return absl::DataLossError(absl::StrCat(path, ": close failed (",
                                            std::strerror(error),
                                            "); the file was left as it was"));
  }
  if (WriteDelayMs() > 0) usleep(WriteDelayMs() * 1000);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temp.c_str());
    return absl::DataLossError(absl::StrCat(path, ": rename from ", temp,
                                            " failed (", std::strerror(error),
                                            "); the file was left as it was"));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(dir, '/')) {
    if (prefix.empty() && dir[0] == '/') prefix = "/";
    if (part.empty()) continue;
    absl::StrAppend(&prefix, part, "/");
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(absl::StrCat(
          prefix, ": cannot create directory (", std::strerror(errno), ")"));
    }
  }
  struct stat info;
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": exists and is not a directory"));
  }
  return absl::OkStatus();
}

bool FileExists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

}  // namespace lra
