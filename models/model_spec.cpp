#include "models/model_spec.h"

namespace v4sim {

std::string_view to_string(Architecture a) {
  switch (a) {
    case Architecture::v4:
      return "v4";
    case Architecture::mla:
      return "mla";
    case Architecture::gqa:
      return "gqa";
  }
  return "?";
}

std::string_view to_string(AttentionKind k) {
  switch (k) {
    case AttentionKind::swa:
      return "swa";
    case AttentionKind::csa:
      return "csa";
    case AttentionKind::hca:
      return "hca";
    case AttentionKind::mla:
      return "mla";
    case AttentionKind::mla_dsa:
      return "mla_dsa";
    case AttentionKind::gqa:
      return "gqa";
  }
  return "?";
}

std::string_view to_string(FfnKind k) {
  switch (k) {
    case FfnKind::dense:
      return "dense";
    case FfnKind::moe_hash:
      return "moe_hash";
    case FfnKind::moe_scored:
      return "moe_scored";
  }
  return "?";
}

}  // namespace v4sim
