// Datasets made by a generator that is a pure function of the example
// index. Small splits are generated once, in parallel, into a PackedDataset;
// splits too large to keep (retrieval's 147k pairs of 2 x 4000 bytes) are
// generated again on every Get(), which costs microseconds per example.
// Both give the same tokens.
#ifndef LRA_DATASETS_COMMON_GENERATED_DATASET_H_
#define LRA_DATASETS_COMMON_GENERATED_DATASET_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "datasets/common/task_config.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"

namespace lra {

// Writes example `index`'s seq_len tokens (every position, 0 = padding; a
// segment's padding only after its last token) and returns its label. Must
// be deterministic, thread-safe, and allocation-free once warm.
using ExampleFn = std::function<int32_t(int64_t index, int32_t* tokens)>;

struct GeneratedDatasetSpec {
  int64_t size = 0;
  int segment_len = 0;
  int num_segments = 1;
  int vocab_size = 0;
  int num_classes = 0;
  // Every non-padding id minus id_offset must fit in a byte.
  int id_offset = 0;
};

// Splits up to this many stored bytes are materialised.
inline constexpr int64_t kMaterializeBudgetBytes = int64_t{512} << 20;

// Materialises the split when size * seq_len <= budget_bytes (using OpenMP
// threads; the result does not depend on their number), otherwise returns a
// dataset that calls `generate` in Get(). An id out of range is an
// InternalError (a generator bug).
absl::StatusOr<std::unique_ptr<Dataset>> MakeGeneratedDataset(
    const GeneratedDatasetSpec& spec, ExampleFn generate,
    int64_t budget_bytes = kMaterializeBudgetBytes);

// The generator of a task's examples: example `index` of `split` under
// `data_seed`, seq_len positions per segment.
template <typename Config>
using TaskExampleFn = int32_t (*)(const Config& config, int seq_len,
                                  uint64_t data_seed, Split split,
                                  int64_t index, int32_t* tokens);

// The split of a generated task: SplitSize(task, split) examples of
// entry.num_segments segments of task.seq_len() positions, entry's
// vocabulary and classes, each example generate(config, task.seq_len(),
// task.data_seed(), split, index, tokens). `id_offset` as in
// GeneratedDatasetSpec.
template <typename Config>
absl::StatusOr<std::unique_ptr<Dataset>> MakeGeneratedTaskDataset(
    const TaskConfig& task, Split split, const TaskEntry& entry, int id_offset,
    const Config& config, TaskExampleFn<Config> generate) {
  GeneratedDatasetSpec spec;
  spec.size = SplitSize(task, split);
  spec.segment_len = task.seq_len();
  spec.num_segments = entry.num_segments;
  spec.vocab_size = entry.vocab_size;
  spec.num_classes = entry.num_classes;
  spec.id_offset = id_offset;
  const int seq_len = task.seq_len();
  const uint64_t seed = task.data_seed();
  return MakeGeneratedDataset(spec, [config, seq_len, seed, split, generate](
                                        int64_t index, int32_t* tokens) {
    return generate(config, seq_len, seed, split, index, tokens);
  });
}

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_GENERATED_DATASET_H_
