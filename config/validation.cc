#include "config/validation.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lra {

absl::Status FieldError(const ConfigOrigin& origin, const std::string& field,
                        const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat(origin.Where(field), " = ", value, ": allowed: ", allowed));
}

absl::Status WithOrigin(const ConfigOrigin& origin,
                        const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(origin.Where(""), ": ", status.message()));
}

std::string FormatNumber(double value) { return absl::StrFormat("%g", value); }

const char kSafeNameAllowed[] =
    "1 to 100 characters from A-Z a-z 0-9 . _ + -, not starting with '.' "
    "(the name becomes a folder under --out)";

bool IsSafeName(absl::string_view name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '+' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status ValidateSafeName(const ConfigOrigin& origin,
                              const std::string& field,
                              absl::string_view name) {
  if (IsSafeName(name)) return absl::OkStatus();
  // CHexEscape shows NUL, newlines and other control bytes visibly.
  return FieldError(origin, field,
                    absl::StrCat("\"", absl::CHexEscape(name), "\""),
                    kSafeNameAllowed);
}

void ResolveTrainDefaults(TrainConfig* t) {
  if (t->schedule() == SCHEDULE_UNSPECIFIED) t->set_schedule(SCHEDULE_CONSTANT);
  if (t->beta1() == 0) t->set_beta1(0.9f);
  if (t->beta2() == 0) t->set_beta2(0.98f);
  if (t->eps() == 0) t->set_eps(1e-9f);
  if (t->eval_every() == 0 && t->steps() > 0) {
    t->set_eval_every(std::max(1, t->steps() / 10));
  }
  if (t->name().empty()) t->set_name("default");
}

absl::Status ValidateTrain(const TrainConfig& t, const ConfigOrigin& o) {
  const auto Num = FormatNumber;
  if (!t.name().empty()) {
    absl::Status status = ValidateSafeName(o, "name", t.name());
    if (!status.ok()) return status;
  }
  if (t.batch_size() <= 0)
    return FieldError(o, "batch_size", Num(t.batch_size()), "an integer > 0");
  if (t.steps() <= 0)
    return FieldError(o, "steps", Num(t.steps()), "an integer > 0");
  if (!(t.learning_rate() > 0))
    return FieldError(o, "learning_rate", Num(t.learning_rate()), "> 0");
  if (t.warmup_steps() < 0)
    return FieldError(o, "warmup_steps", Num(t.warmup_steps()), ">= 0");
  if (t.schedule() == SCHEDULE_RSQRT && t.warmup_steps() <= 0)
    return FieldError(o, "warmup_steps", Num(t.warmup_steps()),
                      "> 0 with SCHEDULE_RSQRT (it sets the decay's scale)");
  if (!(t.beta1() >= 0 && t.beta1() < 1))
    return FieldError(o, "beta1", Num(t.beta1()), "in [0, 1)");
  if (!(t.beta2() >= 0 && t.beta2() < 1))
    return FieldError(o, "beta2", Num(t.beta2()), "in [0, 1)");
  if (!(t.eps() > 0)) return FieldError(o, "eps", Num(t.eps()), "> 0");
  if (!(t.weight_decay() >= 0))
    return FieldError(o, "weight_decay", Num(t.weight_decay()), ">= 0");
  if (!(t.grad_clip() >= 0))
    return FieldError(o, "grad_clip", Num(t.grad_clip()), ">= 0 (0 = off)");
  if (t.eval_every() <= 0)
    return FieldError(o, "eval_every", Num(t.eval_every()), "an integer > 0");
  if (t.eval_batches() < 0)
    return FieldError(o, "eval_batches", Num(t.eval_batches()),
                      ">= 0 (0 = whole split)");
  if (t.test_batches() < 0)
    return FieldError(o, "test_batches", Num(t.test_batches()),
                      ">= 0 (0 = whole split)");
  if (t.threads() < 0)
    return FieldError(o, "threads", Num(t.threads()), ">= 0 (0 = all cores)");
  if (t.log_every() < 0)
    return FieldError(o, "log_every", Num(t.log_every()), ">= 0 (0 = auto)");
  if (t.length_bucket_batches() < 0)
    return FieldError(o, "length_bucket_batches",
                      Num(t.length_bucket_batches()), ">= 0 (0 = off)");
  return absl::OkStatus();
}

absl::Status ValidateModelShape(const ModelConfig& m, const ConfigOrigin& o) {
  const auto Num = FormatNumber;
  if (!m.name().empty()) {
    absl::Status status = ValidateSafeName(o, "name", m.name());
    if (!status.ok()) return status;
  }
  if (m.d_model() <= 0)
    return FieldError(o, "d_model", Num(m.d_model()), "an integer > 0");
  if (m.num_layers() <= 0)
    return FieldError(o, "num_layers", Num(m.num_layers()), "an integer > 0");
  if (m.num_heads() <= 0)
    return FieldError(o, "num_heads", Num(m.num_heads()), "an integer > 0");
  if (m.qkv_dim() <= 0 || m.qkv_dim() % m.num_heads() != 0)
    return FieldError(
        o, "qkv_dim", Num(m.qkv_dim()),
        absl::StrCat("a positive multiple of num_heads (", m.num_heads(), ")"));
  if (m.mlp_dim() <= 0)
    return FieldError(o, "mlp_dim", Num(m.mlp_dim()), "an integer > 0");
  if (!(m.dropout() >= 0 && m.dropout() < 1))
    return FieldError(o, "dropout", Num(m.dropout()), "in [0, 1)");
  if (!(m.attention_dropout() >= 0 && m.attention_dropout() < 1))
    return FieldError(o, "attention_dropout", Num(m.attention_dropout()),
                      "in [0, 1)");
  const bool grid = m.positional() == POSITIONAL_LEARNED_2D ||
                    m.positional() == POSITIONAL_SINUSOIDAL_2D;
  if (m.grid_width() < 0 || (!grid && m.grid_width() != 0))
    return FieldError(o, "grid_width", Num(m.grid_width()),
                      grid ? "an integer >= 0 (0 = the task's image size)"
                           : "0 unless positional is POSITIONAL_LEARNED_2D or "
                             "POSITIONAL_SINUSOIDAL_2D");
  return absl::OkStatus();
}

}  // namespace lra
