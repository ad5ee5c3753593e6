#include "models/attention/attention.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/status_macros.h"

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

AttentionParamSpec AttentionParamSpec::Number(std::string name,
                                              double default_value,
                                              std::string help) {
  AttentionParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kNumber;
  spec.default_number = default_value;
  spec.help = std::move(help);
  return spec;
}

AttentionParamSpec AttentionParamSpec::Text(std::string name,
                                            std::string default_value,
                                            std::string help) {
  AttentionParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kText;
  spec.default_text = std::move(default_value);
  spec.help = std::move(help);
  return spec;
}

AttentionParamSpec AttentionParamSpec::Flag(std::string name,
                                            bool default_value,
                                            std::string help) {
  AttentionParamSpec spec;
  spec.name = std::move(name);
  spec.type = Type::kFlag;
  spec.default_flag = default_value;
  spec.help = std::move(help);
  return spec;
}

absl::Status AttentionParams::Undeclared(const std::string& name,
                                         const char* kind) const {
  std::vector<std::string> declared;
  for (const auto& [n, v] : numbers_) declared.push_back(n + " (number)");
  for (const auto& [n, v] : texts_) declared.push_back(n + " (text)");
  for (const auto& [n, v] : flags_) declared.push_back(n + " (flag)");
  return absl::InternalError(absl::StrCat(
      "attention '", plugin_, "' reads ", kind, " parameter '", name,
      "', which it does not declare; it declares: ",
      declared.empty() ? "(none)" : absl::StrJoin(declared, ", ")));
}

absl::StatusOr<double> AttentionParams::Number(const std::string& name) const {
  auto it = numbers_.find(name);
  if (it == numbers_.end()) return Undeclared(name, "number");
  return it->second;
}

absl::StatusOr<std::string> AttentionParams::Text(
    const std::string& name) const {
  auto it = texts_.find(name);
  if (it == texts_.end()) return Undeclared(name, "text");
  return it->second;
}

absl::StatusOr<bool> AttentionParams::Flag(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return Undeclared(name, "flag");
  return it->second;
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

void RegisterOrDie(AttentionRegistry& registry,
                   std::vector<AttentionPlugin> plugins) {
  for (AttentionPlugin& plugin : plugins) {
    absl::Status status = registry.Register(std::move(plugin));
    if (!status.ok()) {
      std::fprintf(stderr, "lra: cannot register attention plugins: %s\n",
                   std::string(status.message()).c_str());
      std::abort();
    }
  }
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
  ASSIGN_OR_RETURN(const AttentionPlugin* found, Find(config.name()));
  const AttentionPlugin& plugin = *found;
  AttentionParams params;
  params.plugin_ = plugin.name;
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
  ASSIGN_OR_RETURN(AttentionParams params, ResolveParams(config));
  return plugins_.at(config.name()).factory(params, shape);
}

}  // namespace lra
