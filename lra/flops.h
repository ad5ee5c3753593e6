// The analytic floating-point operation count of one training step of the
// encoder (forward and backward), over real tokens only: what a step would
// cost if no work were spent on padding. `lra bench` divides it by the step
// time and by the machine's measured matmul peak (lra/peak_probe.h).
#ifndef LRA_FLOPS_H_
#define LRA_FLOPS_H_

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace lra {

// Forward-pass FLOPs of one step by part (a multiply-add counts 2), and the
// forward+backward total.
struct StepFlops {
  double projections = 0;  // Q, K, V and output projections of attention.
  double attention = 0;    // Q K^T and P V of full attention.
  double mlp = 0;          // The blocks' two MLP matmuls.
  double head = 0;         // The classifier's two matmuls.
  // 3 x the forward matmuls: backward computes d(input) and d(weight), each a
  // matmul of the forward's size (for attention: dP, dV, dQ, dK against the
  // forward's QK^T and PV).
  double total = 0;
  // "all": every matmul of the model is counted. "no_mixer_core": the
  // token mixer's own product (sparse or low-rank attention patterns,
  // state-space scans) is not, only the projections, MLP and head;
  // "no_sequence_plugin": memory tokens or segments of a sequence plugin are
  // not counted.
  std::string scope;
};

// `model` resolved (ResolveModelDefaults). `lengths` holds the real tokens
// of each document of the batch (without CLS; a dual encoder's example is two
// documents), so batch = lengths.size() / num_segments. Elementwise work
// (softmax, LayerNorm, GELU, embeddings, the optimizer) is not counted: it
// is small beside the matmuls and not what the matmul peak measures.
StepFlops TrainingStepFlops(const ModelConfig& model,
                            const std::vector<int>& lengths);

}  // namespace lra

#endif  // LRA_FLOPS_H_
