#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/attention/attention.h"
#include "models/attention/builtin.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

class NullAttention : public Attention {
 public:
  void Forward(const AttentionInputs&, float*) override {}
  void Backward(const float*, const AttentionGradients&) override {}
};

AttentionPlugin TestPlugin() {
  AttentionPlugin plugin;
  plugin.name = "test";
  plugin.params = {PluginParamSpec::Number("block", 50, "block size"),
                   PluginParamSpec::Text("kernel", "relu", "kernel"),
                   PluginParamSpec::Flag("shared", true, "share qk")};
  plugin.factory =
      [](const PluginParams& params,
         const AttentionShape&) -> absl::StatusOr<std::unique_ptr<Attention>> {
    if (*params.Number("block") != 8 || *params.Text("kernel") != "relu" ||
        *params.Flag("shared") != true) {
      return absl::InternalError("params not resolved as expected");
    }
    return std::unique_ptr<Attention>(new NullAttention());
  };
  return plugin;
}

const AttentionRegistry& Builtins() {
  static const AttentionRegistry* registry = [] {
    auto* r = new AttentionRegistry();
    RegisterOrDie(*r, BuiltinAttentionPlugins());
    return r;
  }();
  return *registry;
}

TEST(RegistryTest, BuiltinsRegisterCleanlyAndIncludeFull) {
  AttentionRegistry registry;
  ASSERT_TRUE(RegisterBuiltinAttentions(registry).ok());
  EXPECT_EQ(Builtins().Names(), registry.Names());
  absl::StatusOr<const AttentionPlugin*> full = registry.Find("full");
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE((*full)->capabilities.key_padding_mask);
  EXPECT_EQ((*full)->capabilities.complexity, "O(N^2)");
  // Registering twice is an error.
  EXPECT_EQ(RegisterBuiltinAttentions(registry).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(RegistryTest, UnknownNameListsRegisteredNames) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(TestPlugin()).ok());
  ASSERT_TRUE(RegisterBuiltinAttentions(registry).ok());
  absl::StatusOr<const AttentionPlugin*> found = registry.Find("nope");
  ASSERT_FALSE(found.ok());
  // The list grows with every built-in plugin; check its sorted start and
  // that the test plugin is in it.
  EXPECT_THAT(std::string(found.status().message()),
              HasSubstr("unknown attention 'nope'; registered: "));
  EXPECT_THAT(std::string(found.status().message()), HasSubstr("full, "));
  EXPECT_THAT(std::string(found.status().message()), HasSubstr(", test"));
}

TEST(RegistryTest, ParamsAreValidatedAndDefaulted) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(TestPlugin()).ok());
  PluginConfig config;
  config.set_name("test");
  PluginParam* block = config.add_param();
  block->set_name("block");
  block->set_number(8);
  EXPECT_TRUE(registry.Create(config, AttentionShape()).ok());

  PluginConfig wrong_type = config;
  wrong_type.mutable_param(0)->set_text("eight");
  absl::Status status = registry.Create(wrong_type, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("must be a number"));

  PluginConfig unknown = config;
  PluginParam* extra = unknown.add_param();
  extra->set_name("window");
  extra->set_number(3);
  status = registry.Create(unknown, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("has no parameter 'window'; its parameters: block "
                        "(number), kernel (text), shared (flag)"));
}

TEST(RegistryTest, FullRejectsParamsAndBadShapes) {
  PluginConfig config;
  config.set_name("full");
  PluginParam* p = config.add_param();
  p->set_name("block");
  p->set_number(1);
  absl::Status status = Builtins().Create(config, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("(none)"));
  config.clear_param();
  AttentionShape shape;
  shape.seq_len = 0;
  EXPECT_FALSE(Builtins().Create(config, shape).ok());
  shape.seq_len = 4;
  EXPECT_TRUE(Builtins().Create(config, shape).ok());
}

TEST(RegistryTest, TheDocsExampleIsNotShipped) {
  EXPECT_FALSE(Builtins().Find("example_window").ok());
}

TEST(RegistryDeathTest, DuplicateRegistrationStopsTheProgram) {
  EXPECT_DEATH(
      {
        AttentionRegistry registry;
        RegisterOrDie(registry, {TestPlugin(), TestPlugin()});
      },
      "cannot register attention plugins: attention plugin 'test' is "
      "registered twice");
}

TEST(RegistryTest, ReadingAnUndeclaredParameterIsAnError) {
  AttentionPlugin plugin = TestPlugin();
  plugin.factory =
      [](const PluginParams& params,
         const AttentionShape&) -> absl::StatusOr<std::unique_ptr<Attention>> {
    absl::StatusOr<double> typo = params.Number("blok");
    if (typo.ok()) return absl::InternalError("read an undeclared name");
    absl::StatusOr<bool> wrong_kind = params.Flag("block");
    if (wrong_kind.ok()) return absl::InternalError("read a number as a flag");
    return typo.status();
  };
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(std::move(plugin)).ok());
  PluginConfig config;
  config.set_name("test");
  absl::Status status = registry.Create(config, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("attention 'test' reads number parameter 'blok', "
                        "which it does not declare; it declares: block "
                        "(number), kernel (text), shared (flag)"));
}

TEST(RegistryTest, NamedConstructorsFillTheSpec) {
  PluginParamSpec n = PluginParamSpec::Number("k", 16, "rows");
  EXPECT_EQ(n.type, PluginParamSpec::Type::kNumber);
  EXPECT_EQ(n.default_number, 16);
  EXPECT_EQ(n.help, "rows");
  PluginParamSpec t = PluginParamSpec::Text("kernel", "relu", "h");
  EXPECT_EQ(t.type, PluginParamSpec::Type::kText);
  EXPECT_EQ(t.default_text, "relu");
  PluginParamSpec f = PluginParamSpec::Flag("causal", true, "h");
  EXPECT_EQ(f.type, PluginParamSpec::Type::kFlag);
  EXPECT_TRUE(f.default_flag);
}

}  // namespace
}  // namespace lra
