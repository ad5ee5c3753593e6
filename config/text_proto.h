// Reading and writing text-format protos (configs and results) with errors
// that name the file, line and field.
#ifndef CONFIG_TEXT_PROTO_H_
#define CONFIG_TEXT_PROTO_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
// Callers of text_proto read and write files too; util/files is its base.
#include "util/files.h"

namespace lra {

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

// Where one part of a run's config (its task, model or train message) was
// written: a file and the field path of the message inside it.
struct ConfigOrigin {
  std::shared_ptr<ConfigSource> source;
  std::string prefix;  // e.g. "run[2].model" or "" for a whole file.

  // "file:line: prefix.field" for error messages.
  std::string Where(const std::string& field) const;
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

}  // namespace lra

#endif  // CONFIG_TEXT_PROTO_H_
