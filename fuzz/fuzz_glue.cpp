// libFuzzer target for the GLUE TSV reader: the first byte picks the task and the malformed-line
// policy, the rest is the file. Must either parse (every example with its label in range) or throw
// syn::Error; never crash, hang or read out of bounds; messages short and without NUL bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/data/glue.h"
#include "core/io/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const auto& tasks = syn::data::all_glue_tasks();
    const syn::data::GlueTask task = tasks[data[0] % tasks.size()];
    syn::data::GlueReadOptions options;
    switch ((data[0] / tasks.size()) % 3) {
        case 0: options.malformed = syn::data::GlueReadOptions::Malformed::task_default; break;
        case 1: options.malformed = syn::data::GlueReadOptions::Malformed::skip; break;
        default: options.malformed = syn::data::GlueReadOptions::Malformed::fail; break;
    }
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const auto split = syn::data::parse_glue_tsv(task, text, "fuzz.tsv", options);
        const auto& info = syn::data::glue_task_info(task);
        for (const auto& e : split.examples) {
            if (!split.labeled) continue;
            if (info.regression()) {
                if (!(e.score >= 0.0 && e.score <= 5.0)) std::abort();
            } else if (e.label < 0 || e.label >= static_cast<int>(info.labels.size())) {
                std::abort();
            }
        }
    } catch (const syn::Error& e) {
        const std::string what = e.what();
        if (what.size() > 4096 || what.find('\0') != std::string::npos) std::abort();
    }
    return 0;
}
