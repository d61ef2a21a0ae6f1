#include "core/io/torch_checkpoint.h"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/quote.h"
#include "core/io/mapped_file.h"

namespace syn {

namespace {

// --- the file before libzip sees it -------------------------------------------------------------

// torch.save before 1.6 wrote the legacy format: a bare pickle stream starting with the magic
// number 0x1950a86a20f9469cfc6c (PROTO 2, LONG1 10 bytes); before 0.4 a tar archive.
const unsigned char kLegacyMagic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                      0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

enum class Container { Zip, Legacy };

Container check_container(const std::string& path) {
    require_not_directory(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(path, "cannot open file");
    unsigned char head[512] = {};
    in.read(reinterpret_cast<char*>(head), sizeof head);
    const size_t n = static_cast<size_t>(in.gcount());
    if (n >= 4 && head[0] == 'P' && head[1] == 'K') return Container::Zip;
    const bool legacy_tar = n >= 262 && std::memcmp(head + 257, "ustar", 5) == 0;
    if (legacy_tar)
        throw file_error(path, "legacy tar torch.save format (torch < 0.4) not supported; re-save "
                               "with torch>=1.6 (torch.save(torch.load(f), f) writes the zip format)");
    if (n > 0 && head[0] == 0x80) return Container::Legacy;  // the magic is checked by the reader
    if (n == 0) throw file_error(path, "empty file, not a torch.save archive");
    throw file_error(path, "not a zip archive (torch.save >= 1.6 writes a zip file) nor a legacy "
                           "torch.save pickle stream");
}


// --- libzip, read-only ----------------------------------------------------------------------

std::string zip_error_text(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

class ZipReader {
public:
    explicit ZipReader(const std::string& path) : path_(path) {
        int code = 0;
        zip_ = zip_open(path.c_str(), ZIP_RDONLY, &code);
        if (!zip_) throw file_error(path, "cannot open as a zip archive: " + zip_error_text(code));
    }
    ~ZipReader() {
        if (zip_) zip_discard(zip_);
    }
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    std::vector<std::string> names() const {
        const zip_int64_t n = zip_get_num_entries(zip_, 0);
        std::vector<std::string> out;
        out.reserve(static_cast<size_t>(std::max<zip_int64_t>(n, 0)));
        for (zip_int64_t i = 0; i < n; ++i) {
            const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
            if (!name) throw file_error(path_, "zip entry " + std::to_string(i) + " has no name");
            out.emplace_back(name);
        }
        return out;
    }

    bool has(const std::string& name) const {
        return zip_name_locate(zip_, name.c_str(), ZIP_FL_ENC_RAW) >= 0;
    }

    // The uncompressed size the zip declares for an entry.
    uint64_t declared_size(const std::string& name) const { return stat(name).size; }

    // The whole uncompressed entry, at most `limit` bytes: an entry that declares more is refused
    // before anything is inflated (`what` says what the limit is, for the message). Grows the
    // buffer as bytes arrive rather than trusting the size in the header, and stops one byte past
    // it, so neither a lying header nor an honest decompression bomb makes us allocate more.
    std::vector<uint8_t> read(const std::string& name, uint64_t limit, const std::string& what) const {
        const zip_stat_t st = stat(name);
        if (st.size > limit)
            throw file_error(path_, "zip entry " + quote_excerpt(name, 160) + " declares " + std::to_string(st.size) +
                                        " bytes uncompressed (" + std::to_string(st.comp_size) +
                                        " compressed), over " + what + "; refusing to inflate it");
        const zip_int64_t index = st.index;
        zip_file_t* file = zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0);
        if (!file)
            throw file_error(path_, "cannot open zip entry '" + name + "': " + zip_strerror(zip_));
        std::vector<uint8_t> out;
        while (true) {
            // Grow by what the header announces (at most 64 MiB at a time), then probe one byte
            // past it to catch an entry longer than its header says.
            const size_t old = out.size();
            const size_t step = old < st.size
                                    ? static_cast<size_t>(std::min<zip_uint64_t>(st.size - old, zip_uint64_t{64} << 20))
                                    : 1;
            out.resize(old + step);
            const zip_int64_t got = zip_fread(file, out.data() + old, step);
            if (got < 0) {
                const std::string why = zip_file_strerror(file);
                zip_fclose(file);
                throw file_error(path_, "cannot read zip entry '" + name + "': " + why);
            }
            out.resize(old + static_cast<size_t>(got));
            if (got == 0 || out.size() > st.size) break;
        }
        zip_fclose(file);
        if (out.size() != st.size)
            throw file_error(path_, "zip entry '" + name + "' has " + std::to_string(out.size()) +
                                        " bytes, its header says " + std::to_string(st.size));
        return out;
    }

private:
    zip_stat_t stat(const std::string& name) const {
        const zip_int64_t index = zip_name_locate(zip_, name.c_str(), ZIP_FL_ENC_RAW);
        if (index < 0) throw file_error(path_, "missing zip entry " + quote_excerpt(name, 160));
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
            !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_INDEX))
            throw file_error(path_, "cannot stat zip entry " + quote_excerpt(name, 160));
        if (!(st.valid & ZIP_STAT_COMP_SIZE)) st.comp_size = 0;
        return st;
    }

    std::string path_;
    zip_t* zip_ = nullptr;
};

// Limits on what an archive may make us inflate. data.pkl holds the object tree, with tensors as
// references: a few MB even for billion-parameter models and Lightning checkpoints. Storages are
// bounded by what the pickle declares for them (numel x element size), checked before reading.
constexpr uint64_t kMaxPickleBytes = uint64_t{1} << 30;  // 1 GiB
constexpr uint64_t kMaxByteorderBytes = 64;

// --- the archive layout -------------------------------------------------------------------

struct OpenArchive {
    std::unique_ptr<ZipReader> zip;
    std::string prefix;  // without the trailing '/'
};

OpenArchive open_archive(const std::string& path) {
    OpenArchive a;
    a.zip = std::make_unique<ZipReader>(path);
    std::vector<std::string> pickles;
    for (const std::string& name : a.zip->names()) {
        if (unsafe_archive_entry_name(name))
            throw file_error(path, "refused zip entry " + quote_excerpt(name, 160) +
                                       " (absolute path or '..' component)");
        // torch.save writes <prefix>/data.pkl with a single top folder.
        const size_t slash = name.find('/');
        if (slash != std::string::npos && slash > 0 && name.compare(slash, std::string::npos, "/data.pkl") == 0)
            pickles.push_back(name.substr(0, slash));
    }
    if (pickles.empty())
        throw file_error(path, "no <folder>/data.pkl entry: not a torch.save archive");
    if (pickles.size() > 1)
        throw file_error(path, "several data.pkl entries ('" + pickles[0] + "/data.pkl', '" +
                                   pickles[1] + "/data.pkl')");
    a.prefix = pickles[0];

    // Storages are raw bytes in the writer's byte order; torch >= 1.10 records it.
    const std::string byteorder_entry = a.prefix + "/byteorder";
    if (a.zip->has(byteorder_entry)) {
        const std::vector<uint8_t> bytes = a.zip->read(byteorder_entry, kMaxByteorderBytes, "the 64 bytes of a byteorder record");
        std::string order(bytes.begin(), bytes.end());
        while (!order.empty() && (order.back() == '\n' || order.back() == '\r')) order.pop_back();
        if (order == "big")
            throw file_error(path, "big-endian checkpoint (byteorder 'big') is not supported");
        if (order != "little")
            throw file_error(path, "unknown byteorder record '" + order.substr(0, 32) + "'");
    }
    return a;
}

pickle::Document unpickle_archive(const std::string& path, const OpenArchive& a) {
    const std::string entry = a.prefix + "/data.pkl";
    const std::vector<uint8_t> bytes = a.zip->read(entry, kMaxPickleBytes, "the 1 GiB limit for a pickle");
    pickle::Options options;
    // Lightning checkpoints pickle callbacks, hyper-parameters and loops as objects of arbitrary
    // classes; they become inert placeholders, and select_state_dict refuses them in the weights.
    options.allow_unknown_globals = true;
    return pickle::unpickle(bytes.data(), bytes.size(), path + ":" + entry, options);
}

std::string list_keys(const pickle::Dict& dict) {
    constexpr size_t kMax = 20;
    std::string out;
    for (size_t i = 0; i < dict.items.size() && i < kMax; ++i) {
        if (i) out += ", ";
        out += pickle::describe(*dict.items[i].first, 1);
    }
    if (dict.items.size() > kMax) out += ", ... (" + std::to_string(dict.items.size()) + " keys)";
    return out.empty() ? "(none)" : out;
}

// Overflow-checked arithmetic on element counts.
bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

std::vector<StateDictEntry> select_state_dict(const pickle::Document& doc,
                                              const std::string& source, bool* lightning) {
    const pickle::Dict* root = doc.root().get<pickle::Dict>();
    if (!root)
        throw file_error(source, "the checkpoint holds a " + pickle::type_name(doc.root()) +
                                     ", expected a dict of tensors");
    const pickle::Dict* state = root;
    bool from_lightning = false;
    if (const pickle::Value* sd = root->find("state_dict")) {
        state = sd->get<pickle::Dict>();
        if (!state)
            throw file_error(source, "'state_dict' is a " + pickle::type_name(*sd) + ", not a dict");
        from_lightning = true;
    }
    if (lightning) *lightning = from_lightning;

    std::vector<StateDictEntry> entries;
    entries.reserve(state->items.size());
    for (const auto& [key, value] : state->items) {
        const auto* name = key->get<std::string>();
        if (!name)
            throw file_error(source, "state dict key " + pickle::describe(*key, 1) + " is a " +
                                         pickle::type_name(*key) + ", not a str");
        const auto* tensor = value->get<pickle::TensorRef>();
        if (!tensor) {
            if (from_lightning)
                throw file_error(source, "state_dict entry '" + *name + "' is a " +
                                             pickle::type_name(*value) + ", not a tensor");
            throw file_error(source, "no 'state_dict' entry, and the top-level dict is not a state "
                                     "dict: entry '" + *name + "' is a " + pickle::type_name(*value) +
                                     ", not a tensor; top-level keys: " + list_keys(*root));
        }
        entries.push_back({*name, tensor});
    }
    return entries;
}

RawTensor materialize_tensor(const pickle::TensorRef& ref,
                             const std::shared_ptr<const std::vector<uint8_t>>& storage,
                             const std::string& what) {
    const DType dtype = ref.storage.dtype;
    const int64_t esize = static_cast<int64_t>(dtype_size(dtype));
    const int64_t storage_elems = static_cast<int64_t>(storage->size() / static_cast<size_t>(esize));
    const size_t ndim = ref.size.size();
    if (ref.stride.size() != ndim)
        throw Error(what + ": size and stride have different lengths");

    int64_t numel = 1;
    int64_t last = ref.offset;  // the highest element index the view touches
    for (size_t d = 0; d < ndim; ++d) {
        if (ref.size[d] < 0 || ref.stride[d] < 0)
            throw Error(what + ": negative size or stride");
        if (!mul_ok(numel, ref.size[d], &numel))
            throw Error(what + ": element count overflows");
    }
    int64_t nbytes = 0;
    if (!mul_ok(numel, esize, &nbytes)) throw Error(what + ": byte count overflows");
    if (numel == 0) return make_owned_tensor(dtype, ref.size, {});
    // Zero strides let a tiny storage describe an enormous (expanded) tensor; copying it out must
    // not be a way to exhaust memory.
    constexpr int64_t kMaxExpandedBytes = int64_t{1} << 30;
    if (nbytes > kMaxExpandedBytes && static_cast<uint64_t>(nbytes) > storage->size())
        throw Error(what + ": a view of " + std::to_string(nbytes) + " bytes over a storage of " +
                    std::to_string(storage->size()) + " bytes (zero strides) is refused");
    for (size_t d = 0; d < ndim; ++d) {
        int64_t span = 0;
        if (!mul_ok(ref.size[d] - 1, ref.stride[d], &span) || !add_ok(last, span, &last))
            throw Error(what + ": strided extent overflows");
    }
    if (last >= storage_elems)
        throw Error(what + ": the view (offset " + std::to_string(ref.offset) + ", shape " +
                    std::to_string(ndim) + "-d) reaches element " + std::to_string(last) +
                    " but storage '" + ref.storage.key + "' has " + std::to_string(storage_elems) +
                    " elements");

    // C-contiguous: dimensions of size 1 may carry any stride.
    bool contiguous = true;
    int64_t expected = 1;
    for (size_t d = ndim; d-- > 0;) {
        if (ref.size[d] != 1 && ref.stride[d] != expected) contiguous = false;
        expected *= ref.size[d];
    }
    const uint8_t* base = storage->data() + ref.offset * esize;
    if (contiguous) {
        if (ref.offset == 0 && numel == storage_elems) {
            RawTensor t;  // the whole storage: share it
            t.dtype = dtype;
            t.shape = ref.size;
            t.data = storage->data();
            t.nbytes = static_cast<size_t>(nbytes);
            t.owner = storage;
            return t;
        }
        return make_owned_tensor(dtype, ref.size,
                                 std::vector<uint8_t>(base, base + nbytes));
    }

    // Strided gather: walk the index space in C order, copying the innermost dimension row by row.
    std::vector<uint8_t> out(static_cast<size_t>(nbytes));
    uint8_t* dst = out.data();
    const int64_t inner = ref.size[ndim - 1];
    const int64_t inner_stride = ref.stride[ndim - 1] * esize;
    std::vector<int64_t> index(ndim, 0);
    const int64_t rows = numel / inner;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t src_elem = 0;
        for (size_t d = 0; d + 1 < ndim; ++d) src_elem += index[d] * ref.stride[d];
        const uint8_t* src = base + src_elem * esize;
        if (inner_stride == esize) {
            std::memcpy(dst, src, static_cast<size_t>(inner * esize));
            dst += inner * esize;
        } else {
            for (int64_t i = 0; i < inner; ++i, dst += esize, src += inner_stride)
                std::memcpy(dst, src, static_cast<size_t>(esize));
        }
        for (size_t d = ndim - 1; d-- > 0;) {  // odometer over the outer dimensions
            if (++index[d] < ref.size[d]) break;
            index[d] = 0;
        }
    }
    return make_owned_tensor(dtype, ref.size, std::move(out));
}

namespace {

// --- the legacy (pre-1.6) stream ----------------------------------------------------------
// torch's _legacy_save writes, back to back: pickle(MAGIC_NUMBER), pickle(PROTOCOL_VERSION =
// 1001), pickle(sys_info), the object pickle (storages as persistent ids ('storage', type, key,
// location, numel, view_metadata)), pickle(sorted list of storage keys), then for every key in
// that list an int64 element count (little-endian) followed by the storage's raw bytes.

constexpr int64_t kLegacyProtocolVersion = 1001;

struct LegacyStorage {
    DType dtype = DType::F32;
    int64_t numel = 0;
    size_t offset = 0;  // of the raw bytes in the file
    size_t nbytes = 0;
};

struct LegacyFile {
    std::shared_ptr<const MappedFile> file;
    pickle::Document object;
    std::unordered_map<std::string, LegacyStorage> storages;
};

// The magic-number pickle: PROTO p, an optional FRAME (protocol >= 4), LONG1 of 10 bytes, STOP.
// Compared byte for byte: the number does not fit the unpickler's int64.
size_t skip_legacy_magic(const std::string& path, const uint8_t* d, size_t n) {
    auto fail = [&]() {
        throw file_error(path, "a pickle stream without torch.save's magic number: not a legacy "
                               "torch.save file (nor a zip archive)");
    };
    if (n < 2 || d[0] != 0x80 || d[1] > 5) fail();
    size_t pos = 2;
    if (pos < n && d[pos] == 0x95) pos += 9;  // FRAME <8-byte length>
    const size_t m = sizeof kLegacyMagic;
    if (pos > n || n - pos < m + 1 || std::memcmp(d + pos, kLegacyMagic, m) != 0 || d[pos + m] != '.')
        fail();
    return pos + m + 1;
}

LegacyFile read_legacy(const std::string& path) {
    LegacyFile f;
    f.file = map_file(path);
    const uint8_t* d = f.file->data();
    const size_t n = f.file->size();
    size_t pos = skip_legacy_magic(path, d, n);

    auto next_pickle = [&](const std::string& what, bool lenient) {
        if (pos >= n)
            throw file_error(path, "legacy torch.save stream ends before the " + what);
        pickle::Options options;
        // As in the zip format: objects outside the state dict may be of any (inert) class.
        options.allow_unknown_globals = lenient;
        size_t end = 0;
        pickle::Document doc = pickle::unpickle_prefix(
            d + pos, n - pos, path + ": " + what + " at byte " + std::to_string(pos), options, &end);
        pos += end;
        return doc;
    };

    const pickle::Document version = next_pickle("protocol version", false);
    const auto* v = version.root().get<int64_t>();
    if (!v || *v != kLegacyProtocolVersion)
        throw file_error(path, "legacy torch.save protocol version " + pickle::describe(version.root(), 1) +
                                   ", expected " + std::to_string(kLegacyProtocolVersion));

    // sys_info: {'protocol_version': 1001, 'little_endian': bool, 'type_sizes': {...}}.
    const pickle::Document sys_info = next_pickle("sys_info", false);
    const auto* info = sys_info.root().get<pickle::Dict>();
    if (!info) throw file_error(path, "legacy torch.save sys_info is a " + pickle::type_name(sys_info.root()) +
                                          ", expected a dict");
    if (const pickle::Value* le = info->find("little_endian")) {
        const auto* little = le->get<bool>();
        if (!little) throw file_error(path, "legacy torch.save sys_info 'little_endian' is not a bool");
        if (!*little) throw file_error(path, "big-endian checkpoint (legacy sys_info little_endian=False) is not supported");
    }

    f.object = next_pickle("object pickle", true);
    const pickle::Document keys_doc = next_pickle("storage key list", false);
    const auto* keys = keys_doc.root().get<pickle::List>();
    if (!keys) throw file_error(path, "legacy torch.save storage key list is a " +
                                          pickle::type_name(keys_doc.root()) + ", expected a list");

    // Every storage's dtype comes from its persistent ids (anywhere in the object): it gives the
    // element size, hence where the next storage starts.
    std::unordered_map<std::string, LegacyStorage> declared;
    for (const pickle::StorageRef* ref : f.object.storages()) {
        auto [it, inserted] = declared.emplace(ref->key, LegacyStorage{ref->dtype, ref->numel, 0, 0});
        if (!inserted && (it->second.dtype != ref->dtype || it->second.numel != ref->numel))
            throw file_error(path, "storage '" + ref->key + "' is declared with different types or sizes");
    }
    for (const pickle::Value* item : keys->items) {
        const auto* key = item->get<std::string>();
        if (!key) throw file_error(path, "legacy torch.save storage key list holds a " +
                                             pickle::type_name(*item) + ", not a str");
        auto it = declared.find(*key);
        if (it == declared.end())
            throw file_error(path, "storage '" + *key + "' is listed but no tensor in the file uses it");
        if (f.storages.count(*key)) throw file_error(path, "storage '" + *key + "' is listed twice");
        LegacyStorage s = it->second;
        if (n - pos < 8)
            throw file_error(path, "truncated: storage '" + *key + "' has no element count at byte " +
                                       std::to_string(pos));
        uint64_t count = 0;
        for (int i = 0; i < 8; ++i) count |= uint64_t{d[pos + static_cast<size_t>(i)]} << (8 * i);
        pos += 8;
        if (static_cast<int64_t>(count) != s.numel)
            throw file_error(path, "storage '" + *key + "' holds " + std::to_string(static_cast<int64_t>(count)) +
                                       " elements in the file, but the pickle declares " +
                                       std::to_string(s.numel) + " " + dtype_name(s.dtype) + " elements");
        int64_t nbytes = 0;
        if (!mul_ok(s.numel, static_cast<int64_t>(dtype_size(s.dtype)), &nbytes) ||
            static_cast<uint64_t>(nbytes) > n - pos)
            throw file_error(path, "truncated: storage '" + *key + "' needs " + std::to_string(nbytes) +
                                       " bytes at byte " + std::to_string(pos) + ", the file has " +
                                       std::to_string(n - pos) + " left");
        s.offset = pos;
        s.nbytes = static_cast<size_t>(nbytes);
        pos += s.nbytes;
        f.storages.emplace(*key, s);
    }
    return f;
}

TorchCheckpoint load_legacy_checkpoint(const std::string& path) {
    LegacyFile f = read_legacy(path);
    TorchCheckpoint result;
    result.path = path;
    result.legacy = true;
    const std::vector<StateDictEntry> entries = select_state_dict(f.object, path, &result.lightning);
    std::unordered_map<std::string, std::shared_ptr<const std::vector<uint8_t>>> loaded;
    for (const StateDictEntry& e : entries) {
        const pickle::StorageRef& ref = e.tensor->storage;
        auto it = f.storages.find(ref.key);
        if (it == f.storages.end())
            throw file_error(path, "tensor '" + e.name + "': storage '" + ref.key +
                                       "' is missing from the file's storage list");
        auto& bytes = loaded[ref.key];
        if (!bytes) {
            const uint8_t* begin = f.file->data() + it->second.offset;
            bytes = std::make_shared<const std::vector<uint8_t>>(begin, begin + it->second.nbytes);
        }
        result.tensors[e.name] = materialize_tensor(*e.tensor, bytes, path + ": tensor '" + e.name + "'");
        result.names.push_back(e.name);
    }
    return result;
}

}  // namespace

pickle::Document read_torch_checkpoint_tree(const std::string& path) {
    if (check_container(path) == Container::Legacy) return read_legacy(path).object;
    OpenArchive a = open_archive(path);
    return unpickle_archive(path, a);
}

TorchCheckpoint load_torch_checkpoint(const std::string& path) {
    if (check_container(path) == Container::Legacy) return load_legacy_checkpoint(path);
    OpenArchive a = open_archive(path);
    const pickle::Document doc = unpickle_archive(path, a);

    TorchCheckpoint result;
    result.path = path;
    result.archive_prefix = a.prefix;
    const std::vector<StateDictEntry> entries = select_state_dict(doc, path, &result.lightning);

    // Several tensors may view one storage (tied weights): read each entry once.
    struct LoadedStorage {
        std::shared_ptr<const std::vector<uint8_t>> bytes;
        DType dtype;
    };
    std::unordered_map<std::string, LoadedStorage> storages;
    for (const StateDictEntry& e : entries) {
        const pickle::StorageRef& s = e.tensor->storage;
        auto it = storages.find(s.key);
        if (it != storages.end() && (it->second.dtype != s.dtype ||
                                     static_cast<uint64_t>(s.numel) !=
                                         it->second.bytes->size() / dtype_size(s.dtype)))
            throw file_error(path, "tensor '" + e.name + "': storage '" + s.key +
                                       "' is declared with different types or sizes");
        if (it == storages.end()) {
            if (s.key.empty() || s.key.find_first_of("/\\") != std::string::npos || s.key == "..")
                throw file_error(path, "tensor '" + e.name + "': invalid storage key '" + s.key + "'");
            const std::string entry = a.prefix + "/data/" + s.key;
            if (!a.zip->has(entry))
                throw file_error(path, "tensor '" + e.name + "': storage entry '" + entry +
                                           "' is missing");
            // The pickle's numel x element size is what the entry must hold: a zip header that
            // declares more (a decompression bomb, or a corrupt file) is refused before inflating.
            int64_t expected = 0;
            if (!mul_ok(s.numel, static_cast<int64_t>(dtype_size(s.dtype)), &expected) || expected < 0)
                throw file_error(path, "storage '" + entry + "': the pickle declares " + std::to_string(s.numel) +
                                           " " + dtype_name(s.dtype) + " elements, which overflows");
            const uint64_t declared = a.zip->declared_size(entry);
            if (declared != static_cast<uint64_t>(expected))
                throw file_error(path, "storage '" + entry + "' has " + std::to_string(declared) +
                                           " bytes, but the pickle declares " + std::to_string(s.numel) + " " +
                                           dtype_name(s.dtype) + " elements (" + std::to_string(expected) +
                                           " bytes)");
            auto bytes = std::make_shared<const std::vector<uint8_t>>(
                a.zip->read(entry, static_cast<uint64_t>(expected), "the size the pickle declares"));
            it = storages.emplace(s.key, LoadedStorage{std::move(bytes), s.dtype}).first;
        }
        result.tensors[e.name] = materialize_tensor(*e.tensor, it->second.bytes,
                                                    path + ": tensor '" + e.name + "'");
        result.names.push_back(e.name);
    }
    return result;
}

TensorMap read_torch_checkpoint(const std::string& path) {
    return load_torch_checkpoint(path).tensors;
}

}  // namespace syn
