#include "models/plugin_params.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lra {

PluginParamSpec PluginParamSpec::Number(std::string name, double default_value,
                                        std::string help) {
  PluginParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kNumber;
  spec.default_number = default_value;
  spec.help = std::move(help);
  return spec;
}

PluginParamSpec PluginParamSpec::Text(std::string name,
                                      std::string default_value,
                                      std::string help) {
  PluginParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kText;
  spec.default_text = std::move(default_value);
  spec.help = std::move(help);
  return spec;
}

PluginParamSpec PluginParamSpec::Flag(std::string name, bool default_value,
                                      std::string help) {
  PluginParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kFlag;
  spec.default_flag = default_value;
  spec.help = std::move(help);
  return spec;
}

const char* PluginParamTypeName(PluginParamSpec::Type type) {
  switch (type) {
    case PluginParamSpec::Type::kNumber:
      return "number";
    case PluginParamSpec::Type::kText:
      return "text";
    case PluginParamSpec::Type::kFlag:
      return "flag";
  }
  return "?";
}

std::string PluginParamDefault(const PluginParamSpec& spec) {
  switch (spec.type) {
    case PluginParamSpec::Type::kNumber:
      return absl::StrCat(spec.default_number);
    case PluginParamSpec::Type::kText:
      return absl::StrCat("\"", spec.default_text, "\"");
    case PluginParamSpec::Type::kFlag:
      return spec.default_flag ? "true" : "false";
  }
  return "";
}

absl::Status PluginParams::Undeclared(const std::string& name,
                                      const char* kind) const {
  std::vector<std::string> declared;
  for (const auto& [n, v] : numbers_) declared.push_back(n + " (number)");
  for (const auto& [n, v] : texts_) declared.push_back(n + " (text)");
  for (const auto& [n, v] : flags_) declared.push_back(n + " (flag)");
  return absl::InternalError(absl::StrCat(
      plugin_, " reads ", kind, " parameter '", name,
      "', which it does not declare; it declares: ",
      declared.empty() ? "(none)" : absl::StrJoin(declared, ", ")));
}

absl::StatusOr<double> PluginParams::Number(const std::string& name) const {
  auto it = numbers_.find(name);
  if (it == numbers_.end()) return Undeclared(name, "number");
  return it->second;
}

absl::StatusOr<std::string> PluginParams::Text(const std::string& name) const {
  auto it = texts_.find(name);
  if (it == texts_.end()) return Undeclared(name, "text");
  return it->second;
}

absl::StatusOr<bool> PluginParams::Flag(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return Undeclared(name, "flag");
  return it->second;
}

absl::StatusOr<PluginParams> ResolvePluginParams(
    const std::string& kind, const std::string& plugin_name,
    const std::vector<PluginParamSpec>& specs,
    const google::protobuf::RepeatedPtrField<PluginParam>& values) {
  PluginParams params;
  params.plugin_ = absl::StrCat(kind, " '", plugin_name, "'");
  for (const PluginParamSpec& spec : specs) {
    switch (spec.type) {
      case PluginParamSpec::Type::kNumber:
        params.numbers_[spec.name] = spec.default_number;
        break;
      case PluginParamSpec::Type::kText:
        params.texts_[spec.name] = spec.default_text;
        break;
      case PluginParamSpec::Type::kFlag:
        params.flags_[spec.name] = spec.default_flag;
        break;
    }
  }
  for (const PluginParam& param : values) {
    const PluginParamSpec* spec = nullptr;
    for (const PluginParamSpec& s : specs) {
      if (s.name == param.name()) spec = &s;
    }
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const PluginParamSpec& s : specs) {
        known.push_back(
            absl::StrCat(s.name, " (", PluginParamTypeName(s.type), ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "model.", kind, ".param: ", kind, " '", plugin_name,
          "' has no parameter '", param.name(), "'; its parameters: ",
          known.empty() ? "(none)" : absl::StrJoin(known, ", ")));
    }
    const std::string where =
        absl::StrCat("model.", kind, ".param '", param.name(), "' of ", kind,
                     " '", plugin_name, "'");
    switch (spec->type) {
      case PluginParamSpec::Type::kNumber:
        if (param.value_case() != PluginParam::kNumber) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be a number"));
        }
        params.numbers_[spec->name] = param.number();
        break;
      case PluginParamSpec::Type::kText:
        if (param.value_case() != PluginParam::kText) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be text"));
        }
        params.texts_[spec->name] = param.text();
        break;
      case PluginParamSpec::Type::kFlag:
        if (param.value_case() != PluginParam::kFlag) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be a flag (true/false)"));
        }
        params.flags_[spec->name] = param.flag();
        break;
    }
  }
  return params;
}

}  // namespace lra
