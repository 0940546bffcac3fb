// Declarations only (see ../README.md): c10d's header holds Gloo contexts by shared_ptr and
// calls setTimeout in an inline virtual of ProcessGroupGloo whose vtable lives in libtorch,
// so the shim never emits (or links) a call to it.
#pragma once

#include <chrono>

namespace gloo {

class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);
};

}  // namespace gloo
