#include "kernels/compressor_forward.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/linear.h"
#include "kernels/precondition.h"
#include "kernels/projection_forward.h"
#include "kernels/quant.h"
#include "kernels/random_fill.h"

namespace v4sim {
namespace {

std::int64_t ring_rows(const CompressorShape& s) {
  return (s.overlap ? 2 : 1) * s.ratio;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t m) {
  return ((a % m) + m) % m;
}

constexpr const char* kKernel = "compressor_forward";  // names the kernel in precondition errors

}  // namespace

CompressorWeights random_compressor_weights(const CompressorShape& s, std::uint64_t seed) {
  const std::int64_t width = projection_width(s);
  CompressorWeights w;
  const float proj = uniform_half_width(1.0 / std::sqrt(static_cast<double>(s.hidden)));
  w.wkv = random_matrix(width, s.hidden, proj, seed);
  w.wgate = random_matrix(width, s.hidden, proj, seed + 1);
  w.ape = random_matrix(s.ratio, width, uniform_half_width(1.0), seed + 2);
  w.norm.resize(s.head_dim);
  fill_uniform(std::span<float>(w.norm.data(), static_cast<std::size_t>(s.head_dim)), 0.5f,
               seed + 3);
  w.norm.array() += 1.0f;
  return w;
}

CompressorState make_compressor_state(const CompressorShape& s) {
  const std::int64_t width = projection_width(s);
  CompressorState st;
  st.c = RowMatrixXf::Zero(ring_rows(s), width);
  st.z = RowMatrixXf::Constant(ring_rows(s), width, -std::numeric_limits<float>::infinity());
  return st;
}

namespace {

// The compressor over either table: Table has dim, rows and append(span) (EntryTable for K=V
// entries, IndexerKeyTable for indexer keys, which encodes them as it stores them).
template <class Table>
void compress_into(const CompressorShape& shape, const CompressorWeights& w,
                   const CompressorOptions& options, const RopeTable& rope,
                   const Eigen::Ref<const RowMatrixXf>& x, CompressorState& state, Table& entries,
                   Cost* cost) {
  const std::int64_t T = shape.num_tokens, s = shape.start_pos, e = s + T;
  const std::int64_t m = shape.ratio, d = shape.head_dim, width = projection_width(shape);
  const std::int64_t ring = ring_rows(shape);
  V4SIM_REQUIRE(kKernel, x.rows() == T && x.cols() == shape.hidden,
                "x must be [num_tokens, hidden]");
  V4SIM_REQUIRE(kKernel, w.wkv.rows() == width && w.wkv.cols() == shape.hidden,
                "wkv must be [width, hidden]");
  V4SIM_REQUIRE(kKernel, w.wgate.rows() == width && w.wgate.cols() == shape.hidden,
                "wgate must be [width, hidden]");
  V4SIM_REQUIRE(kKernel, w.ape.rows() == m && w.ape.cols() == width, "ape must be [ratio, width]");
  V4SIM_REQUIRE(kKernel, w.norm.size() == d && rope.rope_dim <= d, "norm must be [head_dim]");
  V4SIM_REQUIRE(kKernel, state.c.rows() == ring && state.c.cols() == width,
                "state does not match the shape");
  V4SIM_REQUIRE(kKernel, state.next_pos == s, "state.next_pos must equal start_pos");
  V4SIM_REQUIRE(kKernel, entries.dim == d && entries.rows == s / m,
                "entries must hold start_pos / ratio rows");
  if (T <= 0) return;

  // Every token's (c, z) row: this call's rows live in C/Z until the tail is stored at the end.
  RowMatrixXf C, Z;
  project_rows(x, w.wkv, C);
  project_rows(x, w.wgate, Z);
  for (std::int64_t j = 0; j < T; ++j) Z.row(j) += w.ape.row((s + j) % m);

  const auto c_row = [&](std::int64_t p) {
    return p >= s ? C.row(p - s).data() : state.c.row(floor_mod(p, ring)).data();
  };
  const auto z_row = [&](std::int64_t p) {
    return p >= s ? Z.row(p - s).data() : state.z.row(floor_mod(p, ring)).data();
  };
  using ArrayMap = Eigen::Map<const Eigen::ArrayXf>;
  Eigen::ArrayXf mx(d), den(d), num(d), wgt(d);
  std::vector<float> entry(static_cast<std::size_t>(d));
  const std::int64_t slots = ring;
  std::int64_t slots_from_state = 0, emitted = 0;

  for (std::int64_t t = s; t < e; ++t) {
    if ((t + 1) % m != 0) continue;
    const std::int64_t i = t / m;
    // Slot k pools token first + k through channel offset (k < m || !overlap ? 0 : d).
    const std::int64_t first = shape.overlap ? m * (i - 1) : m * i;
    const auto offset = [&](std::int64_t k) { return shape.overlap && k >= m ? d : 0; };
    mx.setConstant(-std::numeric_limits<float>::infinity());
    for (std::int64_t k = 0; k < slots; ++k) mx = mx.max(ArrayMap(z_row(first + k) + offset(k), d));
    den.setZero();
    num.setZero();
    for (std::int64_t k = 0; k < slots; ++k) {
      wgt = (ArrayMap(z_row(first + k) + offset(k), d) - mx).exp();
      den += wgt;
      num += wgt * ArrayMap(c_row(first + k) + offset(k), d);
      if (first + k < s) ++slots_from_state;
    }
    Eigen::Map<Eigen::ArrayXf> p(entry.data(), d);
    p = num / den;
    const float inv_rms = 1.0f / std::sqrt(p.square().mean() + options.norm_eps);
    p = p * inv_rms * w.norm.array();
    rope_rotate(entry, rope, m * i);
    finish_entry(options.kind, options.qat, rope.rope_dim, entry);
    entries.append(entry);
    ++emitted;
  }

  // The rows the next call needs: the last `ring` tokens (older slots keep their rows).
  for (std::int64_t p = std::max(s, e - ring); p < e; ++p) {
    state.c.row(floor_mod(p, ring)) = C.row(p - s);
    state.z.row(floor_mod(p, ring)) = Z.row(p - s);
  }
  state.next_pos = e;

  if (cost) {
    const Precision pc = shape.compute;
    cost->flops_at(pc) += 2 * T * shape.hidden * (w.wkv.rows() + w.wgate.rows());
    cost->flops_at(pc) += emitted * 2 * slots * d;
    cost->read(MemClass::weights) += weight_bytes(shape.weight, w.wkv.rows(), shape.hidden) +
                                     weight_bytes(shape.weight, w.wgate.rows(), shape.hidden);
    cost->read(MemClass::activations) += activation_bytes(pc, T * shape.hidden);
    cost->written(MemClass::kv_cache) +=
        emitted * kv_entry_bytes(shape.out_format, d, shape.rope_dim);
    cost->written(MemClass::state) += T * 2 * width * 4;          // c and z rows, fp32
    cost->read(MemClass::state) += slots_from_state * 2 * d * 4;  // c and z halves, fp32
  }
}

}  // namespace

void compressor_forward(const CompressorShape& shape, const CompressorWeights& w,
                        const CompressorOptions& options, const RopeTable& rope,
                        const Eigen::Ref<const RowMatrixXf>& x, CompressorState& state,
                        EntryTable& entries, Cost* cost) {
  compress_into(shape, w, options, rope, x, state, entries, cost);
}

void compressor_forward(const CompressorShape& shape, const CompressorWeights& w,
                        const CompressorOptions& options, const RopeTable& rope,
                        const Eigen::Ref<const RowMatrixXf>& x, CompressorState& state,
                        IndexerKeyTable& entries, Cost* cost) {
  compress_into(shape, w, options, rope, x, state, entries, cost);
}

void finish_entry(EntryKind kind, bool qat, std::int64_t rope_dim, std::span<float> entry) {
  if (kind == EntryKind::attention) {
    // FP8 E4M3 simulation of the NoPE dims in blocks of 64 with UE8M0 scales; RoPE dims stay
    // (BF16 in the demo, float here) (§1.2, §6.6).
    if (qat) fp8_round_trip(entry.first(entry.size() - static_cast<std::size_t>(rope_dim)), 64);
    return;
  }
  // Indexer tensors: the Hadamard is part of the graph (it changes no dot product in exact
  // arithmetic but decides what FP4 rounds), then MXFP4 simulation in blocks of 32 (§3.4).
  hadamard_transform(entry);
  if (qat) fp4_round_trip(entry);
}

}  // namespace v4sim
