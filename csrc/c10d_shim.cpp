// Graft's C ABI over PyTorch's c10d: TCPStore rendezvous, Gloo process groups and the
// collectives data-parallel training needs (all-reduce, broadcast, barrier). Compiled by
// build.rs with the `cc` crate against the libtorch tch links, so the objects here are the
// very ones libtorch_cpu.so implements. See c10d_shim.h for the contract.

#include "c10d_shim.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/util/Logging.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include "c10d_shim_internal.hpp"

struct graft_c10d_pg {
  c10::intrusive_ptr<c10d::Backend> backend;
  int64_t rank;
  int64_t world_size;
};

using graft_c10d::dup_message;
using graft_c10d::guarded;

namespace {

// Collectives take one tensor per call: with a list, c10d reduces the list's entries into
// each other (its multi-device-per-process form), which is not what callers mean.
std::vector<at::Tensor*> checked_tensors(void* const* tensors, size_t n, const char* what) {
  std::vector<at::Tensor*> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto* t = static_cast<at::Tensor*>(tensors[i]);
    TORCH_CHECK(t != nullptr && t->defined(), what, ": tensor ", i, " is undefined");
    TORCH_CHECK(t->is_contiguous(), what, ": tensor ", i,
                " is not contiguous (c10d reduces raw memory; pass contiguous tensors)");
    out.push_back(t);
  }
  return out;
}

void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  for (auto& w : works) {
    w->wait();
  }
}

}  // namespace

extern "C" {

void graft_c10d_free_error(char* err) { std::free(err); }

void graft_c10d_free_bytes(uint8_t* bytes) { std::free(bytes); }

void graft_c10d_set_log_level(int level) { FLAGS_caffe2_log_level = level; }

char* graft_c10d_store_new(const char* host, uint16_t port, int64_t world_size, int is_master,
                           int64_t timeout_ms, graft_c10d_store** out) {
  return guarded([&] {
    TORCH_CHECK(host != nullptr && out != nullptr, "store: null argument");
    TORCH_CHECK(world_size > 0, "store: world size must be positive, got ", world_size);
    c10d::TCPStoreOptions opts;
    opts.port = port;
    opts.isServer = is_master != 0;
    opts.numWorkers = static_cast<size_t>(world_size);
    opts.waitWorkers = true;
    opts.timeout = std::chrono::milliseconds(timeout_ms);
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    *out = new graft_c10d_store{store};
  });
}

char* graft_c10d_store_set(graft_c10d_store* store, const char* key, const uint8_t* value,
                           size_t len) {
  return guarded([&] {
    TORCH_CHECK(store != nullptr && key != nullptr, "store set: null argument");
    std::vector<uint8_t> bytes(value, value + len);
    store->store->set(std::string(key), bytes);
  });
}

char* graft_c10d_store_get(graft_c10d_store* store, const char* key, uint8_t** value,
                           size_t* len) {
  return guarded([&] {
    TORCH_CHECK(store != nullptr && key != nullptr && value != nullptr && len != nullptr,
                "store get: null argument");
    std::vector<uint8_t> bytes = store->store->get(std::string(key));
    auto* buf = static_cast<uint8_t*>(std::malloc(bytes.empty() ? 1 : bytes.size()));
    TORCH_CHECK(buf != nullptr, "store get: out of memory");
    if (!bytes.empty()) {
      std::memcpy(buf, bytes.data(), bytes.size());
    }
    *value = buf;
    *len = bytes.size();
  });
}

void graft_c10d_store_free(graft_c10d_store* store) {
  try {
    delete store;
  } catch (...) {
    // A destructor that throws while shutting a connection: nothing left to report to.
  }
}

char* graft_c10d_pg_gloo_new(graft_c10d_store* store, int64_t rank, int64_t world_size,
                             const char* device, int64_t timeout_ms, graft_c10d_pg** out) {
  return guarded([&] {
    TORCH_CHECK(store != nullptr && device != nullptr && out != nullptr, "gloo: null argument");
    TORCH_CHECK(world_size > 0 && rank >= 0 && rank < world_size, "gloo: rank ", rank,
                " is outside world size ", world_size);
    auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeout_ms));
    std::string spec(device);
    if (spec.rfind("iface:", 0) == 0) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(spec.substr(6)));
    } else if (spec.rfind("host:", 0) == 0) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(spec.substr(5)));
    } else {
      TORCH_CHECK(spec.empty(), "gloo: unknown device spec '", spec,
                  "' (expected iface:NAME, host:NAME or empty)");
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    // The constructor connects every pair of ranks through the store, so it is where a
    // missing rank shows up (after `timeout_ms`).
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, static_cast<int>(rank),
                                                          static_cast<int>(world_size), opts);
    *out = new graft_c10d_pg{pg, rank, world_size};
  });
}

char* graft_c10d_pg_from_backend(void* backend, int64_t rank, int64_t world_size,
                                 graft_c10d_pg** out) {
  return guarded([&] {
    TORCH_CHECK(backend != nullptr && out != nullptr, "process group: null argument");
    auto* owned = static_cast<c10::intrusive_ptr<c10d::Backend>*>(backend);
    c10::intrusive_ptr<c10d::Backend> b = std::move(*owned);
    delete owned;
    *out = new graft_c10d_pg{b, rank, world_size};
  });
}

char* graft_c10d_allreduce(graft_c10d_pg* pg, void* const* tensors, size_t n, int average) {
  return guarded([&] {
    TORCH_CHECK(pg != nullptr, "all-reduce: null process group");
    auto ts = checked_tensors(tensors, n, "all-reduce");
    // c10d writes into the tensors' memory; autograd must not see it as an in-place op.
    at::NoGradGuard no_grad;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    works.reserve(ts.size());
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    for (auto* t : ts) {
      std::vector<at::Tensor> one{*t};
      works.push_back(pg->backend->allreduce(one, opts));
    }
    wait_all(works);
    if (average != 0 && pg->world_size > 1) {
      // Gloo has no AVG reduction; PyTorch's DDP divides the sum the same way.
      for (auto* t : ts) {
        t->div_(static_cast<double>(pg->world_size));
      }
    }
  });
}

char* graft_c10d_broadcast(graft_c10d_pg* pg, void* const* tensors, size_t n, int64_t root) {
  return guarded([&] {
    TORCH_CHECK(pg != nullptr, "broadcast: null process group");
    TORCH_CHECK(root >= 0 && root < pg->world_size, "broadcast: root ", root,
                " is outside world size ", pg->world_size);
    auto ts = checked_tensors(tensors, n, "broadcast");
    at::NoGradGuard no_grad;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    works.reserve(ts.size());
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.rootTensor = 0;
    for (auto* t : ts) {
      std::vector<at::Tensor> one{*t};
      works.push_back(pg->backend->broadcast(one, opts));
    }
    wait_all(works);
  });
}

char* graft_c10d_barrier(graft_c10d_pg* pg) {
  return guarded([&] {
    TORCH_CHECK(pg != nullptr, "barrier: null process group");
    c10d::BarrierOptions opts;
    auto work = pg->backend->barrier(opts);
    work->wait();
  });
}

void graft_c10d_pg_free(graft_c10d_pg* pg) {
  try {
    delete pg;
  } catch (...) {
    // As for the store: a failing teardown has no one left to tell.
  }
}

}  // extern "C"
