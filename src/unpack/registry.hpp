// The registry: every handler clearbox knows, in one sorted list.
#pragma once

#include <span>

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// All handlers, sorted by name; the order also settles ties between candidates at one offset.
std::span<const Handler* const> AllHandlers();

}  // namespace clearbox::unpack
