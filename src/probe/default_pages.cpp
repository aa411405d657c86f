// Stock pages of embedded web servers (see default_pages.hpp).
#include "probe/default_pages.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/read_file.hpp"

namespace clearbox::probe {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ContainsFolded(std::string_view haystack, std::string_view needle) {
  return Lower(haystack).find(Lower(needle)) != std::string::npos;
}

}  // namespace

Result<std::vector<DefaultPage>> LoadDefaultPages(const std::filesystem::path& path) {
  auto text = ReadFileCapped(path, kMaxDefaultPagesFileBytes);
  if (!text) return Forward(text);
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("pages") ||
      !json["pages"].is_array()) {
    return Fail(ErrorCode::kMalformed, path.string() + ": not a default-pages file");
  }
  std::vector<DefaultPage> pages;
  for (const auto& entry : json["pages"]) {
    auto field = [&](const nlohmann::json& object, const char* key) {
      const auto it = object.find(key);
      return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!entry.is_object() || !entry.contains("markers") || !entry["markers"].is_object()) {
      return Fail(ErrorCode::kMalformed, path.string() + ": an entry without markers");
    }
    const auto& markers = entry["markers"];
    DefaultPage page{field(entry, "id"),       field(entry, "product"), field(entry, "description"),
                     field(markers, "server"), field(markers, "title"), field(markers, "body"),
                     field(entry, "source")};
    if (page.id.empty() || (page.server.empty() && page.title.empty() && page.body.empty())) {
      return Fail(ErrorCode::kMalformed, path.string() + ": an entry without id or marker");
    }
    pages.push_back(std::move(page));
  }
  return pages;
}

std::string HtmlTitle(std::string_view body) {
  const std::string lower = Lower(body);
  const std::size_t open = lower.find("<title");
  if (open == std::string::npos) return {};
  const std::size_t start = lower.find('>', open);
  if (start == std::string::npos) return {};
  const std::size_t end = lower.find("</title", start);
  if (end == std::string::npos) return {};
  std::string_view title = body.substr(start + 1, std::min(end - start - 1, kMaxTitleBytes));
  while (!title.empty() && std::isspace(static_cast<unsigned char>(title.front()))) {
    title.remove_prefix(1);
  }
  while (!title.empty() && std::isspace(static_cast<unsigned char>(title.back()))) {
    title.remove_suffix(1);
  }
  return std::string(title);
}

std::optional<DefaultPageMatch> MatchDefaultPage(const std::vector<DefaultPage>& pages,
                                                 const HttpResult& http) {
  if (!http.answered) return std::nullopt;
  const std::string* server_header = http.head.Find("server");
  const std::string server = server_header ? *server_header : std::string();
  const std::string title = HtmlTitle(http.body);
  for (const DefaultPage& page : pages) {
    std::string marker;
    auto check = [&](std::string_view where, std::string_view text, const std::string& needle) {
      if (needle.empty()) return true;
      if (!ContainsFolded(text, needle)) return false;
      marker += (marker.empty() ? "" : ", ") + std::string(where) + " '" + needle + "'";
      return true;
    };
    if (check("server", server, page.server) && check("title", title, page.title) &&
        check("body", http.body, page.body)) {
      return DefaultPageMatch{page.id, page.product, marker};
    }
  }
  return std::nullopt;
}

}  // namespace clearbox::probe
