#include "datasets/text/generator.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"
#include "datasets/common/words.h"
#include "util/status_macros.h"

namespace lra {
namespace text {
namespace {

// Keeps this generator's streams apart from every other task's (an
// arbitrary constant; changing it changes every generated example).
constexpr uint64_t kStreamTag = 0x546578745374616eULL;  // "TextStan"

constexpr CuePair kCuePairs[] = {
    {"smile", "slime"},       {"live", "evil"},     {"sacred", "scared"},
    {"teach", "cheat"},       {"lived", "devil"},   {"garden", "danger"},
    {"desserts", "stressed"}, {"wonder", "downer"},
};
constexpr int kNumPairs = sizeof(kCuePairs) / sizeof(kCuePairs[0]);

}  // namespace

absl::Span<const CuePair> CuePairs() { return absl::MakeConstSpan(kCuePairs); }

absl::Status ValidateTextStandIn(const TextConfig& config, int seq_len,
                                 const std::string& field_prefix) {
  const std::string p = field_prefix;
  RETURN_IF_ERROR(
      CheckLengthRange(config.min_length(), config.max_length(), p));
  const int k = config.num_cues();
  if (k < 1 || k > kMaxCues || k % 2 == 0) {
    return FieldError(p + "num_cues", absl::StrCat(k),
                      absl::StrCat("an odd number in 1..", kMaxCues));
  }
  const int m = config.max_margin();
  if (m < 1 || m > k || m % 2 == 0) {
    return FieldError(p + "max_margin", absl::StrCat(m),
                      absl::StrCat("an odd number in 1..num_cues = ", k));
  }
  // The shortest visible document must hold every cue in its own share.
  return CheckMarkersFit(p + "num_cues", k,
                         std::min(config.min_length(), seq_len), "cue");
}

int32_t GenerateTextExample(const TextConfig& config, int seq_len,
                            uint64_t data_seed, Split split, int64_t index,
                            int32_t* tokens) {
  Rng rng(ExampleSeed(kStreamTag, data_seed, split, index));
  const int length = static_cast<int>(
      rng.UniformInt(config.min_length(), config.max_length()));
  const int visible = std::min(length, seq_len);
  const int32_t label = static_cast<int32_t>(rng.UniformInt(0, 1));
  const int k = config.num_cues();
  const int margin =
      2 * static_cast<int>(rng.UniformInt(0, (config.max_margin() - 1) / 2)) +
      1;
  const int majority = (k + margin) / 2;
  // Polarity of each cue: `majority` of them agree with the label, in a
  // random order (a partial Fisher-Yates shuffle of the flags).
  std::array<bool, kMaxCues> agrees;
  for (int s = 0; s < k; ++s) agrees[s] = s < majority;
  for (int s = k - 1; s > 0; --s) {
    std::swap(agrees[s], agrees[rng.UniformInt(0, s)]);
  }
  std::array<absl::string_view, kMaxCues> cues;
  for (int s = 0; s < k; ++s) {
    const CuePair& pair = kCuePairs[rng.UniformInt(0, kNumPairs - 1)];
    const bool positive = agrees[s] == (label == 1);
    cues[s] = positive ? pair.positive : pair.negative;
  }
  WriteSpreadDocument(rng, absl::MakeConstSpan(cues.data(), k), visible,
                      tokens);
  std::fill(tokens + visible, tokens + seq_len, 0);
  return label;
}

CueCounts CountCues(absl::Span<const int32_t> tokens) {
  CueCounts counts;
  std::vector<char> scratch(tokens.size());
  ForEachWord(tokens, scratch.data(), [&](absl::string_view word) {
    for (const CuePair& pair : kCuePairs) {
      if (word == pair.positive) ++counts.positive;
      if (word == pair.negative) ++counts.negative;
    }
  });
  return counts;
}

}  // namespace text
}  // namespace lra
