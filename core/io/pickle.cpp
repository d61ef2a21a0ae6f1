#include "core/io/pickle.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <unordered_set>

#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn::pickle {

// ---------------------------------------------------------------------------------------------
// Dict

const Value* Dict::find(const std::string& key) const {
    auto it = string_index.find(key);
    return it == string_index.end() ? nullptr : items[it->second].second;
}

void Dict::set(Value* key, Value* value) {
    // Python replaces the value of an existing key and keeps its position.
    if (const auto* s = key->get<std::string>()) {
        auto [it, inserted] = string_index.emplace(*s, items.size());
        if (!inserted) { items[it->second].second = value; return; }
    } else if (const auto* i = key->get<int64_t>()) {
        auto [it, inserted] = int_index.emplace(*i, items.size());
        if (!inserted) { items[it->second].second = value; return; }
    }
    items.emplace_back(key, value);
}

// ---------------------------------------------------------------------------------------------
// Globals

bool is_dangerous_global(const std::string& module, const std::string& name) {
    // Modules whose every member runs code, touches processes, files or the network, or loads
    // another (unrestricted) pickle.
    static const char* const kModules[] = {
        "os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "shutil", "socket", "pty",
        "runpy", "importlib", "imp", "zipimport", "pkgutil", "ctypes", "multiprocessing",
        "threading", "_thread", "signal", "asyncio", "webbrowser", "code", "codeop", "commands",
        "popen2", "pickle", "_pickle", "cPickle", "marshal", "dill", "shelve", "timeit", "pdb",
        "bdb", "trace", "profile", "cProfile", "urllib", "http", "ftplib", "smtplib", "telnetlib",
        "requests", "pip", "setuptools", "distutils"};
    for (const char* m : kModules) {
        const size_t n = std::strlen(m);
        if (module.compare(0, n, m) == 0 && (module.size() == n || module[n] == '.')) return true;
    }
    if (module == "builtins" || module == "__builtin__" || module == "__builtins__") {
        static const char* const kBuiltins[] = {
            "eval", "exec", "execfile", "compile", "__import__", "open", "getattr", "setattr",
            "delattr", "globals", "locals", "vars", "input", "breakpoint", "apply", "exit", "quit",
            "help", "reload"};
        for (const char* b : kBuiltins)
            if (name == b) return true;
    }
    // Loaders that would unpickle nested bytes without our restrictions.
    static const char* const kFunctions[] = {
        "torch.storage._load_from_bytes", "torch.load", "torch.serialization.load",
        "torch.jit.load", "torch.hub.load", "numpy.load", "numpy.lib.npyio.load",
        "numpy.testing._private.utils.runstring", "operator.methodcaller", "operator.attrgetter"};
    const std::string full = module + "." + name;
    for (const char* f : kFunctions)
        if (full == f) return true;
    return false;
}

namespace {

struct AllowedGlobal {
    const char* name;
    GlobalKind kind;
    DType dtype;
};

// Everything a state dict pickled by torch.save needs, and nothing else.
const AllowedGlobal kAllowlist[] = {
    {"collections.OrderedDict", GlobalKind::OrderedDict, DType::F32},
    {"torch._utils._rebuild_tensor", GlobalKind::RebuildTensor, DType::F32},
    {"torch._utils._rebuild_tensor_v2", GlobalKind::RebuildTensorV2, DType::F32},
    {"torch._utils._rebuild_parameter", GlobalKind::RebuildParameter, DType::F32},
    {"torch._utils._rebuild_parameter_with_state", GlobalKind::RebuildParameterWithState,
     DType::F32},
    {"torch.Size", GlobalKind::TorchSize, DType::F32},
    {"torch.FloatStorage", GlobalKind::Storage, DType::F32},
    {"torch.DoubleStorage", GlobalKind::Storage, DType::F64},
    {"torch.HalfStorage", GlobalKind::Storage, DType::F16},
    {"torch.BFloat16Storage", GlobalKind::Storage, DType::BF16},
    {"torch.LongStorage", GlobalKind::Storage, DType::I64},
    {"torch.IntStorage", GlobalKind::Storage, DType::I32},
    {"torch.ShortStorage", GlobalKind::Storage, DType::I16},
    {"torch.CharStorage", GlobalKind::Storage, DType::I8},
    {"torch.ByteStorage", GlobalKind::Storage, DType::U8},
    {"torch.BoolStorage", GlobalKind::Storage, DType::BOOL},
};

// Strings from the file in descriptions: the one escaping helper (core/io/quote.h).
std::string quote(const std::string& s) { return quote_excerpt(s); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Helpers over values

std::string type_name(const Value& value) {
    struct Visitor {
        std::string operator()(const None&) const { return "None"; }
        std::string operator()(bool) const { return "bool"; }
        std::string operator()(int64_t) const { return "int"; }
        std::string operator()(double) const { return "float"; }
        std::string operator()(const std::string&) const { return "str"; }
        std::string operator()(const Bytes&) const { return "bytes"; }
        std::string operator()(const List&) const { return "list"; }
        std::string operator()(const Tuple&) const { return "tuple"; }
        std::string operator()(const Dict&) const { return "dict"; }
        std::string operator()(const StorageRef&) const { return "storage"; }
        std::string operator()(const TensorRef&) const { return "tensor"; }
        std::string operator()(const Global& g) const { return "global " + g.name; }
        std::string operator()(const Opaque& o) const {
            return "placeholder for refused global " + o.global;
        }
    };
    return std::visit(Visitor{}, value.v);
}

namespace {

// `budget` caps the number of values rendered: shared sub-trees could otherwise make the output
// exponential in the depth.
void describe_into(const Value& value, size_t depth_left, size_t& budget, std::ostringstream& out) {
    constexpr size_t kMaxItems = 8;
    if (depth_left == 0 || budget == 0) { out << "..."; return; }
    --budget;
    auto seq = [&](const std::vector<Value*>& items, const char* open, const char* close) {
        out << open;
        for (size_t i = 0; i < items.size() && i < kMaxItems; ++i) {
            if (i) out << ", ";
            describe_into(*items[i], depth_left - 1, budget, out);
        }
        if (items.size() > kMaxItems) out << ", ... (" << items.size() << " items)";
        out << close;
    };
    if (value.is<None>()) out << "None";
    else if (const auto* b = value.get<bool>()) out << (*b ? "True" : "False");
    else if (const auto* n = value.get<int64_t>()) out << *n;
    else if (const auto* d = value.get<double>()) out << *d;
    else if (const auto* s = value.get<std::string>()) out << quote(*s);
    else if (const auto* by = value.get<Bytes>()) out << "bytes(" << by->data.size() << ")";
    else if (const auto* l = value.get<List>()) seq(l->items, "[", "]");
    else if (const auto* t = value.get<Tuple>()) seq(t->items, "(", ")");
    else if (const auto* dict = value.get<Dict>()) {
        out << "{";
        for (size_t i = 0; i < dict->items.size() && i < kMaxItems; ++i) {
            if (i) out << ", ";
            describe_into(*dict->items[i].first, depth_left - 1, budget, out);
            out << ": ";
            describe_into(*dict->items[i].second, depth_left - 1, budget, out);
        }
        if (dict->items.size() > kMaxItems) out << ", ... (" << dict->items.size() << " items)";
        out << "}";
    } else if (const auto* st = value.get<StorageRef>()) {
        out << "storage(" << dtype_name(st->dtype) << ", key " << quote(st->key) << ", "
            << st->numel << " elements)";
    } else if (const auto* tr = value.get<TensorRef>()) {
        out << "tensor(" << dtype_name(tr->storage.dtype) << "[";
        for (size_t i = 0; i < tr->size.size(); ++i) out << (i ? "," : "") << tr->size[i];
        out << "], storage " << quote(tr->storage.key) << ")";
    } else if (const auto* g = value.get<Global>()) out << "<global " << g->name << ">";
    else if (const auto* o = value.get<Opaque>()) out << "<" << o->global << " object>";
}

const Value* find_opaque_in(const Value& value, size_t depth_left,
                            std::unordered_set<const Value*>& seen, size_t max_depth) {
    if (!seen.insert(&value).second) return nullptr;  // shared or cyclic: already looked at
    if (value.is<Opaque>()) return &value;
    if (depth_left == 0)
        throw Error("pickle structure nested deeper than " + std::to_string(max_depth) + " levels");
    auto in_items = [&](const std::vector<Value*>& items) -> const Value* {
        for (const Value* item : items)
            if (const Value* hit = find_opaque_in(*item, depth_left - 1, seen, max_depth)) return hit;
        return nullptr;
    };
    if (const auto* l = value.get<List>()) return in_items(l->items);
    if (const auto* t = value.get<Tuple>()) return in_items(t->items);
    if (const auto* d = value.get<Dict>()) {
        for (const auto& [k, v] : d->items) {
            if (const Value* hit = find_opaque_in(*k, depth_left - 1, seen, max_depth)) return hit;
            if (const Value* hit = find_opaque_in(*v, depth_left - 1, seen, max_depth)) return hit;
        }
    }
    return nullptr;
}

}  // namespace

std::string describe(const Value& value, size_t max_depth) {
    std::ostringstream out;
    size_t budget = 256;
    describe_into(value, max_depth, budget, out);
    return out.str();
}

const Value* find_opaque(const Value& value, size_t max_depth) {
    std::unordered_set<const Value*> seen;
    return find_opaque_in(value, max_depth, seen, max_depth);
}

// ---------------------------------------------------------------------------------------------
// The interpreter

namespace op {
// Pickle opcodes (CPython Lib/pickle.py), the ones torch.save and protocols 2-5 emit.
enum : uint8_t {
    MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
    BININT2 = 'M', NONE = 'N', PERSID = 'P', BINPERSID = 'Q', REDUCE = 'R',
    BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b',
    GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j',
    LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
    EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
    PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
    NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
    BINBYTES = 'B', SHORT_BINBYTES = 'C',
    SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
    ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
    FRAME = 0x95, BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98,
};
}  // namespace op

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& source, const Options& options)
        : data_(data), size_(size), options_(options) {
        doc_.source_ = source;
    }

    Document run() {
        while (true) {
            op_start_ = pos_;
            if (pos_ >= size_) fail("truncated pickle: no STOP opcode before the end of the data");
            const uint8_t code = data_[pos_++];
            if (code == op::STOP) {
                doc_.root_ = pop();
                end_ = pos_;
                return std::move(doc_);
            }
            step(code);
        }
    }

    size_t end() const { return end_; }

private:
    // --- errors and input -----------------------------------------------------------------
    [[noreturn]] void fail(const std::string& message) const {
        throw Error(doc_.source_ + ": byte " + std::to_string(op_start_) + ": " + message);
    }

    const uint8_t* take(size_t n) {
        if (n > size_ - pos_)
            fail("truncated pickle: opcode needs " + std::to_string(n) + " more bytes, " +
                 std::to_string(size_ - pos_) + " left");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    uint64_t read_le(size_t n) {
        const uint8_t* p = take(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
        return v;
    }
    std::string read_string(uint64_t n) {
        if (n > size_ - pos_)
            fail("truncated pickle: string of " + std::to_string(n) + " bytes, " +
                 std::to_string(size_ - pos_) + " left");
        const uint8_t* p = take(static_cast<size_t>(n));
        return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    }
    std::string read_line() {
        const size_t start = pos_;
        while (pos_ < size_ && data_[pos_] != '\n') ++pos_;
        if (pos_ >= size_) fail("truncated pickle: unterminated line in GLOBAL");
        std::string line(reinterpret_cast<const char*>(data_ + start), pos_ - start);
        ++pos_;
        return line;
    }

    // --- values and the stack -------------------------------------------------------------
    Value* make(Variant v) {
        if (doc_.arena_.size() >= options_.max_values)
            fail("more than " + std::to_string(options_.max_values) + " values");
        doc_.arena_.push_back(Value{std::move(v)});
        return &doc_.arena_.back();
    }
    Value* constant(Value*& slot, Variant v) {
        if (!slot) slot = make(std::move(v));
        return slot;
    }
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Value* v) {
        if (stack_.size() >= options_.max_stack)
            fail("stack deeper than " + std::to_string(options_.max_stack) + " values");
        stack_.push_back(v);
    }
    Value* pop() {
        if (stack_.size() <= floor()) fail("stack underflow");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= floor()) fail("stack underflow");
        return stack_.back();
    }
    std::vector<Value*> pop_mark() {
        if (marks_.empty()) fail("no MARK on the stack");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
        stack_.resize(m);
        return items;
    }

    void memo_put(uint64_t index, Value* v) {
        if (memo_.size() >= options_.max_memo && memo_.find(index) == memo_.end())
            fail("memo larger than " + std::to_string(options_.max_memo) + " entries");
        memo_[index] = v;
    }
    Value* memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo index " + std::to_string(index) + " is not defined");
        return it->second;
    }

    // --- integers -----------------------------------------------------------------------
    // LONG1 / LONG4: little-endian two's complement of n bytes.
    Value* make_long(const uint8_t* p, uint64_t n) {
        if (n == 0) return make(int64_t{0});
        const bool negative = (p[n - 1] & 0x80) != 0;
        // Bytes beyond the 8th must be pure sign extension for the value to fit in int64.
        bool fits = true;
        for (uint64_t i = 8; i < n; ++i)
            if (p[i] != (negative ? 0xff : 0x00)) { fits = false; break; }
        if (fits && n > 8 && (((p[7] & 0x80) != 0) != negative)) fits = false;
        if (!fits) {
            if (!options_.allow_unknown_globals) fail("integer wider than 64 bits");
            return make(Opaque{"builtins.int (wider than 64 bits)"});
        }
        uint64_t v = negative ? ~uint64_t{0} : 0;
        for (uint64_t i = 0; i < n && i < 8; ++i) {
            v &= ~(uint64_t{0xff} << (8 * i));
            v |= uint64_t{p[i]} << (8 * i);
        }
        return make(static_cast<int64_t>(v));
    }

    // --- globals ----------------------------------------------------------------------------
    Value* make_global(const std::string& module, const std::string& name) {
        const std::string full = module + "." + name;
        if (is_dangerous_global(module, name))
            fail("refused global " + full + " (a checkpoint has no reason to call it)");
        for (const AllowedGlobal& a : kAllowlist)
            if (full == a.name) return make(Global{full, a.kind, a.dtype});
        if (!options_.allow_unknown_globals)
            fail("refused global " + full + " (not in the allowlist of tensor checkpoints)");
        return make(Global{full, GlobalKind::Unknown, DType::F32});
    }

    // --- calling allowlisted globals --------------------------------------------------------
    int64_t arg_int(const Value* v, const char* what) {
        if (const auto* i = v->get<int64_t>()) return *i;
        fail(std::string(what) + " must be an int, got " + type_name(*v));
    }
    std::vector<int64_t> arg_int_tuple(const Value* v, const char* what) {
        const std::vector<Value*>* items = nullptr;
        if (const auto* t = v->get<Tuple>()) items = &t->items;
        else if (const auto* l = v->get<List>()) items = &l->items;
        else fail(std::string(what) + " must be a tuple of ints, got " + type_name(*v));
        std::vector<int64_t> out;
        out.reserve(items->size());
        for (const Value* item : *items) {
            const int64_t x = arg_int(item, what);
            if (x < 0) fail(std::string(what) + " has a negative entry " + std::to_string(x));
            out.push_back(x);
        }
        return out;
    }
    // torch never serialises backward hooks: the argument is always an empty OrderedDict. Checking
    // it flatly (rather than walking it) keeps every REDUCE O(1) in the size of shared structures.
    void check_hooks(const Global& g, const Value* hooks) {
        const auto* d = hooks->get<Dict>();
        if (!d || !d->items.empty())
            fail(g.name + ": backward_hooks must be an empty dict, got " +
                 (d ? "a dict of " + std::to_string(d->items.size()) + " items" : type_name(*hooks)));
    }
    // Tensor metadata (torch._utils.get_tensor_metadata): a few flags such as conj / neg bits.
    void check_metadata(const Global& g, const Value* meta) {
        if (meta->is<None>()) return;
        const auto* d = meta->get<Dict>();
        if (!d) fail(g.name + ": metadata must be a dict, got " + type_name(*meta));
        constexpr size_t kMaxMetadata = 64;
        if (d->items.size() > kMaxMetadata) fail(g.name + ": metadata has too many entries");
        for (const auto& [k, v] : d->items) {
            const bool plain = v->is<None>() || v->is<bool>() || v->is<int64_t>() ||
                               v->is<double>() || v->is<std::string>();
            if (!k->is<std::string>() || !plain)
                fail(g.name + ": metadata entry is a " + type_name(*v) + ", expected a plain value");
        }
    }

    Value* rebuild_tensor(const Global& g, const std::vector<Value*>& args) {
        const bool v2 = g.kind == GlobalKind::RebuildTensorV2;
        const bool ok = v2 ? (args.size() == 6 || args.size() == 7) : args.size() == 4;
        if (!ok) fail(g.name + " takes " + (v2 ? "6 or 7" : "4") + " arguments, got " +
                      std::to_string(args.size()));
        const auto* storage = args[0]->get<StorageRef>();
        if (!storage) fail(g.name + ": the first argument must be a storage, got " + type_name(*args[0]));
        TensorRef t;
        t.storage = *storage;
        t.offset = arg_int(args[1], "storage_offset");
        if (t.offset < 0) fail(g.name + ": negative storage offset " + std::to_string(t.offset));
        // A legacy storage view: the offset is relative to the slice; make it absolute in the root.
        if (__builtin_add_overflow(t.offset, storage->view_offset, &t.offset))
            fail(g.name + ": storage offset overflows");
        t.size = arg_int_tuple(args[2], "size");
        t.stride = arg_int_tuple(args[3], "stride");
        if (t.size.size() != t.stride.size())
            fail(g.name + ": size has " + std::to_string(t.size.size()) + " dimensions, stride " +
                 std::to_string(t.stride.size()));
        if (v2) {
            const auto* grad = args[4]->get<bool>();
            if (!grad) fail(g.name + ": requires_grad must be a bool, got " + type_name(*args[4]));
            t.requires_grad = *grad;
            check_hooks(g, args[5]);
            if (args.size() == 7) check_metadata(g, args[6]);
        }
        return make(std::move(t));
    }

    Value* rebuild_parameter(const Global& g, const std::vector<Value*>& args) {
        const size_t want = g.kind == GlobalKind::RebuildParameter ? 3 : 4;
        if (args.size() != want)
            fail(g.name + " takes " + std::to_string(want) + " arguments, got " +
                 std::to_string(args.size()));
        const auto* data = args[0]->get<TensorRef>();
        if (!data) fail(g.name + ": the first argument must be a tensor, got " + type_name(*args[0]));
        const auto* grad = args[1]->get<bool>();
        if (!grad) fail(g.name + ": requires_grad must be a bool, got " + type_name(*args[1]));
        check_hooks(g, args[2]);
        // _rebuild_parameter_with_state's state (args[3]) holds Python attributes: not needed.
        TensorRef t = *data;
        t.requires_grad = *grad;
        return make(std::move(t));
    }

    Value* make_ordered_dict(const std::vector<Value*>& args) {
        Value* result = make(Dict{});
        if (args.empty()) return result;
        if (args.size() != 1) fail("collections.OrderedDict takes at most 1 argument");
        const std::vector<Value*>* pairs = nullptr;
        if (const auto* l = args[0]->get<List>()) pairs = &l->items;
        else if (const auto* t = args[0]->get<Tuple>()) pairs = &t->items;
        else fail("collections.OrderedDict: argument must be a list of pairs, got " + type_name(*args[0]));
        for (Value* p : *pairs) {
            const auto* pt = p->get<Tuple>();
            if (!pt || pt->items.size() != 2)
                fail("collections.OrderedDict: item must be a (key, value) tuple, got " + type_name(*p));
            result->get<Dict>()->set(pt->items[0], pt->items[1]);
        }
        return result;
    }

    // REDUCE / NEWOBJ: apply `callable` to `args` without executing anything.
    Value* call(Value* callable, const Value* args_value, const char* how) {
        if (const auto* o = callable->get<Opaque>()) return make(Opaque{o->global});
        const auto* g = callable->get<Global>();
        if (!g) fail(std::string(how) + " on a " + type_name(*callable) + ", not a global");
        if (g->kind == GlobalKind::Unknown) return make(Opaque{g->name});
        const auto* tuple = args_value->get<Tuple>();
        if (!tuple) fail(std::string(how) + " " + g->name + ": arguments must be a tuple, got " +
                         type_name(*args_value));
        const std::vector<Value*>& args = tuple->items;
        switch (g->kind) {
            case GlobalKind::OrderedDict: return make_ordered_dict(args);
            case GlobalKind::RebuildTensor:
            case GlobalKind::RebuildTensorV2: return rebuild_tensor(*g, args);
            case GlobalKind::RebuildParameter:
            case GlobalKind::RebuildParameterWithState: return rebuild_parameter(*g, args);
            case GlobalKind::TorchSize: {
                if (args.size() != 1) fail("torch.Size takes 1 argument");
                arg_int_tuple(args[0], "torch.Size");
                return make(Tuple{args[0]->is<Tuple>() ? args[0]->get<Tuple>()->items
                                                        : args[0]->get<List>()->items});
            }
            case GlobalKind::Storage:
            case GlobalKind::Unknown: break;
        }
        fail(std::string("cannot ") + how + " " + g->name + " (it is only valid in a persistent id)");
    }

    // BINPERSID: ('storage', <torch.XStorage>, key, location, numel), as torch.save writes it.
    Value* persistent_load(const Value* pid) {
        const auto* t = pid->get<Tuple>();
        if (!t) fail("persistent id must be a tuple, got " + type_name(*pid));
        const auto& it = t->items;
        const auto* tag = it.empty() ? nullptr : it[0]->get<std::string>();
        if (!tag || *tag != "storage")
            fail("persistent id must start with 'storage', got " + describe(*pid, 2));
        // 5 fields in the zip format, 6 (view_metadata last) in the legacy format.
        if (it.size() != 5 && it.size() != 6)
            fail("storage persistent id has " + std::to_string(it.size()) +
                 " fields, expected 5 (zip format) or 6 (legacy format)");
        const auto* type = it[1]->get<Global>();
        if (!type || type->kind != GlobalKind::Storage) {
            const std::string what = type ? type->name
                                   : it[1]->is<Opaque>() ? it[1]->get<Opaque>()->global
                                                         : type_name(*it[1]);
            fail("unsupported storage type " + what);
        }
        const auto* key = it[2]->get<std::string>();
        const auto* location = it[3]->get<std::string>();
        if (!key || !location) fail("storage key and location must be strings");
        StorageRef s;
        s.key = *key;
        s.dtype = type->storage_dtype;
        s.location = *location;
        s.numel = arg_int(it[4], "storage numel");
        if (s.numel < 0) fail("negative storage size " + std::to_string(s.numel));
        if (it.size() == 6 && !it[5]->is<None>()) {
            // (view_key, offset, view_numel): a slice of the root storage.
            const auto* view = it[5]->get<Tuple>();
            if (!view || view->items.size() != 3 || !view->items[0]->is<std::string>())
                fail("storage view metadata must be None or (key, offset, size), got " +
                     describe(*it[5], 2));
            const int64_t offset = arg_int(view->items[1], "storage view offset");
            const int64_t size = arg_int(view->items[2], "storage view size");
            if (offset < 0 || size < 0 || offset > s.numel || size > s.numel - offset)
                fail("storage view [" + std::to_string(offset) + ", +" + std::to_string(size) +
                     ") lies outside its root storage of " + std::to_string(s.numel) + " elements");
            s.view_offset = offset;
        }
        Value* v = make(std::move(s));
        doc_.storages_.push_back(v->get<StorageRef>());
        return v;
    }

    // --- one opcode -------------------------------------------------------------------------
    void step(uint8_t code) {
        switch (code) {
            case op::PROTO: {
                const uint8_t v = *take(1);
                if (v > 5) fail("unsupported pickle protocol " + std::to_string(v));
                return;
            }
            case op::FRAME: {
                const uint64_t n = read_le(8);
                if (n > size_ - pos_) fail("truncated pickle: frame of " + std::to_string(n) +
                                           " bytes, " + std::to_string(size_ - pos_) + " left");
                return;  // framing is only a read-ahead hint
            }
            case op::MARK:
                if (marks_.size() >= options_.max_marks)
                    fail("nesting deeper than " + std::to_string(options_.max_marks) + " MARKs");
                marks_.push_back(stack_.size());
                return;
            case op::POP:
                if (stack_.size() > floor()) stack_.pop_back();
                else pop_mark();
                return;
            case op::POP_MARK: pop_mark(); return;
            case op::DUP: push(top()); return;

            // Immutable: one shared value each, so a run of NONE opcodes costs no memory.
            case op::NONE: push(constant(none_, None{})); return;
            case op::NEWTRUE: push(constant(true_, true)); return;
            case op::NEWFALSE: push(constant(false_, false)); return;
            case op::BININT:
                push(make(static_cast<int64_t>(static_cast<int32_t>(read_le(4)))));
                return;
            case op::BININT1: push(make(static_cast<int64_t>(read_le(1)))); return;
            case op::BININT2: push(make(static_cast<int64_t>(read_le(2)))); return;
            case op::LONG1: {
                const uint64_t n = read_le(1);
                push(make_long(take(n), n));
                return;
            }
            case op::LONG4: {
                const uint64_t n = static_cast<uint64_t>(static_cast<int32_t>(read_le(4)));
                if (n > size_ - pos_) fail("truncated pickle: LONG4 of " + std::to_string(n) + " bytes");
                push(make_long(take(n), n));
                return;
            }
            case op::BINFLOAT: {
                const uint8_t* p = take(8);
                uint64_t bits = 0;
                for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
                double d;
                std::memcpy(&d, &bits, sizeof d);
                push(make(d));
                return;
            }

            case op::SHORT_BINUNICODE: push(make(read_string(read_le(1)))); return;
            case op::BINUNICODE: push(make(read_string(read_le(4)))); return;
            case op::BINUNICODE8: push(make(read_string(read_le(8)))); return;
            // Python 2 str: bytes that Python 3 decodes (ASCII by default); keep them as str.
            case op::SHORT_BINSTRING: push(make(read_string(read_le(1)))); return;
            case op::BINSTRING: {
                const int32_t n = static_cast<int32_t>(read_le(4));
                if (n < 0) fail("negative BINSTRING length");
                push(make(read_string(static_cast<uint64_t>(n))));
                return;
            }
            case op::SHORT_BINBYTES: push(make(Bytes{read_string(read_le(1))})); return;
            case op::BINBYTES: push(make(Bytes{read_string(read_le(4))})); return;
            case op::BINBYTES8:
            case op::BYTEARRAY8: push(make(Bytes{read_string(read_le(8))})); return;

            case op::EMPTY_DICT: push(make(Dict{})); return;
            case op::EMPTY_LIST: push(make(List{})); return;
            case op::EMPTY_TUPLE: push(make(Tuple{})); return;
            case op::EMPTY_SET: push(make(List{})); return;
            case op::TUPLE1:
            case op::TUPLE2:
            case op::TUPLE3: {
                const size_t n = code - op::TUPLE1 + 1;
                if (stack_.size() < floor() + n) fail("stack underflow");
                std::vector<Value*> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
                stack_.resize(stack_.size() - n);
                push(make(Tuple{std::move(items)}));
                return;
            }
            case op::TUPLE: { auto items = pop_mark(); push(make(Tuple{std::move(items)})); return; }
            case op::LIST: { auto items = pop_mark(); push(make(List{std::move(items)})); return; }
            case op::FROZENSET: { auto items = pop_mark(); push(make(List{std::move(items)})); return; }
            case op::DICT: {
                auto items = pop_mark();
                if (items.size() % 2) fail("DICT with an odd number of items");
                Value* d = make(Dict{});
                for (size_t i = 0; i < items.size(); i += 2) d->get<Dict>()->set(items[i], items[i + 1]);
                push(d);
                return;
            }

            case op::APPEND: {
                Value* item = pop();
                append(top(), {item});
                return;
            }
            case op::APPENDS:
            case op::ADDITEMS: {
                auto items = pop_mark();
                append(top(), items);
                return;
            }
            case op::SETITEM: {
                Value* value = pop();
                Value* key = pop();
                set_items(top(), {key, value});
                return;
            }
            case op::SETITEMS: {
                auto items = pop_mark();
                if (items.size() % 2) fail("SETITEMS with an odd number of items");
                set_items(top(), items);
                return;
            }

            case op::BINPUT: memo_put(read_le(1), top()); return;
            case op::LONG_BINPUT: memo_put(read_le(4), top()); return;
            case op::MEMOIZE: memo_put(memo_.size(), top()); return;
            case op::BINGET: push(memo_get(read_le(1))); return;
            case op::LONG_BINGET: push(memo_get(read_le(4))); return;

            case op::GLOBAL: {
                std::string module = read_line();
                std::string name = read_line();
                push(make_global(module, name));
                return;
            }
            case op::STACK_GLOBAL: {
                Value* name = pop();
                Value* module = pop();
                const auto* n = name->get<std::string>();
                const auto* m = module->get<std::string>();
                if (!n || !m) fail("STACK_GLOBAL needs two strings");
                push(make_global(*m, *n));
                return;
            }
            case op::REDUCE: {
                Value* args = pop();
                Value* callable = pop();
                push(call(callable, args, "call"));
                return;
            }
            case op::NEWOBJ: {
                Value* args = pop();
                Value* cls = pop();
                push(call(cls, args, "instantiate"));
                return;
            }
            case op::NEWOBJ_EX: {
                Value* kwargs = pop();
                Value* args = pop();
                Value* cls = pop();
                const auto* kw = kwargs->get<Dict>();
                if (!cls->is<Opaque>() &&
                    !(cls->is<Global>() && cls->get<Global>()->kind == GlobalKind::Unknown) &&
                    (!kw || !kw->items.empty()))
                    fail("NEWOBJ_EX with keyword arguments on " + type_name(*cls));
                push(call(cls, args, "instantiate"));
                return;
            }
            case op::BUILD: {
                pop();  // the state: nothing we build has attributes we need
                Value* target = top();
                // OrderedDict state carries attributes such as a state dict's _metadata (layer
                // versions); opaque objects absorb theirs. Anything else would need __setstate__.
                if (!target->is<Dict>() && !target->is<Opaque>())
                    fail("BUILD on a " + type_name(*target));
                return;
            }
            case op::BINPERSID: push(persistent_load(pop())); return;
            case op::READONLY_BUFFER: top(); return;

            case op::PERSID: fail("unsupported opcode PERSID (text persistent id, protocol 0)");
            case op::NEXT_BUFFER: fail("unsupported opcode NEXT_BUFFER (out-of-band buffer)");
            case 0x82: case 0x83: case 0x84:
                fail("unsupported opcode EXT (extension registry)");
            default: {
                char buf[64];
                std::snprintf(buf, sizeof buf, "unsupported or invalid opcode 0x%02x", code);
                fail(buf);
            }
        }
    }

    void append(Value* target, const std::vector<Value*>& items) {
        if (auto* l = target->get<List>()) {
            l->items.insert(l->items.end(), items.begin(), items.end());
            return;
        }
        if (target->is<Opaque>()) return;  // absorbed: nothing runs
        fail("APPEND to a " + type_name(*target));
    }
    void set_items(Value* target, const std::vector<Value*>& items) {
        if (auto* d = target->get<Dict>()) {
            for (size_t i = 0; i + 1 < items.size(); i += 2) d->set(items[i], items[i + 1]);
            return;
        }
        if (target->is<Opaque>()) return;
        fail("SETITEM on a " + type_name(*target));
    }

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    size_t op_start_ = 0;
    Options options_;
    Document doc_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
    Value* none_ = nullptr;
    Value* true_ = nullptr;
    Value* false_ = nullptr;
    size_t end_ = 0;
};

Document unpickle(const uint8_t* data, size_t size, const std::string& source,
                  const Options& options) {
    return Unpickler(data, size, source, options).run();
}

Document unpickle_prefix(const uint8_t* data, size_t size, const std::string& source,
                         const Options& options, size_t* end) {
    Unpickler u(data, size, source, options);
    Document doc = u.run();
    if (end) *end = u.end();
    return doc;
}

}  // namespace syn::pickle
