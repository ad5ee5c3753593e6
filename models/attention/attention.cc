#include "models/attention/attention.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lra {
namespace {

const char* TypeName(AttentionParamSpec::Type type) {
  switch (type) {
    case AttentionParamSpec::Type::kNumber:
      return "number";
    case AttentionParamSpec::Type::kText:
      return "text";
    case AttentionParamSpec::Type::kFlag:
      return "flag";
  }
  return "?";
}

}  // namespace

AttentionParam AttentionNumberParam(const std::string& name, double value) {
  AttentionParam param;
  param.set_name(name);
  param.set_number(value);
  return param;
}

AttentionParam AttentionTextParam(const std::string& name,
                                  const std::string& value) {
  AttentionParam param;
  param.set_name(name);
  param.set_text(value);
  return param;
}

AttentionParam AttentionFlagParam(const std::string& name, bool value) {
  AttentionParam param;
  param.set_name(name);
  param.set_flag(value);
  return param;
}

double AttentionParams::Number(const std::string& name) const {
  auto it = numbers_.find(name);
  return it == numbers_.end() ? 0.0 : it->second;
}

const std::string& AttentionParams::Text(const std::string& name) const {
  static const std::string* empty = new std::string();
  auto it = texts_.find(name);
  return it == texts_.end() ? *empty : it->second;
}

bool AttentionParams::Flag(const std::string& name) const {
  auto it = flags_.find(name);
  return it != flags_.end() && it->second;
}

absl::Status AttentionRegistry::Register(AttentionPlugin plugin) {
  if (plugin.name.empty()) {
    return absl::InvalidArgumentError("attention plugin has an empty name");
  }
  if (!plugin.factory) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention plugin '", plugin.name, "' has no factory"));
  }
  if (plugins_.count(plugin.name) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "attention plugin '", plugin.name, "' is registered twice"));
  }
  std::string name = plugin.name;
  plugins_.emplace(std::move(name), std::move(plugin));
  return absl::OkStatus();
}

absl::StatusOr<const AttentionPlugin*> AttentionRegistry::Find(
    const std::string& name) const {
  auto it = plugins_.find(name);
  if (it == plugins_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model.attention.name: unknown attention '", name,
                     "'; registered: ", absl::StrJoin(Names(), ", ")));
  }
  return &it->second;
}

std::vector<std::string> AttentionRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, plugin] : plugins_) names.push_back(name);
  return names;
}

absl::StatusOr<AttentionParams> AttentionRegistry::ResolveParams(
    const AttentionConfig& config) const {
  absl::StatusOr<const AttentionPlugin*> found = Find(config.name());
  if (!found.ok()) return found.status();
  const AttentionPlugin& plugin = **found;
  AttentionParams params;
  for (const AttentionParamSpec& spec : plugin.params) {
    switch (spec.type) {
      case AttentionParamSpec::Type::kNumber:
        params.numbers_[spec.name] = spec.default_number;
        break;
      case AttentionParamSpec::Type::kText:
        params.texts_[spec.name] = spec.default_text;
        break;
      case AttentionParamSpec::Type::kFlag:
        params.flags_[spec.name] = spec.default_flag;
        break;
    }
  }
  for (const AttentionParam& param : config.param()) {
    const AttentionParamSpec* spec = nullptr;
    for (const AttentionParamSpec& s : plugin.params) {
      if (s.name == param.name()) spec = &s;
    }
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const AttentionParamSpec& s : plugin.params) {
        known.push_back(absl::StrCat(s.name, " (", TypeName(s.type), ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param: attention '", plugin.name,
          "' has no parameter '", param.name(), "'; its parameters: ",
          known.empty() ? "(none)" : absl::StrJoin(known, ", ")));
    }
    const std::string where =
        absl::StrCat("model.attention.param '", param.name(),
                     "' of attention '", plugin.name, "'");
    switch (spec->type) {
      case AttentionParamSpec::Type::kNumber:
        if (param.value_case() != AttentionParam::kNumber) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be a number"));
        }
        params.numbers_[spec->name] = param.number();
        break;
      case AttentionParamSpec::Type::kText:
        if (param.value_case() != AttentionParam::kText) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be text"));
        }
        params.texts_[spec->name] = param.text();
        break;
      case AttentionParamSpec::Type::kFlag:
        if (param.value_case() != AttentionParam::kFlag) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " must be a flag (true/false)"));
        }
        params.flags_[spec->name] = param.flag();
        break;
    }
  }
  return params;
}

absl::StatusOr<std::unique_ptr<Attention>> AttentionRegistry::Create(
    const AttentionConfig& config, const AttentionShape& shape) const {
  absl::StatusOr<AttentionParams> params = ResolveParams(config);
  if (!params.ok()) return params.status();
  return plugins_.at(config.name()).factory(*params, shape);
}

}  // namespace lra
