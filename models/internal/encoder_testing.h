// Helpers shared by the encoder tests (encoder_test, encoder_dual_test,
// golden/, and the whole-encoder tests of sequence/ and mixers/): a small
// config, padded token batches, building an encoder from the built-in
// plugins, copying and reading its parameters, and checking every
// parameter's gradient against central differences.
#ifndef LRA_MODELS_INTERNAL_ENCODER_TESTING_H_
#define LRA_MODELS_INTERNAL_ENCODER_TESTING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/encoder.h"
#include "proto/config.pb.h"

namespace lra::internal {

// The small model every whole-encoder test starts from: vocabulary 7,
// d_model 8, 2 layers of 2 heads, qkv_dim 8, mlp_dim 12, classifier_dim 6,
// 3 classes; everything else at its default.
ModelConfig SmallModelConfig();

// Tokens [batch, seq_len] for a vocabulary of 7: example b has `real[b]`
// real tokens (1..6, a function of seed and position), then padding (0).
std::vector<int32_t> PaddedTokens(const std::vector<int>& real, int seq_len,
                                  uint64_t seed);

// The logits [batch, num_classes] of an evaluation Forward (no dropout).
std::vector<float> Logits(Encoder& encoder, const std::vector<int32_t>& tokens,
                          int batch);

// Copies every parameter of `from` into `to` (same names and sizes; a size
// mismatch fails the current test).
void CopyParameters(Encoder& from, Encoder& to);

// How many failures CheckPaddedBatchGradients(encoder, seq_len) reports,
// intercepted so that they do not fail the current test: for fixtures that
// prove the gradient check catches a broken backward.
int InterceptedGradientCheckFailures(Encoder& encoder, int seq_len);

// Expects `config` (whose max_len must be at least 20) to give the same
// logits, within 1e-5, for two sequences of 10 and 5 real tokens padded to
// 12 positions as for the same tokens padded to 20. Failures name `label`
// and the logit.
void ExpectPaddingChangesNothing(const ModelConfig& config,
                                 const std::string& label);

// Expects two encoders of `config` initialised alike to give equal logits
// for a batch of three padded sequences, a second call to give them again,
// and the second sequence alone to give its row of the batch (within 1e-5).
void ExpectDeterministicAndBatchIndependent(const ModelConfig& config);

// Encoder::Create with the built-in plugins.
absl::StatusOr<std::unique_ptr<Encoder>> CreateEncoder(
    const ModelConfig& config, int seq_len, int max_batch);

// The message of CreateEncoder's error, or "ok".
std::string CreateError(const ModelConfig& config, int seq_len, int max_batch);

// A copy of every parameter's value (grads = false) or gradient, by name.
std::map<std::string, Tensor> ParameterSnapshot(Encoder& encoder,
                                                bool grads = false);

// Initialises `encoder` with `init_seed`, scales the embeddings up (so the
// loss is not flat in them), and checks the analytic gradient of the mean
// loss over (tokens, labels) for up to 12 entries of every parameter against
// central differences, training with dropout `seed` (the masks stay fixed
// across the perturbed evaluations). Adds a gtest failure per mismatch and
// returns the number of parameters checked.
int CheckAllParameterGradients(Encoder& encoder,
                               const std::vector<int32_t>& tokens,
                               const std::vector<int32_t>& labels, int batch,
                               uint64_t init_seed, uint64_t seed);

// The whole-model gradient check of the sequence and mixer plugins' tests:
// CheckAllParameterGradients on three examples of seq_len, seq_len - 3 and
// seq_len - 6 real tokens padded to seq_len (PaddedTokens, seed 5), labels
// 0, 2, 1, dropout seed 99. Returns the number of parameters checked.
int CheckPaddedBatchGradients(Encoder& encoder, int seq_len,
                              uint64_t init_seed = 7);

// One variant of the whole-model gradient check.
struct GradientVariant {
  Pooling pooling;
  PositionalEncoding positional;
  float dropout;  // also the attention dropout
};

// Builds an encoder for `config` with the variant's pooling, positional
// encoding and dropout (seq_len positions, batches up to 4) and runs
// CheckAllParameterGradients on `tokens` (3 examples, labels 0, 2, 1;
// init_seed 7, dropout seed 99). Returns the number of parameters checked.
int CheckVariantGradients(ModelConfig config, const GradientVariant& variant,
                          int seq_len, const std::vector<int32_t>& tokens);

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_ENCODER_TESTING_H_
