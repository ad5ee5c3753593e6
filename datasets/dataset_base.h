// The Dataset interface shared by every task, and the Split enum. Task
// packages depend on this; //datasets:dataset adds the registry on top.
#ifndef LRA_DATASETS_DATASET_BASE_H_
#define LRA_DATASETS_DATASET_BASE_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace lra {

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };
inline constexpr int kNumSplits = 3;

// "train", "val" or "test".
absl::string_view SplitName(Split split);

// An in-memory split. Tokens are already padded/truncated to seq_len.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int seq_len() const = 0;
  // Including the padding id 0.
  virtual int vocab_size() const = 0;
  virtual int num_classes() const = 0;
  // Copies example `index`'s tokens ([seq_len] int32, 0 = padding) into
  // `tokens` and returns its label. Thread-safe, no allocation.
  virtual int32_t Get(int64_t index, int32_t* tokens) const = 0;
  // Number of equal segments of seq_len() that are separate inputs: 2 for
  // retrieval's document pairs ([doc 1 | doc 2], each seq_len() / 2 tokens
  // padded on its own), which a dual encoder encodes separately; 1 otherwise.
  virtual int num_segments() const { return 1; }
};

}  // namespace lra

#endif  // LRA_DATASETS_DATASET_BASE_H_
