# The native kernels as a Node-API addon (scripts/build-native.mjs runs node-gyp on this with the local
# Node headers). Each instruction set's copy of the kernels is its own static library because gyp sets
# compiler flags per target, not per file; the addon itself is built for baseline x86-64 and picks a copy
# after checking the CPU. -ffp-contract=off: no multiply-add is fused unless the source says so, so every
# code path rounds the same way.
{
  'target_defaults': {
    'cflags_cc': ['-O3', '-std=gnu++17', '-fPIC', '-ffp-contract=off', '-fno-math-errno', '-Wall', '-Wextra',
                  '-Wno-unused-function'],
    'cflags_cc!': ['-O2', '-Os', '-std=gnu++20'],
  },
  'targets': [
    {
      'target_name': 'isa_avx512',
      'type': 'static_library',
      'sources': ['src/isa_avx512.cc'],
      'cflags_cc': ['-mavx512f', '-mavx2', '-mfma', '-Wno-uninitialized', '-Wno-maybe-uninitialized'],
    },
    {
      'target_name': 'isa_avx2',
      'type': 'static_library',
      'sources': ['src/isa_avx2.cc'],
      'cflags_cc': ['-mavx2', '-mfma'],
    },
    {
      'target_name': 'isa_avx2x2',
      'type': 'static_library',
      'sources': ['src/isa_avx2x2.cc'],
      'cflags_cc': ['-mavx2', '-mfma'],
    },
    {
      'target_name': 'psrlm_native',
      'sources': ['src/addon.cc'],
      'dependencies': ['isa_avx512', 'isa_avx2', 'isa_avx2x2'],
    },
  ],
}
