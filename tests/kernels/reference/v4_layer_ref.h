// Naive double reference for one V4 attention block (reference/kernels.md §1-§4), recomputed for
// each position from the raw inputs of the whole sequence: no cache, no state, no chunking.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "kernels/attention_layer_forward.h"
#include "tests/kernels/reference/v4_compressor_ref.h"
#include "tests/kernels/reference/v4_core_attention_ref.h"
#include "tests/kernels/reference/v4_indexer_ref.h"
#include "tests/kernels/reference/v4_rope_ref.h"

namespace v4sim::reference {

struct LayerRefResult {
  Eigen::MatrixXd y;                                // [N, D]
  std::vector<std::vector<double>> scores;          // CSA: indexer scores of each position
  std::vector<std::vector<std::int64_t>> selected;  // compressed entries each position attended
};

inline std::vector<double> layer_freqs_ref(const AttentionLayerShape& s) {
  return s.kind == AttentionLayerKind::swa ? rope_freqs_ref(s.rope_dim, 10000.0, false)
                                           : rope_freqs_ref(s.rope_dim, 160000.0, true);
}

inline Eigen::VectorXd rms_ref(Eigen::VectorXd v, const Eigen::VectorXf* gain, double eps = 1e-6) {
  double ms = 0.0;
  for (Eigen::Index i = 0; i < v.size(); ++i) ms += v(i) * v(i);
  const double inv = 1.0 / std::sqrt(ms / double(v.size()) + eps);
  for (Eigen::Index i = 0; i < v.size(); ++i) v(i) *= inv * (gain ? double((*gain)(i)) : 1.0);
  return v;
}

/// y_t for every t in 0 .. N-1 of x_all [N, D]. `choose` (optional) picks the CSA selection from
/// the reference scores and visible count; the default is topk_ref.
inline LayerRefResult layer_ref(
    const AttentionLayerShape& s, const AttentionLayerWeights& w, const RowMatrixXf& x_all,
    const std::function<std::vector<std::int64_t>(std::int64_t t, const std::vector<double>&)>&
        choose = {}) {
  const std::int64_t N = x_all.rows(), H = s.num_heads, d = s.head_dim;
  const std::vector<double> freqs = layer_freqs_ref(s);
  // Every token's K=V entry.
  std::vector<Eigen::VectorXd> kv(N);
  for (std::int64_t t = 0; t < N; ++t) {
    kv[t] = rms_ref(matvec_ref(w.wkv, x_all.row(t).data()), &w.kv_norm);
    rope_ref(kv[t], t, freqs, 1);
  }
  Eigen::MatrixXd comp, ikeys;
  const std::int64_t ratio = compress_ratio(s);
  if (s.kind != AttentionLayerKind::swa)
    comp = compressor_ref({int(d), int(ratio), s.kind == AttentionLayerKind::csa, false, 1e-6},
                          w.compressor, x_all, freqs);
  if (s.kind == AttentionLayerKind::csa)
    ikeys = compressor_ref({int(s.indexer_dim), int(s.csa_ratio), true, true, 1e-6},
                           w.indexer.compressor, x_all, freqs);
  const std::vector<double> sink(w.sink.begin(), w.sink.end());
  LayerRefResult r{Eigen::MatrixXd(N, s.hidden), std::vector<std::vector<double>>(N),
                   std::vector<std::vector<std::int64_t>>(N)};
  for (std::int64_t t = 0; t < N; ++t) {
    const Eigen::VectorXd c_q = rms_ref(matvec_ref(w.wq_a, x_all.row(t).data()), &w.q_norm);
    Eigen::VectorXd q(H * d);
    for (std::int64_t h = 0; h < H; ++h) {
      Eigen::VectorXd qh(d);
      for (std::int64_t k = 0; k < d; ++k) {
        double acc = 0.0;
        for (Eigen::Index c = 0; c < c_q.size(); ++c) acc += double(w.wq_b(h * d + k, c)) * c_q(c);
        qh(k) = acc;
      }
      qh = rms_ref(qh, nullptr);
      rope_ref(qh, t, freqs, 1);
      q.segment(h * d, d) = qh;
    }
    std::vector<Eigen::VectorXd> keys;
    for (std::int64_t p = std::max<std::int64_t>(0, t - s.window + 1); p <= t; ++p)
      keys.push_back(kv[p]);
    if (ratio > 0) {
      const std::int64_t visible = (t + 1) / ratio;
      std::vector<std::int64_t> sel(visible);
      std::iota(sel.begin(), sel.end(), 0);
      if (s.kind == AttentionLayerKind::csa) {
        const IndexerRefQuery iq =
            indexer_query_ref(w.indexer, c_q, x_all.row(t).data(), t, int(s.indexer_heads),
                              int(s.indexer_dim), freqs);
        r.scores[t] = indexer_scores_ref(iq, ikeys, visible);
        sel = choose ? choose(t, r.scores[t]) : topk_ref(r.scores[t], s.topk);
      }
      for (std::int64_t e : sel) keys.push_back(comp.row(e).transpose());
      r.selected[t] = sel;
    }
    const Eigen::VectorXd o = core_attention_ref(q, keys, sink, t, freqs);
    // Grouped wo_a, then wo_b.
    const std::int64_t G = s.o_groups, R = s.o_lora_rank, in_g = H * d / G;
    Eigen::VectorXd v(G * R);
    for (std::int64_t g = 0; g < G; ++g)
      for (std::int64_t k = 0; k < R; ++k) {
        double acc = 0.0;
        for (std::int64_t c = 0; c < in_g; ++c)
          acc += double(w.wo_a(g * R + k, c)) * o(g * in_g + c);
        v(g * R + k) = acc;
      }
    for (std::int64_t k = 0; k < s.hidden; ++k) {
      double acc = 0.0;
      for (std::int64_t c = 0; c < G * R; ++c) acc += double(w.wo_b(k, c)) * v(c);
      r.y(t, k) = acc;
    }
  }
  return r;
}

}  // namespace v4sim::reference
