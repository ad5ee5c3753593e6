#include "config/plugin_param.h"

namespace lra {

PluginParam NumberParam(const std::string& name, double value) {
  PluginParam param;
  param.set_name(name);
  param.set_number(value);
  return param;
}

PluginParam TextParam(const std::string& name, const std::string& value) {
  PluginParam param;
  param.set_name(name);
  param.set_text(value);
  return param;
}

PluginParam FlagParam(const std::string& name, bool value) {
  PluginParam param;
  param.set_name(name);
  param.set_flag(value);
  return param;
}

}  // namespace lra
