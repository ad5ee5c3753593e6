#include "models/attention/block_sparse/pattern.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lra {
namespace {

uint64_t LowBits(int count) {
  return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
}

int PopCount(uint64_t x) { return __builtin_popcountll(x); }

}  // namespace

int64_t BlockSparsePattern::AllowedPairs() const {
  int64_t pairs = 0;
  for (const SparseQueryBlock& qb : query_blocks) {
    for (int k = 0; k < qb.num_keys; ++k) {
      const SparseKeyBlock& kb = key_blocks[qb.first_key + k];
      for (int r = 0; r < qb.rows.count; ++r) {
        pairs += kb.mask < 0 ? kb.keys.count : PopCount(masks[kb.mask + r]);
      }
    }
  }
  return pairs;
}

int64_t BlockSparsePattern::ScoreTiles() const {
  return static_cast<int64_t>(key_blocks.size());
}

std::string BlockSparsePattern::Summary() const {
  const double n = static_cast<double>(seq_len);
  return absl::StrFormat(
      "N=%d: %d query blocks, %d key tiles (%d masked), %d gathered, "
      "%d allowed pairs (%.2f%% of N^2)",
      seq_len, query_blocks.size(), key_blocks.size(),
      masks.size() / kSparseTile, gather.size(), AllowedPairs(),
      n > 0 ? 100.0 * AllowedPairs() / (n * n) : 0.0);
}

BlockSparsePatternBuilder::BlockSparsePatternBuilder(
    int seq_len, std::vector<int32_t> gather)
    : bits_(kSparseTile, 0) {
  pattern_.seq_len = seq_len;
  pattern_.gather = std::move(gather);
  if (seq_len <= 0) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "block-sparse pattern: seq_len must be positive, got ", seq_len));
  }
  for (size_t g = 0; g < pattern_.gather.size() && status_.ok(); ++g) {
    const int32_t p = pattern_.gather[g];
    if (p < 0 || p >= seq_len) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("block-sparse pattern: gather[", g, "] = ", p,
                       " is outside the sequence [0, ", seq_len, ")"));
    }
  }
}

bool BlockSparsePatternBuilder::CheckTile(const SparseTile& t,
                                          const char* what) {
  if (!status_.ok()) return false;
  const int64_t limit = t.gathered
                            ? static_cast<int64_t>(pattern_.gather.size())
                            : pattern_.seq_len;
  if (t.count < 1 || t.count > kSparseTile || t.begin < 0 ||
      t.begin + static_cast<int64_t>(t.count) > limit) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("block-sparse pattern: ", what, " tile [", t.begin, ", ",
                     t.begin + t.count, ") of ", t.count, " positions (",
                     t.gathered ? "gathered" : "natural", ") must hold 1 to ",
                     kSparseTile, " positions inside [0, ", limit, ")"));
    return false;
  }
  return true;
}

void BlockSparsePatternBuilder::AddQueryBlock(SparseTile rows) {
  if (!CheckTile(rows, "query")) return;
  SparseQueryBlock qb;
  qb.rows = rows;
  qb.first_key = static_cast<int32_t>(pattern_.key_blocks.size());
  pattern_.query_blocks.push_back(qb);
}

bool BlockSparsePatternBuilder::CheckKeyTile(const SparseTile& keys) {
  if (pattern_.query_blocks.empty()) {
    if (status_.ok()) {
      status_ = absl::FailedPreconditionError(
          "block-sparse pattern: AddKeys before any AddQueryBlock");
    }
    return false;
  }
  return CheckTile(keys, "key");
}

void BlockSparsePatternBuilder::AddKeys(SparseTile keys) {
  if (!CheckKeyTile(keys)) return;
  const int rows = pattern_.query_blocks.back().rows.count;
  for (int r = 0; r < rows; ++r) bits_[r] = LowBits(keys.count);
  AddMaskedKeys(keys, bits_.data());
}

void BlockSparsePatternBuilder::AddKeyRange(int begin, int end) {
  begin = std::max(begin, 0);
  end = std::min(end, pattern_.seq_len);
  for (int j0 = begin; j0 < end; j0 += kSparseTile) {
    AddKeys(SparseTile{j0, std::min(kSparseTile, end - j0), false});
  }
}

void BlockSparsePatternBuilder::AddGatheredKeyRange(int begin, int end) {
  begin = std::max(begin, 0);
  end = std::min(end, static_cast<int>(pattern_.gather.size()));
  for (int g0 = begin; g0 < end; g0 += kSparseTile) {
    AddKeys(SparseTile{g0, std::min(kSparseTile, end - g0), true});
  }
}

void BlockSparsePatternBuilder::AddMaskedKeys(SparseTile keys,
                                              const uint64_t* row_bits) {
  SparseQueryBlock& qb = pattern_.query_blocks.back();
  const uint64_t full = LowBits(keys.count);
  bool any = false, all = true;
  for (int r = 0; r < qb.rows.count; ++r) {
    any |= row_bits[r] != 0;
    all &= row_bits[r] == full;
  }
  if (!any) return;
  SparseKeyBlock kb;
  kb.keys = keys;
  if (!all) {
    kb.mask = static_cast<int32_t>(pattern_.masks.size());
    // Always 64 entries, so that the engine may read a row mask for any row
    // of a tile without bounds checks.
    for (int r = 0; r < kSparseTile; ++r) {
      pattern_.masks.push_back(r < qb.rows.count ? row_bits[r] : 0);
    }
  }
  pattern_.key_blocks.push_back(kb);
  ++qb.num_keys;
}

absl::StatusOr<BlockSparsePattern> BlockSparsePatternBuilder::Build() && {
  if (!status_.ok()) return status_;
  return std::move(pattern_);
}

}  // namespace lra
