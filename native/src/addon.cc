// The Node-API face of the native kernels (src/engine/native.ts is the other side). Node-API keeps the
// addon binary-compatible across Node versions. The engine's heap is a shared WebAssembly memory: its
// bytes never move (a shared buffer can grow but not relocate), so the kernels get its base address once
// and every pointer argument is a byte offset from it, exactly as for the WebAssembly kernels.
//
//   info(isa?)                      -> { isa, lanes, mr, peakFmas, names, pre, cpu } | throws why not
//   open(heapBytes, argsF64, threads, isa?) -> pool handle
//   call(pool, kernel, nargs)       -> the kernel's return value (one thread; a trailing range, if given)
//   run(pool, kernel, total, align, minSplit)   (args before the range; the pool splits the range)
//   close(pool)
//   threadCpuNs()                   -> CPU time of the calling thread (benchmarks on a shared machine)
//
// The instruction set is chosen at run time: AVX-512F where the CPU and OS have it, else AVX2 + FMA; a
// name forces one (avx512, avx2, or avx2x2: sixteen lanes on AVX2, for testing).
#include <node_api.h>

#include <cstring>
#include <ctime>
#include <string>

#include "kernels.h"
#include "pool.h"

namespace {

using psrlm::KernelTable;
using psrlm::Pool;

bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool has_avx512() { return __builtin_cpu_supports("avx512f") && has_avx2(); }

// The table for `want` ("" = best available), or null with `why` set.
const KernelTable* choose(const std::string& want, std::string* why) {
  __builtin_cpu_init();
  if (want.empty()) {
    if (has_avx512()) return psrlm::table_avx512();
    if (has_avx2()) return psrlm::table_avx2();
    *why = "this CPU has neither AVX2 with FMA nor AVX-512";
    return nullptr;
  }
  if (want == "avx512") {
    if (has_avx512()) return psrlm::table_avx512();
    *why = "PSRLM_NATIVE_ISA=avx512 but this CPU (or its OS) does not support AVX-512F";
    return nullptr;
  }
  if (want == "avx2" || want == "avx2x2") {
    if (has_avx2()) return want == "avx2" ? psrlm::table_avx2() : psrlm::table_avx2x2();
    *why = "PSRLM_NATIVE_ISA=" + want + " but this CPU does not support AVX2 with FMA";
    return nullptr;
  }
  *why = "PSRLM_NATIVE_ISA must be avx512, avx2 or avx2x2, not '" + want + "'";
  return nullptr;
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "psrlm native: " #call " failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

std::string string_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return "";
  char buf[64];
  size_t n = 0;
  napi_get_value_string_utf8(env, v, buf, sizeof buf, &n);
  return std::string(buf, n);
}

napi_value Info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::string why;
  const KernelTable* t = choose(argc > 0 ? string_arg(env, argv[0]) : "", &why);
  if (!t) {
    napi_throw_error(env, "ERR_PSRLM_NATIVE_ISA", why.c_str());
    return nullptr;
  }
  napi_value out, v, names, pre;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, t->isa, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "isa", v));
  CHECK(napi_create_int32(env, t->lanes, &v));
  CHECK(napi_set_named_property(env, out, "lanes", v));
  CHECK(napi_create_int32(env, t->mr, &v));
  CHECK(napi_set_named_property(env, out, "mr", v));
  CHECK(napi_create_int32(env, t->peak_fmas, &v));
  CHECK(napi_set_named_property(env, out, "peakFmas", v));
  CHECK(napi_create_array_with_length(env, t->count, &names));
  CHECK(napi_create_array_with_length(env, t->count, &pre));
  for (int i = 0; i < t->count; i++) {
    CHECK(napi_create_string_utf8(env, t->entries[i].name, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_element(env, names, i, v));
    CHECK(napi_create_int32(env, t->entries[i].pre, &v));
    CHECK(napi_set_element(env, pre, i, v));
  }
  CHECK(napi_set_named_property(env, out, "names", names));
  CHECK(napi_set_named_property(env, out, "pre", pre));
  std::string cpu = has_avx512() ? "avx512f avx2 fma" : has_avx2() ? "avx2 fma" : "no avx2";
  CHECK(napi_create_string_utf8(env, cpu.c_str(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "cpu", v));
  return out;
}

// Pools die with their JavaScript handle if close() was never called.
void finalize_pool(napi_env, void* data, void*) { delete static_cast<Pool*>(data); }

void* typed_data(napi_env env, napi_value v, napi_typedarray_type want, size_t* length) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return nullptr;
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &ab, &off) != napi_ok || type != want) return nullptr;
  return data;
}

napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 3) {
    napi_throw_type_error(env, nullptr, "open(heapBytes, args, threads[, isa])");
    return nullptr;
  }
  size_t heap_len = 0, nargs = 0;
  uint8_t* base = static_cast<uint8_t*>(typed_data(env, argv[0], napi_uint8_array, &heap_len));
  const double* args = static_cast<const double*>(typed_data(env, argv[1], napi_float64_array, &nargs));
  if (!base || !args || nargs < 32) {
    napi_throw_type_error(env, nullptr, "open: expected a Uint8Array over the heap and a Float64Array of 32+ args");
    return nullptr;
  }
  int32_t threads = 1;
  CHECK(napi_get_value_int32(env, argv[2], &threads));
  std::string why;
  const KernelTable* t = choose(argc > 3 ? string_arg(env, argv[3]) : "", &why);
  if (!t) {
    napi_throw_error(env, "ERR_PSRLM_NATIVE_ISA", why.c_str());
    return nullptr;
  }
  Pool* pool = new Pool(t, base, args, threads);
  napi_value handle;
  if (napi_create_external(env, pool, finalize_pool, nullptr, &handle) != napi_ok) {
    delete pool;
    napi_throw_error(env, nullptr, "psrlm native: could not create the pool handle");
    return nullptr;
  }
  return handle;
}

Pool* pool_of(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok) return nullptr;
  return static_cast<Pool*>(p);
}

napi_value Call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Pool* pool = pool_of(env, argv[0]);
  int32_t id = -1, nargs = 0;
  napi_get_value_int32(env, argv[1], &id);
  napi_get_value_int32(env, argv[2], &nargs);
  if (!pool || id < 0 || id >= pool->table()->count) {
    napi_throw_error(env, nullptr, "psrlm native: call on a closed pool or an unknown kernel");
    return nullptr;
  }
  const psrlm::KernelEntry& e = pool->table()->entries[id];
  const double* a = pool->args();
  int lo = 0, hi = 0;
  if (nargs >= e.pre + 2) {
    lo = (int)a[e.pre];
    hi = (int)a[e.pre + 1];
  }
  napi_value out;
  napi_create_double(env, e.fn(a, pool->base(), lo, hi), &out);
  return out;
}

napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Pool* pool = pool_of(env, argv[0]);
  int32_t id = -1, total = 0, align = 1, min_split = 2;
  napi_get_value_int32(env, argv[1], &id);
  napi_get_value_int32(env, argv[2], &total);
  napi_get_value_int32(env, argv[3], &align);
  napi_get_value_int32(env, argv[4], &min_split);
  if (!pool || id < 0 || id >= pool->table()->count) {
    napi_throw_error(env, nullptr, "psrlm native: run on an unknown pool or kernel");
    return nullptr;
  }
  pool->run(pool->table()->entries[id].fn, total, align < 1 ? 1 : align, min_split);
  return nullptr;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Pool* pool = argc > 0 ? pool_of(env, argv[0]) : nullptr;
  if (pool) pool->close();
  return nullptr;
}

napi_value ThreadCpuNs(napi_env env, napi_callback_info) {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  napi_value out;
  napi_create_double(env, t.tv_sec * 1e9 + t.tv_nsec, &out);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"call", nullptr, Call, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threadCpuNs", nullptr, ThreadCpuNs, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
