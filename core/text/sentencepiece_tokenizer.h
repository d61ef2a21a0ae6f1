#pragma once
// SentencePiece tokenizers (T5's spiece.model, SigLIP's text tokenizer) behind syn::text::Tokenizer.
//
// libsentencepiece is never linked into our processes: it lives in libsyn_spm_shim.so, which is
// loaded with dlmopen(LM_ID_NEWLM) into its own link namespace (see spm_shim/spm_shim.h for why).
// The shim is looked up in this order: $SYN_SPM_SHIM; beside the running executable; the install
// lib dir relative to the executable's folder (../lib from bin/); the build tree it was built in;
// the configured install lib dir.
#include <memory>
#include <string>

#include "core/text/tokenizer.h"

namespace syn::text {

// Loads `spiece_model_path`; `folder` (may be empty) may hold tokenizer_config.json and
// special_tokens_map.json, which choose the flavour and the special tokens:
//  - T5 (default, HF T5Tokenizer / T5TokenizerFast): pieces + "</s>"; no BOS; pad "<pad>" (id 0);
//    `extra_ids` sentinels "<extra_id_N>" with id piece_count + extra_ids - 1 - N; a pair is
//    "A </s> B </s>"; truncation keeps the "</s>".
//  - SigLIP (tokenizer_class "SiglipTokenizer"): as HF's SiglipTokenizer: lower-cases when
//    do_lower_case (default true), removes ASCII punctuation, collapses whitespace; pad "</s>".
// Throws syn::Error naming the file on a missing / corrupt model or config, or a missing shim.
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& spiece_model_path,
                                                        const std::string& folder);

// The path the SentencePiece shim was (or would be) loaded from, and how ("dlmopen" or "dlopen").
// Loads it when not loaded yet; throws syn::Error listing the places tried when it is not found.
std::string sentencepiece_shim_description();

}  // namespace syn::text
