#pragma once
/* A plain C interface around libsentencepiece, built as its own shared object
 * (libsyn_spm_shim.so) and loaded at run time with dlmopen(LM_ID_NEWLM, ...).
 *
 * Why: Debian's libsentencepiece exports the protobuf-lite it embeds. In a process that also
 * loads libtorch (which links the system libprotobuf.so.32) those symbols interpose each other and
 * the process segfaults in libprotobuf's static initialisers, before main(). Loaded into a separate
 * link namespace, libsentencepiece and its protobuf never meet libtorch's.
 *
 * Rules of this ABI, because the two sides may run different copies of libc/libstdc++:
 *  - only C types cross the boundary; no exception ever leaves the shim;
 *  - memory is freed by the side that allocated it (results have their own free function);
 *  - strings are (pointer, byte length); text may contain NUL bytes and invalid UTF-8;
 *  - error messages are written into a caller-provided buffer, always NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature below changes; the loader refuses a shim of another version. */
#define SYN_SPM_ABI_VERSION 1

typedef struct syn_spm_model syn_spm_model;
typedef struct syn_spm_result syn_spm_result;

/* Piece types, as sentencepiece's ModelProto.SentencePiece.Type (normal, unknown, control, ...). */
enum {
    SYN_SPM_PIECE_NORMAL = 1,
    SYN_SPM_PIECE_UNKNOWN = 2,
    SYN_SPM_PIECE_CONTROL = 3,
    SYN_SPM_PIECE_USER_DEFINED = 4,
    SYN_SPM_PIECE_UNUSED = 5,
    SYN_SPM_PIECE_BYTE = 6,
    SYN_SPM_PIECE_INVALID = 0 /* id out of range */
};

int syn_spm_abi_version(void);

/* Loads a serialized sentencepiece model (spiece.model). add_dummy_prefix: -1 keeps the model's
 * setting, 0 / 1 override it (SigLIP's tokenizer turns it off). Returns NULL on failure with the
 * reason in err. */
syn_spm_model* syn_spm_load(const char* path, int add_dummy_prefix, char* err, size_t err_size);
void syn_spm_free(syn_spm_model* model);

int32_t syn_spm_piece_size(const syn_spm_model* model);
/* Special ids of the model; -1 when the model has none. */
int32_t syn_spm_unk_id(const syn_spm_model* model);
int32_t syn_spm_bos_id(const syn_spm_model* model);
int32_t syn_spm_eos_id(const syn_spm_model* model);
int32_t syn_spm_pad_id(const syn_spm_model* model);

/* The piece of an id (pointer valid while the model lives), or NULL for an id out of range. */
const char* syn_spm_id_to_piece(const syn_spm_model* model, int32_t id, size_t* len);
/* The id of a piece; the unknown id when the piece is not in the vocabulary. */
int32_t syn_spm_piece_to_id(const syn_spm_model* model, const char* piece, size_t len);
int syn_spm_piece_type(const syn_spm_model* model, int32_t id);

/* Encodes text into ids (and their vocabulary pieces). NULL on failure with the reason in err. */
syn_spm_result* syn_spm_encode(const syn_spm_model* model, const char* text, size_t len, char* err,
                               size_t err_size);

size_t syn_spm_result_size(const syn_spm_result* result);
const int32_t* syn_spm_result_ids(const syn_spm_result* result);
const char* syn_spm_result_piece(const syn_spm_result* result, size_t index, size_t* len);
void syn_spm_result_free(syn_spm_result* result);

#ifdef __cplusplus
}
#endif
