#include "core/text/vocab.h"

#include <cstring>
#include <string>

#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn::text {

uint64_t Vocab::hash_of(std::string_view s) {
    // FNV-1a over 8-byte words then the tail: fast on short tokens, good enough spread for a table
    // at most half full.
    uint64_t h = 1469598103934665603ull ^ (s.size() * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0x100000001B3ull;
        h ^= h >> 29;
    }
    for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001B3ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

void Vocab::grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.id < 0) continue;
        size_t i = s.hash & mask;
        while (slots_[i].id >= 0) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void Vocab::add(std::string_view token, int32_t id) {
    // Ids index dense tables; a corrupt file must not make us allocate gigabytes.
    if (id < 0 || id > kMaxId)
        throw Error("vocabulary: token " + quote_excerpt(token) + " has id " + std::to_string(id) +
                    ", outside 0.." + std::to_string(kMaxId));
    if ((count_ + 1) * 2 > slots_.size()) grow();
    uint64_t h = hash_of(token);
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].id >= 0) {
        if (slots_[i].hash == h && slot_text(slots_[i]) == token) break;
        i = (i + 1) & mask;
    }
    Slot& s = slots_[i];
    if (s.id < 0) {
        s.hash = h;
        s.offset = static_cast<uint32_t>(bytes_.size());
        s.length = static_cast<uint32_t>(token.size());
        bytes_.append(token.data(), token.size());
        ++count_;
    }
    s.id = id;
    if (static_cast<size_t>(id) >= by_id_.size()) by_id_.resize(static_cast<size_t>(id) + 1, {0, 0});
    by_id_[static_cast<size_t>(id)] = {s.offset, s.length + 1};
}

int32_t Vocab::find(std::string_view token) const {
    if (slots_.empty()) return -1;
    uint64_t h = hash_of(token);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.id < 0) return -1;
        if (s.hash == h && s.length == token.size() &&
            std::memcmp(bytes_.data() + s.offset, token.data(), token.size()) == 0)
            return s.id;
    }
}

std::string_view Vocab::token(int32_t id) const {
    if (!has_id(id)) return {};
    auto [offset, len1] = by_id_[static_cast<size_t>(id)];
    return {bytes_.data() + offset, len1 - 1};
}

bool Vocab::has_id(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < by_id_.size() && by_id_[static_cast<size_t>(id)].second != 0;
}

}  // namespace syn::text
