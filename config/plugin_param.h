// One PluginParam value (proto/config.proto), for plugin test cases and for
// configs built in code: models' plugins and eval's tests alike (nothing
// here links a model).
//   *config.add_param() = NumberParam("block_size", 64);
#ifndef LRA_CONFIG_PLUGIN_PARAM_H_
#define LRA_CONFIG_PLUGIN_PARAM_H_

#include <string>

#include "proto/config.pb.h"

namespace lra {

PluginParam NumberParam(const std::string& name, double value);
PluginParam TextParam(const std::string& name, const std::string& value);
PluginParam FlagParam(const std::string& name, bool value);

}  // namespace lra

#endif  // LRA_CONFIG_PLUGIN_PARAM_H_
