#include "datasets/common/packed_dataset.h"

#include <algorithm>

namespace lra {

PackedDataset::PackedDataset(int segment_len, int num_segments, int vocab_size,
                             int num_classes, int id_offset)
    : segment_len_(segment_len),
      num_segments_(num_segments),
      vocab_size_(vocab_size),
      num_classes_(num_classes),
      id_offset_(id_offset) {
  offsets_.push_back(0);
}

void PackedDataset::Reserve(int64_t examples, int64_t symbols) {
  labels_.reserve(examples);
  offsets_.reserve(examples * num_segments_ + 1);
  symbols_.reserve(symbols);
}

void PackedDataset::Add(absl::Span<const absl::Span<const uint8_t>> segments,
                        int32_t label) {
  for (int s = 0; s < num_segments_; ++s) {
    // A missing segment is stored empty, i.e. all padding.
    absl::Span<const uint8_t> symbols = s < static_cast<int>(segments.size())
                                            ? segments[s]
                                            : absl::Span<const uint8_t>();
    const size_t kept = std::min<size_t>(symbols.size(), segment_len_);
    symbols_.insert(symbols_.end(), symbols.begin(), symbols.begin() + kept);
    offsets_.push_back(static_cast<int64_t>(symbols_.size()));
  }
  labels_.push_back(label);
}

absl::Span<const uint8_t> PackedDataset::segment(int64_t index,
                                                 int segment) const {
  const int64_t k = index * num_segments_ + segment;
  return absl::MakeConstSpan(symbols_.data() + offsets_[k],
                             offsets_[k + 1] - offsets_[k]);
}

int32_t PackedDataset::Get(int64_t index, int32_t* tokens) const {
  for (int s = 0; s < num_segments_; ++s) {
    int32_t* out = tokens + int64_t{s} * segment_len_;
    const absl::Span<const uint8_t> symbols = segment(index, s);
    for (size_t i = 0; i < symbols.size(); ++i) {
      out[i] = int32_t{symbols[i]} + id_offset_;
    }
    std::fill(out + symbols.size(), out + segment_len_, 0);
  }
  return labels_[index];
}

}  // namespace lra
