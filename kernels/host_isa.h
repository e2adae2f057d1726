// The instruction sets of the CPU the kernels run on, read at run time, and the choice between a
// kernel's ISA path and its portable path.
//
// The BF16 (AVX512_BF16 dot products) and INT8 (AVX512_VNNI) kernels are compiled in every build
// with function-level target attributes and chosen when the running CPU has the instructions,
// so a binary built without -march=native (V4SIM_NATIVE OFF, the sanitizer and fuzz builds) still
// uses them, and a host without them runs the portable path of the same kernel. Detection reads
// CPUID and XGETBV (the OS must save the AVX-512 registers), not the compiler's macros.
//
// Tests and benchmarks take the portable path on purpose with PortableKernels: it checks the
// fallback that a host without the instructions runs, on a host that has them.
#pragma once

#include <string>

namespace v4sim {

struct HostIsa {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
  bool avx512_vbmi = false;  // byte permutes (VPERMB, VPERMI2B): reported, no kernel needs it
  /// e.g. "AVX2 FMA AVX512F AVX512BW AVX512VL AVX512_BF16 AVX512_VNNI AVX512_VBMI" ("" when
  /// none).
  std::string names() const;
};

/// What the running CPU (and OS) support; detected once.
const HostIsa& host_isa();

/// True when the BF16 kernels take the AVX512_BF16 path (CPU has it and no PortableKernels
/// guard is alive).
bool use_avx512_bf16();
/// True when the INT8 kernels take the AVX512_VNNI path.
bool use_avx512_vnni();
/// True when kernels with a plain AVX-512 path (F, BW, VL) take it (the FP8 weight decode).
bool use_avx512();

/// While alive, every kernel with an ISA path takes its portable path (process-wide).
class PortableKernels {
 public:
  PortableKernels();
  ~PortableKernels();
  PortableKernels(const PortableKernels&) = delete;
  PortableKernels& operator=(const PortableKernels&) = delete;
};

/// "avx512_bf16" / "avx512_vnni" when the path is taken now, "portable" otherwise.
std::string bf16_path_name();
std::string int8_path_name();

}  // namespace v4sim
