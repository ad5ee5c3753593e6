// Transformer-XL segment recurrence (Dai et al. 2019) as a sequence plugin:
//   - the sequence [N] is cut into G = ceil(N / S) segments of S tokens
//     (S = min(segment_len, N); the last segment is padded);
//   - segments run one after another through every block; block l's token
//     mixer is RelativeAttention: its queries are the segment, its keys and
//     values [memory | segment], where the memory is block l's input at the
//     M = mem_len positions just before the segment (from one or several
//     earlier segments; positions before the start are masked), with
//     relative positions and the u, v biases;
//   - the cache is stop-gradient: a segment's backward pass never reaches
//     earlier segments, so each segment is recomputed from its stored block
//     inputs and run backward on its own;
//   - the encoder pools the mean of the final LayerNorm over the real tokens
//     of every segment.
// Time and memory are linear in the number of segments: per segment and
// layer the attention is S x (M + S); the stored block inputs are L x N x D.
#ifndef LRA_MODELS_SEQUENCE_TRANSFORMER_XL_TRANSFORMER_XL_H_
#define LRA_MODELS_SEQUENCE_TRANSFORMER_XL_TRANSFORMER_XL_H_

#include <cstdint>
#include <vector>

#include "models/sequence/sequence.h"
#include "models/sequence/transformer_xl/relative_attention.h"
#include "models/tensor.h"

namespace lra {

struct TransformerXlOptions {
  int segment_len = 512;  // S before clamping to N
  int mem_len = 512;      // M: cached positions each layer attends to
  int heads = 1;
  int qkv_dim = 1;
  float attention_dropout = 0.0f;
  // Test only: every Forward after the first reads the first Forward's
  // cache instead of its own, so that central differences see the same
  // function the stop-gradient backward differentiates (the cache held
  // constant).
  bool freeze_memory = false;
  // Test only: a wrong attention backward (see RelativeAttentionShape).
  bool broken_position_gradient = false;
};

class TransformerXl : public SequenceHandler {
 public:
  TransformerXl(const SequenceShape& shape,
                const TransformerXlOptions& options);

  int block_seq_len() const override { return s_; }
  int out_len() const override { return n_; }
  void Forward(BlockList& blocks, const float* x, const SequenceStep& step,
               float* out, uint8_t* pool_mask) override;
  void Backward(BlockList& blocks, const float* dout, float* dx) override;
  absl::StatusOr<std::unique_ptr<TokenMixer>> MakeMixer(
      const MixerShape& shape, ScratchBuffers* scratch) override;

  int num_segments() const { return g_; }
  int mem_len() const { return m_; }

 private:
  // Block inputs of segment g, layer l: [B', S, D].
  Tensor& Input(int g, int l) { return inputs_[g * layers_ + l]; }
  // Fills layer l's memory for segment g from the stored block inputs.
  void FillMemory(int l, int g);
  // Runs segment g through the blocks from its stored input; the last
  // block's output lands in seg_out_.
  void RunSegment(BlockList& blocks, int g);

  SequenceShape shape_;
  TransformerXlOptions options_;
  int n_, d_, s_, g_, m_, layers_;
  std::vector<RelativeAttention*> mixers_;  // owned by the blocks

  // State of the last Forward.
  SequenceStep step_;
  std::vector<Tensor> inputs_;  // G * L of [B', S, D]
  std::vector<Tensor> frozen_;  // G * L, freeze_memory only
  bool frozen_ready_ = false;
  std::vector<uint8_t> seg_mask_;  // [G, B', S]
  Tensor seg_out_;                 // [B', S, D]
  Tensor dseg_;                    // [B', S, D]
};

// The `transformer_xl` plugin. With freeze_memory / broken (tests only) it
// is registered as "transformer_xl_frozen" / "broken_transformer_xl".
SequencePlugin TransformerXlPlugin();
SequencePlugin TransformerXlPluginForTesting(bool freeze_memory, bool broken);

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_TRANSFORMER_XL_TRANSFORMER_XL_H_
