#include "models/builtin.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/attention/builtin.h"

namespace lra {

const ModelPlugins& BuiltinPlugins() {
  static const ModelPlugins* plugins = [] {
    auto* attention = new AttentionRegistry();
    absl::Status status = RegisterBuiltinAttentions(*attention);
    if (!status.ok()) {
      std::fprintf(stderr, "lra: built-in plugins: %s\n",
                   std::string(status.message()).c_str());
      std::abort();
    }
    auto* result = new ModelPlugins();
    result->attention = attention;
    return result;
  }();
  return *plugins;
}

}  // namespace lra
