#include "datasets/common/generated_dataset.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "datasets/common/packed_dataset.h"

namespace lra {
namespace {

class LazyDataset final : public Dataset {
 public:
  LazyDataset(const GeneratedDatasetSpec& spec, ExampleFn generate)
      : spec_(spec), generate_(std::move(generate)) {}

  int64_t size() const override { return spec_.size; }
  int seq_len() const override {
    return spec_.segment_len * spec_.num_segments;
  }
  int vocab_size() const override { return spec_.vocab_size; }
  int num_classes() const override { return spec_.num_classes; }
  int num_segments() const override { return spec_.num_segments; }
  int32_t Get(int64_t index, int32_t* tokens) const override {
    return generate_(index, tokens);
  }

 private:
  GeneratedDatasetSpec spec_;
  ExampleFn generate_;
};

// Converts one segment's ids to stored symbols (trailing padding dropped).
// Returns false on an id that cannot be stored.
bool ToSymbols(const int32_t* ids, int length, int id_offset,
               std::vector<uint8_t>* symbols) {
  int end = length;
  while (end > 0 && ids[end - 1] == 0) --end;
  for (int i = 0; i < end; ++i) {
    const int32_t symbol = ids[i] - id_offset;
    if (ids[i] <= 0 || symbol < 0 || symbol > 255) return false;
    symbols->push_back(static_cast<uint8_t>(symbol));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dataset>> MakeGeneratedDataset(
    const GeneratedDatasetSpec& spec, ExampleFn generate,
    int64_t budget_bytes) {
  const int seq_len = spec.segment_len * spec.num_segments;
  if (spec.size * seq_len > budget_bytes) {
    return std::make_unique<LazyDataset>(spec, std::move(generate));
  }
  const int64_t size = spec.size;
  // [size][num_segments] stored symbols of each segment.
  std::vector<std::vector<uint8_t>> symbols(size * spec.num_segments);
  std::vector<int32_t> labels(size);
  std::atomic<int64_t> bad_example{-1};
#pragma omp parallel
  {
    std::vector<int32_t> tokens(seq_len);  // [seq_len]
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < size; ++i) {
      labels[i] = generate(i, tokens.data());
      for (int s = 0; s < spec.num_segments; ++s) {
        std::vector<uint8_t>& out = symbols[i * spec.num_segments + s];
        out.reserve(spec.segment_len);
        if (!ToSymbols(tokens.data() + int64_t{s} * spec.segment_len,
                       spec.segment_len, spec.id_offset, &out)) {
          bad_example = i;
        }
      }
    }
  }
  if (bad_example.load() >= 0) {
    return absl::InternalError(absl::StrCat(
        "generated example ", bad_example.load(),
        " has an id that is not a stored symbol + ", spec.id_offset, " in 1..",
        spec.vocab_size - 1, ", or padding before its end"));
  }
  int64_t total = 0;
  for (const auto& segment : symbols) total += segment.size();
  auto dataset = std::make_unique<PackedDataset>(
      spec.segment_len, spec.num_segments, spec.vocab_size, spec.num_classes,
      spec.id_offset);
  dataset->Reserve(size, total);
  std::vector<absl::Span<const uint8_t>> segments(spec.num_segments);
  for (int64_t i = 0; i < size; ++i) {
    for (int s = 0; s < spec.num_segments; ++s) {
      segments[s] = symbols[i * spec.num_segments + s];
    }
    dataset->Add(absl::MakeConstSpan(segments), labels[i]);
    // Frees each example once stored, so the peak stays near one copy.
    for (int s = 0; s < spec.num_segments; ++s) {
      std::vector<uint8_t>().swap(symbols[i * spec.num_segments + s]);
    }
  }
  return dataset;
}

}  // namespace lra
