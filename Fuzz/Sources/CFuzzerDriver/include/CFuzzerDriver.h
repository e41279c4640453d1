#ifndef C_FUZZER_DRIVER_H
#define C_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, LLVM 12 and later), linked by `-sanitize=fuzzer`.
/// SwiftPM points `main` at each executable's `<module>_main` (so tests can link executables); the
/// fuzz targets define that symbol and hand over to libFuzzer here.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
