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
  void Forward(const float*, const float*, const float*, const uint8_t*, int,
               bool, uint64_t, float*) override {}
  void Backward(const float*, float*, float*, float*) override {}
};

AttentionPlugin TestPlugin() {
  AttentionPlugin plugin;
  plugin.name = "test";
  plugin.params = {
      {"block", AttentionParamSpec::Type::kNumber, 50, "", false, "block size"},
      {"kernel", AttentionParamSpec::Type::kText, 0, "relu", false, "kernel"},
      {"shared", AttentionParamSpec::Type::kFlag, 0, "", true, "share qk"}};
  plugin.factory =
      [](const AttentionParams& params,
         const AttentionShape&) -> absl::StatusOr<std::unique_ptr<Attention>> {
    if (params.Number("block") != 8 || params.Text("kernel") != "relu" ||
        params.Flag("shared") != true) {
      return absl::InternalError("params not resolved as expected");
    }
    return std::unique_ptr<Attention>(new NullAttention());
  };
  return plugin;
}

TEST(RegistryTest, BuiltinsRegisterCleanlyAndIncludeFull) {
  AttentionRegistry registry;
  ASSERT_TRUE(RegisterBuiltinAttentions(registry).ok());
  EXPECT_EQ(BuiltinAttentions().Names(), registry.Names());
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
  AttentionConfig config;
  config.set_name("test");
  AttentionParam* block = config.add_param();
  block->set_name("block");
  block->set_number(8);
  EXPECT_TRUE(registry.Create(config, AttentionShape()).ok());

  AttentionConfig wrong_type = config;
  wrong_type.mutable_param(0)->set_text("eight");
  absl::Status status = registry.Create(wrong_type, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("must be a number"));

  AttentionConfig unknown = config;
  AttentionParam* extra = unknown.add_param();
  extra->set_name("window");
  extra->set_number(3);
  status = registry.Create(unknown, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("has no parameter 'window'; its parameters: block "
                        "(number), kernel (text), shared (flag)"));
}

TEST(RegistryTest, FullRejectsParamsAndBadShapes) {
  AttentionConfig config;
  config.set_name("full");
  AttentionParam* p = config.add_param();
  p->set_name("block");
  p->set_number(1);
  absl::Status status =
      BuiltinAttentions().Create(config, AttentionShape()).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("(none)"));
  config.clear_param();
  AttentionShape shape;
  shape.seq_len = 0;
  EXPECT_FALSE(BuiltinAttentions().Create(config, shape).ok());
  shape.seq_len = 4;
  EXPECT_TRUE(BuiltinAttentions().Create(config, shape).ok());
}

}  // namespace
}  // namespace lra
