// A Dataset that stores variable-length token sequences back to back in a
// narrow integer type and pads them on the fly in Get(). Storing the real
// tokens only (ListOps averages well under seq_len) in one byte each keeps
// a 96000-example split near 100 MB instead of 768 MB of padded int32.
#ifndef LRA_DATASETS_PACKED_DATASET_H_
#define LRA_DATASETS_PACKED_DATASET_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/types/span.h"
#include "datasets/dataset_base.h"

namespace lra {

// `Token` is the stored type (uint8_t or uint16_t); every id must fit in it,
// which Add() assumes the caller checked via vocab_size.
template <typename Token>
class PackedDataset final : public Dataset {
 public:
  PackedDataset(int seq_len, int vocab_size, int num_classes)
      : seq_len_(seq_len), vocab_size_(vocab_size), num_classes_(num_classes) {
    offsets_.push_back(0);
  }

  // Largest vocabulary the storage type can hold.
  static constexpr int64_t kMaxVocabSize =
      static_cast<int64_t>(std::numeric_limits<Token>::max()) + 1;

  void Reserve(int64_t examples, int64_t tokens) {
    labels_.reserve(examples);
    offsets_.reserve(examples + 1);
    tokens_.reserve(tokens);
  }

  // Appends an example; tokens beyond seq_len are dropped here since Get()
  // would never return them.
  template <typename Id>
  void Add(absl::Span<const Id> ids, int32_t label) {
    const size_t kept = std::min<size_t>(ids.size(), seq_len_);
    for (size_t i = 0; i < kept; ++i) {
      tokens_.push_back(static_cast<Token>(ids[i]));
    }
    offsets_.push_back(tokens_.size());
    labels_.push_back(label);
  }

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int seq_len() const override { return seq_len_; }
  int vocab_size() const override { return vocab_size_; }
  int num_classes() const override { return num_classes_; }

  int32_t Get(int64_t index, int32_t* tokens) const override {
    const int64_t begin = offsets_[index];
    const int64_t end = offsets_[index + 1];
    int32_t* out = tokens;
    for (int64_t i = begin; i < end; ++i) *out++ = tokens_[i];
    std::fill(out, tokens + seq_len_, 0);
    return labels_[index];
  }

  // Number of stored (unpadded, already truncated) tokens of one example.
  int64_t length(int64_t index) const {
    return offsets_[index + 1] - offsets_[index];
  }

 private:
  int seq_len_;
  int vocab_size_;
  int num_classes_;
  std::vector<Token> tokens_;     // [total tokens], examples back to back
  std::vector<int64_t> offsets_;  // [size + 1], start of each example
  std::vector<int32_t> labels_;   // [size]
};

}  // namespace lra

#endif  // LRA_DATASETS_PACKED_DATASET_H_
