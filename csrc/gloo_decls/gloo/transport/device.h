// Declarations only (see ../README.md): c10d's header holds Gloo devices and buffers by
// smart pointer, so their definitions are never needed here.
#pragma once

namespace gloo {
namespace transport {
class Device;
class UnboundBuffer;
}  // namespace transport
}  // namespace gloo
