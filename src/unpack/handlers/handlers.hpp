// Accessors of every handler instance; one line per handler, grouped by family.
#pragma once

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// compression
const Handler& GetGzipHandler();

// archive

// filesystem
const Handler& GetJffs2Handler();
const Handler& GetSquashfsHandler();

// firmware

}  // namespace clearbox::unpack
