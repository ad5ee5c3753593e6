#include "models/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention_mixer.h"
#include "models/layers.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

constexpr float kEmbeddingStddev = 0.02f;
// ModelConfig.pixel_intensity's vocabulary: tokens pixel + 1, 0 = padding.
constexpr int kPixelVocab = 257;

// A pixel token's gray level in [-1, 1]: token 1 (pixel 0) is -1, token 256
// (pixel 255) is +1.
float PixelIntensity(int token) {
  return 2.0f * static_cast<float>(token - 1) /
             static_cast<float>(kPixelVocab - 2) -
         1.0f;
}

absl::Status FieldError(const ModelConfig& config, const std::string& field,
                        const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(absl::StrCat("model '", config.name(),
                                                 "': ", field, " = ", value,
                                                 " is invalid; ", allowed));
}

// The dual encoder's head input (the paper's; LRA's released code uses only
// [u, v]): features [B, 4D] = [u, v, u*v, u-v] per example, where u and v are
// the pooled encodings of its two documents, rows 2b and 2b+1 of
// pooled [2B, D].
void DualFeaturesForward(const float* pooled, int batch, int d,
                         float* features) {
  for (int b = 0; b < batch; ++b) {
    const float* u = pooled + static_cast<int64_t>(2 * b) * d;
    const float* v = u + d;
    float* f = features + static_cast<int64_t>(b) * 4 * d;
    for (int i = 0; i < d; ++i) {
      f[i] = u[i];
      f[d + i] = v[i];
      f[2 * d + i] = u[i] * v[i];
      f[3 * d + i] = u[i] - v[i];
    }
  }
}

// dpooled [2B, D] (overwritten) from dfeatures [B, 4D]:
// du = df_u + df_uv * v + df_diff, dv = df_v + df_uv * u - df_diff.
void DualFeaturesBackward(const float* dfeatures, const float* pooled,
                          int batch, int d, float* dpooled) {
  for (int b = 0; b < batch; ++b) {
    const float* u = pooled + static_cast<int64_t>(2 * b) * d;
    const float* v = u + d;
    const float* df = dfeatures + static_cast<int64_t>(b) * 4 * d;
    float* du = dpooled + static_cast<int64_t>(2 * b) * d;
    float* dv = du + d;
    for (int i = 0; i < d; ++i) {
      du[i] = df[i] + df[2 * d + i] * v[i] + df[3 * d + i];
      dv[i] = df[d + i] + df[2 * d + i] * u[i] - df[3 * d + i];
    }
  }
}

// The token mixer against the registries: the attention variant for the
// attention mixer, else the mixer itself (and no attention variant).
absl::Status ValidateMixer(const ModelConfig& config,
                           const ModelPlugins& plugins) {
  auto in_model = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat("model '", config.name(),
                                                    "': ", status.message()));
  };
  if (UsesAttentionMixer(config)) {
    if (!config.mixer().param().empty()) {
      return FieldError(config, "mixer.param",
                        absl::StrCat(config.mixer().param_size(), " values"),
                        "the attention mixer takes its parameters from "
                        "`attention`");
    }
    if (plugins.attention == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", config.name(), "': no attention registry"));
    }
    absl::Status status =
        plugins.attention->ResolveParams(config.attention()).status();
    return status.ok() ? status : in_model(status);
  }
  if (!config.attention().name().empty() ||
      !config.attention().param().empty()) {
    return FieldError(
        config, "attention.name",
        absl::StrCat("'", config.attention().name(), "'"),
        absl::StrCat("must be unset with mixer '", config.mixer().name(),
                     "' (attention is one kind of mixer)"));
  }
  if (plugins.mixers == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", config.name(), "': no mixer registry"));
  }
  absl::Status status = plugins.mixers->ResolveParams(config.mixer()).status();
  if (status.ok()) return status;
  if (status.code() == absl::StatusCode::kNotFound) {
    return in_model(absl::NotFoundError(
        absl::StrCat(status.message(), " (or '", kAttentionMixerName,
                     "' for multi-head attention)")));
  }
  return in_model(status);
}

}  // namespace

bool UsesAttentionMixer(const ModelConfig& config) {
  return config.mixer().name().empty() ||
         config.mixer().name() == kAttentionMixerName;
}

absl::Status ResolveModelDefaults(ModelConfig* config) {
  if (config->positional() == POSITIONAL_UNSPECIFIED) {
    config->set_positional(POSITIONAL_LEARNED);
  }
  if (config->pooling() == POOLING_UNSPECIFIED) {
    // A sequence plugin says what is pooled; the encoder averages it.
    config->set_pooling(config->sequence().name().empty() ? POOLING_CLS
                                                          : POOLING_MEAN);
  }
  const bool attention_mixer = config->mixer().name().empty() ||
                               config->mixer().name() == kAttentionMixerName;
  if (attention_mixer && config->attention().name().empty()) {
    config->mutable_attention()->set_name("full");
  }
  if (config->qkv_dim() == 0) config->set_qkv_dim(config->d_model());
  if (config->mlp_dim() == 0) config->set_mlp_dim(4 * config->d_model());
  if (config->classifier_dim() == 0) {
    config->set_classifier_dim(config->mlp_dim());
  }
  // The suite sets the task's count; a model used on its own (tests, bench)
  // sees one document per example.
  if (config->num_segments() == 0) config->set_num_segments(1);
  return absl::OkStatus();
}

bool UsesGridPositions(const ModelConfig& config) {
  return config.positional() == POSITIONAL_LEARNED_2D ||
         config.positional() == POSITIONAL_SINUSOIDAL_2D;
}

absl::Status ValidateModelConfig(const ModelConfig& config, int seq_len,
                                 int max_batch, const ModelPlugins& plugins) {
  auto positive = [&](const char* field, int value) -> absl::Status {
    if (value > 0) return absl::OkStatus();
    return FieldError(config, field, absl::StrCat(value), "must be > 0");
  };
  for (auto [field, value] :
       {std::pair<const char*, int>{"vocab_size", config.vocab_size()},
        {"d_model", config.d_model()},
        {"num_layers", config.num_layers()},
        {"num_heads", config.num_heads()},
        {"qkv_dim", config.qkv_dim()},
        {"mlp_dim", config.mlp_dim()},
        {"classifier_dim", config.classifier_dim()}}) {
    absl::Status s = positive(field, value);
    if (!s.ok()) return s;
  }
  if (config.qkv_dim() % config.num_heads() != 0) {
    return FieldError(config, "qkv_dim", absl::StrCat(config.qkv_dim()),
                      absl::StrCat("must be a multiple of num_heads (",
                                   config.num_heads(), ")"));
  }
  if (config.num_classes() < 2) {
    return FieldError(config, "num_classes", absl::StrCat(config.num_classes()),
                      "must be >= 2");
  }
  if (!(config.dropout() >= 0.0f && config.dropout() < 1.0f)) {
    return FieldError(config, "dropout", absl::StrCat(config.dropout()),
                      "must be in [0, 1)");
  }
  if (!(config.attention_dropout() >= 0.0f &&
        config.attention_dropout() < 1.0f)) {
    return FieldError(config, "attention_dropout",
                      absl::StrCat(config.attention_dropout()),
                      "must be in [0, 1)");
  }
  if (config.positional() != POSITIONAL_LEARNED &&
      config.positional() != POSITIONAL_SINUSOIDAL &&
      config.positional() != POSITIONAL_NONE && !UsesGridPositions(config)) {
    return FieldError(config, "positional",
                      PositionalEncoding_Name(config.positional()),
                      "must be POSITIONAL_LEARNED, POSITIONAL_SINUSOIDAL, "
                      "POSITIONAL_NONE, POSITIONAL_LEARNED_2D or "
                      "POSITIONAL_SINUSOIDAL_2D");
  }
  if (config.pooling() != POOLING_CLS && config.pooling() != POOLING_MEAN) {
    return FieldError(config, "pooling", Pooling_Name(config.pooling()),
                      "must be POOLING_CLS or POOLING_MEAN");
  }
  if (config.num_segments() != 1 && config.num_segments() != 2) {
    return FieldError(config, "num_segments",
                      absl::StrCat(config.num_segments()),
                      "must be 1 (one document per example) or 2 (a dual "
                      "encoder over document pairs)");
  }
  if (seq_len <= 0) {
    return FieldError(config, "seq_len (task)", absl::StrCat(seq_len),
                      "must be > 0");
  }
  if (seq_len % config.num_segments() != 0) {
    return FieldError(config, "seq_len (task)", absl::StrCat(seq_len),
                      absl::StrCat("must be a multiple of num_segments (",
                                   config.num_segments(),
                                   "): each example holds that many "
                                   "documents of equal padded length"));
  }
  if (max_batch <= 0) {
    return FieldError(config, "max_batch", absl::StrCat(max_batch),
                      "must be > 0");
  }
  // Learned positions index one document: with two segments each starts at
  // position 0 again.
  const int segment_len = seq_len / config.num_segments();
  const int positions = segment_len + (config.pooling() == POOLING_CLS ? 1 : 0);
  if (config.max_len() < 0 ||
      (config.max_len() > 0 && config.max_len() < positions)) {
    return FieldError(
        config, "max_len", absl::StrCat(config.max_len()),
        absl::StrCat(
            "must be 0 (use the task length) or >= ", positions,
            config.num_segments() == 1
                ? absl::StrCat(" (task seq_len ", seq_len)
                : absl::StrCat(" (document length ", segment_len,
                               " = task seq_len ", seq_len, " / num_segments ",
                               config.num_segments()),
            config.pooling() == POOLING_CLS ? " plus CLS)" : ")"));
  }
  if (!UsesGridPositions(config) && config.grid_width() != 0) {
    return FieldError(config, "grid_width", absl::StrCat(config.grid_width()),
                      absl::StrCat("must be 0 with positional = ",
                                   PositionalEncoding_Name(config.positional()),
                                   " (it is the row length of the 2-D "
                                   "encodings POSITIONAL_LEARNED_2D and "
                                   "POSITIONAL_SINUSOIDAL_2D)"));
  }
  if (UsesGridPositions(config)) {
    const std::string positional = PositionalEncoding_Name(config.positional());
    if (config.grid_width() <= 0 || segment_len % config.grid_width() != 0) {
      return FieldError(
          config, "grid_width", absl::StrCat(config.grid_width()),
          absl::StrCat("must be > 0 and divide the document length ",
                       segment_len, " with positional = ", positional,
                       ": the tokens per row of the task's grid (0 takes the "
                       "task's in a suite, for image and pathfinder tasks)"));
    }
    if (config.max_len() != 0) {
      return FieldError(config, "max_len", absl::StrCat(config.max_len()),
                        absl::StrCat("must be 0 with positional = ", positional,
                                     " (the grid is the task's)"));
    }
  }
  if (config.pixel_intensity() && config.vocab_size() != kPixelVocab) {
    return FieldError(
        config, "pixel_intensity", "true",
        absl::StrCat("needs vocab_size ", kPixelVocab,
                     " (tokens pixel + 1, as the image and pathfinder tasks "
                     "have), not ",
                     config.vocab_size(),
                     ": a token's intensity is its gray level (token - 1) / "
                     "255"));
  }
  if (config.pixel_intensity_only() && !config.pixel_intensity()) {
    return FieldError(config, "pixel_intensity_only", "true",
                      "needs pixel_intensity: true (it drops the pixel "
                      "tokens' table rows and keeps their intensity)");
  }
  if (!config.sequence().name().empty()) {
    if (config.pooling() != POOLING_MEAN) {
      return FieldError(config, "pooling", Pooling_Name(config.pooling()),
                        absl::StrCat("must be unset or POOLING_MEAN with "
                                     "sequence '",
                                     config.sequence().name(),
                                     "' (its `pool` parameter chooses what "
                                     "is averaged)"));
    }
    if (plugins.sequence == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", config.name(), "': no sequence registry"));
    }
    absl::Status status =
        plugins.sequence->ResolveParams(config.sequence()).status();
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("model '", config.name(),
                                                      "': ", status.message()));
    }
  }
  return ValidateMixer(config, plugins);
}

absl::StatusOr<std::unique_ptr<Encoder>> Encoder::Create(
    const ModelConfig& config, const EncoderOptions& options,
    const ModelPlugins& plugins) {
  ModelConfig resolved = config;
  RETURN_IF_ERROR(ResolveModelDefaults(&resolved));
  RETURN_IF_ERROR(ValidateModelConfig(resolved, options.seq_len,
                                      options.max_batch, plugins));
  std::unique_ptr<Encoder> encoder(new Encoder(resolved, options));
  RETURN_IF_ERROR(encoder->Build(plugins));
  return encoder;
}

Encoder::OuterWeights::OuterWeights(const ModelConfig& config,
                                    int64_t positions, int64_t segment_len,
                                    int64_t features)
    : embed(config.pixel_intensity_only() ? 1 : config.vocab_size(),
            config.d_model(),
            config.positional() == POSITIONAL_LEARNED
                ? (config.max_len() > 0 ? config.max_len() : positions)
                : 0,
            config.positional() == POSITIONAL_LEARNED_2D
                ? segment_len / config.grid_width()
                : 0,
            config.positional() == POSITIONAL_LEARNED_2D ? config.grid_width()
                                                         : 0,
            config.pooling() == POOLING_CLS, config.pixel_intensity()),
      final_ln(config.d_model()),
      head(features, config.classifier_dim(), config.num_classes()) {}

Encoder::Encoder(const ModelConfig& config, const EncoderOptions& options)
    : config_(config),
      seq_len_(options.seq_len),
      segments_(config.num_segments()),
      segment_len_(options.seq_len / config.num_segments()),
      positions_(segment_len_ + (config.pooling() == POOLING_CLS ? 1 : 0)),
      feature_dim_(config.num_segments() == 2 ? 4 * config.d_model()
                                              : config.d_model()),
      max_batch_(options.max_batch),
      seed_(options.seed),
      pack_requested_(options.pack_real_rows),
      d_(config.d_model()),
      classifier_(config.classifier_dim()),
      classes_(config.num_classes()),
      has_cls_(config.pooling() == POOLING_CLS),
      w_(config, positions_, segment_len_, feature_dim_),
      g_(config, positions_, segment_len_, feature_dim_),
      stream_len_(positions_),
      head1_(feature_dim_, config.classifier_dim()),
      head2_(config.classifier_dim(), config.num_classes()) {}

Encoder::~Encoder() = default;

absl::Status Encoder::Build(const ModelPlugins& plugins) {
  // Workspaces inside the blocks hold B' = S * max_batch sequences.
  const int64_t B = static_cast<int64_t>(segments_) * max_batch_,
                N = positions_, D = d_;
  if (config_.positional() == POSITIONAL_SINUSOIDAL) {
    sinusoid_ = Tensor({N, D});
    SinusoidalPositions(N, D, sinusoid_.data());
  }
  if (UsesGridPositions(config_)) {
    grid_cols_ = config_.grid_width();
    grid_rows_ = segment_len_ / grid_cols_;
    const int offset = has_cls_ ? 1 : 0;
    if (config_.positional() == POSITIONAL_SINUSOIDAL_2D) {
      // Fixed: the table is built once and used like the 1-D sinusoids.
      Tensor rows({grid_rows_, D}), cols({grid_cols_, D});
      SinusoidalGridTables(grid_rows_, grid_cols_, d_, rows.data(),
                           cols.data());
      sinusoid_ = Tensor({N, D});
      GridPositionsForward(rows.data(), cols.data(), grid_rows_, grid_cols_, d_,
                           offset, sinusoid_.data());
    } else {
      grid_table_ = Tensor({N, D});
      grid_dtable_ = Tensor({N, D});
    }
  }
  if (config_.pixel_intensity()) {
    token_table_ = Tensor({config_.vocab_size(), D});
    token_dtable_ = Tensor({config_.vocab_size(), D});
  }
  // Blocks see N' positions, or what the sequence plugin runs them on.
  int block_len = positions_;
  if (!config_.sequence().name().empty()) {
    SequenceShape shape;
    shape.max_seqs = static_cast<int>(B);
    shape.seq_len = positions_;
    shape.d_model = d_;
    shape.num_layers = config_.num_layers();
    absl::StatusOr<std::unique_ptr<SequenceHandler>> made =
        plugins.sequence->Create(config_.sequence(), shape, config_);
    if (!made.ok()) {
      return absl::Status(made.status().code(),
                          absl::StrCat("model '", config_.name(),
                                       "': ", made.status().message()));
    }
    sequence_ = *std::move(made);
    block_len = sequence_->block_seq_len();
    stream_len_ = sequence_->out_len();
  }
  const int64_t P = stream_len_;
  // A sequence plugin may run on copies of the blocks (built alike after the
  // encoder's own, each with its own activations; see block_lists()).
  const int layers = config_.num_layers();
  const int lists = sequence_ ? std::max(1, sequence_->block_lists()) : 1;
  block_copies_.resize(lists - 1);
  for (int n = 0; n < lists * layers; ++n) {
    const int i = n % layers;
    BlockList& list = n < layers ? blocks_ : block_copies_[n / layers - 1];
    MixerShape mixer_shape;
    mixer_shape.max_seqs = static_cast<int>(B);
    mixer_shape.seq_len = block_len;
    mixer_shape.d_model = d_;
    mixer_shape.layer_index = i;
    mixer_shape.cls_token = has_cls_;
    mixer_shape.structure_seed = seed_;
    mixer_shape.previous_layer = i > 0 ? &list[i - 1]->mixer() : nullptr;
    std::unique_ptr<TokenMixer> mixer;
    if (sequence_) {
      // A handler may bring its own mixer (Transformer-XL's attention).
      absl::StatusOr<std::unique_ptr<TokenMixer>> own =
          sequence_->MakeMixer(mixer_shape, &scratch_);
      if (!own.ok()) {
        return absl::Status(own.status().code(),
                            absl::StrCat("model '", config_.name(), "' layer ",
                                         i, ": ", own.status().message()));
      }
      mixer = *std::move(own);
    }
    if (mixer == nullptr && UsesAttentionMixer(config_)) {
      ASSIGN_OR_RETURN(mixer,
                       AttentionMixer::Create(config_, mixer_shape,
                                              *plugins.attention, &scratch_));
    } else if (mixer == nullptr) {
      absl::StatusOr<std::unique_ptr<TokenMixer>> made =
          plugins.mixers->Create(config_.mixer(), mixer_shape, config_);
      if (!made.ok()) {
        return absl::Status(made.status().code(),
                            absl::StrCat("model '", config_.name(), "' layer ",
                                         i, ": ", made.status().message()));
      }
      mixer = *std::move(made);
    }
    BlockShape block_shape;
    block_shape.max_seqs = static_cast<int>(B);
    block_shape.seq_len = block_len;
    block_shape.d_model = d_;
    block_shape.mlp_dim = config_.mlp_dim();
    block_shape.dropout = config_.dropout();
    block_shape.index = i;
    list.push_back(
        std::make_unique<Block>(block_shape, std::move(mixer), &scratch_));
  }
  if (lists > 1) sequence_->UseBlockCopies(&blocks_, &block_copies_);
  ForEachWeight([this](const std::string& name, Tensor& value, Tensor& grad,
                       const WeightSpec& spec) {
    params_.push_back(Parameter{name, &value, &grad, spec});
  });
  // Where final_ln and each block start among the parameters, found by their
  // first gradient tensor.
  auto index_of = [this](const Tensor* grad) {
    for (size_t i = 0; i < params_.size(); ++i) {
      if (params_[i].grad == grad) return static_cast<int>(i);
    }
    return 0;
  };
  auto first_grad = [](const Tensor** first) {
    return
        [first](const std::string&, Tensor&, Tensor& grad, const WeightSpec&) {
          if (*first == nullptr) *first = &grad;
        };
  };
  const Tensor* first = nullptr;
  ::lra::ForEachWeight(w_.final_ln, g_.final_ln, "", first_grad(&first));
  final_ln_first_ = index_of(first);
  ready_points_.push_back(final_ln_first_);
  block_first_.assign(blocks_.size(), 0);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    first = nullptr;
    blocks_[i]->ForEachWeight(first_grad(&first));
    block_first_[i] = index_of(first);
  }
  for (int i = static_cast<int>(blocks_.size()) - 1; i >= 0; --i) {
    ready_points_.push_back(block_first_[i]);
  }
  ready_points_.push_back(0);

  // Packed real rows when every block can run on them (never with a sequence
  // plugin, which calls the blocks on layouts of its own).
  pack_ = pack_requested_ && !sequence_;
  for (const auto& block : blocks_) {
    pack_ = pack_ && block->SupportsPackedRows();
  }
  // Row buffers hold B' N' padded rows, or up to PackedCapacity(B' N')
  // packed ones.
  const int64_t rows = PackedCapacity(B * N);
  tokens_.resize(B * segment_len_);
  key_mask_.resize(B * N);
  if (pack_) {
    pack_position_.resize(B * N);
    pack_seq_start_.resize(B + 1);
  }
  if (config_.dropout() > 0.0f) embed_mask_.resize(rows * D);
  // With a sequence plugin only the embedded input is the encoder's.
  const int streams = sequence_ ? 1 : config_.num_layers() + 1;
  for (int i = 0; i < streams; ++i) {
    xs_.emplace_back(std::vector<int64_t>{rows, D});
  }
  if (sequence_) {
    stream_out_ = Tensor({B, P, D});
    pool_mask_.resize(B * P);
    dstream_ = Tensor({B, P, D});
  }
  const int64_t out_rows = PackedCapacity(B * P);
  final_ln_ = Tensor({out_rows, D});
  final_mean_ = Tensor({out_rows});
  final_rstd_ = Tensor({out_rows});
  pooled_ = Tensor({B, D});
  // The head runs on examples, not sequences.
  const int64_t examples = max_batch_;
  if (segments_ == 2) {
    features_ = Tensor({examples, feature_dim_});
    dfeatures_ = Tensor({examples, feature_dim_});
  }
  head_hidden_ = Tensor({examples, classifier_});
  logits_ = Tensor({examples, classes_});
  dlogits_ = Tensor({examples, classes_});
  dx_ = Tensor({rows, D});
  // Used before the blocks run backward, so it can share their scratch.
  d_final_ln_ = scratch_.Reserve("block.d_normed", out_rows * D);
  dpooled_ = Tensor({B, D});
  dhead_hidden_ = Tensor({examples, classifier_});
  return absl::OkStatus();
}

void Encoder::ForEachWeight(const WeightVisitor& fn) {
  EmbeddingWeights &w = w_.embed, &g = g_.embed;
  fn("embed.token", w.token, g.token, {Init::kNormal});
  if (w.position.size() > 0) {
    fn("embed.position", w.position, g.position, {Init::kNormal});
  }
  if (w.position_row.size() > 0) {
    fn("embed.position_row", w.position_row, g.position_row, {Init::kNormal});
    fn("embed.position_col", w.position_col, g.position_col, {Init::kNormal});
  }
  if (w.cls.size() > 0) fn("embed.cls", w.cls, g.cls, {Init::kNormal});
  if (w.intensity.size() > 0) {
    fn("embed.intensity", w.intensity, g.intensity, {Init::kNormal});
  }
  if (sequence_) sequence_->ForEachWeight(fn);
  for (auto& block : blocks_) block->ForEachWeight(fn);
  ::lra::ForEachWeight(w_.final_ln, g_.final_ln, "final_ln.", fn);
  ::lra::ForEachWeight(w_.head, g_.head, "head.", fn);
}

void Encoder::InitParameters(uint64_t seed) {
  for (size_t index = 0; index < params_.size(); ++index) {
    Parameter& p = params_[index];
    const uint64_t s = DeriveSeed(seed, index);
    float* v = p.value->data();
    const int64_t n = p.value->size();
    switch (p.spec.init) {
      case Init::kNormal:
        for (int64_t i = 0; i < n; ++i) {
          v[i] = static_cast<float>(kEmbeddingStddev * NormalDouble(s, i));
        }
        break;
      case Init::kXavier: {
        // Weights are [in, out]; xavier-uniform bound sqrt(6 / (in + out)).
        const double fan_in = p.value->dim(0), fan_out = p.value->dim(1);
        const double bound = std::sqrt(6.0 / (fan_in + fan_out));
        for (int64_t i = 0; i < n; ++i) {
          v[i] = static_cast<float>(
              (2.0 * static_cast<double>(RandomBits(s, i) >> 11) *
                   (1.0 / 9007199254740992.0) -
               1.0) *
              bound);
        }
        break;
      }
      case Init::kZero:
        p.value->Zero();
        break;
      case Init::kOne:
        for (int64_t i = 0; i < n; ++i) v[i] = 1.0f;
        break;
      case Init::kByOwner:
        break;
    }
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    blocks_[i]->mixer().InitParameters(DeriveSeed(seed, 1000003 + i));
    // The copies' weights are overwritten before each use; what a mixer
    // draws besides its weights must match.
    for (BlockList& copy : block_copies_) {
      copy[i]->mixer().InitParameters(DeriveSeed(seed, 1000003 + i));
    }
  }
}

void Encoder::ForEachParameter(const ParameterVisitor& fn) {
  for (Parameter& p : params_) fn(p.name, *p.value, *p.grad);
}

void Encoder::ForEachTrainable(const WeightVisitor& fn) {
  for (Parameter& p : params_) fn(p.name, *p.value, *p.grad, p.spec);
}

int64_t Encoder::NumParameters() const {
  int64_t total = 0;
  for (const Parameter& p : params_) total += p.value->size();
  return total;
}

void Encoder::ZeroGrad() {
  for (Parameter& p : params_) p.grad->Zero();
}

void Encoder::SetStep(int64_t step) {
  for (auto& block : blocks_) block->mixer().SetStep(step);
  for (BlockList& copy : block_copies_) {
    for (auto& block : copy) block->mixer().SetStep(step);
  }
}

absl::Status Encoder::CheckInputs(const int32_t* tokens, const int32_t* labels,
                                  int batch) const {
  if (batch < 1 || batch > max_batch_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch = ", batch, " is invalid; must be in [1, ", max_batch_, "]"));
  }
  for (int64_t i = 0; i < static_cast<int64_t>(batch) * seq_len_; ++i) {
    if (tokens[i] < 0 || tokens[i] >= config_.vocab_size()) {
      const int position = static_cast<int>(i % seq_len_);
      return absl::InvalidArgumentError(absl::StrCat(
          "token ", tokens[i], " at example ", i / seq_len_, " position ",
          position,
          segments_ > 1
              ? absl::StrCat(" (document ", position / segment_len_ + 1,
                             " position ", position % segment_len_, ")")
              : "",
          " is outside the vocabulary [0, ", config_.vocab_size(), ")"));
    }
  }
  if (labels != nullptr) {
    for (int b = 0; b < batch; ++b) {
      if (labels[b] < 0 || labels[b] >= classes_) {
        return absl::InvalidArgumentError(
            absl::StrCat("label ", labels[b], " of example ", b,
                         " is outside [0, ", classes_, ")"));
      }
    }
  }
  return absl::OkStatus();
}

const float* Encoder::Forward(const int32_t* tokens, int batch, bool training,
                              uint64_t dropout_seed) {
  const int N = positions_, D = d_, L = segment_len_;
  // The blocks see S * batch sequences of N tokens each.
  const int seqs = segments_ * batch;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  const float p = config_.dropout();
  batch_ = batch;
  dropout_active_ = training && p > 0.0f;

  // The embedding backward needs the tokens; a copy frees the caller from
  // keeping its batch alive until Backward.
  std::memcpy(tokens_.data(), tokens,
              sizeof(int32_t) * static_cast<size_t>(batch) * seq_len_);
  // Key padding mask; CLS is always a real key.
  for (int b = 0; b < seqs; ++b) {
    uint8_t* m = key_mask_.data() + static_cast<int64_t>(b) * N;
    if (has_cls_) m[0] = 1;
    for (int t = 0; t < L; ++t) {
      m[t + (has_cls_ ? 1 : 0)] = tokens[static_cast<int64_t>(b) * L + t] != 0;
    }
  }

  packed_step_ = false;
  if (pack_) {
    PackRows(key_mask_.data(), seqs, N, pack_position_.data(),
             pack_seq_start_.data(), &packed_);
    packed_step_ = packed_.rows < rows;
  }
  if (packed_step_) {
    ForwardPacked(tokens, seqs, training, dropout_seed);
    HeadForward(batch);
    return logits_.data();
  }

  float* x = xs_[0].data();  // [B', N', D]
  EmbeddingForward(tokens, seqs, L, D, TokenTableForward(),
                   has_cls_ ? w_.embed.cls.data() : nullptr, x);
  if (const float* positions = PositionsForward(); positions != nullptr) {
    AddPositionsForward(positions, seqs, N, D, x);
  }
  if (dropout_active_) {
    DropoutMask(DropoutSiteSeed(dropout_seed, -1, kSiteEmbed), p, rows * D,
                embed_mask_.data());
    DropoutApply(x, embed_mask_.data(), p, rows * D, x);
  }

  if (sequence_) {
    // The plugin runs the blocks; the encoder averages what it returns.
    SequenceStep step;
    step.seqs = seqs;
    step.key_mask = key_mask_.data();
    step.training = training;
    step.dropout_seed = dropout_seed;
    sequence_->Forward(blocks_, x, step, stream_out_.data(), pool_mask_.data());
    const int P = stream_len_;
    LayerNormForward(stream_out_.data(), w_.final_ln.gamma.data(),
                     w_.final_ln.beta.data(), static_cast<int64_t>(seqs) * P, D,
                     final_ln_.data(), final_mean_.data(), final_rstd_.data());
    PoolMeanForward(final_ln_.data(), pool_mask_.data(), seqs, P, D,
                    pooled_.data());
    HeadForward(batch);
    return logits_.data();
  }

  ForwardThroughBlocks(seqs, training, dropout_seed);
  HeadForward(batch);
  return logits_.data();
}

void Encoder::ForwardPacked(const int32_t* tokens, int seqs, bool training,
                            uint64_t dropout_seed) {
  const int D = d_, L = segment_len_;
  const int64_t rows = packed_.rows;  // R: real rows rounded up
  float* x = xs_[0].data();           // [R, D]
  const float* positions = PositionsForward();
  EmbeddingForwardPacked(tokens, packed_, L, D, TokenTableForward(),
                         has_cls_ ? w_.embed.cls.data() : nullptr, positions,
                         x);
  if (dropout_active_) {
    DropoutMaskPacked(DropoutSiteSeed(dropout_seed, -1, kSiteEmbed),
                      config_.dropout(), packed_, D, embed_mask_.data());
    DropoutApply(x, embed_mask_.data(), config_.dropout(), rows * D, x);
  }
  ForwardThroughBlocks(seqs, training, dropout_seed);
}

void Encoder::ForwardThroughBlocks(int seqs, bool training,
                                   uint64_t dropout_seed) {
  const int N = positions_, D = d_;
  const int64_t rows =
      packed_step_ ? packed_.rows : static_cast<int64_t>(seqs) * N;
  BlockStep step;
  step.seqs = seqs;
  step.key_mask = key_mask_.data();
  step.training = training;
  step.dropout_seed = dropout_seed;
  if (packed_step_) step.packed = &packed_;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    blocks_[i]->Forward(xs_[i].data(), step, xs_[i + 1].data());
  }
  LayerNormForward(xs_.back().data(), w_.final_ln.gamma.data(),
                   w_.final_ln.beta.data(), rows, D, final_ln_.data(),
                   final_mean_.data(), final_rstd_.data());
  if (packed_step_) {
    if (has_cls_) {
      PoolClsForwardPacked(final_ln_.data(), packed_, D, pooled_.data());
    } else {
      PoolMeanForwardPacked(final_ln_.data(), packed_, D, pooled_.data());
    }
  } else if (has_cls_) {
    PoolClsForward(final_ln_.data(), seqs, N, D, pooled_.data());
  } else {
    PoolMeanForward(final_ln_.data(), key_mask_.data(), seqs, N, D,
                    pooled_.data());
  }
}

void Encoder::HeadForward(int batch) {
  const float* head_in = pooled_.data();  // [B, F]
  if (segments_ == 2) {
    DualFeaturesForward(pooled_.data(), batch, d_, features_.data());
    head_in = features_.data();
  }
  head1_.Forward(head_in, w_.head.w1.data(), w_.head.b1.data(),
                 head_hidden_.data(), batch);
  ReluForward(head_hidden_.data(), static_cast<int64_t>(batch) * classifier_,
              head_hidden_.data());
  head2_.Forward(head_hidden_.data(), w_.head.w2.data(), w_.head.b2.data(),
                 logits_.data(), batch);
}

float Encoder::Loss(const int32_t* labels, int* correct) {
  return SoftmaxCrossEntropy(logits_.data(), labels, batch_, classes_,
                             dlogits_.data(), correct);
}

void Encoder::HeadBackward(int batch) {
  // logits = ReLU(features W1 + b1) W2 + b2, where features = pooled, or
  // [u, v, u*v, u-v] of the two documents' pooled rows.
  head2_.BackwardParams(head_hidden_.data(), dlogits_.data(), g_.head.w2.data(),
                        g_.head.b2.data(), batch);
  head2_.BackwardInput(dlogits_.data(), w_.head.w2.data(), dhead_hidden_.data(),
                       batch, false);
  ReluBackward(head_hidden_.data(), dhead_hidden_.data(),
               static_cast<int64_t>(batch) * classifier_, dhead_hidden_.data());
  const bool dual = segments_ == 2;
  head1_.BackwardParams(dual ? features_.data() : pooled_.data(),
                        dhead_hidden_.data(), g_.head.w1.data(),
                        g_.head.b1.data(), batch);
  head1_.BackwardInput(dhead_hidden_.data(), w_.head.w1.data(),
                       dual ? dfeatures_.data() : dpooled_.data(), batch,
                       false);
  if (dual) {
    DualFeaturesBackward(dfeatures_.data(), pooled_.data(), batch, d_,
                         dpooled_.data());
  }
}

void Encoder::Backward() {
  const int batch = batch_;
  const int N = positions_, D = d_;
  const int seqs = segments_ * batch;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  const float p = config_.dropout();

  HeadBackward(batch);

  // Pooling and final LN: dx = d(stream after the last block).
  float* d_final_ln = d_final_ln_.data();
  float* dx = dx_.data();
  if (sequence_) {
    const int P = stream_len_;
    const int64_t out_rows = static_cast<int64_t>(seqs) * P;
    std::memset(d_final_ln, 0, sizeof(float) * out_rows * D);
    PoolMeanBackward(dpooled_.data(), pool_mask_.data(), seqs, P, D,
                     d_final_ln);
    float* dstream = dstream_.data();
    std::memset(dstream, 0, sizeof(float) * out_rows * D);
    LayerNormBackward(d_final_ln, stream_out_.data(), final_mean_.data(),
                      final_rstd_.data(), w_.final_ln.gamma.data(), out_rows, D,
                      dstream, g_.final_ln.gamma.data(),
                      g_.final_ln.beta.data());
    GradientsReady(final_ln_first_);
    // dx [B', N, D] = d(embedded tokens), overwritten by the plugin.
    sequence_->Backward(blocks_, dstream, dx);
    for (int i = static_cast<int>(blocks_.size()) - 1; i >= 0; --i) {
      GradientsReady(block_first_[i]);
    }
  } else {
    BackwardThroughBlocks(d_final_ln, dx);
  }

  if (packed_step_) {
    const int64_t packed_rows = packed_.rows;
    if (dropout_active_) {
      DropoutApply(dx, embed_mask_.data(), p, packed_rows * D, dx);
    }
    EmbeddingBackwardPacked(dx, tokens_.data(), packed_, segment_len_, D,
                            has_cls_, TokenTableGradient(),
                            has_cls_ ? g_.embed.cls.data() : nullptr,
                            PositionGradient());
    PositionsBackward();
    TokenTableBackward();
    GradientsReady(0);
    return;
  }

  // Embedding: dropout, positions, tokens and CLS.
  if (dropout_active_) {
    DropoutApply(dx, embed_mask_.data(), p, rows * D, dx);
  }
  if (float* dpositions = PositionGradient(); dpositions != nullptr) {
    AddPositionsBackward(dx, seqs, N, D, dpositions);
    PositionsBackward();
  }
  EmbeddingBackward(dx, tokens_.data(), seqs, segment_len_, D, has_cls_,
                    TokenTableGradient(),
                    has_cls_ ? g_.embed.cls.data() : nullptr);
  TokenTableBackward();
  GradientsReady(0);
}

const float* Encoder::TokenTableForward() {
  if (w_.embed.intensity.size() == 0) return w_.embed.token.data();
  // table[t] = token[t] + intensity(t) * w for the real tokens, or
  // intensity(t) * w alone with pixel_intensity_only (embed.token is then
  // the padding row alone); the padding row is never read but is copied
  // for tidiness.
  const int D = d_;
  const bool rows = w_.embed.token.dim(0) > 1;
  const float* token = w_.embed.token.data();
  const float* w = w_.embed.intensity.data();
  float* table = token_table_.data();
  std::memcpy(table, token, sizeof(float) * D);
  for (int t = 1; t < kPixelVocab; ++t) {
    const float s = PixelIntensity(t);
    float* out = table + static_cast<int64_t>(t) * D;
    if (rows) {
      const float* in = token + static_cast<int64_t>(t) * D;
      for (int d = 0; d < D; ++d) out[d] = in[d] + s * w[d];
    } else {
      for (int d = 0; d < D; ++d) out[d] = s * w[d];
    }
  }
  return table;
}

float* Encoder::TokenTableGradient() {
  if (w_.embed.intensity.size() == 0) return g_.embed.token.data();
  token_dtable_.Zero();
  return token_dtable_.data();
}

void Encoder::TokenTableBackward() {
  if (w_.embed.intensity.size() == 0) return;
  // d(token)[t] += dtable[t]; d(w) += sum over t of intensity(t) dtable[t].
  const int D = d_;
  const float* dtable = token_dtable_.data();
  float* dtoken = g_.embed.token.data();
  float* dw = g_.embed.intensity.data();
  const bool rows = w_.embed.token.dim(0) > 1;
  for (int d = 0; d < D; ++d) dtoken[d] += dtable[d];
  for (int t = 1; t < kPixelVocab; ++t) {
    const float s = PixelIntensity(t);
    const float* in = dtable + static_cast<int64_t>(t) * D;
    if (rows) {
      float* out = dtoken + static_cast<int64_t>(t) * D;
      for (int d = 0; d < D; ++d) out[d] += in[d];
    }
    for (int d = 0; d < D; ++d) dw[d] += s * in[d];
  }
}

const float* Encoder::PositionsForward() {
  if (w_.embed.position.size() > 0) return w_.embed.position.data();
  if (sinusoid_.size() > 0) return sinusoid_.data();
  if (grid_table_.size() > 0) {
    GridPositionsForward(w_.embed.position_row.data(),
                         w_.embed.position_col.data(), grid_rows_, grid_cols_,
                         d_, has_cls_ ? 1 : 0, grid_table_.data());
    return grid_table_.data();
  }
  return nullptr;
}

float* Encoder::PositionGradient() {
  if (g_.embed.position.size() > 0) return g_.embed.position.data();
  if (grid_dtable_.size() > 0) {
    grid_dtable_.Zero();
    return grid_dtable_.data();
  }
  return nullptr;
}

void Encoder::PositionsBackward() {
  if (grid_dtable_.size() == 0) return;
  GridPositionsBackward(grid_dtable_.data(), grid_rows_, grid_cols_, d_,
                        has_cls_ ? 1 : 0, g_.embed.position_row.data(),
                        g_.embed.position_col.data());
}

void Encoder::BackwardThroughBlocks(float* d_final_ln, float* dx) {
  const int N = positions_, D = d_;
  const int seqs = segments_ * batch_;
  const int64_t rows =
      packed_step_ ? packed_.rows : static_cast<int64_t>(seqs) * N;
  std::memset(d_final_ln, 0, sizeof(float) * rows * D);
  if (packed_step_) {
    if (has_cls_) {
      PoolClsBackwardPacked(dpooled_.data(), packed_, D, d_final_ln);
    } else {
      PoolMeanBackwardPacked(dpooled_.data(), packed_, D, d_final_ln);
    }
  } else if (has_cls_) {
    PoolClsBackward(dpooled_.data(), seqs, N, D, d_final_ln);
  } else {
    PoolMeanBackward(dpooled_.data(), key_mask_.data(), seqs, N, D, d_final_ln);
  }
  std::memset(dx, 0, sizeof(float) * rows * D);
  LayerNormBackward(d_final_ln, xs_.back().data(), final_mean_.data(),
                    final_rstd_.data(), w_.final_ln.gamma.data(), rows, D, dx,
                    g_.final_ln.gamma.data(), g_.final_ln.beta.data());
  GradientsReady(final_ln_first_);

  for (int i = static_cast<int>(blocks_.size()) - 1; i >= 0; --i) {
    blocks_[i]->Backward(dx);
    GradientsReady(block_first_[i]);
  }
}

}  // namespace lra
