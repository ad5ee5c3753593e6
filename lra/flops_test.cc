#include "lra/flops.h"

#include <memory>

#include "config/plugin_param.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/plugins.h"

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

void AddNumber(PluginConfig* config, const std::string& name, double value) {
  *config->add_param() = NumberParam(name, value);
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
  EXPECT_DOUBLE_EQ(flops.core, 16 * 16 + 16 * 36);
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
  EXPECT_DOUBLE_EQ(flops.core, 3 * (16 * 9 + 16 * 25));
  EXPECT_DOUBLE_EQ(flops.head, 192);  // Per example, not per layer.
}

TEST(FlopsTest, DualEncoderHeadReadsFourWidths) {
  ModelConfig model = TinyModel();
  model.set_num_segments(2);
  // One example of two documents: the head's input is [u, v, u*v, u-v].
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.head, 2 * (16 * 8 + 8 * 2));
}

TEST(FlopsTest, AttentionWithoutAHookLeavesItsCoreUncounted) {
  ModelConfig model = TinyModel();
  model.mutable_attention()->set_name("local");
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_EQ(flops.core, 0);
  EXPECT_EQ(flops.scope, "no_mixer_core");
  EXPECT_DOUBLE_EQ(flops.projections, 128 * 4 + 128 * 6);
}

// S4D, state_size 2, bidirectional, positions n = 4 and 6 (CLS included):
//   scan:   12 FLOPs per position, channel (4), mode (2), direction (2)
//           = 192 n
//   W_out:  [n, 4] x [4, 4] = 32 n
TEST(FlopsTest, S4dCountsItsScanAndOutputProjection) {
  ModelConfig model = TinyModel();
  model.clear_attention();
  model.mutable_mixer()->set_name("s4d");
  AddNumber(model.mutable_mixer(), "state_size", 2);
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.core, 192 * 4 + 192 * 6);
  EXPECT_DOUBLE_EQ(flops.projections, 32 * 4 + 32 * 6);
  EXPECT_DOUBLE_EQ(flops.mlp, 128 * 4 + 128 * 6);
  EXPECT_EQ(flops.scope, "all");
}

// LRU, state_size 2, bidirectional, n = 4 and 6:
//   B u:      [n, 4] x [4, 4] (2N = 4 real columns)   = 32 n
//   readout:  [n, 8] x [8, 4] (both directions)       = 64 n
//   scan:     12 FLOPs per position, mode, direction  = 48 n
TEST(FlopsTest, LruCountsItsProjectionsAndScan) {
  ModelConfig model = TinyModel();
  model.clear_attention();
  model.mutable_mixer()->set_name("lru");
  AddNumber(model.mutable_mixer(), "state_size", 2);
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.projections, 96 * 4 + 96 * 6);
  EXPECT_DOUBLE_EQ(flops.core, 48 * 4 + 48 * 6);
}

// isab, M = 2 slots, d = q = 4, n = 4 and 6:
//   pack:    slot queries and outputs [2, 4] x [4, 4] twice = 128, token
//            keys and values [n, 4] x [4, 4] twice = 64 n; scores [2 x n]
//            and P V: 2 * 2 * 2 n * 4 = 32 n
//   unpack:  token queries and outputs 64 n, slot keys and values 128;
//            scores [n x 2] and P V 32 n
//   projections 256 + 128 n, core 64 n.
TEST(FlopsTest, IsabCountsBothSlotAttentions) {
  ModelConfig model = TinyModel();
  model.clear_attention();
  model.mutable_mixer()->set_name("isab");
  AddNumber(model.mutable_mixer(), "memory_slots", 2);
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.projections, (256 + 128 * 4) + (256 + 128 * 6));
  EXPECT_DOUBLE_EQ(flops.core, 64 * 4 + 64 * 6);
  EXPECT_EQ(flops.scope, "all");
}

// A full-attention block at n positions: 128 n + 16 n^2 + 128 n.
double FullBlock(double n) { return 256 * n + 16 * n * n; }

// global_memory, M = 2, mean pooling, lengths 3 and 5: the blocks run at
// n + M = 5 and 7 positions (no CLS).
TEST(FlopsTest, GlobalMemoryRunsTheBlocksAtTokensPlusSlots) {
  ModelConfig model = TinyModel();
  model.set_pooling(POOLING_MEAN);
  model.mutable_sequence()->set_name("global_memory");
  AddNumber(model.mutable_sequence(), "memory_slots", 2);
  StepFlops flops = TrainingStepFlops(model, {3, 5});
  EXPECT_DOUBLE_EQ(flops.core, 16 * 25 + 16 * 49);
  EXPECT_DOUBLE_EQ(flops.projections + flops.core + flops.mlp,
                   FullBlock(5) + FullBlock(7));
  EXPECT_DOUBLE_EQ(flops.total, 3 * (FullBlock(5) + FullBlock(7) + 192));
  EXPECT_EQ(flops.scope, "all");
}

// rmt, segments of 2, M = 1, BPTT over the last segment, documents of 3 and
// 5 real tokens padded to 6 (G = 3 segments):
//   document 3: segment 0 (2 tokens) and 1 (1 token) run at 3 and 2
//               positions, both before the window; segment 2 is padding
//               only and is passed over;
//   document 5: segments 0 and 1 at 3 positions (before the window),
//               segment 2 (1 token) at 2 positions, inside it.
// Forward: 3 FullBlock(3) + 2 FullBlock(2) = 3 * 912 + 2 * 576 = 3888, of
// which forward only 3 * 912 + 576 = 3312; head 192.
// Total 3 * (3888 + 192) - 2 * 3312 = 5616.
TEST(FlopsTest, RmtCountsSegmentsWithMemoryAndTheBpttWindow) {
  ModelConfig model = TinyModel();
  model.set_pooling(POOLING_MEAN);
  model.mutable_sequence()->set_name("rmt");
  AddNumber(model.mutable_sequence(), "memory_slots", 1);
  AddNumber(model.mutable_sequence(), "segment_len", 2);
  AddNumber(model.mutable_sequence(), "bptt_segments", 1);
  StepFlops flops = TrainingStepFlops(model, {3, 5}, /*padded_len=*/6);
  EXPECT_DOUBLE_EQ(flops.projections + flops.core + flops.mlp, 3888);
  EXPECT_DOUBLE_EQ(flops.forward_only, 3312);
  EXPECT_DOUBLE_EQ(flops.total, 5616);
  EXPECT_EQ(flops.scope, "all");
  // Without a BPTT limit every segment runs backward.
  model.mutable_sequence()->mutable_param(2)->set_number(0);
  flops = TrainingStepFlops(model, {3, 5}, 6);
  EXPECT_DOUBLE_EQ(flops.forward_only, 0);
  EXPECT_DOUBLE_EQ(flops.total, 3 * (3888 + 192));
}

// transformer_xl, segments of 2, mem_len 3, one document of 5 real tokens
// padded to 6 (S = 2, G = 3, M = min(3, 4) = 3), d = q = 4:
//   projections: Q, K, V, O over 5 rows, 4 * 2 * 5 * 16 = 640, and the
//                distance table R Wr, (M + 2S - 1) = 6 rows: 2 * 6 * 16 = 192
//   core:        3 products (content, position, P V) of 2 * rows * keys * 4:
//                segment 0: 2 rows, 0 + 2 keys -> 96; segment 1: 2 rows,
//                min(3, 2) + 2 = 4 keys -> 192; segment 2: 1 row,
//                min(3, 4) + 1 = 4 keys -> 96; 384 in all
//   mlp:         128 * 5 = 640
//   head:        96
// Total 3 * (832 + 384 + 640 + 96) = 5856.
TEST(FlopsTest, TransformerXlCountsRelativeAttentionOverMemoryAndSegment) {
  ModelConfig model = TinyModel();
  model.set_pooling(POOLING_MEAN);
  model.mutable_sequence()->set_name("transformer_xl");
  AddNumber(model.mutable_sequence(), "segment_len", 2);
  AddNumber(model.mutable_sequence(), "mem_len", 3);
  StepFlops flops = TrainingStepFlops(model, {5}, /*padded_len=*/6);
  EXPECT_DOUBLE_EQ(flops.projections, 832);
  EXPECT_DOUBLE_EQ(flops.core, 384);
  EXPECT_DOUBLE_EQ(flops.mlp, 640);
  EXPECT_DOUBLE_EQ(flops.total, 5856);
  EXPECT_EQ(flops.scope, "all");
}

// A sequence plugin without a FLOPs hook: the task tokens through the
// blocks, marked as not counting the plugin.
TEST(FlopsTest, SequencePluginWithoutAHookIsMarked) {
  SequenceRegistry sequence;
  SequencePlugin plugin = **BuiltinPlugins().sequence->Find("global_memory");
  plugin.flops = nullptr;
  ASSERT_TRUE(sequence.Register(plugin).ok());
  ModelPlugins plugins = BuiltinPlugins();
  plugins.sequence = &sequence;
  ModelConfig model = TinyModel();
  model.set_pooling(POOLING_MEAN);
  model.mutable_sequence()->set_name("global_memory");
  StepFlops flops = TrainingStepFlops(model, {3, 5}, 0, &plugins);
  EXPECT_EQ(flops.scope, "no_sequence_plugin");
  EXPECT_DOUBLE_EQ(flops.projections + flops.core + flops.mlp,
                   FullBlock(3) + FullBlock(5));
}

}  // namespace
}  // namespace lra
