// C ABI over PyTorch's c10d (TCPStore rendezvous, Gloo process groups, collectives), for
// Graft's Rust side (src/distributed/). Every function catches C++ exceptions: a failure is
// reported as a heap-allocated, NUL-terminated message returned to the caller (free it with
// graft_c10d_free_error), success as NULL. Nothing here aborts the process.
//
// Tensors cross the boundary as tch's tensor handles, which are `at::Tensor*`.
#ifndef GRAFT_C10D_SHIM_H
#define GRAFT_C10D_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct graft_c10d_store graft_c10d_store;
typedef struct graft_c10d_pg graft_c10d_pg;

// Free an error message returned by any function of this file.
void graft_c10d_free_error(char* err);

// Set libtorch's C++ log threshold (0 INFO, 1 WARNING, 2 ERROR, 3 FATAL), as the
// TORCH_CPP_LOG_LEVEL variable does at start-up. c10d logs every rendezvous retry and failure
// with a C++ backtrace; Graft reports the same failures as one-paragraph errors instead.
void graft_c10d_set_log_level(int level);

// Connect to (or, with is_master, serve) a TCPStore at host:port that world_size processes
// join. Waits up to timeout_ms for every worker when serving, for the server when connecting.
char* graft_c10d_store_new(const char* host, uint16_t port, int64_t world_size, int is_master,
                           int64_t timeout_ms, graft_c10d_store** out);
// Set/get a key (small rendezvous values); get waits up to the store's timeout.
char* graft_c10d_store_set(graft_c10d_store* store, const char* key, const uint8_t* value,
                           size_t len);
char* graft_c10d_store_get(graft_c10d_store* store, const char* key, uint8_t** value,
                           size_t* len);
void graft_c10d_free_bytes(uint8_t* bytes);
void graft_c10d_store_free(graft_c10d_store* store);

// A Gloo process group over `store`. `device` picks the network device Gloo binds to:
// "iface:<name>" (an interface, like GLOO_SOCKET_IFNAME), "host:<name or address>", or ""
// (this machine's hostname, falling back to loopback, as PyTorch's default).
char* graft_c10d_pg_gloo_new(graft_c10d_store* store, int64_t rank, int64_t world_size,
                             const char* device, int64_t timeout_ms, graft_c10d_pg** out);
// A process group around a backend created elsewhere (the NCCL part, see c10d_nccl.cpp): the
// pointer is a heap-allocated c10::intrusive_ptr<c10d::Backend>, whose ownership moves here.
char* graft_c10d_pg_from_backend(void* backend, int64_t rank, int64_t world_size,
                                 graft_c10d_pg** out);
// Sum each tensor in place across ranks (average: then divide by the world size).
char* graft_c10d_allreduce(graft_c10d_pg* pg, void* const* tensors, size_t n, int average);
// Overwrite each tensor with its value on rank `root`.
char* graft_c10d_broadcast(graft_c10d_pg* pg, void* const* tensors, size_t n, int64_t root);
// Wait until every rank has reached the barrier.
char* graft_c10d_barrier(graft_c10d_pg* pg);
void graft_c10d_pg_free(graft_c10d_pg* pg);

#ifdef __cplusplus
}
#endif

#endif
