// The encoder's non-matmul layers as explicit Forward/Backward free functions
// (llm.c style). Conventions: buffers are row-major float32 with the shape in
// the comment; Backward functions *add* into parameter gradients; whether
// d(input) is added or overwritten is stated per function, because the
// residual stream accumulates gradients from several branches.
#ifndef LRA_MODELS_LAYERS_H_
#define LRA_MODELS_LAYERS_H_

#include <cstdint>

namespace lra {

// Layer norm epsilon: Flax's default, which LRA uses.
inline constexpr float kLayerNormEpsilon = 1e-6f;

// --- Embedding -------------------------------------------------------------

// out [B, N', D] = table[tokens] with, when cls != nullptr, the learned CLS
// vector prepended at position 0 (then N' = N + 1, else N' = N).
// tokens: [B, N] int32 in [0, vocab); table: [vocab, D]; cls: [D].
void EmbeddingForward(const int32_t* tokens, int batch, int seq_len, int d,
                      const float* table, const float* cls, float* out);
// dtable [vocab, D] += scatter of dout by token; dcls [D] += dout[:, 0].
void EmbeddingBackward(const float* dout, const int32_t* tokens, int batch,
                       int seq_len, int d, bool has_cls, float* dtable,
                       float* dcls);

// x [B, N, D] += table [N, D] broadcast over the batch.
void AddPositionsForward(const float* table, int batch, int n, int d, float* x);
// dtable [N, D] += sum over the batch of dx [B, N, D].
void AddPositionsBackward(const float* dx, int batch, int n, int d,
                          float* dtable);
// table [N, D]: position p, dim 2i -> sin(p / 10000^(2i/D)),
// dim 2i+1 -> cos(p / 10000^(2i/D)) (LRA's sinusoidal table).
void SinusoidalPositions(int n, int d, float* table);

// 2-D positions of a grid of `rows` x `cols` tokens read row-major, as one
// table [offset + rows * cols, D] for AddPositionsForward: entry offset + t
// (t = r * cols + c) is row_table[r] + col_table[c]; the first `offset`
// entries (CLS) are zero. row_table [rows, D], col_table [cols, D].
void GridPositionsForward(const float* row_table, const float* col_table,
                          int rows, int cols, int d, int offset, float* table);
// drow [rows, D] and dcol [cols, D] += what d(table) [offset + rows * cols, D]
// sends through GridPositionsForward (the CLS entries send nothing).
void GridPositionsBackward(const float* dtable, int rows, int cols, int d,
                           int offset, float* drow, float* dcol);
// The fixed 2-D sinusoids: row_table [rows, D] holds SinusoidalPositions of
// the row in channels [0, D / 2) and zeros in the others, col_table
// [cols, D] zeros in [0, D / 2) and SinusoidalPositions of the column over
// the D - D / 2 others; GridPositionsForward sums them.
void SinusoidalGridTables(int rows, int cols, int d, float* row_table,
                          float* col_table);

// --- Layer norm ------------------------------------------------------------

// out [R, D] = (x - mean) * rstd * gamma + beta per row; saves mean [R] and
// rstd [R] (1 / sqrt(var + eps), biased variance) for Backward.
void LayerNormForward(const float* x, const float* gamma, const float* beta,
                      int64_t rows, int d, float* out, float* mean,
                      float* rstd);
// dx [R, D] += d(input); dgamma [D] += ...; dbeta [D] += ....
void LayerNormBackward(const float* dout, const float* x, const float* mean,
                       const float* rstd, const float* gamma, int64_t rows,
                       int d, float* dx, float* dgamma, float* dbeta);

// --- Elementwise -----------------------------------------------------------

// Exact (erf) GELU: out = x * 0.5 * (1 + erf(x / sqrt(2))). out may alias x.
void GeluForward(const float* x, int64_t n, float* out);
// dx = dout * GELU'(x), overwritten; dx may alias dout.
void GeluBackward(const float* x, const float* dout, int64_t n, float* dx);

// out = max(x, 0); out may alias x.
void ReluForward(const float* x, int64_t n, float* out);
// dx = dout where out > 0 else 0, overwritten; dx may alias dout.
void ReluBackward(const float* out, const float* dout, int64_t n, float* dx);

// mask [n] = 1 with probability 1 - p, else 0, as a pure function of
// (seed, element index) (see rng.h).
void DropoutMask(uint64_t seed, float p, int64_t n, uint8_t* mask);
// out = x * mask / (1 - p). The same call is the backward pass (on gradients).
// out may alias x.
void DropoutApply(const float* x, const uint8_t* mask, float p, int64_t n,
                  float* out);

// Residual connection: x [n] += y [n]. Its backward is the identity on the
// stream plus a copy of the gradient into the branch.
void AddInPlace(const float* y, int64_t n, float* x);

// --- Attention head layout ---------------------------------------------------

// out [B, H, N, Dh] from x [B, N, H * Dh].
void SplitHeads(const float* x, int batch, int n, int heads, int head_dim,
                float* out);
// out [B, N, H * Dh] from x [B, H, N, Dh].
void MergeHeads(const float* x, int batch, int n, int heads, int head_dim,
                float* out);

// --- Packed real rows
// ----------------------------------------------------------

// The real rows of a batch of padded sequences, in order: the layout in which
// the encoder's row-wise layers (embedding, LayerNorm, the projections, MLP,
// pooling) compute only what real tokens cost. Attention still sees the
// padded layout [B', H, N, Dh]; SplitHeadsPacked and MergeHeadsPacked move
// rows between the two.
struct PackedRows {
  int seqs = 0;       // B'
  int seq_len = 0;    // N: positions per padded sequence
  int64_t count = 0;  // T: real rows
  // R: T rounded up to kPackedRowAlign, the rows the dense layers run on.
  // Rows [T, R) of every packed buffer hold zeros (activations stay finite,
  // gradients zero), so they add nothing to any parameter gradient.
  int64_t rows = 0;
  const int32_t* position = nullptr;   // [T] b * N + i of row t, ascending
  const int32_t* seq_start = nullptr;  // [B' + 1] first row of sequence b
};

// Packed row counts are rounded up to a multiple of this (see Linear's
// RowCount::kVarying: matmuls run in chunks of 64 * 2^k rows).
inline constexpr int kPackedRowAlign = 64;

// Rows a packed buffer over `padded_rows` positions needs: padded_rows rounded
// up to kPackedRowAlign.
inline int64_t PackedCapacity(int64_t padded_rows) {
  return (padded_rows + kPackedRowAlign - 1) / kPackedRowAlign *
         kPackedRowAlign;
}

// Fills *rows from mask [B', N] (1 = real); position [B' N] and
// seq_start [B' + 1] are the caller's buffers that *rows points into.
void PackRows(const uint8_t* mask, int seqs, int n, int32_t* position,
              int32_t* seq_start, PackedRows* rows);

// dst [R, width] = the real rows of src [B', N, width]; rows [T, R) zero.
void GatherRows(const float* src, const PackedRows& rows, int width,
                float* dst);
// dst [B', N, width] = src [R, width] at the real positions, zero elsewhere.
void ScatterRows(const float* src, const PackedRows& rows, int width,
                 float* dst);

// out [B', H, N, Dh] from packed x [R, H * Dh]: zero at padded positions.
void SplitHeadsPacked(const float* x, const PackedRows& rows, int heads,
                      int head_dim, float* out);
// Packed out [R, H * Dh] from x [B', H, N, Dh]: the real positions; rows
// [T, R) zero.
void MergeHeadsPacked(const float* x, const PackedRows& rows, int heads,
                      int head_dim, float* out);

// Dropout mask for packed x [R, width]: element (t, c) uses index
// position[t] * width + c of stream `seed`, so that a real element is kept or
// dropped exactly as DropoutMask decides it in the padded layout. Rows
// [T, R) are dropped.
void DropoutMaskPacked(uint64_t seed, float p, const PackedRows& rows,
                       int width, uint8_t* mask);

// Packed embedding: row t at position i of sequence b is the CLS vector
// (cls != nullptr and i == 0) or table[tokens[b * L + i - offset]]
// (offset 1 with CLS, else 0; L = tokens per sequence), plus positions[i]
// when positions != nullptr. out [R, D]; rows [T, R) zero. The same values
// as EmbeddingForward followed by AddPositionsForward, at real positions.
void EmbeddingForwardPacked(const int32_t* tokens, const PackedRows& rows,
                            int tokens_per_seq, int d, const float* table,
                            const float* cls, const float* positions,
                            float* out);
// dtable [vocab, D], dcls [D] (when has_cls) and dpositions [N, D] (when not
// nullptr) += the packed gradient dout [R, D], in the order of the padded
// EmbeddingBackward and AddPositionsBackward.
void EmbeddingBackwardPacked(const float* dout, const int32_t* tokens,
                             const PackedRows& rows, int tokens_per_seq, int d,
                             bool has_cls, float* dtable, float* dcls,
                             float* dpositions);

// Pooling on packed rows: CLS takes each sequence's first row (position 0);
// mean averages its rows (zeros for a sequence without rows). out [B', D].
void PoolClsForwardPacked(const float* x, const PackedRows& rows, int d,
                          float* out);
void PoolMeanForwardPacked(const float* x, const PackedRows& rows, int d,
                           float* out);
// dx [R, D] += the pooled gradient dout [B', D] at the rows pooled.
void PoolClsBackwardPacked(const float* dout, const PackedRows& rows, int d,
                           float* dx);
void PoolMeanBackwardPacked(const float* dout, const PackedRows& rows, int d,
                            float* dx);

// --- Pooling and loss --------------------------------------------------------

// out [B, D] = x[:, 0, :] from x [B, N, D].
void PoolClsForward(const float* x, int batch, int n, int d, float* out);
// dx [B, N, D]: adds dout [B, D] into position 0.
void PoolClsBackward(const float* dout, int batch, int n, int d, float* dx);
// out [B, D] = mean of x [B, N, D] over positions with mask [B, N] != 0; a
// row without real positions pools to zeros.
void PoolMeanForward(const float* x, const uint8_t* mask, int batch, int n,
                     int d, float* out);
// dx [B, N, D] += dout / count at the real positions.
void PoolMeanBackward(const float* dout, const uint8_t* mask, int batch, int n,
                      int d, float* dx);

// Mean softmax cross-entropy of logits [B, C] against labels [B] in [0, C);
// writes dlogits [B, C] = (softmax - onehot) / B and *correct = number of rows
// whose argmax (first maximum) equals the label.
float SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch,
                          int classes, float* dlogits, int* correct);

}  // namespace lra

#endif  // LRA_MODELS_LAYERS_H_
