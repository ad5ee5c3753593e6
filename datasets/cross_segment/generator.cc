#include "datasets/cross_segment/generator.h"

#include "absl/strings/str_cat.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"

namespace lra {
namespace cross_segment {
namespace {

// Keep this task's streams and split fingerprints apart from other tasks'
// (arbitrary constants; changing them changes every generated example).
constexpr uint64_t kStreamTag = 0x43726f7373536731ULL;  // "CrossSg1"
constexpr uint64_t kSplitTag = 0x43726f73732d7370ULL;   // "Cross-sp"
constexpr uint64_t kKeyStream = 0;
constexpr uint64_t kFillerStream = 1;
// Draws of the filler before an example settles for one of another split;
// with a third of the fillers in each split, running out is a 1 in 10^11
// event.
constexpr int kMaxAttempts = 64;

}  // namespace

absl::Status ValidateCrossSegmentConfig(const CrossSegmentConfig& config,
                                        int seq_len,
                                        const std::string& field_prefix) {
  const int values = config.num_values();
  if (values < 2 || values > kNumValues) {
    return FieldError(field_prefix + "num_values", absl::StrCat(values),
                      absl::StrCat("2..", kNumValues));
  }
  const int most = seq_len - 1 < kMaxKeyLength ? seq_len - 1 : kMaxKeyLength;
  if (config.key_length() < 1 || config.key_length() > most) {
    return FieldError(
        field_prefix + "key_length", absl::StrCat(config.key_length()),
        absl::StrCat("1..", most, " (at most ", kMaxKeyLength,
                     ", and at least one filler token must follow the key in "
                     "task.seq_len = ",
                     seq_len, ")"));
  }
  return absl::OkStatus();
}

int32_t GenerateCrossSegmentExample(const CrossSegmentConfig& config,
                                    int seq_len, uint64_t data_seed,
                                    Split split, int64_t index,
                                    int32_t* tokens) {
  const int k = config.key_length();
  const int values = config.num_values();
  const uint64_t split_code = static_cast<uint64_t>(split);
  const uint64_t example = static_cast<uint64_t>(index);
  // The key, from its own stream.
  Rng key_rng(
      DeriveSeed({kStreamTag, data_seed, split_code, example, kKeyStream}));
  int32_t label = 0;
  for (int i = 0; i < k; ++i) {
    const int32_t symbol =
        static_cast<int32_t>(key_rng.UniformInt(0, values - 1));
    tokens[i] = kFirstKeyId + symbol;
    label = (label + symbol) % values;
  }
  // The filler, from a second stream, redrawn until its own fingerprint picks
  // this split: the choice never looks at the key.
  DrawInSplit(
      kStreamTag, kSplitTag, data_seed, split, index, kMaxAttempts,
      absl::Span<const int32_t>(tokens + k, seq_len - k),
      [&](Rng& rng) {
        for (int i = k; i < seq_len; ++i) {
          tokens[i] = kFirstFillerId + static_cast<int32_t>(rng.UniformInt(
                                           0, kFillerSymbols - 1));
        }
      },
      kFillerStream);
  return label;
}

int CrossSegmentAnswer(absl::Span<const int32_t> tokens, int key_length,
                       int num_values) {
  if (key_length < 1 || static_cast<size_t>(key_length) > tokens.size()) {
    return -1;
  }
  int label = 0;
  for (int i = 0; i < key_length; ++i) {
    const int symbol = tokens[i] - kFirstKeyId;
    if (symbol < 0 || symbol >= num_values) return -1;
    label = (label + symbol) % num_values;
  }
  return label;
}

}  // namespace cross_segment
}  // namespace lra
