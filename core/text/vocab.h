#pragma once
// Token string <-> id tables for the tokenizers. Lookups take a string_view and allocate nothing:
// an open-addressing hash over one contiguous block of token bytes (std::unordered_map<string>
// would need a temporary std::string per lookup in C++17).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syn::text {

class Vocab {
public:
    static constexpr int32_t kMaxId = (1 << 24) - 1;
    // Adds (or re-points) a token. Ids need not be dense; id_to_token of a gap is empty.
    // Throws syn::Error for an id outside 0..kMaxId.
    void add(std::string_view token, int32_t id);
    // -1 when absent.
    int32_t find(std::string_view token) const;
    std::optional<int32_t> get(std::string_view token) const {
        int32_t id = find(token);
        if (id < 0) return std::nullopt;
        return id;
    }
    // Empty view when the id has no token.
    std::string_view token(int32_t id) const;
    bool has_id(int32_t id) const;
    // One past the largest id.
    int32_t id_bound() const { return static_cast<int32_t>(by_id_.size()); }
    size_t size() const { return count_; }

private:
    struct Slot {
        uint64_t hash = 0;
        uint32_t offset = 0;
        uint32_t length = 0;
        int32_t id = -1;  // -1: empty slot
    };
    static uint64_t hash_of(std::string_view s);
    void grow();
    std::string_view slot_text(const Slot& s) const { return {bytes_.data() + s.offset, s.length}; }

    std::string bytes_;
    std::vector<Slot> slots_;
    std::vector<std::pair<uint32_t, uint32_t>> by_id_;  // offset, length+1 (0 = no token)
    size_t count_ = 0;
};

}  // namespace syn::text
