#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
// libFuzzer's library entry point (compiler-rt's libclang_rt.fuzzer, linked by `-sanitize=fuzzer`).
// See https://llvm.org/docs/LibFuzzer.html#using-libfuzzer-as-a-library.
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver: parses its flags from `argc`/`argv` (e.g. `-runs=N`, corpus directories)
/// and calls `callback` once per input. Returns the exit status libFuzzer's own `main` would have.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
