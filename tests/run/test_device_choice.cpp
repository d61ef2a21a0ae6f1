// The CUDA path's device/dtype logic, tested on CPU by injecting what the machine has.
#include <gtest/gtest.h>

#include "core/io/errors.h"
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
    EXPECT_THROW(choose_device("cpu", "bfloat16", true, 1), syn::Error);   // half types: CUDA only
    EXPECT_THROW(choose_device("auto", "float16", false, 0), syn::Error);
    EXPECT_THROW(choose_device("tpu", "float32", false, 0), syn::Error);
    EXPECT_THROW(choose_device("cpu", "int8", false, 0), syn::Error);
}

TEST(DeviceChoice, ThisMachine) {
    // Whatever this machine has, float32 on "auto" always works.
    auto c = choose_device("auto", "float32");
    EXPECT_EQ(c.dtype_name, "float32");
}
