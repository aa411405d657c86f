// The unpacker's signature pass alone: every handler's magic searched (one SignatureScanner,
// as the engine builds it) over every regular file under DIR, as the engine does for each
// file it unpacks. Prints bytes, best-of-RUNS seconds, MiB/s and candidates per handler, so
// that the cost of new signatures can be measured apart from extraction.
// Usage: signature_scan_bench DIR [RUNS] [--without NAME,NAME...]
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "unpack/registry.hpp"
#include "unpack/signature_scanner.hpp"

namespace {

using clearbox::unpack::Handler;

struct Mapped {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

std::vector<Mapped> MapTree(const std::filesystem::path& root) {
  std::vector<Mapped> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file() || entry.is_symlink() || entry.file_size() == 0) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const std::size_t size = entry.file_size();
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) continue;
    files.push_back({static_cast<const std::uint8_t*>(p), size});
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [RUNS] [--without NAME,NAME...]\n", argv[0]);
    return 2;
  }
  int runs = 3;
  std::set<std::string> without;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--without" && i + 1 < argc) {
      std::stringstream names(argv[++i]);
      for (std::string name; std::getline(names, name, ',');) without.insert(name);
    } else {
      runs = std::max(1, std::atoi(arg.c_str()));
    }
  }
  std::vector<const Handler*> handlers;
  for (const Handler* h : clearbox::unpack::AllHandlers()) {
    if (!without.contains(std::string(h->Name()))) handlers.push_back(h);
  }
  auto scanner = clearbox::unpack::SignatureScanner::Build(handlers);
  if (!scanner) {
    std::fprintf(stderr, "build: %s\n", scanner.error().message.c_str());
    return 1;
  }
  const std::vector<Mapped> files = MapTree(argv[1]);
  std::uint64_t bytes = 0;
  for (const Mapped& f : files) bytes += f.size;

  double best = 1e9;
  std::map<std::string, std::uint64_t> per_handler;
  for (int run = 0; run < runs; ++run) {
    per_handler.clear();
    const auto start = std::chrono::steady_clock::now();
    for (const Mapped& f : files) {
      auto found = (*scanner)->Scan({f.data, f.size}, 0, f.size, 1 << 18, nullptr);
      if (!found) {
        std::fprintf(stderr, "scan: %s\n", found.error().message.c_str());
        return 1;
      }
      for (const auto& c : *found) ++per_handler[std::string(handlers[c.handler_index]->Name())];
    }
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("files %zu bytes %llu handlers %zu best %.3f s %.1f MiB/s\n", files.size(),
              static_cast<unsigned long long>(bytes), handlers.size(), best,
              static_cast<double>(bytes) / (1 << 20) / best);
  for (const auto& [name, count] : per_handler) {
    std::printf("  %-16s %10llu\n", name.c_str(), static_cast<unsigned long long>(count));
  }
  return 0;
}
