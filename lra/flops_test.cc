#include "lra/flops.h"

#include "gtest/gtest.h"

namespace lra {
namespace {

// d 4, one layer, qkv 4, MLP 8, classifier 8, 2 classes, CLS pooling.
ModelConfig TinyModel() {
  ModelConfig model;
  model.set_vocab_size(10);
  model.set_d_model(4);
  model.set_num_layers(1);
  model.set_num_heads(2);
  model.set_qkv_dim(4);
  model.set_mlp_dim(8);
  model.set_classifier_dim(8);
  model.set_num_classes(2);
  model.set_pooling(POOLING_CLS);
  model.set_num_segments(1);
  model.mutable_attention()->set_name("full");
  return model;
}

// Counted by hand for two documents of 3 and 5 real tokens (4 and 6
// positions with CLS), a multiply-add being 2 FLOPs:
//   projections: 4 matmuls [n, 4] x [4, 4]  = 4 * 2 * n * 16 = 128 n
//   attention:   Q K^T and P V, [n, 4] x [4, n] and [n, n] x [n, 4]
//                = 2 * 2 * n * n * 4 = 16 n^2
//   MLP:         [n, 4] x [4, 8] and [n, 8] x [8, 4] = 2 * 2 * n * 32 = 128 n
//   head:        [1, 4] x [4, 8] and [1, 8] x [8, 2] = 64 + 32 = 96 per example
// n = 4: 512 + 256 + 512 = 1280; n = 6: 768 + 576 + 768 = 2112; heads 192.
// Forward 3584; with backward (twice the forward's matmuls) 10752.
TEST(FlopsTest, MatchesAHandCountForATinyConfig) {
  StepFlops flops = TrainingStepFlops(TinyModel(), {3, 5});
  EXPECT_DOUBLE_EQ(flops.projections, 128 * 4 + 128 * 6);
  EXPECT_DOUBLE_EQ(flops.attention, 16 * 16 + 16 * 36);
  EXPECT_DOUBLE_EQ(flops.mlp, 128 * 4 + 128 * 6);
  EXPECT_DOUBLE_EQ(flops.head, 192);
  EXPECT_DOUBLE_EQ(flops.total, 10752);
  EXPECT_EQ(flops.scope, "all");
}

TEST(FlopsTest, CountsRealTokensOnlyAndScalesWithLayers) {
  ModelConfig model = TinyModel();
  model.set_num_layers(3);
  model.set_pooling(POOLING_MEAN);  // No CLS: n = 3 and 5.
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.projections, 3 * (128 * 3 + 128 * 5));
  EXPECT_DOUBLE_EQ(flops.attention, 3 * (16 * 9 + 16 * 25));
  EXPECT_DOUBLE_EQ(flops.head, 192);  // Per example, not per layer.
}

TEST(FlopsTest, DualEncoderHeadReadsFourWidths) {
  ModelConfig model = TinyModel();
  model.set_num_segments(2);
  // One example of two documents: the head's input is [u, v, u*v, u-v].
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.head, 2 * (16 * 8 + 8 * 2));
}

TEST(FlopsTest, OtherMixersLeaveTheirCoreUncounted) {
  ModelConfig model = TinyModel();
  model.mutable_attention()->set_name("local");
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_EQ(flops.attention, 0);
  EXPECT_EQ(flops.scope, "no_mixer_core");
  EXPECT_DOUBLE_EQ(flops.projections, 128 * 4 + 128 * 6);
  model.clear_attention();
  model.mutable_mixer()->set_name("s4d");
  flops = TrainingStepFlops(model, {3, 5});
  EXPECT_EQ(flops.projections, 0);
  EXPECT_EQ(flops.scope, "no_mixer_core");
}

}  // namespace
}  // namespace lra
