#pragma once
// PyTorch checkpoints (.ckpt / .bin / .pt / .pth) as torch.save writes them, read without Python
// through the restricted unpickler (core/io/pickle.h): nothing in the file is ever executed.
//  - torch >= 1.6 (zip): <prefix>/data.pkl (the pickled object), <prefix>/data/<key> (one entry
//    per storage, raw little-endian bytes), <prefix>/byteorder, <prefix>/version.
//  - torch < 1.6 (legacy): one stream of pickles (magic number, protocol version 1001, sys_info,
//    the object, the list of storage keys) followed by every storage as an int64 element count
//    and its raw bytes. E.g. the FID / IS InceptionV3 weights (pt_inception-2015-12-05).
//  The pre-0.4 tar format is refused with a message.
//
// What is returned is the state dict: a Lightning checkpoint's top-level "state_dict", or the
// top-level dict itself when every value is a tensor (pytorch_model.bin). Everything outside the
// state dict may contain objects of arbitrary (non-dangerous) classes, which are parsed as inert
// placeholders and ignored; inside it, only tensors are accepted.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/io/pickle.h"
#include "core/io/raw_tensor.h"

namespace syn {

struct TorchCheckpoint {
    std::string path;
    std::string archive_prefix;      // the archive's top folder, e.g. "archive" or "last" ("" if legacy)
    bool legacy = false;             // the pre-1.6 stream format
    bool lightning = false;          // tensors came from a top-level "state_dict" entry
    std::vector<std::string> names;  // state-dict order
    TensorMap tensors;               // contiguous, owned copies (or whole storages, shared)
};

// Reads the state dict of a torch.save file (zip or legacy). Throws syn::Error("<path>: <problem>")
// for a file that is neither (pre-0.4 tar files get their own message), unsafe entry names,
// refused globals, missing or short storages, non-tensor state-dict values, big-endian data.
TorchCheckpoint load_torch_checkpoint(const std::string& path);

// The same, tensors only.
TensorMap read_torch_checkpoint(const std::string& path);

// The whole unpickled object (lenient mode; tensors stay references, no storage is read), for
// tools that want e.g. "epoch" / "global_step" of a Lightning checkpoint.
pickle::Document read_torch_checkpoint_tree(const std::string& path);

// One state-dict entry: its name and tensor reference (pointing into the document).
struct StateDictEntry {
    std::string name;
    const pickle::TensorRef* tensor = nullptr;
};

// Picks the state dict out of an unpickled checkpoint (see the header comment) and checks that it
// holds only tensors under string keys. `lightning` (optional) tells which layout was found.
// Exposed for the fuzz target; `source` names the file in messages.
std::vector<StateDictEntry> select_state_dict(const pickle::Document& doc,
                                              const std::string& source, bool* lightning = nullptr);

// Copies the (possibly strided, possibly offset) view `ref` of a storage's bytes into a
// contiguous tensor, checking that every element it addresses lies inside the storage. A view that
// is exactly the whole storage shares `storage` instead of copying. `what` names the tensor.
RawTensor materialize_tensor(const pickle::TensorRef& ref,
                             const std::shared_ptr<const std::vector<uint8_t>>& storage,
                             const std::string& what);

}  // namespace syn
