// A block-sparse attention pattern: for each tile of query rows, the tiles of
// keys it attends, with per-element masks only where a tile is partly
// allowed (window edges, causal diagonals, excluded duplicates). Patterns are
// built once per plugin instance; BlockSparseAttention computes exactly the
// listed tiles.
//
// Tiles are at most 64 positions (the width of the score kernels). A tile is
// either natural (consecutive sequence positions) or gathered (consecutive
// entries of the pattern's gather list, e.g. the summary columns of the Sparse
// Transformer or the global tokens of Longformer), so that scattered keys or
// queries still fill whole tiles.
#ifndef LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_H_
#define LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lra {

// Positions per tile, on both the query and the key side.
inline constexpr int kSparseTile = 64;

// Up to 64 positions: [begin, begin + count) of the sequence when natural, or
// the sequence positions gather[begin .. begin + count) when gathered.
struct SparseTile {
  int32_t begin = 0;
  int32_t count = 0;
  bool gathered = false;
};

// One tile of keys attended by a query block. `mask` is the offset in
// BlockSparsePattern::masks of one 64-bit row mask per query row (bit c set =
// key c allowed), or -1 when every (row, key) pair of the tile is allowed.
struct SparseKeyBlock {
  SparseTile keys;
  int32_t mask = -1;
};

// A tile of query rows and the range [first_key, first_key + num_keys) of
// BlockSparsePattern::key_blocks it attends.
struct SparseQueryBlock {
  SparseTile rows;
  int32_t first_key = 0;
  int32_t num_keys = 0;
};

// The whole pattern for one head (or for all heads). Invariant, checked by the
// tests of each pattern: every allowed (query, key) pair of the sequence
// appears in exactly one (query block, key block, mask) combination, so the
// engine may merge the softmax of a row over all its blocks.
struct BlockSparsePattern {
  int seq_len = 0;
  std::vector<int32_t> gather;  // sequence positions of the gathered space
  std::vector<SparseQueryBlock> query_blocks;
  std::vector<SparseKeyBlock> key_blocks;
  std::vector<uint64_t> masks;

  // Sequence position of entry r of tile t.
  int Position(const SparseTile& t, int r) const {
    return t.gathered ? gather[t.begin + r] : t.begin + r;
  }
  // Whether key c of key block kb is allowed for row r of its query block
  // (ignoring key padding).
  bool Allows(const SparseKeyBlock& kb, int r, int c) const {
    if (c >= kb.keys.count) return false;
    return kb.mask < 0 || ((masks[kb.mask + r] >> c) & 1u) != 0;
  }
  // Number of (query, key) pairs the pattern allows.
  int64_t AllowedPairs() const;
  // Number of 64 x 64 score tiles computed per head, a measure of work.
  int64_t ScoreTiles() const;
  // One line for logs and tests: tiles, pairs, density.
  std::string Summary() const;
};

// Builds a BlockSparsePattern. Call AddQueryBlock, then AddKeys for each key
// tile that block attends; then Build. Predicate overloads evaluate
// allowed(i, j) on sequence positions for every pair of the tile, store a mask
// when the tile is partly allowed, and drop the tile when nothing is allowed.
class BlockSparsePatternBuilder {
 public:
  explicit BlockSparsePatternBuilder(int seq_len,
                                     std::vector<int32_t> gather = {});

  // Starts a new query block; rows.count must be in [1, 64].
  void AddQueryBlock(SparseTile rows);
  // Adds a key tile in which every pair is allowed.
  void AddKeys(SparseTile keys);
  // Adds a key tile keeping the pairs with allowed(i, j).
  template <typename Allowed>
  void AddKeys(SparseTile keys, const Allowed& allowed);
  // Adds the natural positions [begin, end) as consecutive tiles of up to 64
  // keys (clipped to the sequence), keeping the pairs with allowed(i, j).
  // The first tile starts at begin rounded down to a multiple of 16 when
  // that needs no extra tile: the extra keys are masked by the predicate, and
  // tiles aligned to a cache line keep the score kernel's 64-byte loads from
  // splitting across two lines.
  template <typename Allowed>
  void AddKeyRange(int begin, int end, const Allowed& allowed);
  // The same for entries [begin, end) of the gather list.
  template <typename Allowed>
  void AddGatheredKeyRange(int begin, int end, const Allowed& allowed);
  // Where AddKeyRange(begin, end, allowed) starts its first tile: begin
  // clipped to 0, then rounded down to a multiple of 16 unless that needs
  // one more tile.
  static int AlignedBegin(int begin, int end) {
    if (begin < 0) begin = 0;
    const int aligned = begin - begin % 16;
    const bool same_tiles = (end - aligned + kSparseTile - 1) / kSparseTile ==
                            (end - begin + kSparseTile - 1) / kSparseTile;
    return same_tiles ? aligned : begin;
  }
  // The range overloads without a predicate: every pair allowed.
  void AddKeyRange(int begin, int end);
  void AddGatheredKeyRange(int begin, int end);

  // Checks every tile against the sequence and gather list.
  absl::StatusOr<BlockSparsePattern> Build() &&;

 private:
  bool CheckTile(const SparseTile& t, const char* what);
  // CheckTile for a key tile, which needs a query block to belong to.
  bool CheckKeyTile(const SparseTile& keys);
  void AddMaskedKeys(SparseTile keys, const uint64_t* row_bits);

  BlockSparsePattern pattern_;
  absl::Status status_;
  std::vector<uint64_t> bits_;  // [64] scratch for one tile's row masks
};

// Helpers shared by the patterns: a window of `window` keys around a query
// covers offsets [-(window - window / 2) + 1, window / 2] (Longformer's
// convention: the left side, which includes the query itself, gets the extra
// key when the window is even).
inline int WindowLeft(int window) { return window - window / 2 - 1; }
inline int WindowRight(int window) { return window / 2; }
inline bool InWindow(int i, int j, int window) {
  return j >= i - WindowLeft(window) && j <= i + WindowRight(window);
}

// ---------------------------------------------------------------------------
// Implementation of the templates.

template <typename Allowed>
void BlockSparsePatternBuilder::AddKeys(SparseTile keys,
                                        const Allowed& allowed) {
  if (!CheckKeyTile(keys)) return;
  const SparseTile& rows = pattern_.query_blocks.back().rows;
  int cols[kSparseTile];
  for (int c = 0; c < keys.count; ++c) cols[c] = pattern_.Position(keys, c);
  for (int r = 0; r < rows.count; ++r) {
    const int i = pattern_.Position(rows, r);
    uint64_t bits = 0;
    for (int c = 0; c < keys.count; ++c) {
      if (allowed(i, cols[c])) bits |= uint64_t{1} << c;
    }
    bits_[r] = bits;
  }
  AddMaskedKeys(keys, bits_.data());
}

template <typename Allowed>
void BlockSparsePatternBuilder::AddKeyRange(int begin, int end,
                                            const Allowed& allowed) {
  if (end > pattern_.seq_len) end = pattern_.seq_len;
  begin = AlignedBegin(begin, end);
  for (int j0 = begin; j0 < end; j0 += kSparseTile) {
    const int count = end - j0 < kSparseTile ? end - j0 : kSparseTile;
    AddKeys(SparseTile{j0, count, false}, allowed);
  }
}

template <typename Allowed>
void BlockSparsePatternBuilder::AddGatheredKeyRange(int begin, int end,
                                                    const Allowed& allowed) {
  const int size = static_cast<int>(pattern_.gather.size());
  if (begin < 0) begin = 0;
  if (end > size) end = size;
  for (int g0 = begin; g0 < end; g0 += kSparseTile) {
    const int count = end - g0 < kSparseTile ? end - g0 : kSparseTile;
    AddKeys(SparseTile{g0, count, true}, allowed);
  }
}

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_H_
