// Times one training step (ZeroGrad + Forward + Loss + Backward, without the
// optimizer) of the LRA benchmark encoder: vocab 32, D 128, 4 heads, qkv 128,
// MLP 256, 2 layers, mean pooling, 10 classes, no dropout, learned positions.
//
//   bazel run //models:encoder_bench -- --seq_lens=1024,2048 --batch=8
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/rng.h"

ABSL_FLAG(std::string, seq_lens, "1024,2048,4096", "Comma-separated lengths.");
ABSL_FLAG(int, batch, 8, "Examples per step.");
ABSL_FLAG(int, steps, 3, "Timed steps per length (after one warm-up step).");
ABSL_FLAG(std::string, attention, "full", "Attention plugin name.");
ABSL_FLAG(bool, attention_only, false,
          "Also time the attention plugin alone (4 heads, head dim 32) and "
          "report its GFLOP/s counted as 4 N^2 Dh forward, 8 N^2 Dh backward.");

namespace lra {
namespace {

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Times the plugin by itself on random q, k, v without padding.
void TimeAttentionAlone(const std::string& name, int batch, int seq_len,
                        int steps) {
  const int heads = 4, head_dim = 32;
  AttentionShape shape;
  shape.max_batch = batch;
  shape.num_heads = heads;
  shape.seq_len = seq_len;
  shape.head_dim = head_dim;
  PluginConfig config;
  config.set_name(name);
  absl::StatusOr<std::unique_ptr<Attention>> attention =
      BuiltinPlugins().attention->Create(config, shape);
  if (!attention.ok()) {
    std::fprintf(stderr, "%s\n", attention.status().ToString().c_str());
    return;
  }
  const int64_t count =
      static_cast<int64_t>(batch) * heads * seq_len * head_dim;
  std::vector<float> q(count), k(count), v(count), out(count), dout(count),
      dq(count), dk(count), dv(count);
  for (int64_t i = 0; i < count; ++i) {
    q[i] = UniformFloat(1, i) - 0.5f;
    k[i] = UniformFloat(2, i) - 0.5f;
    v[i] = UniformFloat(3, i) - 0.5f;
    dout[i] = UniformFloat(4, i) - 0.5f;
  }
  double forward = 0, backward = 0;
  for (int step = 0; step <= steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    (*attention)
        ->Forward({q.data(), k.data(), v.data(), nullptr, batch, false, 0},
                  out.data());
    const auto t1 = std::chrono::steady_clock::now();
    (*attention)->Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
    const auto t2 = std::chrono::steady_clock::now();
    if (step == 0) continue;
    forward += Seconds(t0, t1) / steps;
    backward += Seconds(t1, t2) / steps;
  }
  const double n2dh =
      static_cast<double>(seq_len) * seq_len * head_dim * batch * heads;
  std::printf(
      "  attention alone: fwd %.1f ms (%.0f GFLOP/s), bwd %.1f ms "
      "(%.0f GFLOP/s)\n",
      forward * 1e3, 4 * n2dh / forward * 1e-9, backward * 1e3,
      8 * n2dh / backward * 1e-9);
}

int Run() {
  ModelConfig config;
  config.set_name("bench");
  config.set_vocab_size(32);
  config.set_d_model(128);
  config.set_num_layers(2);
  config.set_num_heads(4);
  config.set_qkv_dim(128);
  config.set_mlp_dim(256);
  config.set_num_classes(10);
  config.set_pooling(POOLING_MEAN);
  config.set_positional(POSITIONAL_LEARNED);
  config.mutable_attention()->set_name(absl::GetFlag(FLAGS_attention));
  const int batch = absl::GetFlag(FLAGS_batch);
  const int steps = absl::GetFlag(FLAGS_steps);
  std::printf("%8s %6s %12s %12s %12s %14s\n", "seq_len", "batch", "fwd ms",
              "bwd ms", "step ms", "tokens/s");
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_seq_lens), ',')) {
    int seq_len = 0;
    if (!absl::SimpleAtoi(part, &seq_len) || seq_len <= 0) {
      std::fprintf(stderr, "--seq_lens: '%s' is not a positive integer\n",
                   std::string(part).c_str());
      return 1;
    }
    absl::StatusOr<std::unique_ptr<Encoder>> created =
        Encoder::Create(config, {seq_len, batch, 0}, BuiltinPlugins());
    if (!created.ok()) {
      std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
      return 1;
    }
    Encoder& encoder = **created;
    encoder.InitParameters(1);
    std::vector<int32_t> tokens(static_cast<size_t>(batch) * seq_len);
    std::vector<int32_t> labels(batch);
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = 1 + static_cast<int32_t>(RandomBits(2, i) % 31);
    }
    for (int b = 0; b < batch; ++b) labels[b] = b % 10;
    double forward = 0, backward = 0;
    for (int step = 0; step <= steps; ++step) {
      const auto t0 = std::chrono::steady_clock::now();
      encoder.ZeroGrad();
      encoder.Forward(tokens.data(), batch, true, step);
      encoder.Loss(labels.data(), nullptr);
      const auto t1 = std::chrono::steady_clock::now();
      encoder.Backward();
      const auto t2 = std::chrono::steady_clock::now();
      if (step == 0) continue;  // warm-up: primitive creation, page faults
      forward += Seconds(t0, t1);
      backward += Seconds(t1, t2);
    }
    forward /= steps;
    backward /= steps;
    const double step = forward + backward;
    std::printf("%8d %6d %12.1f %12.1f %12.1f %14.0f\n", seq_len, batch,
                forward * 1e3, backward * 1e3, step * 1e3,
                batch * static_cast<double>(seq_len) / step);
    if (absl::GetFlag(FLAGS_attention_only)) {
      TimeAttentionAlone(absl::GetFlag(FLAGS_attention), batch, seq_len, steps);
    }
  }
  return 0;
}

}  // namespace
}  // namespace lra

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return lra::Run();
}
