// libFuzzer target for the CSV reader and the CxC STS parser on top of it: any byte string must
// either parse or throw syn::Error; never crash, hang or read out of bounds. Record line numbers
// must grow, messages must stay short and printable (no raw input bytes echoed).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/data/csv.h"
#include "core/data/cxc.h"
#include "core/io/errors.h"

namespace {

void check_message(const syn::Error& e) {
    const std::string what = e.what();
    if (what.size() > 4096) std::abort();
    for (unsigned char c : what)
        if (c == 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto records = syn::data::parse_csv_records(text, "fuzz.csv");
        std::size_t last = 0;
        for (const auto& r : records) {
            if (r.line <= last && last != 0) std::abort();
            last = r.line;
        }
        const auto table = syn::data::parse_csv_table(text, "fuzz.csv");
        (void)table.check_field_counts();
        try {
            (void)table.column("agg_score");
        } catch (const syn::Error& e) {
            check_message(e);
        }
    } catch (const syn::Error& e) {
        check_message(e);
    }
    try {
        const auto file = syn::data::parse_cxc_sts(text, "fuzz.csv");
        for (const auto& p : file.pairs)
            if (!(p.score >= 0.0 && p.score <= 5.0)) std::abort();
    } catch (const syn::Error& e) {
        check_message(e);
    }
    return 0;
}
