#include "core/io/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/io/sha256.h"

namespace fs = std::filesystem;

namespace syn::net {
namespace {

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

struct CurlHandle {
    CURL* h = nullptr;
    curl_slist* list = nullptr;
    CurlHandle() {
        global_init_once();
        h = curl_easy_init();
        if (!h) throw Error("libcurl: curl_easy_init failed");
    }
    ~CurlHandle() {
        if (list) curl_slist_free_all(list);
        if (h) curl_easy_cleanup(h);
    }
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
};

// State shared by the callbacks of one transfer.
struct Transfer {
    const TransferOptions* options = nullptr;
    HttpResponse response;
    bool cancelled = false;
    // Memory mode (http_request).
    size_t max_body = 0;
    bool body_too_large = false;
    // File mode (http_download_append).
    int fd = -1;
    std::string path;
    long long resume_from = 0;
    long long written = 0;       // bytes in the file now
    long long expected_total = -1;
    bool body_started = false;
    std::string disk_error;
    std::string range_error;
};

bool is_redirect(long status) { return status >= 300 && status < 400; }

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
        // A new response starts (after a followed redirect, or a 100 Continue): forget the old headers.
        t->response.headers.clear();
        size_t sp = line.find(' ');
        t->response.status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
        return size * n;
    }
    size_t colon = line.find(':');
    if (colon != std::string::npos)
        t->response.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    return size * n;
}

bool poll_cancel(Transfer* t) {
    if (t->options->cancelled && t->options->cancelled()) t->cancelled = true;
    return t->cancelled;
}

size_t on_body_memory(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (poll_cancel(t)) return 0;
    if (is_redirect(t->response.status)) return size * n;
    if (t->response.body.size() + size * n > t->max_body) {
        t->body_too_large = true;
        return 0;
    }
    t->response.body.append(data, size * n);
    return size * n;
}

long long content_range_start(const std::string& value) {
    // "bytes 100-199/200"
    if (value.rfind("bytes ", 0) != 0) return -1;
    return std::strtoll(value.c_str() + 6, nullptr, 10);
}

// First body bytes of the final response: decide whether they extend the partial file.
bool start_file_body(Transfer* t) {
    t->body_started = true;
    long status = t->response.status;
    if (status == 206) {
        long long start = content_range_start(t->response.header("content-range"));
        if (start != t->resume_from) {
            t->range_error = "the server resumed at byte " + std::to_string(start) + " instead of " +
                             std::to_string(t->resume_from);
            return false;
        }
        return true;
    }
    if (status >= 200 && status < 300 && t->resume_from > 0) {
        // The server ignored the Range header and sends everything: start over.
        if (::ftruncate(t->fd, 0) != 0 || ::lseek(t->fd, 0, SEEK_SET) != 0) {
            t->disk_error = std::strerror(errno);
            return false;
        }
        t->resume_from = 0;
        t->written = 0;
    }
    return true;
}

size_t on_body_file(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    if (poll_cancel(t)) return 0;
    long status = t->response.status;
    if (is_redirect(status)) return bytes;
    if (status >= 300) {  // keep the error text for the message, never in the file
        if (t->response.body.size() < 65536) t->response.body.append(data, std::min<size_t>(bytes, 65536));
        return bytes;
    }
    if (!t->body_started && !start_file_body(t)) return 0;
    size_t done = 0;
    while (done < bytes) {
        ssize_t w = ::write(t->fd, data + done, bytes - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            t->disk_error = std::strerror(errno);
            return 0;
        }
        done += static_cast<size_t>(w);
    }
    t->written += static_cast<long long>(bytes);
    if (t->options->on_progress) {
        long long total = t->expected_total;
        if (total < 0) {
            std::string len = t->response.header("content-length");
            total = len.empty() ? 0 : t->resume_from + std::strtoll(len.c_str(), nullptr, 10);
        }
        t->options->on_progress(t->written, total);
    }
    return bytes;
}

// Called by libcurl about once a second even when no data arrives: the cancel check for stalls.
int on_xferinfo(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return poll_cancel(static_cast<Transfer*>(user)) ? 1 : 0;
}

std::string user_agent() {
    return std::string("synesthesia-workbench (libcurl/") + curl_version_info(CURLVERSION_NOW)->version + ")";
}

void configure(CurlHandle& c, const std::string& url, const Headers& headers, bool follow,
               const TransferOptions& options, Transfer* t) {
    CURL* h = c.h;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
    // Never weaken TLS: verify the peer's certificate chain and its host name.
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    // libcurl does not forward a custom Authorization header to another host on a redirect
    // (CURLOPT_UNRESTRICTED_AUTH stays off), so a hub token never reaches the CDN.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    for (const auto& hd : headers) c.list = curl_slist_append(c.list, hd.c_str());
    if (c.list) curl_easy_setopt(h, CURLOPT_HTTPHEADER, c.list);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

// Failures where the server was reached and a retry may help.
bool transient_code(CURLcode code) {
    switch (code) {
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

std::string network_message(CURLcode code, const char* errbuf, const std::string& url) {
    std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(code);
    std::string msg = url + ": " + detail;
    if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
        code == CURLE_COULDNT_RESOLVE_PROXY)
        msg += " (no network connection? behind a proxy, set https_proxy)";
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
        msg += " (TLS certificate not trusted; install ca-certificates or set CURL_CA_BUNDLE)";
    return msg;
}

void perform(CurlHandle& c, Transfer& t, const std::string& url) {
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode code = curl_easy_perform(c.h);
    char* effective = nullptr;
    if (curl_easy_getinfo(c.h, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
        t.response.url = effective;
    long status = 0;
    if (curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status) t.response.status = status;
    if (t.cancelled) throw TransferCancelled{url};
    if (!t.disk_error.empty()) throw file_error(t.path, "cannot write the download: " + t.disk_error);
    if (!t.range_error.empty()) throw NetworkError(url + ": " + t.range_error, true);
    if (t.body_too_large) throw Error(url + ": response larger than " + std::to_string(t.max_body) + " bytes");
    if (code != CURLE_OK) throw NetworkError(network_message(code, errbuf, url), transient_code(code));
}


long long file_size_or_zero(const std::string& path) {
    std::error_code ec;
    auto s = fs::file_size(path, ec);
    return ec ? 0 : static_cast<long long>(s);
}

std::string error_snippet(const std::string& body) {
    std::string s = body.substr(0, 300);
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return trim(s);
}

}  // namespace

int backoff_ms(const TransferOptions& options, int attempt) {
    long long ms = static_cast<long long>(options.retry_base_delay_ms) << std::min(std::max(attempt, 1) - 1, 10);
    return static_cast<int>(std::min<long long>(ms, 30000));
}

void wait_before_retry(const TransferOptions& options, int attempt, const std::string& url) {
    const int ms = backoff_ms(options, attempt);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
        if (options.cancelled && options.cancelled()) throw TransferCancelled{url};
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, 20)));
    }
}

std::string HttpResponse::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

HttpResponse http_request(const std::string& method, const std::string& url, const Headers& headers,
                          bool follow_redirects, const TransferOptions& options, size_t max_body) {
    CurlHandle c;
    Transfer t;
    t.options = &options;
    t.max_body = max_body;
    configure(c, url, headers, follow_redirects, options, &t);
    if (method == "HEAD") curl_easy_setopt(c.h, CURLOPT_NOBODY, 1L);
    else if (method != "GET") throw Error("http_request: unsupported method " + method);
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_body_memory);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &t);
    perform(c, t, url);
    return t.response;
}

HttpResponse http_download_append(const std::string& url, const Headers& headers,
                                  const std::string& partial_path, long long expected_total,
                                  const TransferOptions& options) {
    int fd = ::open(partial_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw file_error(partial_path, std::string("cannot open for writing: ") + std::strerror(errno));
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};

    Transfer t;
    t.options = &options;
    t.fd = fd;
    t.path = partial_path;
    t.resume_from = file_size_or_zero(partial_path);
    t.written = t.resume_from;
    t.expected_total = expected_total;

    CurlHandle c;
    Headers all = headers;
    if (t.resume_from > 0) all.push_back("Range: bytes=" + std::to_string(t.resume_from) + "-");
    configure(c, url, all, /*follow=*/true, options, &t);
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_body_file);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &t);
    perform(c, t, url);
    if (::fsync(fd) != 0 && errno != EINVAL)
        throw file_error(partial_path, std::string("fsync failed: ") + std::strerror(errno));
    return t.response;
}

void download_verified(const VerifiedDownload& job, const TransferOptions& options) {
    const std::string partial = job.final_path + ".incomplete";
    std::error_code ec;
    fs::create_directories(fs::path(job.final_path).parent_path(), ec);
    if (ec) throw file_error(fs::path(job.final_path).parent_path().string(), "cannot create folder: " + ec.message());
    const std::string what = job.what.empty() ? job.url : job.what;

    for (int attempt = 1;; ++attempt) {
        if (options.cancelled && options.cancelled()) throw TransferCancelled{job.url};
        const bool last = attempt >= std::max(1, options.max_attempts);
        HttpResponse r;
        try {
            r = http_download_append(job.url, job.headers, partial, job.expected_size, options);
        } catch (const NetworkError& e) {
            if (!e.transient() || last) {
                std::string keep = file_size_or_zero(partial) > 0
                                       ? " (the partial download " + partial + " is kept; run again to resume)"
                                       : "";
                throw NetworkError(what + ": " + e.what() + keep, e.transient());
            }
            wait_before_retry(options, attempt, job.url);
            continue;
        }
        if (r.status == 416) {  // our partial file is not a prefix the server knows: start over
            fs::remove(partial, ec);
            if (last) throw HttpStatusError(what + ": " + describe_status(416) + " from " + job.url, 416, job.url, "");
            continue;
        }
        if (r.status == 429 || r.status >= 500) {
            if (last)
                throw HttpStatusError(what + ": " + describe_status(r.status) + " from " + job.url + " after " +
                                          std::to_string(attempt) + " attempts",
                                      r.status, job.url, r.header("x-error-code"));
            wait_before_retry(options, attempt, job.url);
            continue;
        }
        if (r.status < 200 || r.status >= 300) {
            std::string snippet = error_snippet(r.body);
            throw HttpStatusError(what + ": " + describe_status(r.status) + " from " + job.url +
                                      (snippet.empty() ? "" : ": " + snippet),
                                  r.status, job.url, r.header("x-error-code"));
        }
        const long long size = file_size_or_zero(partial);
        if (job.expected_size >= 0 && size < job.expected_size) {  // closed early but cleanly
            if (last)
                throw NetworkError(what + ": got " + std::to_string(size) + " of " +
                                       std::to_string(job.expected_size) + " bytes (kept " + partial +
                                       " to resume)",
                                   true);
            wait_before_retry(options, attempt, job.url);
            continue;
        }
        if (job.expected_size >= 0 && size != job.expected_size) {
            fs::remove(partial, ec);
            throw file_error(job.final_path, "size mismatch: expected " + std::to_string(job.expected_size) +
                                                 " bytes, got " + std::to_string(size) +
                                                 "; the download was deleted");
        }
        if (!job.expected_sha256.empty() || !job.sha256_prefix.empty()) {
            const std::string actual = sha256_file(partial);
            const std::string want = !job.expected_sha256.empty() ? job.expected_sha256 : job.sha256_prefix;
            std::string want_lower = want;
            for (char& ch : want_lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (actual.compare(0, want_lower.size(), want_lower) != 0 ||
                (!job.expected_sha256.empty() && actual.size() != want_lower.size())) {
                fs::remove(partial, ec);
                throw file_error(job.final_path, "checksum mismatch: expected sha256 " + want_lower +
                                                     (job.expected_sha256.empty() ? "..." : "") + ", got " + actual +
                                                     "; the download was deleted and nothing was kept");
            }
        }
        fs::rename(partial, job.final_path, ec);
        if (ec) throw file_error(job.final_path, "cannot rename the finished download: " + ec.message());
        return;
    }
}

std::string url_quote(const std::string& text, const std::string& safe) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || safe.find(static_cast<char>(c)) != std::string::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool is_sha256_hex(const std::string& text) {
    return text.size() == 64 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string describe_status(long status) {
    const char* reason = "";
    switch (status) {
        case 400: reason = "Bad Request"; break;
        case 401: reason = "Unauthorized"; break;
        case 403: reason = "Forbidden"; break;
        case 404: reason = "Not Found"; break;
        case 416: reason = "Range Not Satisfiable"; break;
        case 429: reason = "Too Many Requests"; break;
        case 500: reason = "Internal Server Error"; break;
        case 502: reason = "Bad Gateway"; break;
        case 503: reason = "Service Unavailable"; break;
        case 504: reason = "Gateway Timeout"; break;
        default: break;
    }
    std::string s = "HTTP " + std::to_string(status);
    if (*reason) s += std::string(" (") + reason + ")";
    return s;
}

}  // namespace syn::net
