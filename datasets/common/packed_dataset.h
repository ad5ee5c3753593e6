// The one in-memory storage class of the tasks: unpadded token sequences
// stored back to back, one byte a token, padded on the fly in Get().
// Storing only the real tokens (ListOps averages well under seq_len) in one
// byte each keeps a 96000-example split near 100 MB instead of 768 MB of
// padded int32. An example may be several independently padded segments
// (retrieval's two documents). Get() writes symbol + id_offset, so
// byte-level tasks store raw bytes 0..255 and hand out ids 1..256 with 0
// left for padding, while ListOps stores its ids as they are (offset 0).
#ifndef LRA_DATASETS_COMMON_PACKED_DATASET_H_
#define LRA_DATASETS_COMMON_PACKED_DATASET_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "datasets/dataset_base.h"

namespace lra {

class PackedDataset final : public Dataset {
 public:
  // Largest stored symbol.
  static constexpr int kMaxSymbol = 255;

  // seq_len() is segment_len * num_segments. Every stored symbol plus
  // `id_offset` must be below vocab_size, and nonzero, since 0 is padding.
  PackedDataset(int segment_len, int num_segments, int vocab_size,
                int num_classes, int id_offset);

  void Reserve(int64_t examples, int64_t symbols);

  // Appends an example with one symbol string per segment
  // (segments.size() == num_segments); each is cut to segment_len here,
  // since Get() would never return the rest.
  void Add(absl::Span<const absl::Span<const uint8_t>> segments, int32_t label);
  // The one-segment case.
  void Add(absl::Span<const uint8_t> symbols, int32_t label) {
    Add(absl::MakeConstSpan(&symbols, 1), label);
  }

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int seq_len() const override { return segment_len_ * num_segments_; }
  int vocab_size() const override { return vocab_size_; }
  int num_classes() const override { return num_classes_; }
  int num_segments() const override { return num_segments_; }
  int32_t Get(int64_t index, int32_t* tokens) const override;

  // Stored (unpadded, already cut) symbols of one segment of an example.
  absl::Span<const uint8_t> segment(int64_t index, int segment) const;
  int segment_len() const { return segment_len_; }
  int id_offset() const { return id_offset_; }

 private:
  int segment_len_;
  int num_segments_;
  int vocab_size_;
  int num_classes_;
  int id_offset_;
  std::vector<uint8_t> symbols_;  // [total symbols], segments back to back
  std::vector<int64_t> offsets_;  // [size * num_segments + 1]
  std::vector<int32_t> labels_;   // [size]
};

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_PACKED_DATASET_H_
