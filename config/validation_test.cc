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

}  // namespace
}  // namespace lra
