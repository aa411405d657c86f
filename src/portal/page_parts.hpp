// Small pieces the portal's route files share (portal_app.cpp, release_routes.cpp): escaping,
// responses, the CSRF field, times, notices. Internal to src/portal.
#pragma once

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "html/page.hpp"
#include "portal/http_server.hpp"
#include "store/portal_store.hpp"

namespace clearbox::portal::page {

using Json = nlohmann::json;

inline std::string Esc(std::string_view text) {
  return html::EscapeText(text);
}
inline std::string Attr(std::string_view text) {
  return html::EscapeAttribute(text);
}

// The path's segments between slashes ("/projects/7" → {"projects", "7"}).
inline std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

inline HttpResponse Html(int status, std::string body) {
  return HttpResponse{status, "text/html; charset=utf-8", std::move(body), {}};
}

inline HttpResponse Redirect(std::string location) {
  HttpResponse response{303, "text/plain; charset=utf-8", "see " + location + "\n", {}};
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

inline std::string DumpJson(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

inline HttpResponse JsonResponse(int status, const Json& json) {
  return HttpResponse{status, "application/json", DumpJson(json), {}};
}

inline HttpResponse ApiError(int status, std::string_view message) {
  return JsonResponse(status, Json{{"error", std::string(message)}});
}

// The status a store error deserves: a refused reference or duplicate is the caller's (409).
inline int StatusOf(const Error& error) {
  return error.code == ErrorCode::kInvalidArgument ? 409 : 500;
}

inline std::string CsrfField(std::string_view token) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + Attr(token) + "\">";
}

inline std::string FormatTime(store::UnixSeconds seconds) {
  if (seconds == 0) return "never";
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

inline std::string Notice(std::string_view message, bool error) {
  if (message.empty()) return {};
  return std::string("<p class=\"") + (error ? "error" : "notice") + "\" role=\"" +
         (error ? "alert" : "status") + "\">" + Esc(message) + "</p>";
}

}  // namespace clearbox::portal::page
