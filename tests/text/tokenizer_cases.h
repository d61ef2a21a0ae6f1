#pragma once
// Reading the golden tokenizer cases of ../shared/fixtures/tokenizers/<name>.cases.jsonl (one JSON
// object per line: text, ids, tokens, ids_no_special, ids_truncated_16), shared by the tokenizer tests.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/text/tokenizer.h"
#include "tests/support/shared_paths.h"

namespace syn::test {

struct TokenizerCase {
    int line = 0;
    std::string text;
    std::vector<int32_t> ids, ids_no_special, ids_truncated_16;
    std::vector<std::string> tokens;
};

inline std::string tokenizer_fixtures_dir() { return fixtures_dir() + "/tokenizers"; }

// Names <name> of every <name>.cases.jsonl in the fixtures, sorted.
inline std::vector<std::string> tokenizer_case_names() {
    std::vector<std::string> names;
    std::error_code ec;
    const std::string suffix = ".cases.jsonl";
    for (const auto& entry : std::filesystem::directory_iterator(tokenizer_fixtures_dir(), ec)) {
        std::string f = entry.path().filename().string();
        if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
            names.push_back(f.substr(0, f.size() - suffix.size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

inline std::vector<TokenizerCase> read_tokenizer_cases(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::vector<TokenizerCase> cases;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        TokenizerCase c;
        c.line = n;
        c.text = j.at("text").get<std::string>();
        c.ids = j.at("ids").get<std::vector<int32_t>>();
        c.ids_no_special = j.at("ids_no_special").get<std::vector<int32_t>>();
        c.ids_truncated_16 = j.at("ids_truncated_16").get<std::vector<int32_t>>();
        if (j.contains("tokens")) c.tokens = j.at("tokens").get<std::vector<std::string>>();
        cases.push_back(std::move(c));
    }
    return cases;
}

inline std::string ids_string(const std::vector<int32_t>& ids) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < ids.size(); ++i) s << (i ? ", " : "") << ids[i];
    s << "]";
    return s.str();
}

// Compares one tokenizer against all cases; returns a report of the first `max_reported`
// mismatches (empty when all match) and counts them in `mismatches`.
inline std::string check_cases(const syn::text::Tokenizer& tok, const std::vector<TokenizerCase>& cases,
                               int& mismatches, bool check_tokens = true, int max_reported = 5) {
    std::ostringstream report;
    mismatches = 0;
    syn::text::EncodeOptions plain, no_special, truncated;
    no_special.add_special_tokens = false;
    truncated.max_length = 16;
    auto compare = [&](const TokenizerCase& c, const char* what, const std::vector<int32_t>& want,
                       const std::vector<int32_t>& got) {
        if (want == got) return true;
        if (mismatches < max_reported)
            report << "line " << c.line << " " << what << "\n  text:     " << nlohmann::json(c.text).dump()
                   << "\n  expected: " << ids_string(want) << "\n  got:      " << ids_string(got) << "\n";
        return false;
    };
    for (const TokenizerCase& c : cases) {
        bool ok = true;
        syn::text::Encoding e = tok.encode(c.text, plain);
        ok &= compare(c, "ids", c.ids, e.ids);
        ok &= compare(c, "ids_no_special", c.ids_no_special, tok.encode(c.text, no_special).ids);
        ok &= compare(c, "ids_truncated_16", c.ids_truncated_16, tok.encode(c.text, truncated).ids);
        if (check_tokens && !c.tokens.empty() && e.tokens != c.tokens) {
            if (mismatches < max_reported) {
                report << "line " << c.line << " tokens\n  text:     " << nlohmann::json(c.text).dump()
                       << "\n  expected: " << nlohmann::json(c.tokens).dump()
                       << "\n  got:      " << nlohmann::json(e.tokens).dump() << "\n";
            }
            ok = false;
        }
        if (!ok) ++mismatches;
    }
    return report.str();
}

}  // namespace syn::test
