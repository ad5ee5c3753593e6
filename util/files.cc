#include "util/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "util/status_macros.h"

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
  AtomicFileWriter writer(path);
  RETURN_IF_ERROR(writer.Open());
  RETURN_IF_ERROR(writer.Append(contents));
  return writer.Commit();
}

// Every error names the file the caller asked for, the temporary file when
// it matters, and the system's reason (e.g. "No space left on device",
// "Permission denied"); the temporary file is always removed, so nothing
// half-written is left behind and an older `path` stays intact.
AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_(absl::StrCat(path_, ".tmp.", getpid())) {}

AtomicFileWriter::~AtomicFileWriter() {
  // Open and neither committed nor failed: the caller gave up.
  if (fd_ >= 0) {
    close(fd_);
    unlink(temp_.c_str());
  }
}

absl::Status AtomicFileWriter::Open() {
  fd_ = open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd_ < 0) {
    status_ = absl::PermissionDeniedError(
        absl::StrCat(path_, ": cannot write (creating ", temp_, ": ",
                     std::strerror(errno), ")"));
    return status_;
  }
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Fail(absl::Status status) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  unlink(temp_.c_str());
  status_ = std::move(status);
  return status_;
}

absl::Status AtomicFileWriter::Flush() {
  const char* data = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t written = write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Fail(absl::DataLossError(
          absl::StrCat(path_, ": write failed (", std::strerror(errno),
                       "); the file was left as it was")));
    }
    data += written;
    left -= written;
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Append(absl::string_view data) {
  if (!status_.ok()) return status_;
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": not open for writing"));
  }
  buffer_.append(data.data(), data.size());
  constexpr size_t kBufferBytes = size_t{1} << 20;
  return buffer_.size() >= kBufferBytes ? Flush() : absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (!status_.ok()) return status_;
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": not open for writing"));
  }
  RETURN_IF_ERROR(Flush());
  // Disk full often shows only here, when the data reaches the disk.
  if (fsync(fd_) != 0) {
    return Fail(absl::DataLossError(
        absl::StrCat(path_, ": flush to disk failed (", std::strerror(errno),
                     "); the file was left as it was")));
  }
  const int closed = close(fd_);
  const int close_errno = errno;
  fd_ = -1;
  if (closed != 0) {
    return Fail(absl::DataLossError(
        absl::StrCat(path_, ": close failed (", std::strerror(close_errno),
                     "); the file was left as it was")));
  }
  if (WriteDelayMs() > 0) usleep(WriteDelayMs() * 1000);
  if (rename(temp_.c_str(), path_.c_str()) != 0) {
    return Fail(absl::DataLossError(
        absl::StrCat(path_, ": rename from ", temp_, " failed (",
                     std::strerror(errno), "); the file was left as it was")));
  }
  committed_ = true;
  return absl::OkStatus();
}

int RemoveStaleTemporaries(const std::string& dir, absl::string_view prefix) {
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) return 0;
  const time_t now = time(nullptr);
  constexpr time_t kMinute = 60;
  constexpr time_t kDay = 24 * 60 * 60;
  int removed = 0;
  while (const dirent* entry = readdir(listing)) {
    const absl::string_view name = entry->d_name;
    if (!absl::StartsWith(name, prefix)) continue;
    const size_t tmp = name.rfind(".tmp.");
    if (tmp == absl::string_view::npos) continue;
    const absl::string_view digits = name.substr(tmp + 5);
    int64_t pid = 0;
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != absl::string_view::npos ||
        !absl::SimpleAtoi(digits, &pid) || pid <= 0) {
      continue;
    }
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat info;
    if (lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    const time_t age = now - info.st_mtime;
    // kill(pid, 0) fails with ESRCH only when no such process exists; EPERM
    // means another user's process, which is running.
    const bool writer_gone =
        kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    if ((age > kMinute && writer_gone) || age > kDay) {
      if (unlink(path.c_str()) == 0) ++removed;
    }
  }
  closedir(listing);
  return removed;
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
