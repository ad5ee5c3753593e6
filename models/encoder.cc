#include "models/encoder.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention/builtin.h"
#include "models/layers.h"
#include "models/rng.h"

namespace lra {
namespace {

enum InitKind { kInitNormal, kInitXavier, kInitZero, kInitOne, kInitPlugin };

constexpr float kEmbeddingStddev = 0.02f;

absl::Status FieldError(const ModelConfig& config, const std::string& field,
                        const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(absl::StrCat("model '", config.name(),
                                                 "': ", field, " = ", value,
                                                 " is invalid; ", allowed));
}

// Dropout seeds per site: fixed tags under the step's dropout seed.
uint64_t SiteSeed(uint64_t seed, int layer, int site) {
  return DeriveSeed(seed, static_cast<uint64_t>(layer + 1) * 16 + site);
}
enum DropoutSite {
  kSiteEmbed,
  kSiteAttnOut,
  kSiteMlpAct,
  kSiteMlpOut,
  kSiteAttention
};

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

}  // namespace

struct Encoder::ParamRef {
  std::string name;
  Tensor* value;
  Tensor* grad;
  int init;
};

// One pre-LN block's parameters, layers and saved activations; B' = S * B
// sequences (see encoder.h).
struct Encoder::Layer {
  Tensor *ln1_gamma, *ln1_beta, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
  Tensor *ln2_gamma, *ln2_beta, *w1, *b1, *w2, *b2;
  Tensor *d_ln1_gamma, *d_ln1_beta, *d_wq, *d_bq, *d_wk, *d_bk, *d_wv, *d_bv,
      *d_wo, *d_bo;
  Tensor *d_ln2_gamma, *d_ln2_beta, *d_w1, *d_b1, *d_w2, *d_b2;
  std::unique_ptr<Linear> q, k, v, o, fc1, fc2;
  std::unique_ptr<Attention> attention;

  Tensor ln1;                 // [B', N', D]
  Tensor ln1_mean, ln1_rstd;  // [B', N']
  Tensor qh, kh, vh;          // [B', H, N', Dh]
  Tensor attn;                // [B', H, N', Dh]
  Tensor merged;              // [B', N', Q]
  Tensor x_mid;               // [B', N', D] stream after the attention branch
  Tensor ln2;                 // [B', N', D]
  Tensor ln2_mean, ln2_rstd;  // [B', N']
  Tensor mlp_pre;             // [B', N', M] before GELU
  Tensor mlp_act;             // [B', N', M] after GELU and dropout
  std::vector<uint8_t> attn_out_mask;  // [B', N', D]
  std::vector<uint8_t> mlp_act_mask;   // [B', N', M]
  std::vector<uint8_t> mlp_out_mask;   // [B', N', D]
};

absl::Status ResolveModelDefaults(ModelConfig* config) {
  if (config->positional() == POSITIONAL_UNSPECIFIED) {
    config->set_positional(POSITIONAL_LEARNED);
  }
  if (config->pooling() == POOLING_UNSPECIFIED) {
    config->set_pooling(POOLING_CLS);
  }
  if (config->attention().name().empty()) {
    config->mutable_attention()->set_name("full");
  }
  if (config->qkv_dim() == 0) config->set_qkv_dim(config->d_model());
  if (config->mlp_dim() == 0) config->set_mlp_dim(4 * config->d_model());
  if (config->head_dim() == 0) config->set_head_dim(config->mlp_dim());
  // The suite sets the task's count; a model used on its own (tests, bench)
  // sees one document per example.
  if (config->num_segments() == 0) config->set_num_segments(1);
  return absl::OkStatus();
}

absl::Status ValidateModelConfig(const ModelConfig& config, int seq_len,
                                 int max_batch) {
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
        {"head_dim", config.head_dim()}}) {
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
      config.positional() != POSITIONAL_NONE) {
    return FieldError(config, "positional",
                      PositionalEncoding_Name(config.positional()),
                      "must be POSITIONAL_LEARNED, POSITIONAL_SINUSOIDAL or "
                      "POSITIONAL_NONE");
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
  absl::StatusOr<AttentionParams> params =
      BuiltinAttentions().ResolveParams(config.attention());
  if (!params.ok()) {
    return absl::Status(params.status().code(),
                        absl::StrCat("model '", config.name(),
                                     "': ", params.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Encoder>> Encoder::Create(
    const ModelConfig& config, int seq_len, int max_batch) {
  ModelConfig resolved = config;
  absl::Status status = ResolveModelDefaults(&resolved);
  if (!status.ok()) return status;
  status = ValidateModelConfig(resolved, seq_len, max_batch);
  if (!status.ok()) return status;
  std::unique_ptr<Encoder> encoder(new Encoder(resolved, seq_len, max_batch));
  status = encoder->Build();
  if (!status.ok()) return status;
  return encoder;
}

Encoder::Encoder(const ModelConfig& config, int seq_len, int max_batch)
    : config_(config),
      seq_len_(seq_len),
      segments_(config.num_segments()),
      segment_len_(seq_len / config.num_segments()),
      positions_(segment_len_ + (config.pooling() == POOLING_CLS ? 1 : 0)),
      feature_dim_(config.num_segments() == 2 ? 4 * config.d_model()
                                              : config.d_model()),
      max_batch_(max_batch),
      d_(config.d_model()),
      heads_(config.num_heads()),
      head_dim_(config.qkv_dim() / config.num_heads()),
      qkv_(config.qkv_dim()),
      mlp_(config.mlp_dim()),
      head_hidden_(config.head_dim()),
      classes_(config.num_classes()),
      has_cls_(config.pooling() == POOLING_CLS) {}

Encoder::~Encoder() = default;

Tensor* Encoder::AddParam(const std::string& name, std::vector<int64_t> shape,
                          int init_kind) {
  storage_.emplace_back(shape);
  Tensor* value = &storage_.back();
  storage_.emplace_back(std::move(shape));
  Tensor* grad = &storage_.back();
  params_.push_back(ParamRef{name, value, grad, init_kind});
  return value;
}

absl::Status Encoder::Build() {
  // Workspaces inside the blocks hold B' = S * max_batch sequences.
  const int64_t B = static_cast<int64_t>(segments_) * max_batch_,
                N = positions_, D = d_, H = heads_, Dh = head_dim_, Q = qkv_,
                M = mlp_;
  const bool dropout = config_.dropout() > 0.0f;
  // Each AddParam appends (value, grad); the grad is the last tensor stored.
  auto grad_of_last = [this]() { return params_.back().grad; };

  token_embed_ =
      AddParam("embed.token", {config_.vocab_size(), D}, kInitNormal);
  d_token_embed_ = grad_of_last();
  if (config_.positional() == POSITIONAL_LEARNED) {
    const int64_t max_positions = config_.max_len() > 0 ? config_.max_len() : N;
    position_embed_ =
        AddParam("embed.position", {max_positions, D}, kInitNormal);
    d_position_embed_ = grad_of_last();
  } else if (config_.positional() == POSITIONAL_SINUSOIDAL) {
    sinusoid_ = Tensor({N, D});
    SinusoidalPositions(N, D, sinusoid_.data());
  }
  if (has_cls_) {
    cls_ = AddParam("embed.cls", {D}, kInitNormal);
    d_cls_ = grad_of_last();
  }

  for (int i = 0; i < config_.num_layers(); ++i) {
    auto layer = std::make_unique<Layer>();
    Layer& l = *layer;
    const std::string p = absl::StrCat("layer", i, ".");
    l.ln1_gamma = AddParam(p + "ln1.gamma", {D}, kInitOne);
    l.d_ln1_gamma = grad_of_last();
    l.ln1_beta = AddParam(p + "ln1.beta", {D}, kInitZero);
    l.d_ln1_beta = grad_of_last();
    l.wq = AddParam(p + "attn.wq", {D, Q}, kInitXavier);
    l.d_wq = grad_of_last();
    l.bq = AddParam(p + "attn.bq", {Q}, kInitZero);
    l.d_bq = grad_of_last();
    l.wk = AddParam(p + "attn.wk", {D, Q}, kInitXavier);
    l.d_wk = grad_of_last();
    l.bk = AddParam(p + "attn.bk", {Q}, kInitZero);
    l.d_bk = grad_of_last();
    l.wv = AddParam(p + "attn.wv", {D, Q}, kInitXavier);
    l.d_wv = grad_of_last();
    l.bv = AddParam(p + "attn.bv", {Q}, kInitZero);
    l.d_bv = grad_of_last();
    l.wo = AddParam(p + "attn.wo", {Q, D}, kInitXavier);
    l.d_wo = grad_of_last();
    l.bo = AddParam(p + "attn.bo", {D}, kInitZero);
    l.d_bo = grad_of_last();

    AttentionShape shape;
    shape.max_batch = static_cast<int>(B);
    shape.num_heads = heads_;
    shape.seq_len = positions_;
    shape.head_dim = head_dim_;
    shape.attention_dropout = config_.attention_dropout();
    shape.layer_index = i;
    shape.seed = DeriveSeed(0x5EED, i);
    shape.cls_token = has_cls_;
    absl::StatusOr<std::unique_ptr<Attention>> attention =
        BuiltinAttentions().Create(config_.attention(), shape);
    if (!attention.ok()) {
      return absl::Status(attention.status().code(),
                          absl::StrCat("model '", config_.name(), "' layer ", i,
                                       ": ", attention.status().message()));
    }
    l.attention = *std::move(attention);
    l.attention->ForEachParameter(
        [&](const std::string& name, Tensor& value, Tensor& grad) {
          params_.push_back(
              ParamRef{p + "attn." + name, &value, &grad, kInitPlugin});
        });

    l.ln2_gamma = AddParam(p + "ln2.gamma", {D}, kInitOne);
    l.d_ln2_gamma = grad_of_last();
    l.ln2_beta = AddParam(p + "ln2.beta", {D}, kInitZero);
    l.d_ln2_beta = grad_of_last();
    l.w1 = AddParam(p + "mlp.w1", {D, M}, kInitXavier);
    l.d_w1 = grad_of_last();
    l.b1 = AddParam(p + "mlp.b1", {M}, kInitZero);
    l.d_b1 = grad_of_last();
    l.w2 = AddParam(p + "mlp.w2", {M, D}, kInitXavier);
    l.d_w2 = grad_of_last();
    l.b2 = AddParam(p + "mlp.b2", {D}, kInitZero);
    l.d_b2 = grad_of_last();

    l.q = std::make_unique<Linear>(D, Q);
    l.k = std::make_unique<Linear>(D, Q);
    l.v = std::make_unique<Linear>(D, Q);
    l.o = std::make_unique<Linear>(Q, D);
    l.fc1 = std::make_unique<Linear>(D, M);
    l.fc2 = std::make_unique<Linear>(M, D);

    l.ln1 = Tensor({B, N, D});
    l.ln1_mean = Tensor({B, N});
    l.ln1_rstd = Tensor({B, N});
    l.qh = Tensor({B, H, N, Dh});
    l.kh = Tensor({B, H, N, Dh});
    l.vh = Tensor({B, H, N, Dh});
    l.attn = Tensor({B, H, N, Dh});
    l.merged = Tensor({B, N, Q});
    l.x_mid = Tensor({B, N, D});
    l.ln2 = Tensor({B, N, D});
    l.ln2_mean = Tensor({B, N});
    l.ln2_rstd = Tensor({B, N});
    l.mlp_pre = Tensor({B, N, M});
    l.mlp_act = Tensor({B, N, M});
    if (dropout) {
      l.attn_out_mask.resize(B * N * D);
      l.mlp_act_mask.resize(B * N * M);
      l.mlp_out_mask.resize(B * N * D);
    }
    layers_.push_back(std::move(layer));
  }

  final_gamma_ = AddParam("final_ln.gamma", {D}, kInitOne);
  d_final_gamma_ = grad_of_last();
  final_beta_ = AddParam("final_ln.beta", {D}, kInitZero);
  d_final_beta_ = grad_of_last();
  head_w1_ = AddParam("head.w1", {feature_dim_, head_hidden_}, kInitXavier);
  d_head_w1_ = grad_of_last();
  head_b1_ = AddParam("head.b1", {head_hidden_}, kInitZero);
  d_head_b1_ = grad_of_last();
  head_w2_ = AddParam("head.w2", {head_hidden_, classes_}, kInitXavier);
  d_head_w2_ = grad_of_last();
  head_b2_ = AddParam("head.b2", {classes_}, kInitZero);
  d_head_b2_ = grad_of_last();
  head1_ = std::make_unique<Linear>(feature_dim_, head_hidden_);
  head2_ = std::make_unique<Linear>(head_hidden_, classes_);

  tokens_.resize(B * segment_len_);
  key_mask_.resize(B * N);
  if (dropout) embed_mask_.resize(B * N * D);
  for (int i = 0; i <= config_.num_layers(); ++i)
    xs_.emplace_back(std::vector<int64_t>{B, N, D});
  final_ln_ = Tensor({B, N, D});
  final_mean_ = Tensor({B, N});
  final_rstd_ = Tensor({B, N});
  pooled_ = Tensor({B, D});
  // The head runs on examples, not sequences.
  const int64_t examples = max_batch_;
  if (segments_ == 2) {
    features_ = Tensor({examples, feature_dim_});
    dfeatures_ = Tensor({examples, feature_dim_});
  }
  head_hidden_act_ = Tensor({examples, head_hidden_});
  logits_ = Tensor({examples, classes_});
  dlogits_ = Tensor({examples, classes_});
  tmp_qkv_ = Tensor({B, N, Q});
  tmp_d_ = Tensor({B, N, D});
  dx_ = Tensor({B, N, D});
  dtmp_d_ = Tensor({B, N, D});
  dtmp_qkv_ = Tensor({B, N, Q});
  d_heads_out_ = Tensor({B, H, N, Dh});
  dq_ = Tensor({B, H, N, Dh});
  dk_ = Tensor({B, H, N, Dh});
  dv_ = Tensor({B, H, N, Dh});
  dmlp_ = Tensor({B, N, M});
  dpooled_ = Tensor({B, D});
  dhead_hidden_ = Tensor({examples, head_hidden_});
  return absl::OkStatus();
}

void Encoder::InitParameters(uint64_t seed) {
  for (size_t index = 0; index < params_.size(); ++index) {
    ParamRef& p = params_[index];
    const uint64_t s = DeriveSeed(seed, index);
    float* v = p.value->data();
    const int64_t n = p.value->size();
    switch (p.init) {
      case kInitNormal:
        for (int64_t i = 0; i < n; ++i) {
          v[i] = static_cast<float>(kEmbeddingStddev * NormalDouble(s, i));
        }
        break;
      case kInitXavier: {
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
      case kInitZero:
        p.value->Zero();
        break;
      case kInitOne:
        for (int64_t i = 0; i < n; ++i) v[i] = 1.0f;
        break;
      case kInitPlugin:
        break;
    }
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->attention->InitParameters(DeriveSeed(seed, 1000003 + i));
  }
}

void Encoder::ForEachParameter(const ParameterVisitor& fn) {
  for (ParamRef& p : params_) fn(p.name, *p.value, *p.grad);
}

int64_t Encoder::NumParameters() const {
  int64_t total = 0;
  for (const ParamRef& p : params_) total += p.value->size();
  return total;
}

void Encoder::ZeroGrad() {
  for (ParamRef& p : params_) p.grad->Zero();
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
  const int N = positions_, D = d_, H = heads_, Dh = head_dim_, M = mlp_;
  // The blocks see S * batch sequences of N tokens each.
  const int seqs = segments_ * batch;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  const float p = config_.dropout();
  batch_ = batch;
  training_ = training;
  dropout_active_ = training && p > 0.0f;

  // The embedding backward needs the tokens; a copy frees the caller from
  // keeping its batch alive until Backward.
  std::memcpy(tokens_.data(), tokens,
              sizeof(int32_t) * static_cast<size_t>(batch) * seq_len_);
  // Key padding mask; CLS is always a real key.
  const int L = segment_len_;
  for (int b = 0; b < seqs; ++b) {
    uint8_t* m = key_mask_.data() + static_cast<int64_t>(b) * N;
    if (has_cls_) m[0] = 1;
    for (int t = 0; t < L; ++t) {
      m[t + (has_cls_ ? 1 : 0)] = tokens[static_cast<int64_t>(b) * L + t] != 0;
    }
  }

  float* x = xs_[0].data();  // [B', N', D]
  EmbeddingForward(tokens, seqs, L, D, token_embed_->data(),
                   has_cls_ ? cls_->data() : nullptr, x);
  if (position_embed_ != nullptr) {
    AddPositionsForward(position_embed_->data(), seqs, N, D, x);
  } else if (sinusoid_.size() > 0) {
    AddPositionsForward(sinusoid_.data(), seqs, N, D, x);
  }
  if (dropout_active_) {
    DropoutMask(SiteSeed(dropout_seed, -1, kSiteEmbed), p, rows * D,
                embed_mask_.data());
    DropoutApply(x, embed_mask_.data(), p, rows * D, x);
  }

  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    const int li = static_cast<int>(i);
    const float* x_in = xs_[i].data();
    float* x_out = xs_[i + 1].data();
    // Attention branch: x_mid = x + dropout(attn(LN1(x)) Wo + bo).
    LayerNormForward(x_in, l.ln1_gamma->data(), l.ln1_beta->data(), rows, D,
                     l.ln1.data(), l.ln1_mean.data(), l.ln1_rstd.data());
    l.q->Forward(l.ln1.data(), l.wq->data(), l.bq->data(), tmp_qkv_.data(),
                 rows);
    SplitHeads(tmp_qkv_.data(), seqs, N, H, Dh, l.qh.data());
    l.k->Forward(l.ln1.data(), l.wk->data(), l.bk->data(), tmp_qkv_.data(),
                 rows);
    SplitHeads(tmp_qkv_.data(), seqs, N, H, Dh, l.kh.data());
    l.v->Forward(l.ln1.data(), l.wv->data(), l.bv->data(), tmp_qkv_.data(),
                 rows);
    SplitHeads(tmp_qkv_.data(), seqs, N, H, Dh, l.vh.data());
    l.attention->Forward(
        l.qh.data(), l.kh.data(), l.vh.data(), key_mask_.data(), seqs, training,
        SiteSeed(dropout_seed, li, kSiteAttention), l.attn.data());
    MergeHeads(l.attn.data(), seqs, N, H, Dh, l.merged.data());
    l.o->Forward(l.merged.data(), l.wo->data(), l.bo->data(), tmp_d_.data(),
                 rows);
    if (dropout_active_) {
      DropoutMask(SiteSeed(dropout_seed, li, kSiteAttnOut), p, rows * D,
                  l.attn_out_mask.data());
      DropoutApply(tmp_d_.data(), l.attn_out_mask.data(), p, rows * D,
                   tmp_d_.data());
    }
    std::memcpy(l.x_mid.data(), x_in, sizeof(float) * rows * D);
    AddInPlace(tmp_d_.data(), rows * D, l.x_mid.data());

    // MLP branch: x_out = x_mid + dropout(dropout(GELU(LN2(x) W1 + b1)) W2 +
    // b2).
    LayerNormForward(l.x_mid.data(), l.ln2_gamma->data(), l.ln2_beta->data(),
                     rows, D, l.ln2.data(), l.ln2_mean.data(),
                     l.ln2_rstd.data());
    l.fc1->Forward(l.ln2.data(), l.w1->data(), l.b1->data(), l.mlp_pre.data(),
                   rows);
    GeluForward(l.mlp_pre.data(), rows * M, l.mlp_act.data());
    if (dropout_active_) {
      DropoutMask(SiteSeed(dropout_seed, li, kSiteMlpAct), p, rows * M,
                  l.mlp_act_mask.data());
      DropoutApply(l.mlp_act.data(), l.mlp_act_mask.data(), p, rows * M,
                   l.mlp_act.data());
    }
    l.fc2->Forward(l.mlp_act.data(), l.w2->data(), l.b2->data(), tmp_d_.data(),
                   rows);
    if (dropout_active_) {
      DropoutMask(SiteSeed(dropout_seed, li, kSiteMlpOut), p, rows * D,
                  l.mlp_out_mask.data());
      DropoutApply(tmp_d_.data(), l.mlp_out_mask.data(), p, rows * D,
                   tmp_d_.data());
    }
    std::memcpy(x_out, l.x_mid.data(), sizeof(float) * rows * D);
    AddInPlace(tmp_d_.data(), rows * D, x_out);
  }

  LayerNormForward(xs_.back().data(), final_gamma_->data(), final_beta_->data(),
                   rows, D, final_ln_.data(), final_mean_.data(),
                   final_rstd_.data());
  if (has_cls_) {
    PoolClsForward(final_ln_.data(), seqs, N, D, pooled_.data());
  } else {
    PoolMeanForward(final_ln_.data(), key_mask_.data(), seqs, N, D,
                    pooled_.data());
  }
  const float* head_in = pooled_.data();  // [B, F]
  if (segments_ == 2) {
    DualFeaturesForward(pooled_.data(), batch, D, features_.data());
    head_in = features_.data();
  }
  head1_->Forward(head_in, head_w1_->data(), head_b1_->data(),
                  head_hidden_act_.data(), batch);
  ReluForward(head_hidden_act_.data(),
              static_cast<int64_t>(batch) * head_hidden_,
              head_hidden_act_.data());
  head2_->Forward(head_hidden_act_.data(), head_w2_->data(), head_b2_->data(),
                  logits_.data(), batch);
  return logits_.data();
}

float Encoder::Loss(const int32_t* labels, int* correct) {
  return SoftmaxCrossEntropy(logits_.data(), labels, batch_, classes_,
                             dlogits_.data(), correct);
}

void Encoder::Backward() {
  const int batch = batch_;
  const int N = positions_, D = d_, H = heads_, Dh = head_dim_, M = mlp_;
  const int seqs = segments_ * batch;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  const float p = config_.dropout();

  // Head: logits = ReLU(features W1 + b1) W2 + b2, where features = pooled,
  // or [u, v, u*v, u-v] of the two documents' pooled rows.
  head2_->BackwardParams(head_hidden_act_.data(), dlogits_.data(),
                         d_head_w2_->data(), d_head_b2_->data(), batch);
  head2_->BackwardInput(dlogits_.data(), head_w2_->data(), dhead_hidden_.data(),
                        batch, false);
  ReluBackward(head_hidden_act_.data(), dhead_hidden_.data(),
               static_cast<int64_t>(batch) * head_hidden_,
               dhead_hidden_.data());
  const bool dual = segments_ == 2;
  head1_->BackwardParams(dual ? features_.data() : pooled_.data(),
                         dhead_hidden_.data(), d_head_w1_->data(),
                         d_head_b1_->data(), batch);
  head1_->BackwardInput(dhead_hidden_.data(), head_w1_->data(),
                        dual ? dfeatures_.data() : dpooled_.data(), batch,
                        false);
  if (dual) {
    DualFeaturesBackward(dfeatures_.data(), pooled_.data(), batch, D,
                         dpooled_.data());
  }

  // Pooling and final LN: dx = d(stream after the last block).
  std::memset(dtmp_d_.data(), 0, sizeof(float) * rows * D);
  if (has_cls_) {
    PoolClsBackward(dpooled_.data(), seqs, N, D, dtmp_d_.data());
  } else {
    PoolMeanBackward(dpooled_.data(), key_mask_.data(), seqs, N, D,
                     dtmp_d_.data());
  }
  float* dx = dx_.data();
  std::memset(dx, 0, sizeof(float) * rows * D);
  LayerNormBackward(dtmp_d_.data(), xs_.back().data(), final_mean_.data(),
                    final_rstd_.data(), final_gamma_->data(), rows, D, dx,
                    d_final_gamma_->data(), d_final_beta_->data());

  for (int i = static_cast<int>(layers_.size()) - 1; i >= 0; --i) {
    Layer& l = *layers_[i];
    // MLP branch. The residual passes dx through unchanged; the branch adds
    // its LN2 input gradient into dx.
    const float* dbranch = dx;
    if (dropout_active_) {
      DropoutApply(dx, l.mlp_out_mask.data(), p, rows * D, tmp_d_.data());
      dbranch = tmp_d_.data();
    }
    l.fc2->BackwardParams(l.mlp_act.data(), dbranch, l.d_w2->data(),
                          l.d_b2->data(), rows);
    l.fc2->BackwardInput(dbranch, l.w2->data(), dmlp_.data(), rows, false);
    if (dropout_active_) {
      DropoutApply(dmlp_.data(), l.mlp_act_mask.data(), p, rows * M,
                   dmlp_.data());
    }
    GeluBackward(l.mlp_pre.data(), dmlp_.data(), rows * M, dmlp_.data());
    l.fc1->BackwardParams(l.ln2.data(), dmlp_.data(), l.d_w1->data(),
                          l.d_b1->data(), rows);
    l.fc1->BackwardInput(dmlp_.data(), l.w1->data(), dtmp_d_.data(), rows,
                         false);
    LayerNormBackward(dtmp_d_.data(), l.x_mid.data(), l.ln2_mean.data(),
                      l.ln2_rstd.data(), l.ln2_gamma->data(), rows, D, dx,
                      l.d_ln2_gamma->data(), l.d_ln2_beta->data());

    // Attention branch.
    dbranch = dx;
    if (dropout_active_) {
      DropoutApply(dx, l.attn_out_mask.data(), p, rows * D, tmp_d_.data());
      dbranch = tmp_d_.data();
    }
    l.o->BackwardParams(l.merged.data(), dbranch, l.d_wo->data(),
                        l.d_bo->data(), rows);
    l.o->BackwardInput(dbranch, l.wo->data(), dtmp_qkv_.data(), rows, false);
    SplitHeads(dtmp_qkv_.data(), seqs, N, H, Dh, d_heads_out_.data());
    l.attention->Backward(d_heads_out_.data(), dq_.data(), dk_.data(),
                          dv_.data());
    MergeHeads(dq_.data(), seqs, N, H, Dh, dtmp_qkv_.data());
    l.q->BackwardParams(l.ln1.data(), dtmp_qkv_.data(), l.d_wq->data(),
                        l.d_bq->data(), rows);
    l.q->BackwardInput(dtmp_qkv_.data(), l.wq->data(), dtmp_d_.data(), rows,
                       false);
    MergeHeads(dk_.data(), seqs, N, H, Dh, dtmp_qkv_.data());
    l.k->BackwardParams(l.ln1.data(), dtmp_qkv_.data(), l.d_wk->data(),
                        l.d_bk->data(), rows);
    l.k->BackwardInput(dtmp_qkv_.data(), l.wk->data(), dtmp_d_.data(), rows,
                       true);
    MergeHeads(dv_.data(), seqs, N, H, Dh, dtmp_qkv_.data());
    l.v->BackwardParams(l.ln1.data(), dtmp_qkv_.data(), l.d_wv->data(),
                        l.d_bv->data(), rows);
    l.v->BackwardInput(dtmp_qkv_.data(), l.wv->data(), dtmp_d_.data(), rows,
                       true);
    LayerNormBackward(dtmp_d_.data(), xs_[i].data(), l.ln1_mean.data(),
                      l.ln1_rstd.data(), l.ln1_gamma->data(), rows, D, dx,
                      l.d_ln1_gamma->data(), l.d_ln1_beta->data());
  }

  // Embedding: dropout, positions, tokens and CLS.
  if (dropout_active_) {
    DropoutApply(dx, embed_mask_.data(), p, rows * D, dx);
  }
  if (position_embed_ != nullptr) {
    AddPositionsBackward(dx, seqs, N, D, d_position_embed_->data());
  }
  EmbeddingBackward(dx, tokens_.data(), seqs, segment_len_, D, has_cls_,
                    d_token_embed_->data(),
                    has_cls_ ? d_cls_->data() : nullptr);
}

}  // namespace lra
