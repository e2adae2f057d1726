#include "kernels/host_isa.h"

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define V4SIM_X86 1
#endif

namespace v4sim {
namespace {

std::atomic<int> portable_guards{0};

HostIsa detect() {
  HostIsa h;
#ifdef V4SIM_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return h;
  const bool osxsave = (c >> 27) & 1;
  const bool fma = (c >> 12) & 1;
  if (!osxsave) return h;
  // XCR0: the OS saves XMM/YMM state (bits 1, 2) and the AVX-512 opmask / ZMM state (5, 6, 7).
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const bool ymm_state = (lo & 0x6) == 0x6;
  const bool zmm_state = ymm_state && (lo & 0xE0) == 0xE0;
  if (!ymm_state) return h;
  h.fma = fma;
  if (__get_cpuid_max(0, nullptr) < 7) return h;
  __cpuid_count(7, 0, a, b, c, d);
  h.avx2 = (b >> 5) & 1;
  if (zmm_state) {
    h.avx512f = (b >> 16) & 1;
    h.avx512bw = (b >> 30) & 1;
    h.avx512vl = (b >> 31) & 1;
    h.avx512_vnni = h.avx512f && ((c >> 11) & 1);
    h.avx512_vbmi = h.avx512f && ((c >> 1) & 1);
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    h.avx512_bf16 = h.avx512f && ((a1 >> 5) & 1);
  }
#endif
  return h;
}

}  // namespace

std::string HostIsa::names() const {
  std::string s;
  const auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "AVX2");
  add(fma, "FMA");
  add(avx512f, "AVX512F");
  add(avx512bw, "AVX512BW");
  add(avx512vl, "AVX512VL");
  add(avx512_bf16, "AVX512_BF16");
  add(avx512_vnni, "AVX512_VNNI");
  add(avx512_vbmi, "AVX512_VBMI");
  return s;
}

const HostIsa& host_isa() {
  static const HostIsa isa = detect();
  return isa;
}

// The BF16 and INT8 kernels also use AVX512BW byte/word moves (masked loads, unpacks).
bool use_avx512_bf16() {
  const HostIsa& h = host_isa();
  return h.avx512_bf16 && h.avx512bw && portable_guards.load(std::memory_order_relaxed) == 0;
}

bool use_avx512_vnni() {
  const HostIsa& h = host_isa();
  return h.avx512_vnni && h.avx512bw && portable_guards.load(std::memory_order_relaxed) == 0;
}

bool use_avx512() {
  const HostIsa& h = host_isa();
  return h.avx512f && h.avx512bw && h.avx512vl &&
         portable_guards.load(std::memory_order_relaxed) == 0;
}

PortableKernels::PortableKernels() {
  portable_guards.fetch_add(1);
}
PortableKernels::~PortableKernels() {
  portable_guards.fetch_sub(1);
}

std::string bf16_path_name() {
  return use_avx512_bf16() ? "avx512_bf16" : "portable";
}
std::string int8_path_name() {
  return use_avx512_vnni() ? "avx512_vnni" : "portable";
}

}  // namespace v4sim
