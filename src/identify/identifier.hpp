// ComponentIdentifier: finds the software components of an unpacked firmware tree from its
// package databases (dpkg, opkg/ipkg, apk) and from version signatures in file contents.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis_problem.hpp"
#include "core/file_view.hpp"
#include "core/result.hpp"
#include "identify/component.hpp"
#include "identify/pkgdb.hpp"
#include "identify/signature_matcher.hpp"

namespace clearbox::identify {

// Caps on what one tree may produce.
inline constexpr std::size_t kMaxSignatureHits = 1000000;      // hits kept over all files
inline constexpr std::size_t kMaxEvidencePerComponent = 256;   // kept after sorting
inline constexpr std::size_t kMaxTreeEntriesWalked = 5000000;  // Finish's database search
inline constexpr int kMaxSymlinkHops = 40;                     // resolving package list paths

// Path parts whose files are documentation: their contents are not searched for signatures
// (release notes and man pages name many versions that are not installed; a translation's
// "Project-Id-Version: sudoers 1.8.15" names the version it was translated for).
inline constexpr std::string_view kDocumentationPathParts[] = {
    "usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/lintian/",
    "usr/share/locale/"};

// Confidence of each kind of evidence (the component takes the highest; agreement of a
// package database and a signature gives kConfidenceConfirmed).
inline constexpr Confidence kConfidencePackageDb{0.95};
inline constexpr Confidence kConfidenceConfirmed{1.0};

// A package database found in the tree (exposed for tests and reports).
struct PackageDatabase {
  std::string path;    // the status/installed file, relative to the tree root
  std::string kind;    // "dpkg", "opkg", "apk"
  std::string rootfs;  // relative path of the root filesystem holding it ("" = tree root)
};

// The udebs' source packages, in the data directory's identify/ folder beside signatures/.
inline constexpr std::string_view kUdebSourcesFile = "debian-udeb-sources.json";
inline constexpr std::size_t kMaxUdebSourcesBytes = 1u << 20;

class ComponentIdentifier {
 public:
  // Loads every data/signatures/*.json rule file under signature_dir and compiles one pattern
  // database; loads the udebs' sources from signature_dir/../identify/kUdebSourcesFile.
  static Result<ComponentIdentifier> Create(const std::filesystem::path& signature_dir);
  // Same, from rules (and udeb sources) already loaded (tests).
  static Result<ComponentIdentifier> Create(std::vector<SignatureRule> rules,
                                            UdebSources udeb_sources = {});

  ComponentIdentifier(ComponentIdentifier&&) noexcept;
  ComponentIdentifier& operator=(ComponentIdentifier&&) noexcept;
  ~ComponentIdentifier();

  // Scans one file (regular files; thread-safe; called from worker threads as files are
  // extracted). Other kinds are ignored. A scan failure is recorded in problems().
  void AddFile(const FileView& file);

  // Reads package databases found anywhere under tree_root (the unpack output directory; a
  // rootfs may sit at any depth, e.g. "0-squashfs/var/lib/dpkg/status"), merges them with the
  // signature hits and returns components in a canonical order.
  std::vector<Component> Finish(const std::filesystem::path& tree_root);

  // Package databases under `tree_root`, sorted by path.
  static std::vector<PackageDatabase> FindPackageDatabases(const std::filesystem::path& tree_root);

  // Problems met so far (unreadable or malformed package databases, caps reached, scan
  // failures), canonical order.
  std::vector<AnalysisProblem> problems() const;

  const SignatureMatcher& matcher() const { return *matcher_; }

  // A signature hit waiting for Finish: the file and what matched.
  struct PendingHit {
    std::string path;
    SignatureHit hit;
  };

 private:
  ComponentIdentifier(std::shared_ptr<const SignatureMatcher> matcher, UdebSources udeb_sources);

  std::shared_ptr<const SignatureMatcher> matcher_;
  UdebSources udeb_sources_;
  mutable std::unique_ptr<std::mutex> mutex_;
  std::vector<PendingHit> hits_;
  std::vector<AnalysisProblem> problems_;
};

// Scans every regular file under `tree_root` (symlinks not followed) with AddFile on
// `threads` workers (0 = hardware concurrency), then returns Finish(tree_root).
std::vector<Component> IdentifyTree(ComponentIdentifier& identifier,
                                    const std::filesystem::path& tree_root, unsigned threads);

}  // namespace clearbox::identify
