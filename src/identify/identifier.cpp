#include "identify/identifier.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/mapped_file.hpp"
#include "core/read_file.hpp"
#include "core/text_lines.hpp"
#include "core/thread_pool.hpp"
#include "identify/elf_dynamic.hpp"
#include "identify/pkgdb.hpp"

namespace clearbox::identify {
namespace {

// The analyser name in AnalysisProblem records.
constexpr const char* kAnalyserName = "identify";

namespace fs = std::filesystem;

bool EndsWithPath(std::string_view rel, std::string_view suffix) {
  if (rel == suffix) return true;
  return rel.size() > suffix.size() && rel.ends_with(suffix) &&
         rel[rel.size() - suffix.size() - 1] == '/';
}

std::string JoinRel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "/" + std::string(b);
}

// Reads a package-database file of at most kMaxPackageDbBytes; refuses symlinks and files
// whose real path leaves `tree_root` (a symlinked parent directory pointing out).
Result<std::string> ReadCapped(const fs::path& tree_root, const fs::path& path) {
  std::error_code ec;
  const fs::path real_root = fs::weakly_canonical(tree_root, ec);
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot resolve " + path.string());
  const auto rel = real.lexically_relative(real_root);
  if (rel.empty() || *rel.begin() == "..") {
    return Fail(ErrorCode::kTraversal, "package database outside the tree: " + path.string());
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kIo, "not a regular file: " + path.string());
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxPackageDbBytes) {
    return Fail(ErrorCode::kLimitExceeded, "package database over the size cap: " + path.string());
  }
  return ReadFileCapped(path, kMaxPackageDbBytes);
}

// Resolves absolute paths of a package list inside one root filesystem, following symlinks
// component by component without leaving that root; caches resolved directories.
class RootResolver {
 public:
  RootResolver(const fs::path& tree_root, std::string rootfs)
      : tree_root_(tree_root), rootfs_(std::move(rootfs)) {}

  // Tree-relative path of the existing non-directory object `abs` names, or nullopt.
  std::optional<std::string> ResolveFile(std::string_view abs) {
    const std::size_t slash = abs.rfind('/');
    const std::string_view dir = slash == std::string_view::npos ? "" : abs.substr(0, slash);
    const std::string_view name = slash == std::string_view::npos ? abs : abs.substr(slash + 1);
    if (name.empty() || name == "." || name == "..") return std::nullopt;
    auto resolved_dir = ResolveDir(dir);
    if (!resolved_dir) return std::nullopt;
    const std::string inner = JoinRel(*resolved_dir, name);
    struct stat st {};
    if (::lstat((tree_root_ / rootfs_ / inner).c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
      return std::nullopt;
    }
    return JoinRel(rootfs_, inner);
  }

 private:
  // Root-relative real path of directory `abs` ("" = the root), or nullopt.
  std::optional<std::string> ResolveDir(std::string_view abs) {
    const std::string key(abs);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::optional<std::string> result = Walk(abs);
    if (cache_.size() < 100000) cache_.emplace(key, result);
    return result;
  }

  std::optional<std::string> Walk(std::string_view abs) {
    std::vector<std::string> pending;  // components still to walk, in reverse order
    auto push_path = [&pending](std::string_view p) {
      std::vector<std::string> parts;
      std::size_t pos = 0;
      while (pos <= p.size()) {
        std::size_t end = p.find('/', pos);
        if (end == std::string_view::npos) end = p.size();
        if (end > pos) parts.emplace_back(p.substr(pos, end - pos));
        pos = end + 1;
      }
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
    };
    push_path(abs);
    std::vector<std::string> current;
    int hops = 0;
    while (!pending.empty()) {
      std::string part = std::move(pending.back());
      pending.pop_back();
      if (part == ".") continue;
      if (part == "..") {
        if (!current.empty()) current.pop_back();
        continue;
      }
      current.push_back(part);
      std::string rel;
      for (const auto& c : current) rel = JoinRel(rel, c);
      const fs::path on_disk = tree_root_ / rootfs_ / rel;
      struct stat st {};
      if (::lstat(on_disk.c_str(), &st) != 0) return std::nullopt;
      if (S_ISLNK(st.st_mode)) {
        if (++hops > kMaxSymlinkHops) return std::nullopt;
        char target[4096];
        const ssize_t n = ::readlink(on_disk.c_str(), target, sizeof(target) - 1);
        if (n <= 0) return std::nullopt;
        const std::string_view t(target, static_cast<std::size_t>(n));
        current.pop_back();
        if (t.front() == '/') current.clear();
        push_path(t);
        continue;
      }
      if (!S_ISDIR(st.st_mode)) return std::nullopt;
    }
    std::string rel;
    for (const auto& c : current) rel = JoinRel(rel, c);
    return rel;
  }

  fs::path tree_root_;
  std::string rootfs_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;
};

// Agreement of a signature version with a package's upstream version: equal, or one is the
// other plus a finer part ("6.4" and "6.4.20221231", "2.1.12-stable" and "2.1.12").
bool VersionsAgree(std::string_view signature, std::string_view package) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string a = lower(signature), b = lower(package);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  auto extends = [](const std::string& longer, const std::string& shorter) {
    return longer.size() > shorter.size() && longer.starts_with(shorter) &&
           std::string_view(".-+~_").find(longer[shorter.size()]) != std::string_view::npos;
  };
  return extends(a, b) || extends(b, a);
}

struct Built {
  Component component;
  std::string source;  // for rule lookups
};

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The distribution of a root filesystem, from etc/os-release (or usr/lib/os-release);
// Debian without one falls back to etc/debian_version's major number.
struct OsRelease {
  std::string id, version_id;
  std::set<std::string> like;
};

bool SafeOsValue(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

OsRelease ReadOsRelease(const fs::path& tree_root, RootResolver& resolver) {
  OsRelease out;
  for (const char* candidate : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto rel = resolver.ResolveFile(candidate);
    if (!rel) continue;
    auto text = ReadCapped(tree_root, tree_root / *rel);
    if (!text) continue;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      const std::size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq);
      std::string value = line.substr(eq + 1);
      if (!value.empty() && value.back() == '\r') value.pop_back();
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
          value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      value = Lowercase(value);
      if (key == "ID" && SafeOsValue(value)) out.id = value;
      if (key == "VERSION_ID" && SafeOsValue(value)) out.version_id = value;
      if (key == "ID_LIKE") {
        std::istringstream words(value);
        for (std::string w; words >> w;) out.like.insert(w);
      }
    }
    break;
  }
  if (out.id.empty() || out.id == "debian") {
    if (auto rel = resolver.ResolveFile("/etc/debian_version"); rel && out.version_id.empty()) {
      if (auto text = ReadCapped(tree_root, tree_root / *rel)) {
        std::string major = text->substr(0, text->find_first_not_of("0123456789"));
        if (!major.empty() && major.size() < 4) {
          out.id = "debian";
          out.version_id = major;
        }
      }
    }
  }
  // The Debian installer's initrd has neither: its /etc/lsb-release says
  // DISTRIB_ID=Debian, DISTRIB_RELEASE="12 (bookworm) - installer build ...".
  if (out.id.empty()) {
    if (auto rel = resolver.ResolveFile("/etc/lsb-release")) {
      if (auto text = ReadCapped(tree_root, tree_root / *rel)) {
        std::string id, release;
        LineReader reader(*text);
        while (auto line = reader.Next()) {
          auto value = [&](std::string_view key) -> std::string {
            std::string v(line->text.substr(key.size()));
            std::erase(v, '"');
            return Lowercase(v);
          };
          if (line->text.starts_with("DISTRIB_ID=")) id = value("DISTRIB_ID=");
          if (line->text.starts_with("DISTRIB_RELEASE=")) release = value("DISTRIB_RELEASE=");
        }
        release = release.substr(0, release.find_first_not_of("0123456789."));
        if (SafeOsValue(id) && !release.empty() && SafeOsValue(release)) {
          out.id = id;
          out.version_id = release;
        }
      }
    }
  }
  return out;
}

std::string DpkgDetail(const PackageRecord& r) {
  std::string d = "Package: " + r.name + "; Version: " + r.version;
  if (!r.arch.empty()) d += "; Architecture: " + r.arch;
  if (!r.source.empty()) d += "; Source: " + r.source;
  return d;
}

}  // namespace

ComponentIdentifier::ComponentIdentifier(std::shared_ptr<const SignatureMatcher> matcher,
                                         UdebSources udeb_sources)
    : matcher_(std::move(matcher)),
      udeb_sources_(std::move(udeb_sources)),
      mutex_(std::make_unique<std::mutex>()) {}
ComponentIdentifier::ComponentIdentifier(ComponentIdentifier&&) noexcept = default;
ComponentIdentifier& ComponentIdentifier::operator=(ComponentIdentifier&&) noexcept = default;
ComponentIdentifier::~ComponentIdentifier() = default;

Result<ComponentIdentifier> ComponentIdentifier::Create(const fs::path& signature_dir) {
  auto rules = LoadSignatureRules(signature_dir);
  if (!rules) return Forward(rules);
  const fs::path udeb_file = signature_dir.parent_path() / "identify" / kUdebSourcesFile;
  auto udeb_text = ReadFileCapped(udeb_file, kMaxUdebSourcesBytes);
  if (!udeb_text) return Forward(udeb_text);
  auto udeb_sources = ParseUdebSources(*udeb_text);
  if (!udeb_sources) return Forward(udeb_sources);
  return Create(std::move(*rules), std::move(*udeb_sources));
}

Result<ComponentIdentifier> ComponentIdentifier::Create(std::vector<SignatureRule> rules,
                                                        UdebSources udeb_sources) {
  auto matcher = SignatureMatcher::Build(std::move(rules));
  if (!matcher) return Forward(matcher);
  return ComponentIdentifier(std::move(*matcher), std::move(udeb_sources));
}

void ComponentIdentifier::AddFile(const FileView& file) {
  if (file.kind != FileKind::kRegular) return;
  std::vector<SignatureHit> hits = matcher_->ScanPath(file.path);
  bool file_is_documentation = false;
  for (std::string_view part : kDocumentationPathParts) {
    const std::size_t at = file.path.find(part);
    if (at != std::string_view::npos && (at == 0 || file.path[at - 1] == '/')) {
      file_is_documentation = true;
    }
  }
  bool capped = false;
  auto content = file_is_documentation
                     ? Result<std::vector<SignatureHit>>(std::vector<SignatureHit>{})
                     : matcher_->Scan(file.bytes, file.path, &capped);
  std::optional<AnalysisProblem> problem;
  if (content) {
    for (auto& h : *content) hits.push_back(std::move(h));
    if (capped) {
      problem = AnalysisProblem{std::string(file.path), kAnalyserName,
                                std::string(ErrorCodeName(ErrorCode::kLimitExceeded)),
                                "signature match cap reached; file partly searched"};
    }
  } else {
    problem = MakeAnalysisProblem(std::string(file.path), kAnalyserName, content.error());
  }
  // Drop header-version echoes: the file links the component's library dynamically.
  std::optional<ElfDynamicInfo> elf;
  std::erase_if(hits, [&](const SignatureHit& hit) {
    const auto& linked_as = matcher_->rules()[hit.rule].linked_as;
    if (linked_as.empty()) return false;
    if (!elf) elf = ReadElfDynamicInfo(file.bytes);
    auto matches = [&](const std::string& name) {
      for (const auto& prefix : linked_as) {
        if (name.starts_with(prefix)) return true;
      }
      return false;
    };
    if (matches(elf->soname)) return false;
    for (const auto& needed : elf->needed) {
      if (matches(needed)) return true;
    }
    return false;
  });
  SelectVersions(hits, matcher_->rules());  // one version per rule and file, path hits included
  if (hits.empty() && !problem) return;
  std::lock_guard lock(*mutex_);
  if (problem) problems_.push_back(std::move(*problem));
  for (auto& h : hits) {
    if (hits_.size() >= kMaxSignatureHits) {
      problems_.push_back({std::string(file.path), kAnalyserName,
                           std::string(ErrorCodeName(ErrorCode::kLimitExceeded)),
                           "signature hit cap reached; later hits dropped"});
      break;
    }
    hits_.push_back({std::string(file.path), std::move(h)});
  }
}

std::vector<AnalysisProblem> ComponentIdentifier::problems() const {
  std::lock_guard lock(*mutex_);
  std::vector<AnalysisProblem> out = problems_;
  CanonicalizeProblems(out);
  return out;
}

std::vector<PackageDatabase> ComponentIdentifier::FindPackageDatabases(const fs::path& tree_root) {
  static constexpr std::pair<std::string_view, std::string_view> kDatabases[] = {
      {"var/lib/dpkg/status", "dpkg"}, {"usr/lib/opkg/status", "opkg"},
      {"var/lib/opkg/status", "opkg"}, {"usr/lib/ipkg/status", "opkg"},
      {"var/lib/ipkg/status", "opkg"}, {"lib/apk/db/installed", "apk"},
  };
  std::vector<PackageDatabase> out;
  std::error_code ec;
  std::size_t walked = 0;
  auto it = fs::recursive_directory_iterator(tree_root,
                                             fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (++walked > kMaxTreeEntriesWalked) break;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || it->is_symlink(type_ec)) continue;
    const std::string rel = it->path().lexically_relative(tree_root).generic_string();
    for (const auto& [suffix, kind] : kDatabases) {
      if (!EndsWithPath(rel, suffix)) continue;
      std::string rootfs = rel.substr(0, rel.size() - suffix.size());
      if (!rootfs.empty()) rootfs.pop_back();
      out.push_back({rel, std::string(kind), rootfs});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PackageDatabase& a, const PackageDatabase& b) { return a.path < b.path; });
  return out;
}

namespace {

// Which rule names a package (by binary name first, then source name), and whether a rule
// speaks of a package component.
class RuleIndex {
 public:
  explicit RuleIndex(const std::vector<SignatureRule>& rules) : rules_(rules) {
    for (std::size_t r = 0; r < rules.size(); ++r) {
      for (const auto& p : rules[r].packages) by_package_.emplace(p, r);
    }
  }
  const SignatureRule* For(const std::string& name, const std::string& source) const {
    if (auto it = by_package_.find(name); it != by_package_.end()) return &rules_[it->second];
    if (!source.empty()) {
      if (auto it = by_package_.find(source); it != by_package_.end()) return &rules_[it->second];
    }
    return nullptr;
  }
  static bool Covers(const SignatureRule& rule, const Component& c) {
    for (const auto& p : rule.packages) {
      if (p == c.name || (!c.source.empty() && p == c.source)) return true;
    }
    return rule.component == c.name || (!c.source.empty() && rule.component == c.source);
  }

 private:
  const std::vector<SignatureRule>& rules_;
  std::map<std::string, std::size_t> by_package_;
};

// The distribution a package database belongs to, as purls name it.
struct PurlContext {
  std::string type;              // "pkg:deb/", "pkg:apk/", "pkg:opkg/"
  std::string name_space;        // "debian", "ubuntu", "alpine", "openwrt", ...
  std::string distro_qualifier;  // "debian-12" or ""
};

PurlContext PurlContextOf(const PackageDatabase& db, const OsRelease& os) {
  PurlContext ctx;
  ctx.type = db.kind == "dpkg" ? "pkg:deb/" : db.kind == "apk" ? "pkg:apk/" : "pkg:opkg/";
  const std::string family = db.kind == "dpkg" ? "debian" : db.kind == "apk" ? "alpine" : "openwrt";
  ctx.name_space = family;
  if (!os.id.empty() && (os.id == family || os.like.contains(family))) ctx.name_space = os.id;
  if (!os.id.empty() && !os.version_id.empty()) ctx.distro_qualifier = os.id + "-" + os.version_id;
  return ctx;
}

// The package's purl: its full version (epoch and revision included), qualifiers in key order.
std::string PackagePurl(const PurlContext& ctx, const PackageRecord& record) {
  std::string purl = ctx.type + ctx.name_space + "/" + PurlEncode(Lowercase(record.name)) + "@" +
                     PurlEncode(record.version);
  std::vector<std::string> qualifiers;
  if (!record.arch.empty()) qualifiers.push_back("arch=" + PurlEncode(record.arch));
  if (!ctx.distro_qualifier.empty()) {
    qualifiers.push_back("distro=" + PurlEncode(ctx.distro_qualifier));
  }
  // The source package, as Syft writes it: distributions' advisories name source packages.
  const bool own_version =
      !record.source_version.empty() && record.source_version != record.version;
  if (!record.source.empty() && (record.source != record.name || own_version)) {
    std::string source_id = record.source;
    if (own_version) source_id += "@" + record.source_version;
    qualifiers.push_back("upstream=" + PurlEncode(source_id));
  }
  for (std::size_t q = 0; q < qualifiers.size(); ++q) purl += (q ? "&" : "?") + qualifiers[q];
  return purl;
}

// What a dpkg/opkg database keeps beside the status file: OpenWrt's info/<name>.control
// (version, source, arch when the status lacks them) and info/<name>[:<arch>].list.
void CompleteFromInfoDir(const fs::path& tree_root, const PackageDatabase& db,
                         PackageRecord& record, std::vector<AnalysisProblem>& problems) {
  const std::string info = JoinRel(fs::path(db.path).parent_path().generic_string(), "info");
  if (db.kind == "opkg" && (record.version.empty() || record.source.empty())) {
    if (auto control = ReadCapped(tree_root, tree_root / info / (record.name + ".control"))) {
      if (auto stanzas = ParseDpkgStatus(*control); stanzas && !stanzas->empty()) {
        const PackageRecord& c = stanzas->front();
        if (record.version.empty()) record.version = c.version;
        if (record.source.empty()) record.source = c.source;
        if (record.arch.empty()) record.arch = c.arch;
      }
    }
  }
  std::vector<std::string> candidates;
  if (!record.arch.empty()) candidates.push_back(record.name + ":" + record.arch + ".list");
  candidates.push_back(record.name + ".list");
  for (const auto& list_name : candidates) {
    auto list_text = ReadCapped(tree_root, tree_root / info / list_name);
    if (!list_text) continue;
    if (auto list = ParseFileList(*list_text)) {
      record.files = std::move(*list);
    } else {
      problems.push_back(
          MakeAnalysisProblem(JoinRel(info, list_name), kAnalyserName, list.error()));
    }
    break;
  }
}

// The components one package database lists (problems noted, never fatal).
void ReadPackageDatabase(const fs::path& tree_root, const PackageDatabase& db,
                         const RuleIndex& index, const UdebSources& udeb_sources,
                         std::vector<Component>& packages, std::vector<AnalysisProblem>& problems) {
  auto text = ReadCapped(tree_root, tree_root / db.path);
  if (!text) {
    problems.push_back(MakeAnalysisProblem(db.path, kAnalyserName, text.error()));
    return;
  }
  Result<std::vector<PackageRecord>> records =
      db.kind == "apk" ? ParseApkInstalled(*text) : ParseDpkgStatus(*text);
  if (!records) {
    problems.push_back(MakeAnalysisProblem(db.path, kAnalyserName, records.error()));
    return;
  }
  if (db.kind != "apk") {
    // The parser skips what is not a control field; a database with such lines is damaged
    // (or not a database), so what it lists may be incomplete.
    if (const std::size_t bad = CountNonFieldLines(*text); bad > 0) {
      problems.push_back(
          {db.path, kAnalyserName, std::string(ErrorCodeName(ErrorCode::kMalformed)),
           std::to_string(bad) + " line(s) are not control fields and were skipped"});
    }
  }
  RootResolver resolver(tree_root, db.rootfs);
  const PurlContext purl_context = PurlContextOf(db, ReadOsRelease(tree_root, resolver));
  for (PackageRecord& record : *records) {
    if (db.kind != "apk") CompleteFromInfoDir(tree_root, db, record, problems);
    if (record.version.empty()) continue;
    std::string detail = DpkgDetail(record);
    if (db.kind == "dpkg" && record.source.empty()) {
      // The installer's database (udpkg) keeps no Source field; the udeb's own record has it.
      if (auto it = udeb_sources.find(record.name); it != udeb_sources.end()) {
        record.source = it->second;
        detail += "; source " + record.source + " from " + std::string(kUdebSourcesFile);
      }
    }
    Component c;
    c.name = record.name;
    c.package_version = record.version;
    c.source = record.source;
    c.arch = record.arch;
    const std::string upstream = db.kind == "apk" ? ApkUpstreamVersion(record.version)
                                                  : DebianUpstreamVersion(record.version);
    c.version = StripRepackSuffix(upstream);
    c.purl = PackagePurl(purl_context, record);
    // A CPE only where rule data maps the package or its source to an upstream product.
    if (const SignatureRule* rule = index.For(record.name, record.source)) {
      c.cpe = MakeCpe(rule->vendor, rule->product, c.version);
    }
    c.confidence = kConfidencePackageDb;
    c.evidence.push_back({db.path, db.kind, std::move(detail)});
    for (const auto& f : record.files) {
      if (auto rel = resolver.ResolveFile(f)) c.files.push_back(std::move(*rel));
    }
    packages.push_back(std::move(c));
  }
}

// A distribution kernel's release ("6.1.0-57-amd64") names its ABI, not its upstream version;
// a banner with the same release tells the upstream version for the vermagic and lib/modules
// hits of that release.
void ApplyBannerVersions(std::vector<ComponentIdentifier::PendingHit>& hits) {
  std::map<std::pair<std::uint32_t, std::string>, std::string> upstream_of_release;
  for (const auto& pending : hits) {
    if (!pending.hit.distro_version.empty() && !pending.hit.release.empty()) {
      upstream_of_release.emplace(std::make_pair(pending.hit.rule, pending.hit.release),
                                  pending.hit.version);
    }
  }
  for (auto& pending : hits) {
    if (pending.hit.release.empty() || !pending.hit.distro_version.empty()) continue;
    auto it = upstream_of_release.find({pending.hit.rule, pending.hit.release});
    if (it != upstream_of_release.end()) pending.hit.version = it->second;
  }
}

// The package a signature hit confirms: the owner of the file when the rule covers it and
// the versions agree, else any such package; nullptr when none.
Component* ConfirmedPackage(const SignatureRule& rule,
                            const ComponentIdentifier::PendingHit& pending,
                            std::vector<Component>& packages,
                            const std::unordered_map<std::string, std::size_t>& owner) {
  if (auto it = owner.find(pending.path); it != owner.end()) {
    Component& p = packages[it->second];
    if (RuleIndex::Covers(rule, p) && VersionsAgree(pending.hit.version, p.version)) return &p;
  }
  for (Component& p : packages) {
    if (RuleIndex::Covers(rule, p) && VersionsAgree(pending.hit.version, p.version)) return &p;
  }
  return nullptr;
}

// Signature hits merged into the packages they confirm; the rest become components of
// their own (one per rule and version).
std::vector<Component> MergeSignatureHits(const std::vector<SignatureRule>& rules,
                                          const std::vector<ComponentIdentifier::PendingHit>& hits,
                                          std::vector<Component>& packages) {
  std::unordered_map<std::string, std::size_t> owner;
  for (std::size_t i = 0; i < packages.size(); ++i) {
    for (const auto& f : packages[i].files) owner.emplace(f, i);
  }
  std::map<std::pair<std::string, std::string>, Component> by_signature;
  for (const auto& pending : hits) {
    const SignatureRule& rule = rules[pending.hit.rule];
    const SignaturePattern& pattern = rule.patterns[pending.hit.pattern];
    std::string detail = pending.hit.matched;
    if (!pending.hit.distro_version.empty()) {
      // The report model has no qualifier field: the distribution version goes in the text.
      detail += "; distro_version=" + pending.hit.distro_version;
    }
    ComponentEvidence evidence{pending.path, pattern.method, std::move(detail)};
    if (Component* target = ConfirmedPackage(rule, pending, packages, owner)) {
      target->evidence.push_back(std::move(evidence));
      target->confidence = kConfidenceConfirmed;
      if (target->cpe.empty()) target->cpe = MakeCpe(rule.vendor, rule.product, target->version);
      continue;
    }
    Component& c = by_signature[{rule.component, pending.hit.version}];
    if (c.name.empty()) {
      c.name = rule.component;
      c.version = pending.hit.version;
      c.cpe = MakeCpe(rule.vendor, rule.product, c.version);
      c.purl = "pkg:generic/" + PurlEncode(rule.purl_name) + "@" + PurlEncode(c.version);
    }
    c.confidence = std::max(c.confidence, pattern.confidence);
    c.evidence.push_back(std::move(evidence));
    c.files.push_back(pending.path);
  }
  std::vector<Component> out;
  for (auto& [key, c] : by_signature) out.push_back(std::move(c));
  return out;
}

// Evidence and files sorted, unique and capped; components in canonical order.
void Canonicalize(std::vector<Component>& components) {
  for (Component& c : components) {
    std::sort(c.evidence.begin(), c.evidence.end());
    c.evidence.erase(std::unique(c.evidence.begin(), c.evidence.end()), c.evidence.end());
    if (c.evidence.size() > kMaxEvidencePerComponent) c.evidence.resize(kMaxEvidencePerComponent);
    std::sort(c.files.begin(), c.files.end());
    c.files.erase(std::unique(c.files.begin(), c.files.end()), c.files.end());
  }
  std::sort(components.begin(), components.end(), [](const Component& a, const Component& b) {
    return std::tie(a.name, a.version, a.purl, a.evidence) <
           std::tie(b.name, b.version, b.purl, b.evidence);
  });
}

}  // namespace

std::vector<Component> ComponentIdentifier::Finish(const fs::path& tree_root) {
  const std::vector<SignatureRule>& rules = matcher_->rules();
  const RuleIndex index(rules);
  std::vector<Component> packages;
  std::vector<AnalysisProblem> local_problems;
  for (const PackageDatabase& db : FindPackageDatabases(tree_root)) {
    ReadPackageDatabase(tree_root, db, index, udeb_sources_, packages, local_problems);
  }
  std::vector<PendingHit> hits;
  {
    std::lock_guard lock(*mutex_);
    hits = hits_;
    for (auto& p : local_problems) problems_.push_back(std::move(p));
  }
  std::sort(hits.begin(), hits.end(), [](const PendingHit& a, const PendingHit& b) {
    return std::tie(a.path, a.hit.rule, a.hit.pattern, a.hit.version, a.hit.offset) <
           std::tie(b.path, b.hit.rule, b.hit.pattern, b.hit.version, b.hit.offset);
  });
  std::sort(packages.begin(), packages.end(), [](const Component& a, const Component& b) {
    return std::tie(a.name, a.package_version, a.purl, a.evidence) <
           std::tie(b.name, b.package_version, b.purl, b.evidence);
  });
  ApplyBannerVersions(hits);
  std::vector<Component> signature_only = MergeSignatureHits(rules, hits, packages);
  std::vector<Component> out = std::move(packages);
  for (auto& c : signature_only) out.push_back(std::move(c));
  Canonicalize(out);
  return out;
}

std::vector<Component> IdentifyTree(ComponentIdentifier& identifier, const fs::path& tree_root,
                                    unsigned threads) {
  std::vector<fs::path> files;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(tree_root,
                                             fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_symlink(type_ec) || !it->is_regular_file(type_ec)) continue;
    files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  ThreadPool pool(threads == 0 ? DefaultThreadCount() : threads);
  for (const fs::path& path : files) {
    pool.Submit([&identifier, &tree_root, path] {
      auto mapped = MappedFile::Open(path.string());
      if (!mapped) return;
      const std::string rel = path.lexically_relative(tree_root).generic_string();
      FileView view;
      view.path = rel;
      view.kind = FileKind::kRegular;
      view.bytes = mapped->bytes();
      identifier.AddFile(view);
    });
  }
  pool.WaitIdle();
  return identifier.Finish(tree_root);
}

}  // namespace clearbox::identify
