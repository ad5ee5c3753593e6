// `lra list`: the registered attention variants, token mixers, sequence
// handlers and tasks, with their capabilities and parameters.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "datasets/dataset.h"
#include "lra/commands.h"
#include "models/attention/attention.h"
#include "models/builtin.h"
#include "models/mixer.h"
#include "models/sequence/builtin.h"
#include "util/status_macros.h"

namespace lra {

namespace {

void PrintParams(const std::vector<PluginParamSpec>& params) {
  if (params.empty()) std::cout << "  parameters: none\n";
  for (const PluginParamSpec& spec : params) {
    std::string value;
    switch (spec.type) {
      case PluginParamSpec::Type::kNumber:
        value = absl::StrCat("number, default ", spec.default_number);
        break;
      case PluginParamSpec::Type::kText:
        value = absl::StrCat("text, default \"", spec.default_text, "\"");
        break;
      case PluginParamSpec::Type::kFlag:
        value = absl::StrCat("flag, default ",
                             spec.default_flag ? "true" : "false");
        break;
    }
    std::cout << "  param " << spec.name << " (" << value << "): " << spec.help
              << "\n";
  }
}

const char* YesNo(bool value) { return value ? "yes" : "no"; }

const char* TreatmentName(AttentionExemption::Treatment treatment) {
  switch (treatment) {
    case AttentionExemption::Treatment::kFreezeStructure:
      return "checked with its structure frozen";
    case AttentionExemption::Treatment::kSkip:
      return "skipped";
  }
  return "?";
}

void PrintAttention(const AttentionPlugin& plugin) {
  const AttentionCapabilities& caps = plugin.capabilities;
  std::cout << "\n"
            << plugin.name << ": " << plugin.description << "\n"
            << "  complexity " << caps.complexity << "; key padding mask "
            << YesNo(caps.key_padding_mask) << "; causal " << YesNo(caps.causal)
            << "; own parameters " << YesNo(caps.learnable) << "\n"
            << "  shared QK " << YesNo(caps.shared_qk) << "; reads the layer "
            << "input " << YesNo(caps.needs_layer_input)
            << "; parameters sized by length "
            << YesNo(caps.length_dependent_parameters)
            << "; redraws structure while training "
            << YesNo(caps.redraws_structure) << "\n";
  if (caps.exemptions.empty()) {
    std::cout << "  conformance exemptions: none\n";
  }
  for (const AttentionExemption& exemption : caps.exemptions) {
    std::cout << "  conformance exemption: " << exemption.check << " "
              << TreatmentName(exemption.treatment) << ": " << exemption.reason
              << "\n";
  }
  PrintParams(plugin.params);
}

}  // namespace

absl::Status ListCommand() {
  const ModelPlugins& plugins = BuiltinPlugins();
  std::cout << "attention variants (select with model.attention.name, set "
               "parameters with attention.param):\n";
  for (const std::string& name : plugins.attention->Names()) {
    ASSIGN_OR_RETURN(const AttentionPlugin* plugin,
                     plugins.attention->Find(name));
    PrintAttention(*plugin);
  }
  std::cout << "\ntoken mixers other than attention (select with "
               "model.mixer.name; the default is multi-head attention):\n";
  const std::vector<std::string> mixers = plugins.mixers->Names();
  if (mixers.empty()) std::cout << "  none registered\n";
  for (const std::string& name : mixers) {
    ASSIGN_OR_RETURN(const MixerPlugin* mixer, plugins.mixers->Find(name));
    std::cout << "\n"
              << name << ": " << mixer->description << "\n"
              << "  complexity " << mixer->capabilities.complexity
              << "; key padding mask "
              << YesNo(mixer->capabilities.key_padding_mask) << "\n";
    PrintParams(mixer->params);
  }
  PrintSequencePlugins(*BuiltinPlugins().sequence, std::cout);
  std::cout << "\ntasks (select with task.name; look at one with `lra data "
               "stats|bench --task=NAME`):\n  "
            << absl::StrJoin(TaskNames(), ", ") << "\n";
  return absl::OkStatus();
}

}  // namespace lra
