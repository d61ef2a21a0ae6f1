#pragma once
// Writes what torch.save writes, without Python: a pickle emitter (the opcodes of protocols 2 and 4)
// and the zip container, so tests can build .bin / .ckpt files laid out like the hub's (and hostile
// ones) for the restricted unpickler and the checkpoint reader.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn::test {

// A tiny pickle emitter: writes the opcodes torch.save (protocol 2) and protocol 4 use.
class PickleWriter {
public:
    explicit PickleWriter(int protocol = 2) { op(0x80); byte(static_cast<uint8_t>(protocol)); }

    PickleWriter& op(uint8_t code) { return byte(code); }
    PickleWriter& byte(uint8_t b) { out_.push_back(static_cast<char>(b)); return *this; }
    PickleWriter& le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    PickleWriter& mark() { return op('('); }
    PickleWriter& none() { return op('N'); }
    PickleWriter& boolean(bool b) { return op(b ? 0x88 : 0x89); }
    PickleWriter& integer(int64_t v) {
        if (v >= 0 && v < 256) return op('K').le(static_cast<uint64_t>(v), 1);
        if (v >= 0 && v < 65536) return op('M').le(static_cast<uint64_t>(v), 2);
        if (v >= INT32_MIN && v <= INT32_MAX) return op('J').le(static_cast<uint64_t>(v), 4);
        return op(0x8a).byte(8).le(static_cast<uint64_t>(v), 8);  // LONG1
    }
    PickleWriter& str(const std::string& s) {
        op('X').le(s.size(), 4);
        out_ += s;
        return *this;
    }
    PickleWriter& short_str(const std::string& s) {  // SHORT_BINUNICODE (protocol 4)
        op(0x8c).le(s.size(), 1);
        out_ += s;
        return *this;
    }
    PickleWriter& global(const std::string& module, const std::string& name) {
        op('c');
        out_ += module + "\n" + name + "\n";
        return *this;
    }
    PickleWriter& stack_global(const std::string& module, const std::string& name) {
        return short_str(module).short_str(name).op(0x93);
    }
    PickleWriter& empty_dict() { return op('}'); }
    PickleWriter& empty_list() { return op(']'); }
    PickleWriter& empty_tuple() { return op(')'); }
    PickleWriter& tuple() { return op('t'); }
    PickleWriter& setitem() { return op('s'); }
    PickleWriter& setitems() { return op('u'); }
    PickleWriter& append() { return op('a'); }
    PickleWriter& reduce() { return op('R'); }
    PickleWriter& build() { return op('b'); }
    PickleWriter& newobj() { return op(0x81); }
    PickleWriter& put(uint8_t i) { return op('q').byte(i); }
    PickleWriter& get(uint8_t i) { return op('h').byte(i); }
    PickleWriter& stop() { return op('.'); }

    PickleWriter& int_tuple(const std::vector<int64_t>& v) {
        mark();
        for (int64_t x : v) integer(x);
        return tuple();
    }
    // torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())
    PickleWriter& tensor(const std::string& storage_type, const std::string& key, int64_t numel,
                         int64_t offset, const std::vector<int64_t>& size,
                         const std::vector<int64_t>& stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel).tuple();
        op('Q');  // BINPERSID
        integer(offset).int_tuple(size).int_tuple(stride).boolean(false);
        global("collections", "OrderedDict").empty_tuple().reduce();
        tuple();
        return reduce();
    }

    std::string bytes() const { return out_; }

private:
    std::string out_;
};

using Entries = std::vector<std::pair<std::string, std::string>>;

// A zip of the given (name, bytes) entries, stored uncompressed as torch.save does.
void write_zip(const std::string& path, const Entries& entries);

// A state dict as transformers' save_pretrained(safe_serialization=False) writes pytorch_model.bin:
// an OrderedDict of name -> tensor (one storage each) with the `_metadata` attribute, in an archive
// whose folder is `archive_name`.
void write_torch_state_dict(const std::string& path, const TensorMap& tensors,
                            const std::string& archive_name = "pytorch_model");

}  // namespace syn::test
