#pragma once
/* C interface of libitera_spm, a small shared library wrapping SentencePiece.
 *
 * Why: Debian's libsentencepiece bundles its own copy of protobuf and exports
 * its symbols; LibTorch loads the system libprotobuf. Linked into one process
 * the two interpose each other and the program crashes during static
 * initialisation. libitera_spm is therefore never linked: core dlopen()s it
 * with RTLD_LOCAL | RTLD_DEEPBIND, so SentencePiece binds to its own protobuf
 * and stays out of the global symbol scope. Only C types cross this line.
 *
 * Every function returning int returns 0 on success; on failure it stores a
 * malloc()ed message in *err (free it with itera_spm_free). */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Supplies training lines: returns 1 and sets data and len, or 0 when done. */
typedef int (*itera_spm_next_line)(void* ctx, const char** data, size_t* len);

int itera_spm_train(const char* const* keys, const char* const* values, size_t n_args,
                    itera_spm_next_line next, void* ctx, char** proto, size_t* proto_len,
                    char** err);
void* itera_spm_load(const char* proto, size_t len, char** err);
int itera_spm_encode(void* model, const char* text, size_t len, int** ids, size_t* n, char** err);
int itera_spm_decode(void* model, const int* ids, size_t n, char** text, size_t* len, char** err);
void itera_spm_info(void* model, int* vocab_size, int* pad_id, int* unk_id, int* bos_id,
                    int* eos_id);
void itera_spm_unload(void* model);
void itera_spm_free(void* p);

#ifdef __cplusplus
}
#endif
