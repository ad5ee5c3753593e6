// Checkpoints: named float tensors plus a step and an opaque metadata string,
// zlib-compressed with a CRC, written atomically.
#ifndef LRA_CHECKPOINT_H_
#define LRA_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "models/tensor.h"

namespace lra {

using NamedTensors = std::vector<std::pair<std::string, Tensor*>>;

// Writes `tensors`, `step` and `metadata` to `path` through a temporary file
// and a rename, so an interrupted write never replaces a good checkpoint.
absl::Status SaveCheckpoint(const std::string& path, int64_t step,
                            const std::string& metadata,
                            const NamedTensors& tensors);

// Reads a checkpoint into `tensors`, which must match it exactly: every name
// present with the same number of values, nothing extra. A truncated or
// corrupt file, or one from a different model, gives an error naming the
// file and what does not match; `tensors` are then left unchanged.
absl::Status LoadCheckpoint(const std::string& path, int64_t* step,
                            std::string* metadata, const NamedTensors& tensors);

// Reads only the step and metadata of a checkpoint, e.g. to learn which
// model wrote it before building one to load it into.
absl::Status ReadCheckpointMetadata(const std::string& path, int64_t* step,
                                    std::string* metadata);

}  // namespace lra

#endif  // LRA_CHECKPOINT_H_
