#include "portal/triage.hpp"

#include <map>

#include "core/read_file.hpp"

namespace clearbox::portal {
namespace {

using Json = nlohmann::json;

// report.json of one release is read whole; larger files are refused.
constexpr std::uint64_t kMaxReportBytes = std::uint64_t{512} << 20;

std::string Text(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return {};
  return object[key].get<std::string>();
}

}  // namespace

std::vector<store::TriageItem> TriageItemsFromReport(const Json& report) {
  std::vector<store::TriageItem> items;
  if (!report.is_object()) return items;
  if (report.contains("vulnerabilities") && report["vulnerabilities"].is_array()) {
    for (const auto& v : report["vulnerabilities"]) {
      const Json component = v.contains("component") ? v["component"] : Json::object();
      store::TriageItem item;
      item.item_key = Text(v, "id") + "@" + Text(component, "ref");
      item.kind = "vulnerability";
      item.title =
          Text(v, "id") + " in " + Text(component, "name") + " " + Text(component, "version");
      item.severity = v.contains("cvss") ? Text(v["cvss"], "severity") : std::string();
      if (item.severity.empty()) item.severity = "unknown";
      items.push_back(std::move(item));
    }
  }
  if (report.contains("findings") && report["findings"].is_array()) {
    for (const auto& f : report["findings"]) {
      store::TriageItem item;
      const std::string offset = f.contains("offset") ? f["offset"].dump() : "";
      item.item_key = Text(f, "rule") + "@" + Text(f, "path") + "#" + offset;
      item.kind = "finding";
      item.title = Text(f, "message") + " (" + Text(f, "path") + ")";
      item.severity = Text(f, "severity");
      items.push_back(std::move(item));
    }
  }
  return items;
}

Result<std::vector<store::TriageItem>> TriageItemsOfResults(const std::filesystem::path& results) {
  auto text = ReadFileCapped(results / "report.json", kMaxReportBytes);
  if (!text) return Forward(text);
  const Json report = Json::parse(*text, nullptr, false);
  if (!report.is_object()) return Fail(ErrorCode::kMalformed, "report.json is not a JSON object");
  return TriageItemsFromReport(report);
}

Result<void> ImportTriageItems(store::PortalStore& store, store::Id release_id,
                               const std::filesystem::path& results) {
  auto items = TriageItemsOfResults(results);
  if (!items) return Forward(items);
  auto added = store.ImportTriageItems(release_id, *items);
  if (!added) return Forward(added);
  return {};
}

Json TriageVex(const Json& scan_vex, const std::vector<store::TriageItem>& items) {
  std::map<std::string, const store::TriageItem*> by_key;
  for (const auto& item : items) by_key[item.item_key] = &item;
  Json vex = scan_vex.is_object() ? scan_vex : Json::object();
  if (!vex.contains("vulnerabilities") || !vex["vulnerabilities"].is_array()) return vex;
  for (auto& v : vex["vulnerabilities"]) {
    Json analysis{{"state", "in_triage"}};
    auto it = by_key.find(Text(v, "bom-ref"));
    if (it != by_key.end() && it->second->lab_decision == "accepted") {
      const store::TriageItem& item = *it->second;
      if (item.vendor_status == "not_affected") {
        analysis["state"] = "not_affected";
        if (!item.justification.empty()) analysis["justification"] = item.justification;
      } else if (item.vendor_status == "affected") {
        analysis["state"] = "exploitable";
      } else if (item.vendor_status == "fixed") {
        analysis["state"] = "resolved";
        analysis["response"] = Json::array({"update"});
      }
      std::string detail = item.detail;
      if (!item.fix_version.empty()) {
        detail += (detail.empty() ? "" : " ") + std::string("Fixed in ") + item.fix_version + ".";
      }
      if (!detail.empty()) analysis["detail"] = detail;
    }
    v["analysis"] = analysis;
  }
  return vex;
}

}  // namespace clearbox::portal
