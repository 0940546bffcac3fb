// The NCCL part of Graft's c10d shim: creates a c10d::ProcessGroupNCCL and hands it to the
// main shim (c10d_shim.cpp) as a generic c10d::Backend, through which every collective then
// runs. It is a separate shared library because ProcessGroupNCCL lives in libtorch_cuda.so and
// its header needs CUDA's and NCCL's headers, none of which the CPU libtorch Graft builds
// against has. scripts/build-nccl-shim.sh compiles it against a CUDA PyTorch 2.11.0 install;
// src/distributed/nccl.rs dlopens it after libtorch_cuda.so has been loaded globally, so a
// binary built against the CPU libtorch gets NCCL wherever the CUDA libtorch is present.

#include <chrono>
#include <cstdint>

#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "c10d_shim_internal.hpp"

extern "C" {

// Create an NCCL backend of `world_size` ranks over `store`, on CUDA device `device_index`
// (the rank's LOCAL_RANK). On success *out holds a heap-allocated
// c10::intrusive_ptr<c10d::Backend> for graft_c10d_pg_from_backend.
__attribute__((visibility("default"))) char* graft_c10d_nccl_new(graft_c10d_store* store,
                                                                 int64_t rank,
                                                                 int64_t world_size,
                                                                 int64_t device_index,
                                                                 int64_t timeout_ms,
                                                                 void** out) {
  return graft_c10d::guarded([&] {
    TORCH_CHECK(store != nullptr && out != nullptr, "nccl: null argument");
    TORCH_CHECK(world_size > 0 && rank >= 0 && rank < world_size, "nccl: rank ", rank,
                " is outside world size ", world_size);
    const auto visible = static_cast<int64_t>(c10::cuda::device_count());
    TORCH_CHECK(visible > 0, "nccl: no CUDA device is visible to this process");
    TORCH_CHECK(device_index >= 0 && device_index < visible, "nccl: LOCAL_RANK ", device_index,
                " has no CUDA device (", visible, " visible)");
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = std::chrono::milliseconds(timeout_ms);
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        store->store, static_cast<int>(rank), static_cast<int>(world_size), opts);
    // Tell NCCL which GPU is this rank's, so barriers and communicators use it rather than a
    // guess from the rank.
    pg->setBoundDeviceId(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
    *out = new c10::intrusive_ptr<c10d::Backend>(std::move(pg));
  });
}

}  // extern "C"
