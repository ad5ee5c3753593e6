// The analytic floating-point operation count of one training step of the
// encoder (forward and backward), over real tokens only: what a step would
// cost if no work were spent on padding. `lra bench` divides it by the step
// time and by the machine's measured matmul peak (lra/peak_probe.h).
//
// The plugins count their own work: an attention plugin's `flops` hook gives
// its product (Q K^T and P V for full attention), a mixer's gives its
// projections and core (scans, slot attention), a sequence plugin's gives
// every block's work as the plugin runs them (memory tokens, segments,
// relative attention over [memory | segment], forward-only segments before
// a BPTT window). This file names no plugin.
#ifndef LRA_FLOPS_H_
#define LRA_FLOPS_H_

#include <string>
#include <vector>

#include "models/plugins.h"
#include "proto/config.pb.h"

namespace lra {

// Forward-pass FLOPs of one step by part (a multiply-add counts 2), and the
// forward+backward total.
struct StepFlops {
  // Dense projections into and out of the token mixers: Q, K, V and output
  // of attention, a mixer's own input or output projections.
  double projections = 0;
  // The token mixers' own work: Q K^T and P V of attention (relative
  // attention's position scores too), scans, slot attention.
  double core = 0;
  double mlp = 0;   // The blocks' two MLP matmuls.
  double head = 0;  // The classifier's two matmuls.
  // Forward FLOPs with no backward pass (segments before a truncated-BPTT
  // window); included in the parts above.
  double forward_only = 0;
  // 3 x the forward matmuls (backward computes d(input) and d(weight), each
  // a matmul of the forward's size; for attention dP, dV, dQ, dK against the
  // forward's QK^T and PV), less 2 x forward_only.
  double total = 0;
  // "all": every matmul of the model is counted. "no_mixer_core": a plugin
  // inside the blocks has no FLOPs hook, so its own product (a sparse
  // pattern, say) is not counted, only the projections, MLP and head;
  // "no_sequence_plugin": the sequence plugin has no hook, so its memory
  // tokens or segments are not counted.
  std::string scope;
};

// `model` resolved (ResolveModelDefaults). `lengths` holds the real tokens
// of each document of the batch (without CLS; a dual encoder's example is two
// documents), so batch = lengths.size() / num_segments. `padded_len` is the
// tokens per document the model runs at (a sequence plugin's segments and
// windows depend on it); 0 = the longest of `lengths`. Elementwise work
// (softmax, LayerNorm, GELU, embeddings, the optimizer) is not counted: it
// is small beside the matmuls and not what the matmul peak measures.
// `plugins` defaults to BuiltinPlugins().
StepFlops TrainingStepFlops(const ModelConfig& model,
                            const std::vector<int>& lengths, int padded_len = 0,
                            const ModelPlugins* plugins = nullptr);

}  // namespace lra

#endif  // LRA_FLOPS_H_
