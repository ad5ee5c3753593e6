#include "models/plugin_registry.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

// The least a plugin kind needs: a name, declared params and a factory.
struct ToyPlugin {
  std::string name;
  std::vector<PluginParamSpec> params;
  std::function<int()> factory;
};

ToyPlugin Toy(const std::string& name) {
  return {name,
          {PluginParamSpec::Number("size", 64, "state size"),
           PluginParamSpec::Flag("bidirectional", true, "both directions")},
          [] { return 1; }};
}

TEST(PluginRegistryTest, ErrorsNameTheKindAndWhatExists) {
  PluginRegistry<ToyPlugin> registry("mixer");
  ASSERT_TRUE(registry.Register(Toy("b")).ok());
  ASSERT_TRUE(registry.Register(Toy("a")).ok());
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_THAT(
      std::string(registry.Find("c").status().message()),
      HasSubstr("model.mixer.name: unknown mixer 'c'; registered: a, b"));
  EXPECT_EQ(registry.Register(Toy("a")).code(),
            absl::StatusCode::kAlreadyExists);
  ToyPlugin no_factory = Toy("x");
  no_factory.factory = nullptr;
  EXPECT_FALSE(registry.Register(no_factory).ok());
}

TEST(PluginRegistryTest, ParamsResolveWithDefaultsAndTypes) {
  PluginRegistry<ToyPlugin> registry("mixer");
  ASSERT_TRUE(registry.Register(Toy("ssm")).ok());
  PluginConfig config;
  config.set_name("ssm");
  *config.add_param() = NumberParam("size", 16);
  absl::StatusOr<PluginParams> params = registry.ResolveParams(config);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(*params->Number("size"), 16);
  EXPECT_EQ(*params->Flag("bidirectional"), true);
  EXPECT_THAT(std::string(params->Text("size").status().message()),
              HasSubstr("mixer 'ssm' reads text parameter 'size'"));

  *config.add_param() = TextParam("bidirectional", "yes");
  EXPECT_THAT(std::string(registry.ResolveParams(config).status().message()),
              HasSubstr("model.mixer.param 'bidirectional' of mixer 'ssm' "
                        "must be a flag (true/false)"));
  config.clear_param();
  *config.add_param() = NumberParam("width", 1);
  EXPECT_THAT(std::string(registry.ResolveParams(config).status().message()),
              HasSubstr("mixer 'ssm' has no parameter 'width'; its "
                        "parameters: size (number), bidirectional (flag)"));
}

TEST(PluginRegistryTest, DefaultsPrintAsWrittenInAConfig) {
  EXPECT_EQ(PluginParamDefault(PluginParamSpec::Number("n", 0.5, "")), "0.5");
  EXPECT_EQ(PluginParamDefault(PluginParamSpec::Text("m", "blocks", "")),
            "\"blocks\"");
  EXPECT_EQ(PluginParamDefault(PluginParamSpec::Flag("f", true, "")), "true");
}

}  // namespace
}  // namespace lra
