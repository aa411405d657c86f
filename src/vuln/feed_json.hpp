// Internal to src/vuln's feed parsers: safe accessors over simdjson's DOM of one hostile
// feed item, and the record parsers of each feed format (feed_nvd.cpp, feed_osv.cpp).
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vuln/feeds.hpp"

namespace clearbox::vuln::feed_json {

// ---- safe accessors over hostile JSON ----
//
// The items are parsed by simdjson's DOM; these helpers read it as the nlohmann::json DOM
// was read before: a missing member or one of the wrong type reads as empty, and of
// duplicate keys the last one counts.

using Elem = simdjson::dom::element;

// An empty array and an empty object for the helpers to return (read-only, shared).
struct Empties {
  simdjson::dom::parser array_parser, object_parser;
  simdjson::dom::array array;
  Elem object;
  Empties() {
    if (array_parser.parse("[]", 2).get_array().get(array) != simdjson::SUCCESS ||
        object_parser.parse("{}", 2).get(object) != simdjson::SUCCESS) {
      std::abort();  // cannot happen: both are valid JSON
    }
  }
};

inline const Empties& Empty() {
  static const Empties kEmpties;
  return kEmpties;
}

inline std::optional<Elem> Member(Elem obj, std::string_view key) {
  simdjson::dom::object o;
  if (obj.get(o) != simdjson::SUCCESS) return std::nullopt;
  std::optional<Elem> found;
  for (simdjson::dom::key_value_pair field : o) {
    if (field.key == key) found = field.value;
  }
  return found;
}

inline std::string_view View(Elem v) {
  std::string_view s;
  return v.get(s) == simdjson::SUCCESS ? s : std::string_view();
}

inline std::string Str(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  if (!v || !v->is_string()) return {};
  const std::string_view s = View(*v);
  return std::string(s.substr(0, kMaxFieldBytes));
}

inline simdjson::dom::array Arr(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  simdjson::dom::array a;
  if (v && v->get(a) == simdjson::SUCCESS) return a;
  return Empty().array;
}

inline Elem Obj(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  return (v && v->is_object()) ? *v : Empty().object;
}

inline double Num(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  if (!v) return 0;
  if (v->is_number()) {
    double d = 0;
    return v->get(d) == simdjson::SUCCESS ? d : 0;
  }
  if (v->is_string()) return std::strtod(std::string(View(*v)).c_str(), nullptr);
  return 0;
}

inline bool Bool(Elem obj, std::string_view key, bool fallback) {
  const auto v = Member(obj, key);
  bool b = fallback;
  return (v && v->get(b) == simdjson::SUCCESS) ? b : fallback;
}

template <class T>
inline bool Room(const std::vector<T>& list, std::size_t cap = kMaxListPerRecord) {
  return list.size() < cap;
}

inline std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

inline std::string EnglishText(simdjson::dom::array list, const char* text_key) {
  std::string first;
  for (const auto& d : list) {
    const std::string lang = Str(d, "lang");
    const std::string value = Str(d, text_key);
    if (lang == "en" || lang.starts_with("en-") || lang.starts_with("en_")) return value;
    if (first.empty()) first = value;
  }
  return first;
}

inline void AddCwe(VulnRecord& rec, std::string cwe) {
  if (!cwe.starts_with("CWE-") && !cwe.starts_with("NVD-CWE-")) return;
  if (std::find(rec.cwes.begin(), rec.cwes.end(), cwe) == rec.cwes.end() && Room(rec.cwes)) {
    rec.cwes.push_back(std::move(cwe));
  }
}

inline void AddReference(VulnRecord& rec, std::string url) {
  if (!url.empty() && Room(rec.references)) rec.references.push_back(std::move(url));
}

// CVSS version from a vector's prefix ("CVSS:3.1/..." -> "3.1"; v2 vectors have none).
inline std::string VersionOfVector(std::string_view vector) {
  if (vector.starts_with("CVSS:")) {
    auto slash = vector.find('/');
    return std::string(vector.substr(5, slash == std::string_view::npos ? 3 : slash - 5));
  }
  return "2.0";
}

// One NVD API 2.0 "cve" object as a record.
VulnRecord ParseNvdCve(Elem cve);
// One CVE JSON 5.x record.
VulnRecord ParseCve5(Elem doc);
// One OSV record (distributions' records take their CVE id from "upstream").
VulnRecord ParseOsv(Elem doc);

// Splits a JSON feed held in memory into items and routes each to its parser and `sink`.
Result<FeedStats> ParseJsonFeed(std::string_view bytes, const FeedSink& sink);
// The same for a streamed feed: `head`, then what `read` returns until it returns 0.
Result<FeedStats> ParseJsonFeedStream(std::string head,
                                      std::function<std::size_t(char*, std::size_t)> read,
                                      const FeedSink& sink);

}  // namespace clearbox::vuln::feed_json
