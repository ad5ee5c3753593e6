// Runs an attention plugin on the inputs of a golden file (see golden_file.h)
// and compares its output and gradients with the file: the steps every
// plugin's golden test shares. Tests only.
//
// The file names its shape in the scalars batch, heads, seq_len, head_dim
// (and d_model where the plugin reads the layer input), its inputs in the
// tensors q, k, v, mask, dout (and x), its parameters as param/<name>, and
// what PyTorch computed as out, grad/q, grad/k, grad/v (grad/x) and
// grad/<name>.
#ifndef LRA_MODELS_ATTENTION_TESTING_GOLDEN_ATTENTION_H_
#define LRA_MODELS_ATTENTION_TESTING_GOLDEN_ATTENTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/testing/golden_file.h"

namespace lra {

// The attention shape the file records (d_model only where it has one).
absl::StatusOr<AttentionShape> GoldenAttentionShape(const GoldenFile& g);

// How many parameters the file holds (its param/<name> tensors).
int GoldenParameterCount(const GoldenFile& g);

// Copies every parameter of `attention` from the file's param/<name> and
// zeroes its gradient. Returns how many it loaded, or an error naming the
// first parameter the file lacks or holds with another size.
absl::StatusOr<int> LoadGoldenParameters(const GoldenFile& g,
                                         Attention& attention);

// Runs Forward on the file's q, k, v (and x where the file has one) with its
// key mask over shape.max_batch examples, then Backward with its dout, and
// compares with CompareWithGolden at `rtol`: the output, the gradients in q,
// k and v (and x), and the gradient of every parameter of `attention`.
// Returns "" when all match, else the report of the mismatches; an error
// when the file lacks a tensor or its mask is not [batch, seq_len].
absl::StatusOr<std::string> CompareForwardBackwardWithGolden(
    const GoldenFile& g, const AttentionShape& shape, Attention& attention,
    double rtol);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_GOLDEN_ATTENTION_H_
