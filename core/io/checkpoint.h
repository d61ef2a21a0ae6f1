#pragma once
// One entry point for weights: a model folder or a single checkpoint file -> name -> RawTensor.
//   *.safetensors                      -> read_safetensors
//   model.safetensors.index.json       -> read_safetensors_index (sharded)
//   *.ckpt / *.bin / *.pt / *.pth       -> read_torch_checkpoint (restricted unpickler; Lightning
//                                         checkpoints give their "state_dict")
//   a folder                           -> model.safetensors, else the index, else pytorch_model.bin
#include <string>

#include "core/io/raw_tensor.h"

namespace syn {

struct LoadedCheckpoint {
    std::string path;    // the file actually read (or the index)
    std::string format;  // "safetensors", "safetensors-sharded", "torch-zip", "torch-legacy"
    TensorMap tensors;
};

LoadedCheckpoint load_checkpoint(const std::string& file_or_folder);

}  // namespace syn
