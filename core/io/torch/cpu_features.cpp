#include "core/io/torch/cpu_features.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SYN_X86 1
#endif

namespace syn {
namespace {

#ifdef SYN_X86
// XCR0: which register states the OS saves on context switches. An instruction set is usable only
// when the OS enabled its state (a kernel without AVX-512 or AMX support leaves these bits off).
uint64_t read_xcr0() {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    const unsigned max_leaf = a;
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    f.vendor = vendor;
    __get_cpuid(1, &a, &b, &c, &d);
    const bool osxsave = (c >> 27) & 1;
    const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    const bool os_avx = (xcr0 & 0x6) == 0x6;            // XMM + YMM
    const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
    const bool os_amx = (xcr0 & 0x60000) == 0x60000;      // XTILECFG, XTILEDATA
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned max_subleaf = a;
    f.avx2 = os_avx && ((b >> 5) & 1);
    f.avx512f = os_avx512 && ((b >> 16) & 1);
    f.amx_bf16 = os_amx && ((d >> 22) & 1) && ((d >> 24) & 1);  // AMX-BF16 and AMX-TILE
    if (max_subleaf >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        f.avx512_bf16 = f.avx512f && ((a >> 5) & 1);
    }
    return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

std::string CpuFeatures::isa_summary() const {
    std::string s;
    auto add = [&s](bool on, const char* name) {
        if (on) s += std::string(s.empty() ? "" : ", ") + name;
    };
    add(amx_bf16, "AMX-BF16");
    add(avx512_bf16, "AVX512-BF16");
    add(avx512f, "AVX-512");
    add(avx2, "AVX2");
    return s.empty() ? "no AVX2" : s;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

}  // namespace syn
