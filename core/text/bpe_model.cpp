#include "core/text/model.h"

#include <algorithm>
#include <cstring>

#include "core/io/errors.h"
#include "core/text/unicode_utils.h"
#include "core/io/quote.h"

namespace syn::text {

// ---------------------------------------------------------------------------------------------
// GPT-2 byte table: printable Latin-1 bytes map to themselves, the rest to U+0100 upwards.

const std::array<char32_t, 256>& byte_to_unicode() {
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        std::array<bool, 256> printable{};
        for (int b = '!'; b <= '~'; ++b) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) t[b] = printable[b] ? static_cast<char32_t>(b) : next++;
        return t;
    }();
    return table;
}

const std::array<std::string, 256>& byte_to_utf8() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        for (int b = 0; b < 256; ++b) unicode::append_utf8(t[b], byte_to_unicode()[b]);
        return t;
    }();
    return table;
}

void byte_level_decode(std::string_view mapped, std::string& out) {
    static const std::unordered_map<char32_t, unsigned char> reverse = [] {
        std::unordered_map<char32_t, unsigned char> r;
        for (int b = 0; b < 256; ++b) r[byte_to_unicode()[b]] = static_cast<unsigned char>(b);
        return r;
    }();
    size_t pos = 0;
    while (pos < mapped.size()) {
        size_t start = pos;
        char32_t cp = unicode::next_codepoint(mapped, pos);
        auto it = reverse.find(cp);
        if (it != reverse.end()) out.push_back(static_cast<char>(it->second));
        else out.append(mapped.data() + start, pos - start);
    }
}

// ---------------------------------------------------------------------------------------------
// Word cache: 64 shards, each a mutex and a map from the word's bytes to its ids. Entries live on
// the heap so the string_view keys stay valid; a full shard stops accepting words (as HF's cache).

namespace {
struct ViewHash {
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};
struct CacheEntry {
    std::string key;
    std::vector<int32_t> ids;
};
constexpr size_t kShardCapacity = 2048;
}  // namespace

struct BpeModel::Shard {
    std::mutex mutex;
    std::unordered_map<std::string_view, std::unique_ptr<CacheEntry>, ViewHash> map;
};

BpeModel::BpeModel(Options options) : options_(std::move(options)), cache_(new Shard[kShards]) {}
BpeModel::~BpeModel() = default;

// ---------------------------------------------------------------------------------------------
// Merge table.

static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return k;
}

void BpeModel::insert_merge(uint64_t key, int32_t rank, int32_t new_id) {
    if ((merge_count_ + 1) * 2 > merges_.size()) {
        std::vector<MergeSlot> old;
        old.swap(merges_);
        merges_.assign(old.empty() ? 4096 : old.size() * 2, MergeSlot{});
        size_t mask = merges_.size() - 1;
        for (const MergeSlot& s : old) {
            if (s.key == ~0ull) continue;
            size_t i = mix(s.key) & mask;
            while (merges_[i].key != ~0ull) i = (i + 1) & mask;
            merges_[i] = s;
        }
    }
    size_t mask = merges_.size() - 1;
    size_t i = mix(key) & mask;
    while (merges_[i].key != ~0ull) {
        if (merges_[i].key == key) return;  // HF keeps the first (lowest-rank) occurrence
        i = (i + 1) & mask;
    }
    merges_[i] = MergeSlot{key, rank, new_id};
    ++merge_count_;
}

const BpeModel::MergeSlot* BpeModel::find_merge(int32_t left, int32_t right) const {
    if (merges_.empty()) return nullptr;
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    size_t mask = merges_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        const MergeSlot& s = merges_[i];
        if (s.key == key) return &s;
        if (s.key == ~0ull) return nullptr;
    }
}

void BpeModel::add_merge(std::string_view left, std::string_view right, const std::string& origin) {
    int32_t a = vocab_.find(left), b = vocab_.find(right);
    if (a < 0 || b < 0)
        throw Error(origin + ": merge " + quote_excerpt(std::string(left) + " " + std::string(right)) +
                    " uses a token missing from the vocabulary");
    std::string_view right_body = right;
    const std::string& prefix = options_.continuing_subword_prefix;
    if (!prefix.empty() && right_body.substr(0, prefix.size()) == prefix) right_body.remove_prefix(prefix.size());
    std::string merged(left);
    merged.append(right_body.data(), right_body.size());
    int32_t id = vocab_.find(merged);
    if (id < 0) throw Error(origin + ": merged token " + quote_excerpt(merged) + " is not in the vocabulary");
    insert_merge((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b),
                 static_cast<int32_t>(merge_count_), id);
}

void BpeModel::finalize(const std::string& origin) {
    if (!options_.unk_token.empty()) {
        unk_id_ = vocab_.find(options_.unk_token);
        if (unk_id_ < 0) throw Error(origin + ": BPE unk_token " + quote_excerpt(options_.unk_token) + " is not in the vocabulary");
    }
    if (options_.byte_level) {
        for (int first = 0; first < 2; ++first)
            for (int last = 0; last < 2; ++last)
                for (int b = 0; b < 256; ++b) {
                    std::string s = first ? std::string() : options_.continuing_subword_prefix;
                    s += byte_to_utf8()[b];
                    if (last) s += options_.end_of_word_suffix;
                    byte_ids_[first][last][b] = vocab_.find(s);
                }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding one word.

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& symbols) const {
    // Unknown characters: HF adds unk (fused when fuse_unk) or drops them when there is no unk.
    bool pending_unk = false;
    auto add_known = [&](int32_t id) {
        if (pending_unk) symbols.push_back(unk_id_);
        pending_unk = false;
        symbols.push_back(id);
    };
    auto add_unknown = [&] {
        if (unk_id_ < 0) return;
        if (pending_unk && !options_.fuse_unk) symbols.push_back(unk_id_);
        pending_unk = true;
    };
    if (options_.byte_level) {
        for (size_t i = 0; i < word.size(); ++i) {
            int32_t id = byte_ids_[i == 0][i + 1 == word.size()][static_cast<unsigned char>(word[i])];
            if (id >= 0) add_known(id);
            else add_unknown();
        }
    } else {
        thread_local std::string s;
        size_t pos = 0;
        while (pos < word.size()) {
            size_t start = pos;
            unicode::next_codepoint(word, pos);
            s.clear();
            if (start > 0) s += options_.continuing_subword_prefix;
            s.append(word.data() + start, pos - start);
            if (pos == word.size()) s += options_.end_of_word_suffix;
            int32_t id = vocab_.find(s);
            if (id >= 0) add_known(id);
            else add_unknown();
        }
    }
    if (pending_unk) symbols.push_back(unk_id_);
}

void BpeModel::merge_word(std::vector<int32_t>& ids) const {
    const size_t n = ids.size();
    if (n < 2) return;
    struct Symbol {
        int32_t id;
        int32_t prev;
        int32_t next;
        bool alive;
    };
    struct Candidate {
        int32_t rank;
        int32_t pos;
        int32_t new_id;
        // priority_queue pops the largest: invert so the lowest rank, then leftmost, comes first.
        bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    thread_local std::vector<Symbol> sym;
    thread_local std::vector<Candidate> queue;  // a binary heap (std::push_heap / pop_heap)
    sym.resize(n);
    for (size_t i = 0; i < n; ++i)
        sym[i] = Symbol{ids[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i + 1) : -1, true};
    queue.clear();
    auto push = [](const Candidate& c) {
        queue.push_back(c);
        std::push_heap(queue.begin(), queue.end());
    };
    for (size_t i = 0; i + 1 < n; ++i)
        if (const MergeSlot* m = find_merge(sym[i].id, sym[i + 1].id))
            queue.push_back(Candidate{m->rank, static_cast<int32_t>(i), m->new_id});
    std::make_heap(queue.begin(), queue.end());

    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end());
        Candidate top = queue.back();
        queue.pop_back();
        Symbol& cur = sym[static_cast<size_t>(top.pos)];
        if (!cur.alive || cur.next < 0) continue;
        const size_t next_pos = static_cast<size_t>(cur.next);
        const MergeSlot* now = find_merge(cur.id, sym[next_pos].id);
        if (!now || now->new_id != top.new_id) continue;  // an expired queue entry
        // Merge the right symbol into this one.
        cur.id = top.new_id;
        sym[next_pos].alive = false;
        cur.next = sym[next_pos].next;
        if (cur.next >= 0) sym[static_cast<size_t>(cur.next)].prev = top.pos;
        if (cur.prev >= 0)
            if (const MergeSlot* m = find_merge(sym[static_cast<size_t>(cur.prev)].id, cur.id))
                push(Candidate{m->rank, cur.prev, m->new_id});
        if (cur.next >= 0)
            if (const MergeSlot* m = find_merge(cur.id, sym[static_cast<size_t>(cur.next)].id))
                push(Candidate{m->rank, top.pos, m->new_id});
    }
    ids.clear();
    for (size_t i = 0; i < n; ++i)
        if (sym[i].alive) ids.push_back(sym[i].id);
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
    if (word.empty()) return;
    if (options_.ignore_merges) {
        int32_t whole;
        if (options_.byte_level) {
            std::string mapped;
            for (unsigned char c : word) mapped += byte_to_utf8()[c];
            whole = vocab_.find(mapped);
        } else {
            whole = vocab_.find(word);
        }
        if (whole >= 0) {
            ids.push_back(whole);
            return;
        }
    }
    const bool cacheable = word.size() < kMaxCachedBytes;
    Shard* shard = nullptr;
    if (cacheable) {
        shard = &cache_[std::hash<std::string_view>()(word) % kShards];
        std::lock_guard<std::mutex> lock(shard->mutex);
        auto it = shard->map.find(word);
        if (it != shard->map.end()) {
            ids.insert(ids.end(), it->second->ids.begin(), it->second->ids.end());
            return;
        }
    }
    thread_local std::vector<int32_t> symbols;
    symbols.clear();
    initial_symbols(word, symbols);
    merge_word(symbols);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(shard->mutex);
        if (shard->map.size() < kShardCapacity && shard->map.find(word) == shard->map.end()) {
            auto entry = std::make_unique<CacheEntry>();
            entry->key.assign(word);
            entry->ids = symbols;
            std::string_view key = entry->key;
            shard->map.emplace(key, std::move(entry));
        }
    }
}

}  // namespace syn::text
