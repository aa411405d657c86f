#include "vuln/store.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "core/data_dir.hpp"
#include "core/read_file.hpp"
#include "vuln/cvss.hpp"
#include "vuln/distro_version.hpp"
#include "vuln/identifiers.hpp"
#include "vuln/version.hpp"
#include "vuln/writer.hpp"

namespace clearbox::vuln {
namespace {

constexpr std::size_t kMaxRowsPerProduct = 200000;  // guards a hostile database
constexpr std::uint64_t kMaxAliasFileBytes = 16u << 20;

bool IsAnyOrNa(std::string_view v) {
  return v.empty() || v == "*" || v == "-";
}

// The range text of a cpe_match row: "[1.0.2, 1.0.2zd)", "(*, 2.83)", "[1.27.0, 1.33.1]".
std::string RangeText(std::string_view si, std::string_view se, std::string_view ei,
                      std::string_view ee) {
  std::string out;
  out += !si.empty() ? "[" + std::string(si) : (!se.empty() ? "(" + std::string(se) : "(*");
  out += ", ";
  out += !ei.empty() ? std::string(ei) + "]" : (!ee.empty() ? std::string(ee) + ")" : "*)");
  return out;
}

bool InRange(std::string_view v, std::string_view si, std::string_view se, std::string_view ei,
             std::string_view ee) {
  if (!si.empty() && CompareVersions(v, si) < 0) return false;
  if (!se.empty() && CompareVersions(v, se) <= 0) return false;
  if (!ei.empty() && CompareVersions(v, ei) > 0) return false;
  if (!ee.empty() && CompareVersions(v, ee) >= 0) return false;
  return true;
}

// Exact version equality with a CPE's version and update ("9.3" + "p1" == "9.3p1").
bool SameVersion(const std::string& query_version, const std::string& query_update,
                 std::string_view version, std::string_view update) {
  if (IsAnyOrNa(update)) {
    if (!IsAnyOrNa(query_update)) return false;
    return CompareVersions(query_version, version) == 0;
  }
  if (!IsAnyOrNa(query_update)) {
    return CompareVersions(query_version, version) == 0 &&
           CompareVersions(query_update, update) == 0;
  }
  const std::string joined = std::string(version) + std::string(update);
  const std::string dashed = std::string(version) + "-" + std::string(update);
  return CompareVersions(query_version, joined) == 0 || CompareVersions(query_version, dashed) == 0;
}

std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// A candidate reason for one id; the best (unconditional, exact, first) is kept.
struct Candidate {
  std::string matched, decided_by;
  MatchKind kind = MatchKind::kExact;
  ConfidenceLevel confidence = ConfidenceLevel::kLow;
  std::vector<std::string> conditions;
  int Rank() const { return (conditions.empty() ? 2 : 0) + (kind == MatchKind::kExact ? 1 : 0); }
};

std::map<std::string, std::vector<std::pair<std::string, std::string>>> LoadAliases() {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  auto text = ReadFileCapped(DataDir() / "vuln" / "product_aliases.json", kMaxAliasFileBytes);
  if (!text) return out;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("aliases") || !doc["aliases"].is_object()) return out;
  for (const auto& [name, list] : doc["aliases"].items()) {
    if (!list.is_array()) continue;
    for (const auto& vp : list) {
      if (!vp.is_string()) continue;
      const std::string s = vp.get<std::string>();
      const auto colon = s.find(':');
      if (colon == std::string::npos) continue;
      out[name].emplace_back(s.substr(0, colon), s.substr(colon + 1));
    }
  }
  return out;
}

std::string NormaliseName(std::string name) {
  name = AsciiLower(name);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(name.begin());
  return name;
}

}  // namespace

struct VulnStore::Impl {
  SqliteDb db;
  std::string location;
  mutable std::mutex mutex;
  Statement by_vendor_product, by_product, by_purl, distro_rows, details, kev, epss;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> aliases;
  std::map<std::string, bool> distro_data;  // OSV ecosystem of a release -> rows present
};

VulnStore::VulnStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VulnStore::VulnStore(VulnStore&&) noexcept = default;
VulnStore& VulnStore::operator=(VulnStore&&) noexcept = default;
VulnStore::~VulnStore() = default;

Result<VulnStore> VulnStore::Open(const std::filesystem::path& sqlite_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_path, ec)) {
    return Fail(ErrorCode::kInvalidArgument, "no database at " + sqlite_path.string());
  }
  auto db = SqliteDb::Open(sqlite_path, true);
  if (!db) return Forward(db);
  return FromDatabase(std::move(*db), sqlite_path.string());
}

Result<VulnStore> VulnStore::FromDatabase(SqliteDb db, std::string location) {
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db);
  impl->location = std::move(location);
  // Page reads through mmap and a 64 MiB cache: a match touches scattered pages of a large
  // file, and pread + copy per page dominated the time otherwise.
  (void)impl->db.Exec("PRAGMA mmap_size=4294967296; PRAGMA cache_size=-65536;");
  auto version = SchemaVersionOf(impl->db);
  if (!version || *version != kSchemaVersion) {
    return Fail(ErrorCode::kInvalidArgument,
                impl->location + " is not a clearbox vulnerability database of schema version " +
                    std::to_string(kSchemaVersion) +
                    (version ? " (it has version " + std::to_string(*version) +
                                   "; rebuild it with `clearbox db import` or `db update`)"
                             : " (" + version.error().message + ")"));
  }
  constexpr const char* kCpeColumns =
      "SELECT vuln_id, version, update_, criteria, start_incl, start_excl, end_incl, end_excl, "
      "context, source FROM cpe_match ";
  struct Item {
    Statement* stmt;
    std::string sql;
  };
  const Item items[] = {
      {&impl->by_vendor_product,
       std::string(kCpeColumns) + "WHERE product = ?2 AND vendor = ?1 AND vulnerable = 1"},
      {&impl->by_product, std::string(kCpeColumns) + "WHERE product = ?1 AND vulnerable = 1"},
      {&impl->by_purl,
       "SELECT vuln_id, ecosystem, name, purl, range_type, introduced, fixed, last_affected, "
       "versions FROM package_range WHERE purl = ?1"},
      {&impl->distro_rows,
       "SELECT ecosystem FROM package_range WHERE ecosystem >= ?1 AND ecosystem < ?2 LIMIT 64"},
      {&impl->details,
       "SELECT cvss_score, cvss_version, cvss_vector, severity, published, modified, "
       "description, aliases, status, cwes FROM vulnerability WHERE id = ?1"},
      {&impl->kev, "SELECT 1 FROM kev WHERE cve_id = ?1"},
      {&impl->epss, "SELECT score FROM epss WHERE cve_id = ?1"},
  };
  for (const auto& item : items) {
    auto stmt = impl->db.Prepare(item.sql);
    if (!stmt) {
      return Fail(ErrorCode::kInvalidArgument, impl->location +
                                                   " is not a clearbox vulnerability database (" +
                                                   stmt.error().message + ")");
    }
    *item.stmt = std::move(*stmt);
  }
  impl->aliases = LoadAliases();
  return VulnStore(std::move(impl));
}

std::filesystem::path DefaultDbPath() {
  if (const char* env = std::getenv("CLEARBOX_DB"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "clearbox" / "vuln.db";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".local" / "share" / "clearbox" /
         "vuln.db";
}

std::filesystem::path SnapshotDir() {
  return DataDir() / "vuln" / "snapshot";
}

Result<SqliteDb> ImportSnapshot(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && (name.ends_with(".json") || name.ends_with(".json.gz") ||
                                    name.ends_with(".csv") || name.ends_with(".csv.gz"))) {
      files.push_back(entry.path());
    }
  }
  if (ec || files.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no snapshot files in " + dir.string());
  }
  std::sort(files.begin(), files.end());
  auto writer = VulnWriter::Open(":memory:");
  if (!writer) return Forward(writer);
  for (const auto& f : files) {
    auto imported = writer->ImportFile(f);
    if (!imported) return Forward(imported);
  }
  return std::move(*writer).Release();
}

Result<VulnStore> VulnStore::OpenDefault() {
  const auto path = DefaultDbPath();
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Open(path);
  auto db = ImportSnapshot(SnapshotDir());
  if (!db) return Forward(db);
  return FromDatabase(std::move(*db), "bundled snapshot (" + SnapshotDir().string() + ")");
}

namespace {

// One read transaction for all the statements of a match or batch: one lock and one
// hot-journal check instead of one per statement.
class ReadTransaction {
 public:
  static Result<ReadTransaction> Begin(SqliteDb& db) {
    CLEARBOX_TRY(db.Exec("BEGIN"));
    return ReadTransaction(db);
  }
  ReadTransaction(ReadTransaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ReadTransaction& operator=(ReadTransaction&&) = delete;
  ~ReadTransaction() {
    if (db_ != nullptr) (void)db_->Exec("COMMIT");
  }

 private:
  explicit ReadTransaction(SqliteDb& db) : db_(&db) {}
  SqliteDb* db_;
};

}  // namespace

Result<std::vector<VulnerabilityMatch>> VulnStore::Match(const ComponentQuery& component) const {
  std::lock_guard lock(impl_->mutex);
  auto read = ReadTransaction::Begin(impl_->db);
  if (!read) return Forward(read);
  return MatchInTransaction(component);
}

Result<std::vector<std::vector<VulnerabilityMatch>>> VulnStore::MatchAll(
    const std::vector<ComponentQuery>& components) const {
  std::lock_guard lock(impl_->mutex);
  auto read = ReadTransaction::Begin(impl_->db);
  if (!read) return Forward(read);
  std::vector<std::vector<VulnerabilityMatch>> out;
  out.reserve(components.size());
  for (const auto& c : components) {
    auto m = MatchInTransaction(c);
    if (!m) return Forward(m);
    out.push_back(std::move(*m));
  }
  return out;
}

// One match of one component: who it is, and the best reason found for each id.
class VulnStore::Matcher {
 public:
  explicit Matcher(Impl& store) : s_(store) {}

  Result<std::vector<VulnerabilityMatch>> Run(const ComponentQuery& component);

 private:
  Result<bool> Resolve(const ComponentQuery& component);
  Result<bool> DistroDataPresent(const std::string& ecosystem);
  Result<void> ScanCpeRows(Statement& stmt, ConfidenceLevel confidence);
  Result<void> MatchByPair(const std::string& vendor, const std::string& product,
                           ConfidenceLevel confidence);
  Result<void> MatchCpes(const ComponentQuery& component);
  Result<void> MatchPackages(const std::string& key, const std::string& version,
                             const DistroPackage* distro);
  Result<std::vector<VulnerabilityMatch>> Describe();
  void Offer(const std::string& id, Candidate c);
  bool PinnedAttributesAgree(std::string_view criteria) const;

  Impl& s_;
  std::optional<Cpe> cpe_;
  std::optional<Purl> purl_;
  std::optional<DistroPackage> distro_;
  std::string version_, update_ = "*";
  bool pinned_attributes_ = false;
  std::map<std::string, Candidate> found_;
};

Result<std::vector<VulnerabilityMatch>> VulnStore::MatchInTransaction(
    const ComponentQuery& component) const {
  Matcher matcher(*impl_);
  return matcher.Run(component);
}

Result<std::vector<VulnerabilityMatch>> VulnStore::Matcher::Run(const ComponentQuery& component) {
  auto known = Resolve(component);
  if (!known) return Forward(known);
  if (!*known) return std::vector<VulnerabilityMatch>{};
  // A distribution package whose release has its own vulnerability data is decided by that
  // data alone, in the distribution's version ordering: its backported fixes count, and
  // upstream CPE ranges (which know nothing of them) are not consulted.
  if (distro_) {
    auto present = DistroDataPresent(distro_->ecosystem);
    if (!present) return Forward(present);
    if (*present) {
      CLEARBOX_TRY(MatchPackages(distro_->purl_key, distro_->version, &*distro_));
      if (found_.empty() && !distro_->fallback_key.empty()) {
        CLEARBOX_TRY(MatchPackages(distro_->fallback_key, distro_->version, &*distro_));
      }
      return Describe();
    }
  }
  CLEARBOX_TRY(MatchCpes(component));
  if (purl_ && IsKnownVersion(version_)) {
    CLEARBOX_TRY(MatchPackages(purl_->Key(), version_, nullptr));
  }
  return Describe();
}

// Who the component is and which version it has; false when the version is unknown.
Result<bool> VulnStore::Matcher::Resolve(const ComponentQuery& component) {
  if (!component.cpe.empty()) {
    auto cpe = ParseCpe(component.cpe);
    if (!cpe) return Fail(ErrorCode::kInvalidArgument, "component CPE: " + cpe.error().message);
    cpe_ = std::move(*cpe);
  }
  if (!component.purl.empty()) {
    auto p = ParsePurl(component.purl);
    if (!p) return Fail(ErrorCode::kInvalidArgument, "component purl: " + p.error().message);
    purl_ = std::move(*p);
    distro_ = DistroPackageOf(*purl_);
    if (distro_ && !IsKnownVersion(distro_->version)) distro_.reset();
  }
  version_ = component.version;
  if (cpe_ && !IsAnyOrNa(cpe_->version)) {
    version_ = cpe_->version;
    update_ = cpe_->update;
  }
  if (!IsKnownVersion(version_) && purl_) version_ = purl_->version;
  pinned_attributes_ = cpe_ && !(IsAnyOrNa(cpe_->edition) && IsAnyOrNa(cpe_->language) &&
                                 IsAnyOrNa(cpe_->sw_edition) && IsAnyOrNa(cpe_->target_sw) &&
                                 IsAnyOrNa(cpe_->target_hw) && IsAnyOrNa(cpe_->other));
  return IsKnownVersion(version_) || distro_.has_value();
}

// Whether the store holds any package range of the release `ecosystem` ("Debian:12").
Result<bool> VulnStore::Matcher::DistroDataPresent(const std::string& ecosystem) {
  if (auto it = s_.distro_data.find(ecosystem); it != s_.distro_data.end()) return it->second;
  s_.distro_rows.BindText(1, ecosystem);
  s_.distro_rows.BindText(2, ecosystem + ";");  // ';' follows ':' ("Ubuntu:22.04:LTS")
  bool present = false;
  for (;;) {
    auto row = s_.distro_rows.Step();
    if (!row) {
      s_.distro_rows.Reset();
      return Forward(row);
    }
    if (!*row) break;
    if (SameDistroRelease(s_.distro_rows.TextView(0), ecosystem)) {
      present = true;
      break;
    }
  }
  s_.distro_rows.Reset();
  s_.distro_data[ecosystem] = present;
  return present;
}

void VulnStore::Matcher::Offer(const std::string& id, Candidate c) {
  auto it = found_.find(id);
  if (it == found_.end() || c.Rank() > it->second.Rank()) found_[id] = std::move(c);
}

// Attributes a row pins (target_sw, target_hw, ...) must agree with the query's.
bool VulnStore::Matcher::PinnedAttributesAgree(std::string_view criteria) const {
  auto row_cpe = ParseCpe(criteria);
  if (!row_cpe) return false;
  const std::pair<const std::string*, const std::string*> attrs[] = {
      {&row_cpe->edition, &cpe_->edition},       {&row_cpe->language, &cpe_->language},
      {&row_cpe->sw_edition, &cpe_->sw_edition}, {&row_cpe->target_sw, &cpe_->target_sw},
      {&row_cpe->target_hw, &cpe_->target_hw},   {&row_cpe->other, &cpe_->other}};
  for (const auto& [r, q] : attrs) {
    if (!IsAnyOrNa(*r) && !IsAnyOrNa(*q) && *r != *q) return false;
  }
  return true;
}

// The cpe_match rows `stmt` yields that apply to the component's version.
Result<void> VulnStore::Matcher::ScanCpeRows(Statement& stmt, ConfidenceLevel confidence) {
  std::size_t rows = 0;
  for (;;) {
    auto row = stmt.Step();
    if (!row) return Forward(row);
    if (!*row || ++rows > kMaxRowsPerProduct) break;
    // Columns are decoded only as far as the verdict needs them: most rows fail the
    // version test, which reads one to five short columns.
    const std::string_view row_version = stmt.TextView(1);
    Candidate c;
    if (row_version == "*" || row_version.empty()) {
      const std::string_view si = stmt.TextView(4), se = stmt.TextView(5), ei = stmt.TextView(6),
                             ee = stmt.TextView(7);
      if (!InRange(version_, si, se, ei, ee)) continue;
      c.kind = MatchKind::kRange;
      c.matched = std::string(stmt.TextView(3)) + " versions " + RangeText(si, se, ei, ee);
    } else if (row_version == "-") {
      c.kind = MatchKind::kExact;
      c.matched = std::string(stmt.TextView(3)) + " (the product has no versions)";
    } else {
      if (!SameVersion(version_, update_, row_version, stmt.TextView(2))) continue;
      c.kind = MatchKind::kExact;
      c.matched = std::string(stmt.TextView(3));
    }
    if (pinned_attributes_ && !PinnedAttributesAgree(stmt.TextView(3))) continue;
    c.confidence = confidence;
    c.decided_by = stmt.Text(9) + " CPE configuration";
    c.conditions = SplitSpaces(stmt.TextView(8));
    if (!c.conditions.empty()) c.confidence = OneLevelLower(c.confidence);
    Offer(stmt.Text(0), std::move(c));
  }
  return {};
}

Result<void> VulnStore::Matcher::MatchByPair(const std::string& vendor, const std::string& product,
                                             ConfidenceLevel confidence) {
  s_.by_vendor_product.BindText(1, vendor);
  s_.by_vendor_product.BindText(2, product);
  auto r = ScanCpeRows(s_.by_vendor_product, confidence);
  s_.by_vendor_product.Reset();
  return r;
}

// NVD configurations, by exact CPE (high) or by name (medium).
Result<void> VulnStore::Matcher::MatchCpes(const ComponentQuery& component) {
  if (!IsKnownVersion(version_)) return {};
  if (cpe_) return MatchByPair(cpe_->vendor, cpe_->product, ConfidenceLevel::kHigh);
  std::set<std::string> names;
  if (!component.name.empty()) names.insert(NormaliseName(component.name));
  if (purl_) names.insert(purl_->name);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& name : names) {
    if (auto it = s_.aliases.find(name); it != s_.aliases.end()) {
      pairs.insert(it->second.begin(), it->second.end());
      continue;  // a known name: only its listed products
    }
    std::string product = name;
    std::replace(product.begin(), product.end(), ' ', '_');
    s_.by_product.BindText(1, product);
    auto r = ScanCpeRows(s_.by_product, ConfidenceLevel::kMedium);
    s_.by_product.Reset();
    CLEARBOX_TRY(r);
  }
  for (const auto& [vendor, product] : pairs)
    CLEARBOX_TRY(MatchByPair(vendor, product, ConfidenceLevel::kMedium));
  return {};
}

// OSV packages by purl key (high: the package identity is exact). With `distro`, only the
// rows of its release, compared in its ordering. Without, a distribution's rows match only by
// exact version (which release's fix applies to a range is unknown).
Result<void> VulnStore::Matcher::MatchPackages(const std::string& key, const std::string& version,
                                               const DistroPackage* distro) {
  s_.by_purl.BindText(1, key);
  for (;;) {
    auto row = s_.by_purl.Step();
    if (!row) {
      s_.by_purl.Reset();
      return Forward(row);
    }
    if (!*row) break;
    const std::string ecosystem = s_.by_purl.Text(1);
    const bool distro_row = IsDistroEcosystem(ecosystem);
    if (distro && !SameDistroRelease(ecosystem, distro->ecosystem)) continue;
    if (!distro && distro_row && s_.by_purl.TextView(8).empty()) continue;
    const bool apk_order = ecosystem.starts_with("Alpine") || ecosystem.starts_with("Wolfi") ||
                           ecosystem.starts_with("Chainguard");
    auto compare = [&](std::string_view a, std::string_view b) {
      if (!distro_row) return CompareVersions(a, b);
      return CompareDistroVersions(apk_order ? VersionScheme::kApk : VersionScheme::kDebian, a, b);
    };
    const std::string introduced = s_.by_purl.Text(5), fixed = s_.by_purl.Text(6),
                      last = s_.by_purl.Text(7), versions = s_.by_purl.Text(8);
    const std::string who = s_.by_purl.Text(3) + " (" + ecosystem + ")";
    Candidate c;
    c.confidence = ConfidenceLevel::kHigh;
    c.decided_by = "OSV " + ecosystem;
    if (!versions.empty()) {
      bool hit = false;
      std::istringstream in(versions);
      std::string v;
      while (!hit && std::getline(in, v)) hit = compare(version, v) == 0;
      if (!hit) continue;
      c.kind = MatchKind::kExact;
      c.matched = who + " version " + version;
    } else {
      const std::string start = introduced == "0" ? "" : introduced;
      if (!start.empty() && compare(version, start) < 0) continue;
      if (!last.empty() && compare(version, last) > 0) continue;
      if (!fixed.empty() && compare(version, fixed) >= 0) continue;
      c.kind = MatchKind::kRange;
      c.matched = who + " versions " + RangeText(start, "", last, fixed);
      if (distro)
        c.matched = who + " " + version + ", versions " + RangeText(start, "", last, fixed);
    }
    Offer(s_.by_purl.Text(0), std::move(c));
  }
  s_.by_purl.Reset();
  return {};
}

// Details of every id found, sorted by id.
Result<std::vector<VulnerabilityMatch>> VulnStore::Matcher::Describe() {
  std::vector<VulnerabilityMatch> out;
  out.reserve(found_.size());
  for (auto& [id, c] : found_) {
    VulnerabilityMatch m;
    m.id = id;
    m.matched = std::move(c.matched);
    m.match_kind = c.kind;
    m.confidence = c.confidence;
    m.decided_by = std::move(c.decided_by);
    m.conditions = std::move(c.conditions);
    s_.details.BindText(1, id);
    auto row = s_.details.Step();
    if (row && *row) {
      m.cvss_score = s_.details.Double(0);
      m.cvss_version = s_.details.Text(1);
      m.cvss_vector = s_.details.Text(2);
      m.severity = SeverityOfCvssRating(s_.details.TextView(3));
      m.published = s_.details.Text(4);
      m.modified = s_.details.Text(5);
      m.description = s_.details.Text(6);
      m.aliases = SplitSpaces(s_.details.TextView(7));
      m.cwes = SplitSpaces(s_.details.TextView(9));
    }
    s_.details.Reset();
    if (!row) return Forward(row);
    s_.kev.BindText(1, id);
    auto k = s_.kev.Step();
    m.kev = k && *k;
    s_.kev.Reset();
    s_.epss.BindText(1, id);
    auto e = s_.epss.Step();
    if (e && *e) m.epss = s_.epss.Double(0);
    s_.epss.Reset();
    out.push_back(std::move(m));
  }
  return out;  // std::map keeps ids sorted
}

Result<StoreInfo> VulnStore::Info() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  StoreInfo info;
  info.location = s.location;
  auto count = [&](const char* sql) -> long long {
    auto stmt = s.db.Prepare(sql);
    if (!stmt) return -1;
    auto row = stmt->Step();
    return (row && *row) ? stmt->Int(0) : -1;
  };
  info.vulnerabilities = count("SELECT COUNT(*) FROM vulnerability");
  info.cpe_matches = count("SELECT COUNT(*) FROM cpe_match");
  info.package_ranges = count("SELECT COUNT(*) FROM package_range");
  info.kev = count("SELECT COUNT(*) FROM kev");
  info.epss = count("SELECT COUNT(*) FROM epss");
  if (auto stmt = s.db.Prepare("SELECT key, value FROM meta"); stmt) {
    while (true) {
      auto row = stmt->Step();
      if (!row || !*row) break;
      if (stmt->Text(0) == "schema") info.schema = stmt->Text(1);
      if (stmt->Text(0) == "created") info.created = stmt->Text(1);
    }
  }
  auto stmt = s.db.Prepare(
      "SELECT name, records, imported_at, newest_modified, update_end, origin FROM source "
      "ORDER BY name");
  if (!stmt) return Forward(stmt);
  while (true) {
    auto row = stmt->Step();
    if (!row) return Forward(row);
    if (!*row) break;
    info.sources.push_back(SourceInfo{stmt->Text(0), stmt->Text(2), stmt->Text(3), stmt->Text(4),
                                      stmt->Text(5), stmt->Int(1)});
  }
  return info;
}

}  // namespace clearbox::vuln
