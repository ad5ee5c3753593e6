#include "datasets/recall/generator.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"

namespace lra {
namespace recall {
namespace {

// Keep this task's streams and split fingerprints apart from other tasks'
// (arbitrary constants; changing them changes every generated example).
constexpr uint64_t kStreamTag = 0x526563616c6c3031ULL;  // "Recall01"
constexpr uint64_t kSplitTag = 0x5265632d73706c74ULL;   // "Rec-splt"
// Draws before an example settles for a sequence of another split; with a
// third of the sequences in each split, running out is a 1 in 10^11 event.
constexpr int kMaxAttempts = 64;

int64_t KeySpace(int key_length) {
  int64_t space = 1;
  for (int i = 0; i < key_length; ++i) space *= kKeySymbols;
  return space;
}

// Scratch reused by each thread's examples.
struct Scratch {
  std::vector<uint64_t> used;  // [key space / 64] bitmap of drawn keys
  std::vector<int64_t> keys;   // [num_pairs]
  std::vector<int8_t> values;  // [num_pairs]
};

void Draw(const RecallConfig& config, Rng& rng, int seq_len, Scratch& s,
          int32_t* tokens, int32_t* label) {
  const int n = config.num_pairs();
  const int length = config.key_length();
  const int64_t space = KeySpace(length);
  s.used.resize((space + 63) / 64);
  s.keys.resize(n);
  s.values.resize(n);
  // Distinct keys by rejection; N <= space / 2 keeps this fast.
  for (int i = 0; i < n; ++i) {
    int64_t key;
    do {
      key = rng.UniformInt(0, space - 1);
    } while (s.used[key / 64] >> (key % 64) & 1);
    s.used[key / 64] |= uint64_t{1} << (key % 64);
    s.keys[i] = key;
  }
  for (int i = 0; i < n; ++i) {
    s.used[s.keys[i] / 64] &= ~(uint64_t{1} << (s.keys[i] % 64));
  }
  // Balanced values: a random order of the values in use repeated,
  // shuffled.
  const int num_values = config.num_values();
  std::array<int8_t, kNumValues> order;
  for (int v = 0; v < num_values; ++v) order[v] = static_cast<int8_t>(v);
  for (int v = num_values - 1; v > 0; --v) {
    std::swap(order[v], order[rng.UniformInt(0, v)]);
  }
  for (int i = 0; i < n; ++i) s.values[i] = order[i % num_values];
  for (int i = n - 1; i > 0; --i) {
    std::swap(s.values[i], s.values[rng.UniformInt(0, i)]);
  }
  // The label first, then a uniform pair holding it.
  *label = static_cast<int32_t>(rng.UniformInt(0, num_values - 1));
  int holders = 0;
  for (int i = 0; i < n; ++i) holders += s.values[i] == *label;
  int64_t pick = rng.UniformInt(0, holders - 1);
  int query = 0;
  for (int i = 0; i < n; ++i) {
    if (s.values[i] == *label && pick-- == 0) {
      query = i;
      break;
    }
  }
  // Keys are written most significant symbol first.
  auto write_key = [length](int64_t key, int32_t* out) {
    for (int k = length - 1; k >= 0; --k) {
      out[k] = kFirstKeyId + static_cast<int32_t>(key % kKeySymbols);
      key /= kKeySymbols;
    }
  };
  int32_t* out = tokens;
  for (int i = 0; i < n; ++i) {
    write_key(s.keys[i], out);
    out[length] = kFirstValueId + s.values[i];
    out += length + 1;
  }
  *out++ = kQueryId;
  write_key(s.keys[query], out);
  out += length;
  std::fill(out, tokens + seq_len, 0);
}

}  // namespace

absl::Status ValidateRecallConfig(const RecallConfig& config, int seq_len,
                                  const std::string& field_prefix) {
  const int length = config.key_length();
  if (length < 1 || length > kMaxKeyLength) {
    return FieldError(field_prefix + "key_length", absl::StrCat(length),
                      absl::StrCat("1..", kMaxKeyLength));
  }
  const int values = config.num_values();
  if (values < 2 || values > kNumValues) {
    return FieldError(field_prefix + "num_values", absl::StrCat(values),
                      absl::StrCat("2..", kNumValues));
  }
  const int64_t most_by_keys = KeySpace(length) / 2;
  const int64_t most_by_length = (seq_len - 1 - length) / (length + 1);
  const int64_t most = std::min(most_by_keys, most_by_length);
  if (config.num_pairs() < values || config.num_pairs() > most) {
    return FieldError(
        field_prefix + "num_pairs", absl::StrCat(config.num_pairs()),
        absl::StrCat(values, "..", most,
                     " (every value must occur; at "
                     "most half of the ",
                     KeySpace(length), " keys of key_length ", length,
                     ", and the sequence "
                     "must fit task.seq_len = ",
                     seq_len, ")"));
  }
  return absl::OkStatus();
}

int32_t GenerateRecallExample(const RecallConfig& config, int seq_len,
                              uint64_t data_seed, Split split, int64_t index,
                              int32_t* tokens) {
  thread_local Scratch scratch;
  const int64_t length = RecallLength(config.num_pairs(), config.key_length());
  int32_t label = 0;
  DrawInSplit(kStreamTag, kSplitTag, data_seed, split, index, kMaxAttempts,
              absl::MakeConstSpan(tokens, length), [&](Rng& rng) {
                Draw(config, rng, seq_len, scratch, tokens, &label);
              });
  return label;
}

int RecallAnswer(absl::Span<const int32_t> tokens, int key_length) {
  const int stride = key_length + 1;
  // The query marker ends the pairs.
  size_t marker = 0;
  while (marker < tokens.size() && tokens[marker] != kQueryId) {
    marker += stride;
  }
  if (marker + key_length >= tokens.size() || tokens[marker] != kQueryId) {
    return -1;
  }
  const int32_t* query = tokens.data() + marker + 1;
  for (size_t pair = 0; pair < marker; pair += stride) {
    if (std::equal(query, query + key_length, tokens.data() + pair)) {
      const int value = tokens[pair + key_length] - kFirstValueId;
      return value >= 0 && value < kNumValues ? value : -1;
    }
  }
  return -1;
}

}  // namespace recall
}  // namespace lra
