#include "config/validation.h"

#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(ValidationTest, TrainDefaultsFillZeroFields) {
  TrainConfig train;
  train.set_steps(50);
  ResolveTrainDefaults(&train);
  EXPECT_EQ(train.schedule(), SCHEDULE_CONSTANT);
  EXPECT_FLOAT_EQ(train.beta2(), 0.98f);
  EXPECT_EQ(train.eval_every(), 5);
  EXPECT_EQ(train.name(), "default");
}

TEST(ValidationTest, BadTrainFieldNamesFieldValueAndAllowed) {
  TrainConfig train;
  train.set_batch_size(4);
  train.set_steps(10);
  train.set_learning_rate(0.1f);
  ResolveTrainDefaults(&train);
  EXPECT_TRUE(ValidateTrain(train, {}).ok());
  train.set_schedule(SCHEDULE_RSQRT);
  absl::Status status = ValidateTrain(train, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("warmup_steps = 0: allowed: > 0 with "
                                  "SCHEDULE_RSQRT"),
            std::string::npos)
      << status;
}

TEST(ValidationTest, QkvDimMustSplitIntoHeads) {
  ModelConfig model;
  model.set_d_model(8);
  model.set_num_layers(1);
  model.set_num_heads(3);
  model.set_qkv_dim(8);
  model.set_mlp_dim(8);
  absl::Status status = ValidateModelShape(model, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("qkv_dim = 8: allowed: a positive multiple "
                                  "of num_heads (3)"),
            std::string::npos)
      << status;
  model.set_num_heads(2);
  EXPECT_TRUE(ValidateModelShape(model, {}).ok());
}

TEST(ValidationTest, SafeNamesAreOnePathComponent) {
  for (const char* name :
       {"tiny", "lra-listops", "bigbird_2", "s4d+lru", "v1.2", "a..b"}) {
    EXPECT_TRUE(IsSafeName(name)) << name;
  }
  const std::string with_nul("a\0b", 3);
  for (const std::string& name :
       {std::string(""), std::string("."), std::string(".."),
        std::string("../../../escaped"), std::string("a/b"),
        std::string("a\\b"), with_nul, std::string("tab\there"),
        std::string("new\nline"), std::string(".hidden"),
        std::string("with space"), std::string("<img src=x>"),
        std::string(101, 'a'), std::string("caf\xc3\xa9")}) {
    EXPECT_FALSE(IsSafeName(name)) << name;
  }
  EXPECT_TRUE(IsSafeName(std::string(100, 'a')));
}

TEST(ValidationTest, UnsafeModelNameIsRefusedNamingFieldAndAllowed) {
  ModelConfig model;
  model.set_name("../../../escaped");
  model.set_d_model(8);
  model.set_num_layers(1);
  model.set_num_heads(2);
  model.set_qkv_dim(8);
  model.set_mlp_dim(8);
  absl::Status status = ValidateModelShape(model, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("name = \"../../../escaped\": allowed: 1 "
                                  "to 100 characters from A-Z a-z 0-9 . _ + -"),
            std::string::npos)
      << status;
  model.set_name("escaped");
  EXPECT_TRUE(ValidateModelShape(model, {}).ok());
}

TEST(ValidationTest, UnsafeTrainNameShowsControlCharactersEscaped) {
  TrainConfig train;
  train.set_batch_size(4);
  train.set_steps(10);
  train.set_learning_rate(0.1f);
  ResolveTrainDefaults(&train);
  train.set_name("a\nb");
  absl::Status status = ValidateTrain(train, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("name = \"a\\nb\""), std::string::npos)
      << status;
}

}  // namespace
}  // namespace lra
