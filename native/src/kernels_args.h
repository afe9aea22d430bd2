// Reading a kernel's arguments: byte offsets into the heap (0 is no pointer), integers and floats, as
// the JavaScript side passes them (kernels.h).

struct Args {
  const double* a;
  uint8_t* base;
  float* f(int i) const {
    const uint32_t p = (uint32_t)a[i];
    return p ? reinterpret_cast<float*>(base + p) : nullptr;
  }
  int32_t* i32(int i) const { return reinterpret_cast<int32_t*>(base + (uint32_t)a[i]); }
  uint8_t* bytes(int i) const { return base + (uint32_t)a[i]; }
  int n(int i) const { return (int)a[i]; }
  float x(int i) const { return (float)a[i]; }
};
