// Releases: uploads streamed into the blob store (API: the raw body; browser: multipart form),
// the release page with its scan's state and results, the result files and the release API.
// The header check authenticates, authorises upload_release and caps the size before any body
// byte is read; the body never sits in memory; the release and its scan job are recorded in
// one transaction only after the blob is durable.
#include <algorithm>
#include <array>
#include <map>

#include "core/read_file.hpp"
#include "portal/credentials.hpp"
#include "portal/form.hpp"
#include "portal/multipart.hpp"
#include "portal/page_parts.hpp"
#include "portal/portal_app.hpp"
#include "portal/scan_worker.hpp"

namespace clearbox::portal {

using store::Id;
using namespace page;  // NOLINT: the shared page pieces

namespace {

// Multipart framing around the file (boundaries, part headers, small fields) on top of the cap.
constexpr std::uint64_t kMultipartOverheadBytes = 64 << 10;

// The result files a release page links, and their content types.
struct ResultFile {
  std::string_view name;          // in the URL
  std::string_view path;          // under the release's results directory
  std::string_view content_type;  //
};
constexpr std::array kResultFiles{
    ResultFile{"report.html", "report.html", "text/html; charset=utf-8"},
    ResultFile{"report.json", "report.json", "application/json"},
    ResultFile{"compliance.json", "compliance.json", "application/json"},
    ResultFile{"sbom.cdx.json", "sbom.cdx.json", "application/json"},
    ResultFile{"sbom.spdx.json", "sbom.spdx.json", "application/json"},
    ResultFile{"vex.cdx.json", "vex.cdx.json", "application/json"},
    ResultFile{"vulnerabilities.sarif", "vulnerabilities.sarif", "application/json"},
    ResultFile{"diff.json", "diff/diff.json", "application/json"},
    ResultFile{"diff.html", "diff/diff.html", "text/html; charset=utf-8"},
};
// report.html and diff.html are self-contained pages; served sandboxed and without script.
constexpr std::string_view kResultPageCsp =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

bool ValidVersion(std::string_view text) {
  return ValidName(text) && text.size() <= 100;
}

// The upload's facts from the API query (?version=V&kind=image|sbom&file_name=N).
std::optional<store::Release> ReleaseFromQuery(std::string_view query, std::string* why) {
  auto fields = ParseForm(query);
  if (!fields) {
    *why = fields.error().message;
    return std::nullopt;
  }
  store::Release release;
  release.version = FormValue(*fields, "version");
  const std::string kind = FormValue(*fields, "kind");
  release.kind =
      store::FindReleaseKind(kind.empty() ? "image" : kind).value_or(store::ReleaseKind{});
  release.file_name = FormValue(*fields, "file_name");
  if (release.file_name.empty()) release.file_name = "upload";
  if (!ValidVersion(release.version) || !ValidName(release.file_name) ||
      !store::FindReleaseKind(kind.empty() ? "image" : kind)) {
    *why = "an upload needs ?version= (1-100 bytes), kind=image|sbom and an optional file_name";
    return std::nullopt;
  }
  return release;
}

}  // namespace

// Streams one upload into a blob writer; the API takes the raw body, a browser form is parsed
// as multipart on the way (its CSRF token must precede the file).
class ReleaseUploadSink final : public HttpBodySink {
 public:
  ReleaseUploadSink(PortalApp& app, PortalApp::Caller caller, Id project_id, store::Release release,
                    std::unique_ptr<store::BlobWriter> writer, std::optional<std::string> boundary)
      : app_(app),
        caller_(std::move(caller)),
        project_id_(project_id),
        release_(std::move(release)),
        writer_(std::move(writer)) {
    if (boundary) {
      form_.emplace(
          *boundary,
          [this](const std::string& field, const std::string& file) {
            return FileStart(field, file);
          },
          [this](std::string_view bytes) { return writer_->Write(bytes); });
    }
  }

  Result<void> Write(std::string_view bytes) override {
    if (!form_) return writer_->Write(bytes);
    return form_->Feed(bytes);
  }

  HttpResponse Finish(const HttpRequest& request) override {
    if (form_) {
      if (auto ended = form_->Finish(); !ended) return Refuse(request, 400, ended.error().message);
      if (!seen_file_) return Refuse(request, 400, "the form has no file");
    }
    auto blob = writer_->Commit();
    if (!blob) return Refuse(request, 500, blob.error().message);
    release_.blob_sha256 = blob->sha256;
    release_.size = static_cast<std::int64_t>(blob->size);
    return app_.FinishUpload(request, caller_, project_id_, release_, !form_.has_value());
  }

  void Abort() override { writer_->Abort(); }

 private:
  Result<void> FileStart(const std::string& field, const std::string& file) {
    const auto& fields = form_->fields();
    auto value = [&](const char* name) {
      auto it = fields.find(name);
      return it == fields.end() ? std::string() : it->second;
    };
    if (!ConstantTimeEquals(value("csrf"), caller_.csrf_token)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the form's CSRF token is missing, wrong or after the file");
    }
    if (field != "file" || seen_file_) {
      return Fail(ErrorCode::kMalformed, "the form must carry exactly one file, named file");
    }
    seen_file_ = true;
    release_.version = value("version");
    const auto kind = store::FindReleaseKind(value("kind").empty() ? "image" : value("kind"));
    release_.file_name = file.empty() ? "upload" : file;
    if (!ValidVersion(release_.version) || !kind || !ValidName(release_.file_name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a release needs a version (1-100 bytes, before the file), a kind (image or "
                  "sbom) and a file name without control characters");
    }
    release_.kind = *kind;
    return {};
  }

  HttpResponse Refuse(const HttpRequest& request, int status, std::string_view message) {
    writer_->Abort();
    if (!form_) return app_.WithSecurityHeaders(request, ApiError(status, message));
    return app_.WithSecurityHeaders(
        request, Html(status, app_.Layout(&caller_, "Upload refused", Notice(message, true))));
  }

  PortalApp& app_;
  PortalApp::Caller caller_;
  Id project_id_;
  store::Release release_;
  std::unique_ptr<store::BlobWriter> writer_;
  std::optional<MultipartReader> form_;
  bool seen_file_ = false;
};

std::optional<HttpHeaderDecision> PortalApp::CheckUpload(const HttpRequest& request) {
  const auto segments = Segments(request.path);
  const bool api = segments.size() == 5 && segments[0] == "api" && segments[1] == "v1" &&
                   segments[2] == "projects" && segments[4] == "releases";
  const bool form = segments.size() == 3 && segments[0] == "projects" && segments[2] == "releases";
  if (!api && !form) return std::nullopt;
  HttpHeaderDecision decision;
  auto refuse = [&](int status, std::string_view message, const Caller* caller) {
    decision.response = WithSecurityHeaders(
        request, api ? ApiError(status, message)
                     : Html(status, Layout(caller, "Upload refused", Notice(message, true))));
    return decision;
  };
  const auto project_id = ParseRowId(segments[api ? 3 : 1]);
  std::optional<Caller> caller = api ? TokenCaller(request) : SessionCaller(request);
  if (!caller) {
    return refuse(api ? 401 : 403,
                  api ? "authentication required: Authorization: Bearer TOKEN"
                      : "Your session has ended; log in again.",
                  nullptr);
  }
  if (!api && !OriginAllowed(request)) return refuse(403, "Cross-origin form refused.", &*caller);
  auto project = store_.FindProject(project_id.value_or(0));
  auto access = project && *project ? AccessOf(**project) : Result<ProjectAccess>(ProjectAccess{});
  if (!project_id || !project || !*project || !access ||
      !Authorize(caller->principal, Action::kViewProject, &*access)) {
    return refuse(404, "no such project", &*caller);
  }
  if (!Authorize(caller->principal, Action::kUploadRelease, &*access)) {
    return refuse(403, "you may not upload releases into this project", &*caller);
  }
  if (config_.blobs == nullptr) return refuse(503, "this portal takes no uploads", &*caller);
  store::Release release;
  std::optional<std::string> boundary;
  if (api) {
    std::string why;
    auto facts = ReleaseFromQuery(request.query, &why);
    if (!facts) return refuse(400, why, &*caller);
    release = std::move(*facts);
  } else {
    boundary = MultipartBoundary(request.Header("content-type"));
    if (!boundary) return refuse(400, "an upload form must be multipart/form-data", &*caller);
  }
  auto writer = config_.blobs->NewWriter(config_.max_upload_bytes);
  if (!writer) return refuse(500, writer.error().message, &*caller);
  decision.max_body_bytes = config_.max_upload_bytes + (api ? 0 : kMultipartOverheadBytes);
  decision.body_sink = std::make_shared<ReleaseUploadSink>(
      *this, std::move(*caller), *project_id, std::move(release), std::move(*writer), boundary);
  return decision;
}

HttpResponse PortalApp::FinishUpload(const HttpRequest& request, const Caller& caller,
                                     Id project_id, const store::Release& release, bool api) {
  store::Release stored = release;
  stored.project_id = project_id;
  stored.uploaded_by = caller.user.id;
  auto id = store_.CreateReleaseWithJob(stored, config_.now());
  if (!id) {
    const int status = StatusOf(id.error());
    const std::string message =
        status == 409 ? "version " + release.version + " already exists in this project"
                      : id.error().message;
    return WithSecurityHeaders(
        request, api ? ApiError(status, message)
                     : Html(status, Layout(&caller, "Upload refused", Notice(message, true))));
  }
  Audit(caller, "release.upload", "release " + std::to_string(*id),
        {{"release", *id},
         {"project", project_id},
         {"version", release.version},
         {"kind", store::ReleaseKindName(release.kind)},
         {"sha256", release.blob_sha256},
         {"size", release.size}});
  if (config_.on_release_queued) config_.on_release_queued();
  const std::string location = "/releases/" + std::to_string(*id);
  if (!api) return WithSecurityHeaders(request, Redirect(location));
  auto response = ApiRelease(caller, *id);
  response.status = 201;
  response.headers.emplace_back("Location", "/api/v1" + location);
  return WithSecurityHeaders(request, std::move(response));
}

std::optional<store::Release> PortalApp::VisibleRelease(const Caller& caller, Id release_id) {
  auto release = store_.FindRelease(release_id);
  if (!release || !*release) return std::nullopt;
  auto project = store_.FindProject((*release)->project_id);
  if (!project || !*project) return std::nullopt;
  auto access = AccessOf(**project);
  if (!access || !Authorize(caller.principal, Action::kViewProject, &*access)) return std::nullopt;
  return **release;
}

namespace {

// report.json of a finished release, or null when there is none (yet).
Json ReadResultJson(const std::filesystem::path& dir, std::string_view name) {
  auto text = ReadFileCapped(dir / name, kMaxResultFileBytes);
  if (!text) return nullptr;
  return Json::parse(*text, nullptr, false);
}

std::string JobStateText(const std::optional<store::Job>& job) {
  if (!job) return "no scan";
  std::string text(store::JobStateName(job->state));
  if (job->state == store::JobState::kFailed) text += ": " + job->error;
  return text;
}

Json ReleaseJson(const store::Release& r, const std::optional<store::Job>& job,
                 const Json& summary) {
  Json out{{"id", r.id},
           {"project_id", r.project_id},
           {"version", r.version},
           {"kind", std::string(store::ReleaseKindName(r.kind))},
           {"file_name", r.file_name},
           {"sha256", r.blob_sha256},
           {"size", r.size},
           {"created_at", r.created_at},
           {"scan", job ? std::string(store::JobStateName(job->state)) : "none"}};
  if (job && job->state == store::JobState::kFailed) out["scan_error"] = job->error;
  if (!summary.is_null()) out["summary"] = summary;
  return out;
}

// The counts of a finished scan as a definition list.
std::string SummaryList(const Json& summary) {
  std::string out = "<dl id=\"scan-summary\">";
  for (const char* key : {"files", "binaries", "components", "vulnerabilities", "known_exploited",
                          "findings", "problems"}) {
    if (!summary.contains(key) || !summary[key].is_number()) continue;
    out += "<dt>" + Esc(key) + "</dt><dd data-key=\"" + Attr(key) + "\">" +
           std::to_string(summary[key].get<std::int64_t>()) + "</dd>";
  }
  out += "</dl>";
  if (summary.contains("findings_by_severity") && summary["findings_by_severity"].is_object()) {
    out += "<p>Findings by severity:";
    for (const auto& [severity, count] : summary["findings_by_severity"].items()) {
      if (count.is_number())
        out += " " + Esc(severity) + " " + std::to_string(count.get<std::int64_t>());
    }
    out += "</p>";
  }
  return out;
}

// What changed since the previous release (diff.json's summary), when there was one.
std::string DiffSection(const Json& diff) {
  if (!diff.is_object()) return "<p>No earlier release to compare with.</p>";
  std::string out = "<h2>Changes since the previous release</h2><dl id=\"diff-summary\">";
  const Json& summary = diff.contains("summary") ? diff["summary"] : Json::object();
  for (const auto& [key, value] : summary.items()) {
    if (value.is_number() || value.is_boolean() || value.is_string()) {
      out += "<dt>" + Esc(key) + "</dt><dd>" + Esc(value.dump()) + "</dd>";
    }
  }
  return out + "</dl>";
}

}  // namespace

std::string PortalApp::ReleasesSection(const Caller& caller, const store::Project& project,
                                       bool may_upload) {
  std::string body = "<h2>Releases</h2>";
  auto releases = store_.ListReleasesOfProject(project.id);
  if (!releases || releases->empty()) {
    body += "<p>No releases yet.</p>";
  } else {
    body +=
        "<table id=\"releases\"><thead><tr><th>Version</th><th>Kind</th><th>File</th>"
        "<th>Uploaded</th><th>Scan</th></tr></thead><tbody>";
    for (const auto& r : *releases) {
      auto job = store_.FindJobOfRelease(r.id);
      body += "<tr><td><a href=\"/releases/" + std::to_string(r.id) + "\">" + Esc(r.version) +
              "</a></td><td>" + Esc(store::ReleaseKindName(r.kind)) + "</td><td>" +
              Esc(r.file_name) + "</td><td>" + Esc(FormatTime(r.created_at)) + "</td><td>" +
              Esc(JobStateText(job ? *job : std::nullopt)) + "</td></tr>";
    }
    body += "</tbody></table>";
  }
  if (may_upload && config_.blobs != nullptr) {
    // The CSRF field and the version come before the file: the server checks them before it
    // stores a byte of the file.
    body +=
        "<h2>Upload a release</h2><form method=\"post\" enctype=\"multipart/form-data\" "
        "action=\"/projects/" +
        std::to_string(project.id) + "/releases\">" + CsrfField(caller.csrf_token) +
        "<label>Version <input name=\"version\" required maxlength=\"100\"></label>"
        "<label>Kind <select name=\"kind\"><option value=\"image\">firmware image</option>"
        "<option value=\"sbom\">SBOM (CycloneDX or SPDX JSON)</option></select></label>"
        "<label>File <input type=\"file\" name=\"file\" required></label>"
        "<button type=\"submit\">Upload</button></form>";
  }
  return body;
}

HttpResponse PortalApp::ReleasePage(const Caller& caller, Id release_id) {
  auto release = VisibleRelease(caller, release_id);
  if (!release) return Html(404, Layout(&caller, "Not found", Notice("No such release.", true)));
  auto project = store_.FindProject(release->project_id);
  auto job = store_.FindJobOfRelease(release->id);
  const std::optional<store::Job> scan = job ? *job : std::nullopt;
  const std::string project_name = project && *project ? (*project)->name : "";
  std::string body =
      "<p><a href=\"/projects/" + std::to_string(release->project_id) + "\">" + Esc(project_name) +
      "</a></p><dl id=\"release\"><dt>Version</dt><dd>" + Esc(release->version) +
      "</dd><dt>Kind</dt><dd>" + Esc(store::ReleaseKindName(release->kind)) +
      "</dd><dt>File</dt><dd>" + Esc(release->file_name) + "</dd><dt>Size</dt><dd>" +
      std::to_string(release->size) + " bytes</dd><dt>SHA-256</dt><dd><code>" +
      Esc(release->blob_sha256) + "</code></dd><dt>Uploaded</dt><dd>" +
      Esc(FormatTime(release->created_at)) + "</dd><dt>Scan</dt><dd id=\"scan-state\">" +
      Esc(JobStateText(scan)) + "</dd></dl>";
  if (scan && scan->state == store::JobState::kDone) {
    const auto dir = ReleaseResultsDir(config_.results_root, release->id);
    const Json report = ReadResultJson(dir, "report.json");
    if (report.is_object() && report.contains("summary")) body += SummaryList(report["summary"]);
    body += "<p><a id=\"triage-link\" href=\"/releases/" + std::to_string(release->id) +
            "/triage\">Triage: vendor answers and lab decisions</a></p>";
    if (project && *project) {
      auto access = AccessOf(**project);
      if (access) body += VerdictSection(caller, *release, *access);
    }
    body += DiffSection(ReadResultJson(dir, "diff/diff.json"));
    body += "<h2>Result files</h2><ul id=\"result-files\">";
    for (const auto& file : kResultFiles) {
      if (!std::filesystem::exists(dir / file.path)) continue;
      body += "<li><a href=\"/releases/" + std::to_string(release->id) + "/files/" +
              Attr(file.name) + "\">" + Esc(file.name) + "</a></li>";
    }
    body += "</ul>";
  } else if (scan && (scan->state == store::JobState::kQueued ||
                      scan->state == store::JobState::kRunning)) {
    body += "<p class=\"notice\" role=\"status\">The scan is " +
            Esc(store::JobStateName(scan->state)) + "; reload this page to see its results.</p>";
  }
  return Html(200, Layout(&caller, project_name + " " + release->version, body));
}

HttpResponse PortalApp::ReleaseFile(const Caller& caller, Id release_id, std::string_view name) {
  auto not_found = [&] {
    return Html(404, Layout(&caller, "Not found", Notice("No such file.", true)));
  };
  auto release = VisibleRelease(caller, release_id);
  if (!release) return not_found();
  // Only names of the fixed list reach the file system; nothing of the request is a path.
  const auto* file = std::find_if(kResultFiles.begin(), kResultFiles.end(),
                                  [&](const ResultFile& f) { return f.name == name; });
  if (file == kResultFiles.end()) return not_found();
  auto text = ReadFileCapped(ReleaseResultsDir(config_.results_root, release->id) / file->path,
                             kMaxResultFileBytes);
  if (!text) return not_found();
  HttpResponse response{200, std::string(file->content_type), std::move(*text), {}};
  if (file->content_type.starts_with("text/html")) {
    response.headers.emplace_back("Content-Security-Policy", std::string(kResultPageCsp));
  }
  return response;
}

HttpResponse PortalApp::ApiRelease(const Caller& caller, Id release_id) {
  auto release = VisibleRelease(caller, release_id);
  if (!release) return ApiError(404, "no such release");
  auto job = store_.FindJobOfRelease(release->id);
  const std::optional<store::Job> scan = job ? *job : std::nullopt;
  Json summary = nullptr;
  if (scan && scan->state == store::JobState::kDone) {
    const Json report =
        ReadResultJson(ReleaseResultsDir(config_.results_root, release->id), "report.json");
    if (report.is_object() && report.contains("summary")) summary = report["summary"];
  }
  return JsonResponse(200, ReleaseJson(*release, scan, summary));
}

}  // namespace clearbox::portal
