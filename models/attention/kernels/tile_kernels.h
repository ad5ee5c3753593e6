// Register-tiled micro-kernels for one 64-key block of tiled attention: the
// hot loops of the "full" plugin and of the block-sparse engine, shared by
// any plugin that computes softmax attention tile by tile. AVX-512 when the
// compiler targets it, plain loops otherwise.
#ifndef LRA_MODELS_ATTENTION_KERNELS_TILE_KERNELS_H_
#define LRA_MODELS_ATTENTION_KERNELS_TILE_KERNELS_H_

#include <cstdint>

namespace lra::internal {

// Keys per block: the width of every score tile.
inline constexpr int kKeyBlock = 64;

// c [rows, 64] = (a [rows, dh] bt [dh, 64]) * scale + bias [64]; bias may be
// nullptr. bt is a key (or value) block transposed, zero-padded past its
// valid columns, with rows bt_stride floats apart.
void ScoreTile(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, float* c);

// ScoreTile for a tile of `count` valid keys: with AVX-512, a tile of at most
// 48 keys (the last tile of a gathered list, a lone CLS column, a short last
// block) computes only the 16-key chunks it uses and zeroes the others.
void ScoreKeys(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, int count, float* c);

// ScoreTile for a tile whose bt columns from `cols` on are zero (a short last
// key block): computes only the 16-column chunks holding the first `cols`
// columns and writes the others as ScoreTile would (bias, or 0 without bias),
// so c is bit for bit ScoreTile's.
void ScoreTileCols(const float* a, int rows, int dh, const float* bt,
                   int bt_stride, float scale, const float* bias, int cols,
                   float* c);

// c [rows, dh] += sum over k < depth of p(r, k) x [k, dh], where
// p(r, k) = p[r * p_row_stride + k * p_col_stride]. With strides (64, 1) this
// is P V (and dS K); with (1, 64) it is P^T dO (and dS^T Q).
void AccumulateTile(const float* p, int p_row_stride, int p_col_stride,
                    int rows, int depth, const float* x, int dh, float* c);

// Online-softmax step for one row of 64 scores s (in place): m_new =
// max(*m, max(s)), s = exp(s - m_new), returns alpha = exp(*m - m_new) and
// adds sum(s) to *l * alpha. A row whose scores and running max are all -inf
// gets s = 0 and alpha = 1.
float SoftmaxRowUpdate(float* s, float* m, float* l);

// s [64] = exp(s - lse) in place (recomputed probabilities).
void ExpShiftRow(float* s, float lse);

// ds [64] = p * (ds - d) * scale in place, where ds holds dP on entry.
void SoftmaxGradRow(const float* p, float d, float scale, float* ds);

// Attention dropout on probabilities p [rows, 64] in place: element (r, c),
// c < cols, keeps p * keep_scale when KeepElement(seed, (row0 + r) * row_len
// + col0 + c, threshold) (models/rng.h) and becomes 0 otherwise; columns from
// cols on are left alone. Element (i, j) of a head thus uses index
// i * row_len + j of that head's stream, whatever the tiling.
void DropoutTile(uint64_t seed, uint32_t threshold, float keep_scale, int row0,
                 int col0, int rows, int cols, int row_len, float* p);

// x [n] *= alpha.
void ScaleRow(float* x, int n, float alpha);

}  // namespace lra::internal

#endif  // LRA_MODELS_ATTENTION_KERNELS_TILE_KERNELS_H_
