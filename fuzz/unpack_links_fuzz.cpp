// libFuzzer target for the link rules of SafeDir: the input is a script of directories,
// files, symlinks and hard links with hostile names and targets, created in one SafeDir in
// the order given. Afterwards every object in the tree, followed as the kernel follows it,
// must stay inside the root: a link chain that leads out is a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "unpack/safe_dir.hpp"

namespace {

namespace fs = std::filesystem;

// Next '\n'-terminated field of the script, or the rest.
std::string Field(const std::uint8_t*& p, const std::uint8_t* end) {
  std::string out;
  while (p < end && *p != '\n' && out.size() < 512) out.push_back(static_cast<char>(*p++));
  if (p < end) ++p;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox;
  static const std::string base = [] {
    char tmpl[] = "/tmp/clearbox-links-fuzz-XXXXXX";
    return std::string(::mkdtemp(tmpl));
  }();
  const std::string root = base + "/root";
  std::error_code ec;
  fs::remove_all(root, ec);
  Limits limits;
  limits.max_files = 200;
  Budget run(limits);
  ChunkBudget chunk(run, 1 << 20);
  auto dir = unpack::SafeDir::Create(root, "root", &chunk);
  if (!dir) return 0;
  const std::uint8_t* p = data;
  const std::uint8_t* end = data + size;
  for (int op = 0; op < 64 && p < end; ++op) {
    const std::uint8_t kind = *p++ % 4;
    const std::string name = Field(p, end);
    const std::string target = Field(p, end);
    switch (kind) {
      case 0: (void)(*dir)->CreateDirectory(name, 0755); break;
      case 1: (void)(*dir)->WriteFile(name, ByteView(), 0644); break;
      case 2: (void)(*dir)->CreateSymlink(name, target); break;
      default: (void)(*dir)->CreateHardlink(name, target); break;
    }
  }
  const fs::path real_root = fs::canonical(root);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink()) continue;
    // Follow every link in the path the way open(2) would (missing tails are fine).
    const fs::path resolved = fs::weakly_canonical(it->path(), ec);
    if (ec) {
      ec.clear();
      continue;  // a loop (ELOOP) resolves nowhere: harmless
    }
    const auto rel = resolved.lexically_relative(real_root);
    if (rel.empty() || *rel.begin() == "..") {
      std::fprintf(stderr, "link escapes: %s -> %s\n", it->path().c_str(), resolved.c_str());
      std::abort();
    }
  }
  return 0;
}
