// Helpers shared by the encoder tests (encoder_test, encoder_dual_test,
// golden/): building an encoder from the built-in plugins and checking every
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

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_ENCODER_TESTING_H_
