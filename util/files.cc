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

absl::Status WriteFileAtomic(const std::string& path,
                             absl::string_view contents) {
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(temp, ": cannot create (", std::strerror(errno), ")"));
  }
  const char* data = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t written = write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      std::string error = std::strerror(errno);
      close(fd);
      unlink(temp.c_str());
      return absl::DataLossError(
          absl::StrCat(temp, ": write failed (", error, ")"));
    }
    data += written;
    left -= written;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(temp.c_str());
    return absl::DataLossError(absl::StrCat(temp, ": could not flush"));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    std::string error = std::strerror(errno);
    unlink(temp.c_str());
    return absl::DataLossError(
        absl::StrCat(path, ": rename failed (", error, ")"));
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
