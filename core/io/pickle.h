#pragma once
// A restricted unpickler for the pickles torch.save writes (protocols 2-5). It is a data parser:
// it never imports or calls anything. Globals are looked up in a small allowlist (OrderedDict,
// torch's tensor/parameter rebuild functions, the typed storage classes, torch.Size); the rebuild
// functions are interpreted here to build TensorRef values. Any other global is either an error
// (strict mode) or an inert Opaque placeholder that records its name and absorbs whatever
// REDUCE / NEWOBJ / BUILD / APPEND / SETITEM would have done to it (lenient mode, for the parts of
// Lightning checkpoints we do not read). Globals that only a malicious file would name
// (os.system, builtins.eval, subprocess.*, ...) are an error in every mode.
//
// Values live in an arena owned by the Document and point at each other with raw pointers, as the
// pickle memo shares them: shared and even cyclic structures cost nothing and cannot leak. Code that
// walks a tree must therefore bound its depth (see find_opaque / describe).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn::pickle {

struct Value;

struct None {};
struct Bytes {
    std::string data;
};
// Python lists, and sets / frozensets (order as pickled).
struct List {
    std::vector<Value*> items;
};
struct Tuple {
    std::vector<Value*> items;
};
// A dict (or OrderedDict) in insertion order. Setting an existing string or int key replaces its
// value, as in Python; other key types are appended as they come.
struct Dict {
    std::vector<std::pair<Value*, Value*>> items;
    std::unordered_map<std::string, size_t> string_index;
    std::unordered_map<int64_t, size_t> int_index;

    const Value* find(const std::string& key) const;
    void set(Value* key, Value* value);
};
// A persistent id ('storage', torch.FloatStorage, key, location, numel): the bytes are the zip
// entry <prefix>/data/<key>. The legacy (pre-1.6) format adds a sixth field, view_metadata: None,
// or (view_key, offset, view_numel) for a storage that is a slice of the root storage `key`
// (only torch < 1.0 wrote those); `view_offset` is then that slice's start, in elements.
struct StorageRef {
    std::string key;
    DType dtype = DType::F32;
    std::string location;
    int64_t numel = 0;       // of the root storage `key`
    int64_t view_offset = 0;
};
// The result of torch._utils._rebuild_tensor(_v2) / _rebuild_parameter: a strided view of a storage.
struct TensorRef {
    StorageRef storage;
    int64_t offset = 0;  // in elements
    std::vector<int64_t> size;
    std::vector<int64_t> stride;  // in elements
    bool requires_grad = false;
};

// What an allowlisted global is; the interpreter dispatches on it.
enum class GlobalKind {
    OrderedDict,
    RebuildTensor,       // torch._utils._rebuild_tensor(storage, offset, size, stride)
    RebuildTensorV2,     // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, grad, hooks[, meta])
    RebuildParameter,    // torch._utils._rebuild_parameter(data, grad, hooks)
    RebuildParameterWithState,  // torch._utils._rebuild_parameter_with_state(data, grad, hooks, state)
    Storage,             // torch.FloatStorage etc.: only valid inside a persistent id
    TorchSize,           // torch.Size(tuple) -> tuple
    Unknown,             // not allowlisted (only in lenient mode): calling it gives an Opaque
};
struct Global {
    std::string name;  // "module.qualname"
    GlobalKind kind = GlobalKind::Unknown;
    DType storage_dtype = DType::F32;  // for GlobalKind::Storage
};
// The inert result of calling / instantiating a non-allowlisted global. Nothing was executed.
struct Opaque {
    std::string global;
};

using Variant = std::variant<None, bool, int64_t, double, std::string, Bytes, List, Tuple, Dict,
                             StorageRef, TensorRef, Global, Opaque>;

struct Value {
    Variant v;

    template <class T> bool is() const { return std::holds_alternative<T>(v); }
    template <class T> const T* get() const { return std::get_if<T>(&v); }
    template <class T> T* get() { return std::get_if<T>(&v); }
};

// Short name of a value's type for messages: "dict", "tensor", "global torch.FloatStorage",
// "placeholder for refused global omegaconf.dictconfig.DictConfig", ...
std::string type_name(const Value& value);

// A short, depth-limited rendering (for messages and debugging); cycles print as "...".
std::string describe(const Value& value, size_t max_depth = 4);

// The first Opaque found inside `value` (itself included), or nullptr. Throws syn::Error when the
// structure is nested deeper than `max_depth` (which also bounds cycles).
const Value* find_opaque(const Value& value, size_t max_depth = 64);

// True for globals no checkpoint has a reason to name (code execution, file and process access).
bool is_dangerous_global(const std::string& module, const std::string& name);

struct Options {
    // Lenient mode: a non-allowlisted, non-dangerous global becomes an Opaque placeholder instead
    // of an error. The caller then decides which parts of the tree must be free of them.
    bool allow_unknown_globals = false;
    size_t max_stack = size_t{1} << 22;   // values on the stack
    size_t max_marks = 1000;              // nested MARKs (nesting depth of tuples / batches)
    size_t max_memo = size_t{1} << 24;    // memo entries
    // Values created in total (~150 bytes each): bounds memory on hostile input; a Lightning
    // checkpoint of a large model has well under a million.
    size_t max_values = size_t{1} << 23;
};

// The unpickled object tree. Move-only; values are owned by the document.
class Document {
public:
    Document() = default;
    Document(Document&&) = default;
    Document& operator=(Document&&) = default;
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;

    const Value& root() const { return *root_; }
    const std::string& source() const { return source_; }
    // Every storage persistent id met while parsing, in order (repeats included). The legacy
    // format needs them to know each storage's dtype, hence its size in the file, even for
    // storages outside the state dict.
    const std::vector<const StorageRef*>& storages() const { return storages_; }

private:
    friend class Unpickler;
    std::deque<Value> arena_;  // a deque: pointers to elements stay valid as it grows
    Value* root_ = nullptr;
    std::string source_;
    std::vector<const StorageRef*> storages_;
};

// Parses one pickle. `source` names it in error messages ("model.ckpt:archive/data.pkl"); every
// error reads "<source>: byte <offset>: <problem>". Throws syn::Error on malformed input,
// unsupported opcodes, exceeded limits and refused globals.
Document unpickle(const uint8_t* data, size_t size, const std::string& source,
                  const Options& options = {});

// The same for a pickle followed by other data (the legacy torch.save format is several pickles
// and raw bytes back to back): `*end` receives the offset just past the STOP opcode.
Document unpickle_prefix(const uint8_t* data, size_t size, const std::string& source,
                         const Options& options, size_t* end);

}  // namespace syn::pickle
