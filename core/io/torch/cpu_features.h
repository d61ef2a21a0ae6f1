#pragma once
// What the CPU (and the OS) offer for reduced-precision inference, read with CPUID / XGETBV at run
// time: never assumed from the build machine. bfloat16 pays on the CPU only with native bf16
// instructions (AMX-BF16 tiles or AVX512-BF16 dot products, which oneDNN uses); elsewhere libtorch
// emulates bf16 through float32 and it runs slower than float32 itself.
#include <string>

namespace syn {

struct CpuFeatures {
    std::string vendor;          // "GenuineIntel", "AuthenticAMD", ...
    bool avx2 = false;
    bool avx512f = false;        // CPU and OS (XCR0 opmask/ZMM state enabled)
    bool avx512_bf16 = false;    // VDPBF16PS, with OS support for AVX-512 state
    bool amx_bf16 = false;       // AMX tiles with bf16, with OS support for tile state
    // Native bf16 arithmetic: bfloat16 is then the faster dtype on this CPU.
    bool fast_bfloat16() const { return amx_bf16 || avx512_bf16; }
    // "AMX-BF16, AVX512-BF16, AVX-512, AVX2" (the best first), or "no AVX2".
    std::string isa_summary() const;
};

// Reads the running CPU once (cached). On non-x86 builds every flag is false.
const CpuFeatures& cpu_features();

}  // namespace syn
