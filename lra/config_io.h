// Loading text-format configs with errors that name the file, line and field.
#ifndef LRA_CONFIG_IO_H_
#define LRA_CONFIG_IO_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace lra {

// Resolves a user-given path: absolute paths stay, relative ones are taken
// against `workspace_dir` (the directory `bazel run` was started from), or
// against the current directory when `workspace_dir` is empty.
std::string ResolvePath(absl::string_view workspace_dir,
                        absl::string_view path);

// The workspace directory for resolving relative paths: Bazel's
// BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the current directory.
std::string WorkspaceDir();

// A parsed text-format file together with where each field was written, so
// that later validation errors can point at a line.
class ConfigSource {
 public:
  ConfigSource() = default;
  ConfigSource(
      std::string path, const google::protobuf::Descriptor* root,
      std::shared_ptr<google::protobuf::TextFormat::ParseInfoTree> tree)
      : path_(std::move(path)), root_(root), tree_(std::move(tree)) {}

  const std::string& path() const { return path_; }

  // Returns "PATH:LINE" for a dotted field path relative to this file's root
  // message, e.g. "run[1].train.batch_size" or "grid[0].model[2]"; falls back
  // to the nearest enclosing field that was written, or just "PATH".
  std::string Locate(absl::string_view field_path) const;

 private:
  std::string path_;
  const google::protobuf::Descriptor* root_ = nullptr;
  std::shared_ptr<google::protobuf::TextFormat::ParseInfoTree> tree_;
};

// Parses the text-format file at `path` into `message`. Errors name the file,
// line and column; an unknown field also lists the fields that exist.
absl::Status LoadTextProto(const std::string& path,
                           google::protobuf::Message* message,
                           ConfigSource* source = nullptr);

// Parses text already in memory; `path` is only used in messages.
absl::Status ParseTextProto(const std::string& text, const std::string& path,
                            google::protobuf::Message* message,
                            ConfigSource* source = nullptr);

// Writes `message` in text format to `path` atomically (temporary file, then
// rename), so a reader never sees a half-written file.
absl::Status WriteTextProtoAtomic(const std::string& path,
                                  const google::protobuf::Message& message);

// Writes `contents` to `path` atomically.
absl::Status WriteFileAtomic(const std::string& path,
                             absl::string_view contents);

absl::Status ReadFile(const std::string& path, std::string* contents);

// Creates `dir` and its parents.
absl::Status MakeDirs(const std::string& dir);

bool FileExists(const std::string& path);

}  // namespace lra

#endif  // LRA_CONFIG_IO_H_
