#include "kernels/kv_entry.h"

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/precondition.h"
#include "kernels/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_KV_ENTRY_ISA 1
#endif

namespace v4sim {
namespace {

constexpr const char* kKernel = "kv_entry";  // names the kernel in precondition errors

void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
std::uint16_t get_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
void put_f32(std::uint8_t* p, float f) {
  const std::uint32_t v = std::bit_cast<std::uint32_t>(f);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
float get_f32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return std::bit_cast<float>(v);
}

// The RoPE dims as BF16, little-endian, at p.
void put_bf16s(std::uint8_t* p, std::span<const float> x) {
  for (std::size_t i = 0; i < x.size(); ++i) put_u16(p + 2 * i, bf16_encode(x[i]));
}
void get_bf16s(const std::uint8_t* p, std::span<float> out) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = bf16_decode(get_u16(p + 2 * i));
}

// Layout of the FP8 formats: codes [nope] at 0, then (v4) rope then scale bytes, or (v32 and the
// fp8 indexer key) fp32 scales then rope.
struct Fp8Layout {
  std::size_t nope = 0, rope = 0, blocks = 0;
  std::size_t codes_at = 0, scales_at = 0, rope_at = 0;
};

Fp8Layout fp8_layout(KvEntryFormat f, std::size_t dim, std::size_t rope) {
  Fp8Layout l;
  l.nope = dim - rope;
  l.rope = rope;
  l.blocks = l.nope / kv_fp8_block(f);
  if (f == KvEntryFormat::v4_fp8_sparse) {
    l.rope_at = l.nope;
    l.scales_at = l.nope + 2 * rope;
  } else {
    l.scales_at = l.nope;
    l.rope_at = l.nope + 4 * l.blocks;
  }
  return l;
}

// Value of every E2M1 code and every UE8M0 scale byte, so that decoding is two lookups and the
// product mxfp4_dequantize forms.
struct Mxfp4Tables {
  std::array<float, 16> code{};
  std::array<float, 256> scale{};
};
Mxfp4Tables mxfp4_tables() {
  Mxfp4Tables t;
  for (int c = 0; c < 16; ++c) t.code[c] = fp4_e2m1_decode(static_cast<std::uint8_t>(c));
  for (int b = 0; b < 256; ++b) t.scale[b] = ue8m0_decode(static_cast<std::uint8_t>(b));
  return t;
}

#ifdef V4SIM_KV_ENTRY_ISA
// Sixteen values per step: eight packed bytes widened to 16-bit lanes, each lane's two nibbles
// spread into its two bytes (low nibble first, the element order), widened to 32-bit indices into
// the 16-entry code table held in one register, times the block's scale.
__attribute__((target("avx512f"))) void decode_mxfp4_avx512(const std::uint8_t* entries,
                                                            std::int64_t n, std::int64_t dim,
                                                            const Mxfp4Tables& t, float* out) {
  const std::int64_t half = dim / 2, eb = half + dim / kMxfp4Block;
  const __m512 table = _mm512_loadu_ps(t.code.data());
  const __m128i low = _mm_set1_epi16(0x0F);
  for (std::int64_t r = 0; r < n; ++r) {
    const std::uint8_t* packed = entries + r * eb;
    const std::uint8_t* scales = packed + half;
    float* dst = out + r * dim;
    for (std::int64_t j = 0; j < half; j += 8) {
      const __m128i w =
          _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + j)));
      const __m128i nibbles =
          _mm_or_si128(_mm_and_si128(w, low), _mm_slli_epi16(_mm_srli_epi16(w, 4), 8));
      const __m512 v = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(nibbles), table);
      const __m512 s = _mm512_set1_ps(t.scale[scales[2 * j / kMxfp4Block]]);
      _mm512_storeu_ps(dst + 2 * j, _mm512_mul_ps(v, s));
    }
  }
}
#endif

}  // namespace

void decode_mxfp4_entries(const std::uint8_t* entries, std::int64_t n, std::int64_t dim,
                          float* out) {
  check_kv_entry_dims(KvEntryFormat::mxfp4, dim, 0);
  const Mxfp4Tables t = mxfp4_tables();
#ifdef V4SIM_KV_ENTRY_ISA
  if (use_avx512()) {
    decode_mxfp4_avx512(entries, n, dim, t, out);
    return;
  }
#endif
  const std::int64_t half = dim / 2, eb = half + dim / kMxfp4Block;
  for (std::int64_t r = 0; r < n; ++r) {
    const std::uint8_t* packed = entries + r * eb;
    const std::uint8_t* scales = packed + half;
    float* dst = out + r * dim;
    for (std::int64_t i = 0; i < dim; ++i) {
      const std::uint8_t byte = packed[i / 2];
      dst[i] = t.code[i % 2 == 0 ? byte & 0x0F : byte >> 4] * t.scale[scales[i / kMxfp4Block]];
    }
  }
}

int kv_fp8_block(KvEntryFormat f) {
  return f == KvEntryFormat::v4_fp8_sparse ? 64 : 128;
}

void check_kv_entry_dims(KvEntryFormat f, std::int64_t dim, std::int64_t rope_dim) {
  V4SIM_REQUIRE(kKernel, dim > 0 && rope_dim >= 0 && rope_dim <= dim,
                "need 0 <= rope_dim <= dim, dim > 0");
  switch (f) {
    case KvEntryFormat::bf16:
      return;
    case KvEntryFormat::v4_fp8_sparse:
    case KvEntryFormat::v32_fp8_sparse:
      V4SIM_REQUIRE(kKernel, (dim - rope_dim) % kv_fp8_block(f) == 0,
                    "NoPE dims must be a multiple of the FP8 block (64 for v4, 128 for v32)");
      return;
    case KvEntryFormat::mxfp4:
      V4SIM_REQUIRE(kKernel, dim % kMxfp4Block == 0, "mxfp4 entries need a multiple of 32 dims");
      return;
    case KvEntryFormat::fp8_fp32_scale:
      V4SIM_REQUIRE(kKernel, dim % 128 == 0, "fp8_fp32_scale entries need a multiple of 128 dims");
      return;
  }
}

void encode_kv_entry(KvEntryFormat f, std::span<const float> x, std::int64_t rope_dim,
                     std::span<std::uint8_t> out) {
  const auto dim = static_cast<std::int64_t>(x.size());
  check_kv_entry_dims(f, dim, rope_dim);
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(out.size()) == kv_entry_bytes(f, dim, rope_dim),
                "output must be kv_entry_bytes(f, dim, rope_dim) long");
  std::fill(out.begin(), out.end(), std::uint8_t{0});  // padding bytes are zero
  switch (f) {
    case KvEntryFormat::bf16:
      put_bf16s(out.data(), x);
      return;
    case KvEntryFormat::mxfp4: {
      const std::size_t n = x.size();
      mxfp4_quantize(x, out.first(n / 2), out.subspan(n / 2, n / kMxfp4Block));
      return;
    }
    case KvEntryFormat::v4_fp8_sparse:
    case KvEntryFormat::v32_fp8_sparse:
    case KvEntryFormat::fp8_fp32_scale: {
      const std::size_t rope = f == KvEntryFormat::fp8_fp32_scale ? 0 : rope_dim;
      const Fp8Layout l = fp8_layout(f, x.size(), rope);
      std::vector<float> scales(l.blocks);
      fp8_quantize(x.first(l.nope), kv_fp8_block(f), out.subspan(l.codes_at, l.nope), scales);
      for (std::size_t b = 0; b < l.blocks; ++b) {
        if (f == KvEntryFormat::v4_fp8_sparse) {
          out[l.scales_at + b] = ue8m0_encode(scales[b]);
        } else {
          put_f32(out.data() + l.scales_at + 4 * b, scales[b]);
        }
      }
      put_bf16s(out.data() + l.rope_at, x.last(l.rope));
      return;
    }
  }
}

void decode_kv_entry(KvEntryFormat f, std::span<const std::uint8_t> bytes, std::int64_t rope_dim,
                     std::span<float> out) {
  const auto dim = static_cast<std::int64_t>(out.size());
  check_kv_entry_dims(f, dim, rope_dim);
  V4SIM_REQUIRE(kKernel,
                static_cast<std::int64_t>(bytes.size()) == kv_entry_bytes(f, dim, rope_dim),
                "input must be kv_entry_bytes(f, dim, rope_dim) long");
  switch (f) {
    case KvEntryFormat::bf16:
      get_bf16s(bytes.data(), out);
      return;
    case KvEntryFormat::mxfp4: {
      const std::size_t n = out.size();
      mxfp4_dequantize(bytes.first(n / 2), bytes.subspan(n / 2, n / kMxfp4Block), out);
      return;
    }
    case KvEntryFormat::v4_fp8_sparse:
    case KvEntryFormat::v32_fp8_sparse:
    case KvEntryFormat::fp8_fp32_scale: {
      const std::size_t rope = f == KvEntryFormat::fp8_fp32_scale ? 0 : rope_dim;
      const Fp8Layout l = fp8_layout(f, out.size(), rope);
      std::vector<float> scales(l.blocks);
      for (std::size_t b = 0; b < l.blocks; ++b) {
        scales[b] = f == KvEntryFormat::v4_fp8_sparse ? ue8m0_decode(bytes[l.scales_at + b])
                                                      : get_f32(bytes.data() + l.scales_at + 4 * b);
      }
      fp8_dequantize(bytes.subspan(l.codes_at, l.nope), scales, kv_fp8_block(f), out.first(l.nope));
      get_bf16s(bytes.data() + l.rope_at, out.last(l.rope));
      return;
    }
  }
}

void simulate_kv_entry(KvEntryFormat f, std::span<float> x, std::int64_t rope_dim) {
  check_kv_entry_dims(f, static_cast<std::int64_t>(x.size()), rope_dim);
  switch (f) {
    case KvEntryFormat::bf16:
      for (float& v : x) v = bf16_round(v);
      return;
    case KvEntryFormat::mxfp4:
      fp4_round_trip(x);
      return;
    case KvEntryFormat::fp8_fp32_scale:
      fp8_round_trip(x, kv_fp8_block(f));
      return;
    case KvEntryFormat::v4_fp8_sparse:
    case KvEntryFormat::v32_fp8_sparse: {
      const std::size_t nope = x.size() - static_cast<std::size_t>(rope_dim);
      fp8_round_trip(x.first(nope), kv_fp8_block(f));
      for (float& v : x.last(static_cast<std::size_t>(rope_dim))) v = bf16_round(v);
      return;
    }
  }
}

}  // namespace v4sim
