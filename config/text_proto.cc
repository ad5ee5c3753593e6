#include "config/text_proto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "util/status_macros.h"

namespace lra {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects the first parse error; protobuf reports 0-based lines and columns.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!has_error_) {
      has_error_ = true;
      line_ = line;
      column_ = column;
      message_ = message;
    }
  }
  void AddWarning(int, int, const std::string&) override {}

  bool has_error() const { return has_error_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool has_error_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

// Protobuf says `Message type "lra.TrainConfig" has no field named "x".`; we
// add the names that do exist so the user can fix the typo at once.
std::string ExplainUnknownField(const std::string& message) {
  const std::string marker = "Message type \"";
  size_t start = message.find(marker);
  if (start == std::string::npos ||
      message.find("has no field named") == std::string::npos) {
    return message;
  }
  start += marker.size();
  size_t end = message.find('"', start);
  if (end == std::string::npos) return message;
  const Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          message.substr(start, end - start));
  if (type == nullptr) return message;
  std::vector<std::string> names;
  for (int i = 0; i < type->field_count(); ++i) {
    names.push_back(type->field(i)->name());
  }
  return absl::StrCat(message, " Allowed fields: ", absl::StrJoin(names, ", "),
                      ".");
}

// Splits "grid[0]" into ("grid", 0); a plain "train" gives index -1.
bool SplitIndexed(absl::string_view part, std::string* name, int* index) {
  *index = -1;
  size_t bracket = part.find('[');
  if (bracket == absl::string_view::npos) {
    *name = std::string(part);
    return true;
  }
  *name = std::string(part.substr(0, bracket));
  size_t close = part.find(']', bracket);
  if (close == absl::string_view::npos) return false;
  return absl::SimpleAtoi(part.substr(bracket + 1, close - bracket - 1), index);
}

}  // namespace

std::string ConfigSource::Locate(absl::string_view field_path) const {
  if (tree_ == nullptr || root_ == nullptr) return path_;
  const Descriptor* type = root_;
  const TextFormat::ParseInfoTree* tree = tree_.get();
  int best_line = -1;
  for (absl::string_view part : absl::StrSplit(field_path, '.')) {
    std::string name;
    int index;
    if (type == nullptr || tree == nullptr ||
        !SplitIndexed(part, &name, &index)) {
      break;
    }
    const FieldDescriptor* field = type->FindFieldByName(name);
    if (field == nullptr) break;
    int lookup = field->is_repeated() ? (index < 0 ? 0 : index) : -1;
    auto location = tree->GetLocation(field, lookup);
    if (location.line >= 0) best_line = location.line;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, lookup);
    type = field->message_type();
  }
  if (best_line < 0) return path_;
  return absl::StrCat(path_, ":", best_line + 1);
}

std::string ConfigOrigin::Where(const std::string& field) const {
  std::string path = prefix;
  if (!field.empty())
    path = path.empty() ? field : absl::StrCat(prefix, ".", field);
  std::string location = source ? source->Locate(path) : "<config>";
  if (path.empty()) return location;
  return absl::StrCat(location, ": ", path);
}

absl::Status ParseTextProto(const std::string& text, const std::string& path,
                            google::protobuf::Message* message,
                            ConfigSource* source) {
  TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  auto tree = std::make_shared<TextFormat::ParseInfoTree>();
  parser.WriteLocationsTo(tree.get());
  if (!parser.ParseFromString(text, message)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", errors.line() + 1, ":", errors.column() + 1,
                     ": ", ExplainUnknownField(errors.message())));
  }
  if (source != nullptr) {
    *source = ConfigSource(path, message->GetDescriptor(), std::move(tree));
  }
  return absl::OkStatus();
}

absl::Status LoadTextProto(const std::string& path,
                           google::protobuf::Message* message,
                           ConfigSource* source) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(path, &text));
  return ParseTextProto(text, path, message, source);
}

absl::Status WriteTextProtoAtomic(const std::string& path,
                                  const google::protobuf::Message& message) {
  std::string text;
  if (!TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat(path, ": cannot print message"));
  }
  return WriteFileAtomic(path, text);
}

}  // namespace lra
