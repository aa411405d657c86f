// RFC 9162 §2.1 algorithms, written as in the RFC (PATH, SUBPROOF and the two verifiers).
#include "ledger/merkle.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace clearbox::ledger {
namespace {

std::uint64_t LargestPowerOfTwoBelow(std::uint64_t n) {  // n >= 2
  return std::bit_floor(n - 1);
}

Result<void> PathInto(std::uint64_t m, std::uint64_t begin, std::uint64_t end,
                      const PerfectHashSource& source, std::vector<Hash>* out) {
  const std::uint64_t n = end - begin;
  if (n <= 1) return {};
  const std::uint64_t k = LargestPowerOfTwoBelow(n);
  if (m < k) {
    CLEARBOX_TRY(PathInto(m, begin, begin + k, source, out));
    auto right = SubtreeHash(begin + k, end, source);
    if (!right) return Forward(right);
    out->push_back(*right);
  } else {
    CLEARBOX_TRY(PathInto(m - k, begin + k, end, source, out));
    auto left = SubtreeHash(begin, begin + k, source);
    if (!left) return Forward(left);
    out->push_back(*left);
  }
  return {};
}

Result<void> SubproofInto(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool b,
                          const PerfectHashSource& source, std::vector<Hash>* out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    auto h = SubtreeHash(begin, end, source);
    if (!h) return Forward(h);
    out->push_back(*h);
    return {};
  }
  const std::uint64_t k = LargestPowerOfTwoBelow(n);
  if (m <= k) {
    CLEARBOX_TRY(SubproofInto(m, begin, begin + k, b, source, out));
    auto right = SubtreeHash(begin + k, end, source);
    if (!right) return Forward(right);
    out->push_back(*right);
  } else {
    CLEARBOX_TRY(SubproofInto(m - k, begin + k, end, false, source, out));
    auto left = SubtreeHash(begin, begin + k, source);
    if (!left) return Forward(left);
    out->push_back(*left);
  }
  return {};
}

Result<void> Invalid(const char* why) {
  return Fail(ErrorCode::kMalformed, why);
}

}  // namespace

Hash Sha256Of(std::string_view bytes) {
  Hash h{};
  EVP_Digest(bytes.data(), bytes.size(), h.data(), nullptr, EVP_sha256(), nullptr);
  return h;
}

Hash HashLeaf(std::string_view entry) {
  Hash h{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const unsigned char prefix = 0x00;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, &prefix, 1);
  EVP_DigestUpdate(ctx, entry.data(), entry.size());
  EVP_DigestFinal_ex(ctx, h.data(), nullptr);
  EVP_MD_CTX_free(ctx);
  return h;
}

Hash HashChildren(const Hash& left, const Hash& right) {
  std::array<std::uint8_t, 65> buf{};
  buf[0] = 0x01;
  std::memcpy(buf.data() + 1, left.data(), 32);
  std::memcpy(buf.data() + 33, right.data(), 32);
  Hash h{};
  EVP_Digest(buf.data(), buf.size(), h.data(), nullptr, EVP_sha256(), nullptr);
  return h;
}

Hash EmptyRoot() {
  return Sha256Of("");
}

Result<Hash> SubtreeHash(std::uint64_t begin, std::uint64_t end, const PerfectHashSource& source) {
  const std::uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n) && begin % n == 0) {
    return source(static_cast<unsigned>(std::countr_zero(n)), begin / n);
  }
  const std::uint64_t k = LargestPowerOfTwoBelow(n);
  auto left = SubtreeHash(begin, begin + k, source);
  if (!left) return left;
  auto right = SubtreeHash(begin + k, end, source);
  if (!right) return right;
  return HashChildren(*left, *right);
}

Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const PerfectHashSource& source) {
  if (index >= size) return Fail(ErrorCode::kInvalidArgument, "leaf index beyond tree size");
  std::vector<Hash> out;
  CLEARBOX_TRY(PathInto(index, 0, size, source, &out));
  return out;
}

Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const PerfectHashSource& source) {
  if (old_size == 0 || old_size > new_size) {
    return Fail(ErrorCode::kInvalidArgument, "consistency proof needs 0 < old size <= new size");
  }
  std::vector<Hash> out;
  CLEARBOX_TRY(SubproofInto(old_size, 0, new_size, true, source, &out));
  return out;
}

Result<void> VerifyInclusion(std::uint64_t index, std::uint64_t size,
                             std::span<const std::uint8_t> leaf_hash, std::span<const Hash> proof,
                             const Hash& root) {
  if (leaf_hash.size() != 32) return Invalid("leaf hash is not 32 bytes");
  if (index >= size) return Invalid("leaf index beyond tree size");
  // RFC 9162 §2.1.3.2.
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r{};
  std::memcpy(r.data(), leaf_hash.data(), 32);
  for (const Hash& p : proof) {
    if (sn == 0) return Invalid("inclusion proof too long");
    if ((fn & 1) == 1 || fn == sn) {
      r = HashChildren(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("inclusion proof too short");
  if (r != root) return Invalid("inclusion proof does not lead to the root");
  return {};
}

Result<void> VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                               std::span<const Hash> proof,
                               std::span<const std::uint8_t> old_root_bytes,
                               std::span<const std::uint8_t> new_root_bytes) {
  if (old_size == 0) return Invalid("consistency from the empty tree is not provable");
  if (old_size > new_size) return Invalid("old tree larger than new tree");
  if (old_size == new_size) {
    // As transparency-dev/merkle: equal sizes need an empty proof and byte-equal roots.
    if (!proof.empty()) return Invalid("consistency proof between equal sizes must be empty");
    if (!std::equal(old_root_bytes.begin(), old_root_bytes.end(), new_root_bytes.begin(),
                    new_root_bytes.end())) {
      return Invalid("roots differ for equal tree sizes");
    }
    return {};
  }
  if (proof.empty()) return Invalid("empty consistency proof");
  if (old_root_bytes.size() != 32 || new_root_bytes.size() != 32) {
    return Invalid("root hashes must be 32 bytes");
  }
  Hash old_root{};
  Hash new_root{};
  std::copy(old_root_bytes.begin(), old_root_bytes.end(), old_root.begin());
  std::copy(new_root_bytes.begin(), new_root_bytes.end(), new_root.begin());
  // RFC 9162 §2.1.4.2.
  std::vector<Hash> path(proof.begin(), proof.end());
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return Invalid("consistency proof too long");
    if ((fn & 1) == 1 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("consistency proof too short");
  if (fr != old_root) return Invalid("consistency proof does not lead to the old root");
  if (sr != new_root) return Invalid("consistency proof does not lead to the new root");
  return {};
}

PerfectHashSource MemoryTree::Source() const {
  return [this](unsigned height, std::uint64_t index) -> Result<Hash> {
    const std::uint64_t width = std::uint64_t{1} << height;
    const std::uint64_t begin = index << height;
    if (begin + width > leaves_.size()) return Fail(ErrorCode::kInternal, "subtree beyond tree");
    if (height == 0) return leaves_[begin];
    std::vector<Hash> level(leaves_.begin() + static_cast<std::ptrdiff_t>(begin),
                            leaves_.begin() + static_cast<std::ptrdiff_t>(begin + width));
    while (level.size() > 1) {
      for (std::size_t i = 0; i < level.size() / 2; ++i) {
        level[i] = HashChildren(level[2 * i], level[2 * i + 1]);
      }
      level.resize(level.size() / 2);
    }
    return level[0];
  };
}

Hash MemoryTree::Root(std::uint64_t size) const {
  auto root = SubtreeHash(0, size, Source());
  return root ? *root : Hash{};
}

}  // namespace clearbox::ledger
