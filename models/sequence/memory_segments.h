// Memory tokens and segment recurrence, the handler behind `global_memory`
// and `rmt`:
//   - the sequence [N] is cut into G = ceil(N / S) segments of S tokens (the
//     last one padded; S = N gives one segment);
//   - each segment runs through every block as [memory (M) | segment (S)],
//     memory tokens passing LN, mixer and MLP like the others;
//   - the memory read by segment 0 is M learned slots; the last block's
//     output at the memory positions is what segment g + 1 reads (unless
//     carry_memory is off: then every segment reads the learned slots). A
//     segment holding no real token of a sequence leaves that sequence's memory
//     as it was (so padding never changes the result);
//   - the encoder pools the final memory (mean over the slots) or the real
//     tokens of every segment.
// Backward runs through the last K segments (truncated BPTT): segment
// g < G - K gets no gradient at all, so its tokens' gradients and its share of
// every parameter's gradient are exactly zero. Each of the K segments runs on
// its own copy of the blocks (block_lists() = K), which keeps its activations
// until Backward; segments before the window share the first copy. With
// `recompute` (or when the encoder gave no copies) one list of blocks holds
// one segment's activations, and segments before the last are recomputed
// from their stored block input before their backward pass: less memory, one
// more forward pass of K - 1 segments.
#ifndef LRA_MODELS_SEQUENCE_MEMORY_SEGMENTS_H_
#define LRA_MODELS_SEQUENCE_MEMORY_SEGMENTS_H_

#include <cstdint>
#include <vector>

#include "models/sequence/sequence.h"
#include "models/tensor.h"

namespace lra {

struct MemorySegmentsOptions {
  int memory_slots = 32;    // M
  int segment_len = 0;      // S; 0 = the whole sequence (one segment)
  int bptt_segments = 0;    // K; 0 = every segment
  bool pool_memory = true;  // pool the final memory, else the real tokens
  // An ablation: false cuts the memory between segments, so every segment
  // reads the learned slots and nothing crosses a segment boundary (the
  // pooled memory is the last segment's). Models with it are the control of
  // the cross-segment task: they must stay at chance.
  bool carry_memory = true;
  // Keep the activations of one segment only and recompute the others during
  // backward (the same values; memory independent of the number of segments).
  bool recompute = false;
  // Test only: drops the gradient carried through memory between segments
  // (a deliberately wrong handler the tests must catch).
  bool broken_memory_gradient = false;
};

class MemorySegments : public SequenceHandler {
 public:
  MemorySegments(const SequenceShape& shape,
                 const MemorySegmentsOptions& options);

  int block_seq_len() const override { return m_ + s_; }
  int out_len() const override { return options_.pool_memory ? m_ : n_; }
  void Forward(BlockList& blocks, const float* x, const SequenceStep& step,
               float* out, uint8_t* pool_mask) override;
  void Backward(BlockList& blocks, const float* dout, float* dx) override;
  void ForEachWeight(const WeightVisitor& fn) override;
  int block_lists() const override { return options_.recompute ? 1 : k_; }
  void UseBlockCopies(BlockList* blocks,
                      std::vector<BlockList>* copies) override;

  int num_segments() const { return g_; }

 private:
  // The list of blocks segment g runs on: 0 (the encoder's blocks) before
  // the BPTT window, and with one list only.
  int ListOf(int g) const;
  BlockList& Blocks(BlockList& blocks, int list) {
    return list == 0 ? blocks : (*copies_)[list - 1];
  }
  // Runs segment g's stored input through `blocks` (list `list`), leaving
  // their state for Backward and the last output in streams_[list].back().
  void RunSegment(BlockList& blocks, int list, int g);

  // A weight of the encoder's blocks and the same weight of one copy.
  struct CopiedWeight {
    Tensor *value, *grad, *copy_value, *copy_grad;
  };

  SequenceShape shape_;
  MemorySegmentsOptions options_;
  int n_, d_, m_, s_, g_, k_;
  Tensor memory_, dmemory_;  // [M, D] learned initial slots and grads

  // State of the last Forward.
  SequenceStep step_;
  std::vector<Tensor> seg_in_;     // G of [B', M + S, D] block inputs
  std::vector<uint8_t> seg_mask_;  // [G, B', M + S]
  std::vector<uint8_t> active_;    // [G, B'] segment holds a real token
  // Per list of blocks, the L block outputs [B', M + S, D].
  std::vector<std::vector<Tensor>> streams_;
  std::vector<BlockList>* copies_ = nullptr;  // lists 1.. (null: one list)
  std::vector<CopiedWeight> copied_;          // every weight of every copy
  Tensor final_memory_;                       // [B', M, D]
  Tensor dstream_;                            // [B', M + S, D]
  Tensor dmem_;                               // [B', M, D]
};

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_MEMORY_SEGMENTS_H_
