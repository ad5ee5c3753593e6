// Declared plugin parameters, shared by every plugin kind (attention
// variants, token mixers): a plugin declares each parameter with its kind,
// default and help; a config's values are checked against the declaration
// (errors list what exists) and completed with the defaults.
#ifndef LRA_MODELS_PLUGIN_PARAMS_H_
#define LRA_MODELS_PLUGIN_PARAMS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/plugin_param.h"  // NumberParam, TextParam, FlagParam
#include "google/protobuf/repeated_field.h"
#include "proto/config.pb.h"

namespace lra {

// A declared parameter with its default. Build one with Number, Text or
// Flag:
//   PluginParamSpec::Number("block_size", 50, "keys per block")
struct PluginParamSpec {
  enum class Type { kNumber, kText, kFlag };

  static PluginParamSpec Number(std::string name, double default_value,
                                std::string help);
  static PluginParamSpec Text(std::string name, std::string default_value,
                              std::string help);
  static PluginParamSpec Flag(std::string name, bool default_value,
                              std::string help);

  std::string name;
  Type type = Type::kNumber;
  double default_number = 0.0;
  std::string default_text;
  bool default_flag = false;
  std::string help;
};

// "number", "text" or "flag".
const char* PluginParamTypeName(PluginParamSpec::Type type);
// The default as written in a config: "50", "\"blocks\"", "true".
std::string PluginParamDefault(const PluginParamSpec& spec);

// A plugin's parameters after validation, with defaults filled in. Reading a
// name the plugin did not declare, or as another kind than declared, is an
// error naming the plugin, the name and what it declares: a misspelt lookup
// fails the plugin's first test instead of silently reading 0.
class PluginParams {
 public:
  absl::StatusOr<double> Number(const std::string& name) const;
  absl::StatusOr<std::string> Text(const std::string& name) const;
  absl::StatusOr<bool> Flag(const std::string& name) const;

 private:
  friend absl::StatusOr<PluginParams> ResolvePluginParams(
      const std::string&, const std::string&,
      const std::vector<PluginParamSpec>&,
      const google::protobuf::RepeatedPtrField<PluginParam>&);
  absl::Status Undeclared(const std::string& name, const char* kind) const;

  std::string plugin_;  // e.g. "attention 'local'"
  std::map<std::string, double> numbers_;
  std::map<std::string, std::string> texts_;
  std::map<std::string, bool> flags_;
};

// Checks `values` against `specs` and fills defaults. `kind` names the plugin
// kind and its config field ("attention", "mixer"): errors read
// "model.attention.param: attention 'local' has no parameter 'x'; its
// parameters: ...".
absl::StatusOr<PluginParams> ResolvePluginParams(
    const std::string& kind, const std::string& plugin_name,
    const std::vector<PluginParamSpec>& specs,
    const google::protobuf::RepeatedPtrField<PluginParam>& values);

}  // namespace lra

#endif  // LRA_MODELS_PLUGIN_PARAMS_H_
