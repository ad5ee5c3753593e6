// Transformer-XL segment recurrence (Dai et al. 2019) as a sequence plugin:
//   - the sequence [N] is cut into G = ceil(N / S) segments of S tokens
//     (S = min(segment_len, N); the last segment is padded);
//   - block l's token mixer is RelativeAttention: the queries of segment g
//     attend over keys and values of [memory | segment], where the memory
//     is block l's input at the M = mem_len positions just before the
//     segment (from one or several earlier segments; positions before the
//     start are masked), with relative positions and the u, v biases;
//   - the cache is stop-gradient: no gradient crosses a segment boundary
//     into the layer inputs (only into the weights that read the cache);
//   - the encoder pools the mean of the final LayerNorm over the real tokens
//     of every segment (pool "tokens") or of the last segment holding any
//     (pool "last_segment").
// Since segment g's memory at block l is block l's input, known once block
// l - 1 has run on every segment, the handler runs the blocks layer by layer
// on the whole padded sequence (N' = G S positions) and the attention
// handles all segments at once: the forward and backward pass each run
// once, exactly the segment-by-segment recurrence's values. Time and memory
// are linear in the number of segments: per segment and layer the
// attention is S x (M + S); the stored activations are those of N' tokens.
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
  // Pool only the real tokens of the last segment holding any (the answer
  // read after the last segment, as the cross-segment task needs), instead
  // of every real token.
  bool pool_last_segment = false;
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

  // The blocks run on the padded sequence of G segments.
  int block_seq_len() const override { return padded_; }
  int out_len() const override { return n_; }
  void Forward(BlockList& blocks, const float* x, const SequenceStep& step,
               float* out, uint8_t* pool_mask) override;
  void Backward(BlockList& blocks, const float* dout, float* dx) override;
  absl::StatusOr<std::unique_ptr<TokenMixer>> MakeMixer(
      const MixerShape& shape, ScratchBuffers* scratch) override;

  int num_segments() const { return g_; }
  int segment_len() const { return s_; }
  int mem_len() const { return m_; }

 private:
  SequenceShape shape_;
  TransformerXlOptions options_;
  int n_, d_, s_, g_, m_, padded_, layers_;
  std::vector<RelativeAttention*> mixers_;  // owned by the blocks

  // State of the last Forward.
  SequenceStep step_;
  std::vector<Tensor> inputs_;  // L + 1 of [B', N', D]: block inputs, output
  std::vector<Tensor> frozen_;  // L of [B', N', D], freeze_memory only
  bool frozen_ready_ = false;
  std::vector<uint8_t> mask_;  // [B', N']
  Tensor grad_;                // [B', N', D]
};

// The `transformer_xl` plugin. With freeze_memory / broken (tests only) it
// is registered as "transformer_xl_frozen" / "broken_transformer_xl".
SequencePlugin TransformerXlPlugin();
SequencePlugin TransformerXlPluginForTesting(bool freeze_memory, bool broken);

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_TRANSFORMER_XL_TRANSFORMER_XL_H_
