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
#include "models/encoder.h"
#include "models/rng.h"

ABSL_FLAG(std::string, seq_lens, "1024,2048,4096", "Comma-separated lengths.");
ABSL_FLAG(int, batch, 8, "Examples per step.");
ABSL_FLAG(int, steps, 3, "Timed steps per length (after one warm-up step).");
ABSL_FLAG(std::string, attention, "full", "Attention plugin name.");

namespace lra {
namespace {

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
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
        Encoder::Create(config, seq_len, batch);
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
  }
  return 0;
}

}  // namespace
}  // namespace lra

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return lra::Run();
}
