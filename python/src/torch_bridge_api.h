/* The C interface between jagtile._core and jagtile._torch_bridge.

   _core must not link libtorch (a numpy-only program never loads it), so torch tensors reach it
   through torch's Python-level exports (DLPack capsules in, torch.from_numpy out), which cost a
   few microseconds per call in torch's own code. _torch_bridge is a small module built against
   the torch installed at build time: it reads a torch.Tensor's data pointer, sizes, strides,
   dtype and device straight from the C++ object and wraps results with at::from_blob. _core
   imports it only once torch is imported and only when torch's version is the one it was built
   against; anything the bridge does not take it leaves to the DLPack path, whose errors are the
   package's usual ones. Plain C types only: the two modules may be built with different C++ ABIs.
 */
#ifndef JAGTILE_TORCH_BRIDGE_API_H
#define JAGTILE_TORCH_BRIDGE_API_H

#include <Python.h>
#include <stdint.h>

#define JT_TORCH_BRIDGE_VERSION 2

/* dtypes the bridge hands over: the values of jagtile::DType (include/jagtile/dtype.h), so that
   _core converts by a cast (tensors.cpp asserts they agree). */
enum JtBridgeDType {
  JT_BRIDGE_F32 = 0,
  JT_BRIDGE_F16 = 1,
  JT_BRIDGE_BF16 = 2,
  JT_BRIDGE_I32 = 3,
  JT_BRIDGE_I64 = 4,
  JT_BRIDGE_BOOL = 5,
  JT_BRIDGE_F64 = 6
};

/* A torch tensor's memory as the bridge read it. The pointers are torch's own and stay valid
   while the caller holds a reference to the Python object. */
typedef struct {
  void* data; /* the first element (storage offset applied) */
  int64_t ndim;
  const int64_t* shape;
  const int64_t* strides; /* in elements */
  int32_t dtype;          /* JtBridgeDType */
  int32_t device_type;    /* 0: CPU, 1: CUDA */
  int32_t device_index;
} JtTorchView;

typedef struct {
  int32_t version; /* JT_TORCH_BRIDGE_VERSION */
  /* 1 when obj is a dense, strided torch.Tensor on the CPU or a CUDA device, of a dtype above,
     read into *view; 0 for anything else (the caller takes its general path). Never raises. */
  int (*read)(PyObject* obj, JtTorchView* view);
  /* A new torch.Tensor over `data` (CPU, contiguous), or NULL with a Python error set. torch
     calls release(ctx) when it frees the storage, on any thread, with or without the GIL. */
  PyObject* (*wrap_cpu)(void* data, int64_t ndim, const int64_t* shape, int32_t dtype,
                        void (*release)(void*), void* ctx);
  /* torch's intra-op thread count now (torch.get_num_threads() without the Python call). */
  int (*num_threads)(void);
  /* Calls body(context) once on each of up to `threads` threads of torch's intra-op pool, the
     caller's among them, and returns when every call has returned; body does not throw. NULL
     where this build cannot reach torch's pool (an OpenMP torch built into a bridge compiled
     without OpenMP). _core runs its parallel regions on it (jagtile::RegionExecutor), so that a
     program alternating torch ops and jagtile kernels keeps one set of threads busy, not two:
     torch's OpenMP workers spin for a while after each op, on the cores jagtile's own pool
     would wake up on. */
  void (*run_on_threads)(int threads, void (*body)(void*), void* context);
} JtTorchBridgeApi;

#endif
