// Transparency log benchmark: appends per second (single and batched), proof generation and
// verification time at a large tree, and disk bytes per entry. Plain timing, one run: a
// 10-million-entry log is a setup of minutes, not a micro-benchmark loop.
// Usage: ledger_bench DIR [ENTRIES=10000000] [BATCH=65536] [SINGLE=500] [ENTRY_BYTES=128]
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ledger/log_store.hpp"
#include "ledger/merkle.hpp"
#include "ledger/note.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Entry(std::uint64_t i, std::size_t bytes) {
  std::string e = "entry " + std::to_string(i) + " ";
  e.resize(bytes, static_cast<char>('a' + i % 26));
  return e;
}

struct DiskUse {
  std::uint64_t files = 0, apparent = 0, allocated = 0, partial_files = 0, partial_bytes = 0;
};

DiskUse Measure(const fs::path& dir) {
  DiskUse d;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) != 0) continue;
    ++d.files;
    d.apparent += static_cast<std::uint64_t>(st.st_size);
    d.allocated += static_cast<std::uint64_t>(st.st_blocks) * 512;
    if (e.path().parent_path().filename().string().ends_with(".p")) {
      ++d.partial_files;
      d.partial_bytes += static_cast<std::uint64_t>(st.st_size);
    }
  }
  return d;
}

int Die(const std::string& what, const clearbox::Error& e) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), e.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace clearbox::ledger;
  if (argc < 2) {
    std::fprintf(stderr, "usage: ledger_bench DIR [ENTRIES] [BATCH] [SINGLE] [ENTRY_BYTES]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const std::uint64_t total = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10000000;
  const std::uint64_t batch = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 65536;
  const std::uint64_t single = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 500;
  const std::size_t entry_bytes = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 128;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 1;
  auto key = SignerKeyFromSeed("bench.example/log", seed);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::remove_all(dir.string() + "-single", ec);
  if (auto ok = LogStore::Init(dir, "bench.example/log", *key); !ok) return Die("init", ok.error());

  // Single appends (each: entry bundle, tiles, signed checkpoint, all fsync'd) on a side log.
  const fs::path single_dir = dir.string() + "-single";
  if (auto ok = LogStore::Init(single_dir, "bench.example/single", *key); !ok) {
    return Die("init", ok.error());
  }
  {
    auto store = LogStore::OpenForAppend(single_dir);
    if (!store) return Die("open", store.error());
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < single; ++i) {
      auto r = (*store)->Append({Entry(i, entry_bytes)});
      if (!r) return Die("append", r.error());
    }
    const double s = Seconds(t0);
    const DiskUse d = Measure(single_dir);
    std::printf("single appends: %llu in %.2f s = %.1f appends/s (%.2f ms each)\n",
                static_cast<unsigned long long>(single), s, single / s, 1000 * s / single);
    std::printf(
        "  disk after %llu single appends: %.0f bytes/entry apparent (%llu files, "
        "%.0f%% in leftover partial tiles/bundles)\n",
        static_cast<unsigned long long>(single), double(d.apparent) / single,
        static_cast<unsigned long long>(d.files), 100.0 * d.partial_bytes / d.apparent);
  }

  // Batched appends up to `total`.
  double append_seconds = 0;
  {
    auto store = LogStore::OpenForAppend(dir);
    if (!store) return Die("open", store.error());
    std::uint64_t done = 0;
    std::vector<std::string> entries;
    const auto t0 = Clock::now();
    while (done < total) {
      const std::uint64_t n = std::min(batch, total - done);
      entries.clear();
      for (std::uint64_t i = 0; i < n; ++i) entries.push_back(Entry(done + i, entry_bytes));
      auto r = (*store)->Append(entries);
      if (!r) return Die("append", r.error());
      done += n;
      if (done % (batch * 16) == 0 || done == total) {
        std::fprintf(stderr, "  %llu entries, %.0f s\n", static_cast<unsigned long long>(done),
                     Seconds(t0));
      }
    }
    append_seconds = Seconds(t0);
    std::printf(
        "batched appends: %llu entries in batches of %llu in %.1f s = %.0f entries/s "
        "(%.1f ms per batch)\n",
        static_cast<unsigned long long>(total), static_cast<unsigned long long>(batch),
        append_seconds, total / append_seconds,
        1000 * append_seconds / double((total + batch - 1) / batch));
  }

  // Proofs at the full size, from a freshly opened store (tiles read from disk, OS cache warm).
  auto store = LogStore::OpenForReading(dir);
  if (!store) return Die("open", store.error());
  const Checkpoint cp = (*store)->checkpoint();
  std::mt19937_64 rng(7);
  constexpr int kProofs = 1000;
  double gen = 0, verify = 0;
  std::size_t hashes = 0;
  for (int k = 0; k < kProofs; ++k) {
    const std::uint64_t index = rng() % cp.size;
    auto t0 = Clock::now();
    auto fresh = LogStore::OpenForReading(dir);  // no tile cache carried over between proofs
    auto proof = (*fresh)->Inclusion(index);
    gen += Seconds(t0);
    if (!proof) return Die("inclusion", proof.error());
    hashes += proof->size();
    const Hash leaf = HashLeaf(Entry(index, entry_bytes));
    t0 = Clock::now();
    auto ok = VerifyInclusion(index, cp.size, leaf, *proof, cp.root);
    verify += Seconds(t0);
    if (!ok) return Die("verify", ok.error());
  }
  std::printf(
      "inclusion proofs at size %llu: generate %.1f us (open log + read tiles), verify "
      "%.1f us, %.1f hashes each (mean of %d random indices)\n",
      static_cast<unsigned long long>(cp.size), 1e6 * gen / kProofs, 1e6 * verify / kProofs,
      double(hashes) / kProofs, kProofs);
  {
    // The same on an already open log (what `log serve` or a batch prover would do).
    const auto t0 = Clock::now();
    for (int k = 0; k < kProofs; ++k) {
      auto proof = (*store)->Inclusion(rng() % cp.size);
      if (!proof) return Die("inclusion", proof.error());
    }
    std::printf("  on an open log: generate %.1f us per inclusion proof\n",
                1e6 * Seconds(t0) / kProofs);
  }
  gen = verify = 0;
  hashes = 0;
  for (int k = 0; k < kProofs; ++k) {
    const std::uint64_t old = 1 + rng() % (cp.size - 1);
    auto t0 = Clock::now();
    auto fresh = LogStore::OpenForReading(dir);
    auto proof = (*fresh)->Consistency(old);
    auto old_root = (*fresh)->RootAt(old);
    gen += Seconds(t0);
    if (!proof || !old_root) return Die("consistency", proof ? old_root.error() : proof.error());
    hashes += proof->size();
    t0 = Clock::now();
    auto ok = VerifyConsistency(old, cp.size, *proof, *old_root, cp.root);
    verify += Seconds(t0);
    if (!ok) return Die("verify consistency", ok.error());
  }
  std::printf(
      "consistency proofs to size %llu: generate %.1f us (incl. old root), verify %.1f "
      "us, %.1f hashes each\n",
      static_cast<unsigned long long>(cp.size), 1e6 * gen / kProofs, 1e6 * verify / kProofs,
      double(hashes) / kProofs);

  const DiskUse d = Measure(dir);
  const double payload = double(entry_bytes);
  std::printf(
      "disk: %llu files, %.1f bytes/entry apparent (%.1f allocated) for %zu-byte "
      "entries: overhead %.1f bytes/entry beyond the entry itself\n",
      static_cast<unsigned long long>(d.files), double(d.apparent) / cp.size,
      double(d.allocated) / cp.size, entry_bytes, double(d.apparent) / cp.size - payload);
  return 0;
}
