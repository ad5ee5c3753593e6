#include "datasets/brackets/generator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"

namespace lra {
namespace brackets {
namespace {

// Keep this task's streams and split fingerprints apart from other tasks'
// (arbitrary constants; changing them changes every generated example).
constexpr uint64_t kStreamTag = 0x427261636b657473ULL;  // "Brackets"
constexpr uint64_t kSplitTag = 0x42726b2d73706c74ULL;   // "Brk-splt"
// Shapes an example may draw before it gives up on long pairs of both
// types, and draws before it settles for a sequence of another split.
constexpr int kMaxShapes = 10000;
constexpr int kMaxSplitAttempts = 64;

struct Scratch {
  std::vector<int> stack;   // [depth] positions of open brackets
  std::vector<int> round;   // positions of long "(" openers
  std::vector<int> square;  // positions of long "[" openers
};

// Draws a nesting shape of n brackets with random pair types into tokens
// and collects the openers of pairs spanning >= min_span. In a uniformly
// random Dyck path, from depth d with r brackets left, the next bracket
// opens with probability k (d + 2) / (r (d + 1)), k = (r - d) / 2.
void DrawShape(const BracketsConfig& config, int n, Rng& rng, Scratch& s,
               int32_t* tokens) {
  s.stack.clear();
  s.round.clear();
  s.square.clear();
  for (int pos = 0; pos < n; ++pos) {
    const int d = static_cast<int>(s.stack.size());
    const int r = n - pos;
    bool open;
    if (d == 0) {
      open = true;
    } else if (d == r || d >= config.max_depth()) {
      open = false;
    } else {
      const double k = (r - d) / 2.0;
      open = rng.UniformDouble() < k * (d + 2) / (r * (d + 1.0));
    }
    if (open) {
      tokens[pos] = rng.Bernoulli(0.5) ? kOpenRound : kOpenSquare;
      s.stack.push_back(pos);
    } else {
      const int opener = s.stack.back();
      s.stack.pop_back();
      tokens[pos] = tokens[opener] + 1;  // The matching closer.
      if (pos - opener >= config.min_span()) {
        (tokens[opener] == kOpenRound ? s.round : s.square).push_back(opener);
      }
    }
  }
}

void Draw(const BracketsConfig& config, int seq_len, Rng& rng, Scratch& s,
          int32_t* tokens, int32_t* label) {
  *label = static_cast<int32_t>(rng.UniformInt(0, 1));
  const int pairs_lo = (config.min_length() + 1) / 2;
  const int pairs_hi = config.max_length() / 2;
  const int n = 2 * static_cast<int>(rng.UniformInt(pairs_lo, pairs_hi));
  for (int shape = 0; shape < kMaxShapes; ++shape) {
    DrawShape(config, n, rng, s, tokens);
    if (!s.round.empty() && !s.square.empty()) break;
  }
  // Validation keeps shapes without long pairs of both types rare enough
  // that kMaxShapes draws virtually never all lack them; if they do, the
  // example stays well nested and says so.
  if (s.round.empty() || s.square.empty()) *label = 1;
  if (*label == 0) {
    const int a = s.round[rng.UniformInt(0, s.round.size() - 1)];
    const int b = s.square[rng.UniformInt(0, s.square.size() - 1)];
    std::swap(tokens[a], tokens[b]);
  }
  std::fill(tokens + n, tokens + seq_len, 0);
}

}  // namespace

absl::Status ValidateBracketsConfig(const BracketsConfig& config, int seq_len,
                                    const std::string& field_prefix) {
  const std::string p = field_prefix;
  if (config.min_length() < 4) {
    return FieldError(p + "min_length", absl::StrCat(config.min_length()),
                      ">= 4");
  }
  if (config.max_length() > seq_len ||
      config.max_length() < config.min_length() ||
      (config.max_length() == config.min_length() &&
       config.min_length() % 2 == 1)) {
    return FieldError(
        p + "max_length", absl::StrCat(config.max_length()),
        absl::StrCat("min_length..task.seq_len = ", config.min_length(), "..",
                     seq_len, ", with an even number in between"));
  }
  if (config.max_depth() < 2) {
    return FieldError(p + "max_depth", absl::StrCat(config.max_depth()),
                      ">= 2");
  }
  // Long pairs of both types must be common in every shape; a quarter of
  // the shortest length keeps redraws rare.
  if (config.min_span() < 1 || config.min_span() > config.min_length() / 4) {
    return FieldError(
        p + "min_span", absl::StrCat(config.min_span()),
        absl::StrCat("1..min_length / 4 = ", config.min_length() / 4));
  }
  return absl::OkStatus();
}

int32_t GenerateBracketsExample(const BracketsConfig& config, int seq_len,
                                uint64_t data_seed, Split split, int64_t index,
                                int32_t* tokens) {
  thread_local Scratch scratch;
  int32_t label = 0;
  DrawInSplit(kStreamTag, kSplitTag, data_seed, split, index, kMaxSplitAttempts,
              absl::MakeConstSpan(tokens, seq_len), [&](Rng& rng) {
                Draw(config, seq_len, rng, scratch, tokens, &label);
              });
  return label;
}

int WellNested(absl::Span<const int32_t> tokens) {
  return WellNestedWithin(tokens, static_cast<int>(tokens.size()) + 1);
}

int WellNestedWithin(absl::Span<const int32_t> tokens, int window) {
  std::vector<int> stack;
  for (int pos = 0; pos < static_cast<int>(tokens.size()); ++pos) {
    const int32_t id = tokens[pos];
    if (id == 0) break;
    if (id == kOpenRound || id == kOpenSquare) {
      stack.push_back(pos);
      continue;
    }
    if (stack.empty()) return 0;
    const int opener = stack.back();
    stack.pop_back();
    if (tokens[opener] + 1 != id && pos - opener < window) return 0;
  }
  return stack.empty() ? 1 : 0;
}

}  // namespace brackets
}  // namespace lra
