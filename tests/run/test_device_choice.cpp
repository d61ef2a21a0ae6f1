// The CUDA path's device/dtype logic, tested on CPU by injecting what the machine has.
#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/device_choice.h"

using syn::run::choose_device;

TEST(DeviceChoice, AutoPicksCudaWhenPresent) {
    auto c = choose_device("auto", "bfloat16", true, 2);
    EXPECT_TRUE(c.device.is_cuda());
    EXPECT_EQ(c.device.index(), 0);
    EXPECT_EQ(c.dtype, c10::kBFloat16);
    EXPECT_TRUE(choose_device("auto", "float32", false, 0).device.is_cpu());
    EXPECT_EQ(choose_device("cuda:1", "fp16", true, 2).device.index(), 1);
}

TEST(DeviceChoice, RefusesWhatTheMachineCannotDo) {
    EXPECT_THROW(choose_device("cuda", "float32", false, 0), syn::Error);
    EXPECT_THROW(choose_device("cuda:2", "float32", true, 2), syn::Error);
    EXPECT_THROW(choose_device("cpu", "float16", true, 1), syn::Error);   // float16: CUDA only
    EXPECT_THROW(choose_device("auto", "float16", false, 0), syn::Error);
    EXPECT_THROW(choose_device("tpu", "float32", false, 0), syn::Error);
    EXPECT_THROW(choose_device("cpu", "int8", false, 0), syn::Error);
}

// dtype auto: bf16 on CUDA; on the CPU only where bf16 is native; bf16 may be asked for anywhere.
TEST(DeviceChoice, AutoDtypeFollowsTheHardware) {
    syn::run::MachineCaps amx;
    amx.cpu_fast_bfloat16 = true;
    amx.cpu_isa = "AMX-BF16, AVX512-BF16";
    syn::run::MachineCaps avx2;
    avx2.cpu_isa = "AVX2";
    syn::run::MachineCaps gpu = avx2;
    gpu.cuda_available = true;
    gpu.cuda_device_count = 1;

    auto a = choose_device("auto", "auto", amx);
    EXPECT_TRUE(a.device.is_cpu());
    EXPECT_EQ(a.dtype, c10::kBFloat16);
    EXPECT_NE(a.reason.find("AMX-BF16"), std::string::npos) << a.reason;
    auto b = choose_device("cpu", "auto", avx2);
    EXPECT_EQ(b.dtype, c10::kFloat);
    EXPECT_EQ(b.dtype_name, "float32");
    EXPECT_NE(b.reason.find("no native bfloat16"), std::string::npos) << b.reason;
    auto g = choose_device("auto", "", gpu);
    EXPECT_TRUE(g.device.is_cuda());
    EXPECT_EQ(g.dtype_name, "bfloat16");
    EXPECT_EQ(choose_device("cpu", "auto", gpu).dtype, c10::kFloat);  // the CPU's own rule, GPU or not
    // Asked for explicitly: allowed, and an emulating CPU is told why it is slow.
    auto slow = choose_device("cpu", "bfloat16", avx2);
    EXPECT_EQ(slow.dtype, c10::kBFloat16);
    EXPECT_NE(slow.reason.find("float32 is faster"), std::string::npos) << slow.reason;
    EXPECT_EQ(choose_device("cpu", "bf16", amx).reason, "asked for");
    EXPECT_EQ(choose_device("cpu", "float32", amx).dtype, c10::kFloat);
}

TEST(DeviceChoice, ThisMachine) {
    // Whatever this machine has, float32 on "auto" always works.
    auto c = choose_device("auto", "float32");
    EXPECT_EQ(c.dtype_name, "float32");
    // And auto gives a dtype with a reason that names this CPU's instruction sets.
    auto a = choose_device("cpu", "auto");
    EXPECT_FALSE(a.reason.empty());
    EXPECT_EQ(a.dtype == c10::kBFloat16, syn::run::MachineCaps::this_machine().cpu_fast_bfloat16);
}

// --- threads: what the process may use, not every core (issue 16) ----------------------------------
TEST(ThreadCount, ExplicitSettingsThenAffinityAndCgroupQuota) {
    using syn::thread_count_from;
    EXPECT_EQ(thread_count_from("3", "1", 16, ""), 3);         // SYN_NUM_THREADS first
    EXPECT_EQ(thread_count_from(nullptr, "2", 16, ""), 2);     // then OMP_NUM_THREADS
    EXPECT_EQ(thread_count_from(nullptr, "4,2", 16, ""), 4);  // OpenMP's nested list: the outer level
    EXPECT_EQ(thread_count_from("", "junk", 16, ""), 16);      // unparsable: ignored
    EXPECT_EQ(thread_count_from("0", "-1", 6, ""), 6);         // not positive: ignored
    EXPECT_EQ(thread_count_from(nullptr, nullptr, 16, "max 100000"), 16);     // no quota
    EXPECT_EQ(thread_count_from(nullptr, nullptr, 16, "200000 100000"), 2);   // docker --cpus 2
    EXPECT_EQ(thread_count_from(nullptr, nullptr, 16, "150000 100000"), 2);   // 1.5 CPUs: round up
    EXPECT_EQ(thread_count_from(nullptr, nullptr, 1, "800000 100000"), 1);    // affinity is smaller
    EXPECT_EQ(thread_count_from(nullptr, nullptr, 0, ""), 1);                 // never 0
    EXPECT_EQ(thread_count_from(nullptr, "999999", 2, ""), 4096);             // capped
}

// Several devices (one model replica each, issue 15), by injecting the GPUs a machine has.
TEST(DeviceChoice, DevicesForReplicas) {
    using syn::run::choose_devices;
    syn::run::MachineCaps none, two;
    two.cuda_available = true;
    two.cuda_device_count = 2;
    auto names = [](const std::vector<syn::run::DeviceChoice>& v) {
        std::string s;
        for (const auto& c : v) s += (s.empty() ? "" : ",") + c.device.str();
        return s;
    };
    // No --devices: auto / cuda take every GPU when there are several (unless not expanding).
    EXPECT_EQ(names(choose_devices("", "auto", "auto", two)), "cuda:0,cuda:1");
    EXPECT_EQ(names(choose_devices("", "cuda", "auto", two)), "cuda:0,cuda:1");
    EXPECT_EQ(names(choose_devices("", "cuda:1", "auto", two)), "cuda:1");
    EXPECT_EQ(names(choose_devices("", "auto", "auto", two, false)), "cuda:0");
    EXPECT_EQ(names(choose_devices("", "auto", "float32", none)), "cpu");
    EXPECT_EQ(names(choose_devices("all", "auto", "auto", two)), "cuda:0,cuda:1");
    EXPECT_EQ(names(choose_devices("all", "auto", "float32", none)), "cpu");
    EXPECT_EQ(names(choose_devices("cuda:1,cuda:0", "auto", "auto", two)), "cuda:1,cuda:0");
    EXPECT_EQ(names(choose_devices("cpu,cpu", "auto", "float32", none)), "cpu,cpu");
    const auto dtypes = choose_devices("cuda:0, cuda:1", "auto", "auto", two);
    EXPECT_EQ(dtypes[0].dtype, dtypes[1].dtype);
    // Refused by name: a GPU twice, mixed kinds, a GPU not there, an empty entry, "all" in a list.
    auto message = [&](const std::string& devices, const syn::run::MachineCaps& caps) {
        try {
            choose_devices(devices, "auto", "float32", caps);
        } catch (const syn::Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message("cuda:0,cuda", two).find("cuda:0 is named twice"), std::string::npos);
    EXPECT_NE(message("cpu,cuda:0", two).find("mixed"), std::string::npos);
    EXPECT_NE(message("cuda:0,cuda:2", two).find("only 2 CUDA device(s)"), std::string::npos);
    EXPECT_NE(message("cuda:0", none).find("no GPU is visible"), std::string::npos);
    EXPECT_NE(message("cpu,,cpu", none).find("an empty entry"), std::string::npos);
    EXPECT_NE(message("all,cpu", none).find("stands alone"), std::string::npos);
}
