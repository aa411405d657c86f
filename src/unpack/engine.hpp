// The unpack engine: scan -> probe -> extract -> recurse, with limits, over worker threads.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "core/budget.hpp"
#include "core/file_view.hpp"
#include "core/result.hpp"
#include "unpack/manifest.hpp"

namespace clearbox::unpack {

struct UnpackOptions {
  std::string image_path;  // the input file
  std::string output_dir;  // created if missing; must be empty if it exists
  Limits limits;
  std::size_t threads = 0;  // 0 = one per core
  bool progress = false;    // print a progress line on stderr
  // Called from worker threads for every object the handlers created (regular files while
  // their content is mapped, so analysis shares the engine's read); must be thread-safe and
  // must not throw. Not called for the image itself, device nodes or refused links.
  std::function<void(const FileView&)> on_entry;
};

// Unpacks the image recursively into options.output_dir and writes manifest.json there.
// Fails (kInvalidArgument/kIo) only when the image or the output directory is unusable;
// everything that goes wrong inside the image is a problem in the returned manifest.
Result<Manifest> Unpack(const UnpackOptions& options);

}  // namespace clearbox::unpack
