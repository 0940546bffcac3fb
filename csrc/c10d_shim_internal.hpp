// What the two C++ parts of Graft's c10d shim share: the layout of the opaque handles and
// the exception-to-message conversion. Only c10d_shim.cpp and c10d_nccl.cpp include it.
#ifndef GRAFT_C10D_SHIM_INTERNAL_HPP
#define GRAFT_C10D_SHIM_INTERNAL_HPP

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

struct graft_c10d_store {
  c10::intrusive_ptr<c10d::Store> store;
};

namespace graft_c10d {

// A malloc'd copy of `msg`, so the Rust side can free it with graft_c10d_free_error
// whichever C++ part made it.
inline char* dup_message(const std::string& msg) {
  char* out = static_cast<char*>(std::malloc(msg.size() + 1));
  if (out == nullptr) {
    return nullptr;
  }
  std::memcpy(out, msg.data(), msg.size());
  out[msg.size()] = '\0';
  return out;
}

// Run `body`; return NULL on success or the exception's message. c10::Error carries a C++
// backtrace in what(); users get the message without it.
template <typename F>
char* guarded(F&& body) {
  try {
    body();
    return nullptr;
  } catch (const c10::Error& e) {
    return dup_message(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return dup_message(e.what());
  } catch (...) {
    return dup_message("unknown C++ exception");
  }
}

}  // namespace graft_c10d

#endif
