// libFuzzer target for Budget and ExpansionAccount: a script of charges and refunds with
// attacker-sized amounts on a small tree of accounts. Invariants checked after every step:
// no account is over its allowance, the run is never over its total, a refused charge
// changes nothing, and the counters equal the sum of the charges that were accepted.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/budget.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox;
  if (size < 9) return 0;
  Limits limits;
  std::uint64_t cap = 0;
  std::memcpy(&cap, data, 8);
  limits.max_total_bytes = cap;
  limits.max_ratio = 1 + data[8] % 500;
  data += 9;
  size -= 9;
  Budget run(limits);
  // A chain image -> chunk -> file -> chunk with inputs taken from the script.
  std::vector<std::shared_ptr<ExpansionAccount>> accounts;
  std::vector<std::unique_ptr<ChunkBudget>> chunks;
  std::uint64_t accepted = 0;
  std::size_t pos = 0;
  while (pos + 9 <= size) {
    const std::uint8_t op = data[pos];
    std::uint64_t n = 0;
    std::memcpy(&n, data + pos + 1, 8);
    pos += 9;
    if (op % 3 == 0 || chunks.empty()) {
      auto parent = accounts.empty() ? nullptr : accounts[op % accounts.size()];
      chunks.push_back(std::make_unique<ChunkBudget>(run, n % (1ULL << 40), parent, "c"));
      accounts.push_back(chunks.back()->account());
      if (chunks.size() > 16) break;
      continue;
    }
    ChunkBudget& chunk = *chunks[op % chunks.size()];
    const std::uint64_t before_run = run.bytes_written();
    const std::uint64_t before_chunk = chunk.account()->used();
    if (op & 0x80) n %= 1ULL << 26;  // mostly small charges, sometimes huge ones
    if (chunk.ChargeOutput(n)) {
      accepted += n;
    } else if (run.bytes_written() != before_run || chunk.account()->used() != before_chunk) {
      std::abort();  // a refused charge was counted
    }
    if (run.bytes_written() != accepted || run.bytes_written() > cap) std::abort();
    for (const auto& a : accounts) {
      if (a->used() > a->allowance()) std::abort();
    }
  }
  return 0;
}
