#pragma once
// HTTP through libcurl, for the CLI and the GUI alike (no Qt here). TLS peer and host verification
// stay on (libcurl's defaults, set explicitly). Proxies: libcurl reads http_proxy, https_proxy,
// HTTPS_PROXY, ALL_PROXY and no_proxy from the environment by itself, so nothing is needed here.
//
// Two layers: `http_request` / `http_download_append` do one transfer and report what happened;
// `download_verified` adds what a researcher needs for multi-gigabyte files: a `<file>.incomplete`
// beside the target that is resumed with an HTTP Range request, retries with exponential backoff
// for transient failures, size and sha256 verification, and an atomic rename only after the
// checks passed, so an interrupted or corrupt download never looks complete.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/io/errors.h"

namespace syn::net {

using Headers = std::vector<std::string>;  // "Name: value"

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // the final response's, names in lower case
    std::string body;                            // for downloads: only an error body (status >= 400)
    std::string url;                             // the URL that answered (after followed redirects)
    // "" when absent; `lower_name` in lower case.
    std::string header(const std::string& lower_name) const;
};

// A transfer that got no HTTP answer: DNS failure, refused connection, timeout, dropped connection.
// `transient()` is true when the server was reached and a retry may succeed (a connection dropped
// mid-body, a stall); false for "cannot reach the host at all", which fails fast.
class NetworkError : public Error {
public:
    NetworkError(const std::string& what, bool transient) : Error(what), transient_(transient) {}
    bool transient() const { return transient_; }

private:
    bool transient_;
};

// The server answered with an error status. `error_code` is the hub's X-Error-Code header, if any.
class HttpStatusError : public Error {
public:
    HttpStatusError(const std::string& what, long status, std::string url, std::string error_code)
        : Error(what), status_(status), url_(std::move(url)), error_code_(std::move(error_code)) {}
    long status() const { return status_; }
    const std::string& url() const { return url_; }
    const std::string& error_code() const { return error_code_; }

private:
    long status_;
    std::string url_;
    std::string error_code_;
};

// Thrown when `TransferOptions::cancelled` returned true; a clean stop, not an error. What was
// downloaded so far stays in the `.incomplete` file for the next run to resume.
struct TransferCancelled {
    std::string url;
};

struct TransferOptions {
    long connect_timeout_s = 10;   // fail fast when offline
    long stall_timeout_s = 60;     // abort a transfer that moves < 1 byte/s for this long
    int max_attempts = 5;          // for transient failures (dropped connection, 5xx, 429)
    int retry_base_delay_ms = 1000;  // backoff: base, 2 base, 4 base, ... (capped at 30 s)
    // (bytes done, bytes total or 0 when unknown), called as data arrives.
    std::function<void(long long done, long long total)> on_progress;
    // Polled while transferring and while waiting between retries.
    std::function<bool()> cancelled;
};

// One GET or HEAD (`method`), body kept in memory (up to `max_body` bytes). Redirects are followed
// when `follow_redirects`. Never throws for an HTTP status; throws NetworkError, TransferCancelled.
HttpResponse http_request(const std::string& method, const std::string& url, const Headers& headers,
                          bool follow_redirects, const TransferOptions& options,
                          size_t max_body = 64u << 20);

// One GET that appends the body to `partial_path`, asking for the rest with `Range: bytes=<size>-`
// when the file is not empty; restarts from 0 when the server ignores the range. Redirects are
// followed. `expected_total` (or -1) is only used for progress. Never throws for an HTTP status
// (the error body is in the response); throws NetworkError, TransferCancelled, syn::Error (disk).
HttpResponse http_download_append(const std::string& url, const Headers& headers,
                                  const std::string& partial_path, long long expected_total,
                                  const TransferOptions& options);

struct VerifiedDownload {
    std::string url;
    Headers headers;
    std::string final_path;       // written only after verification
    long long expected_size = -1;  // -1: unknown
    std::string expected_sha256;   // "" or 64 lower-case hex
    std::string sha256_prefix;     // "" or a hex prefix of the sha256 (torch hub style file names)
    std::string what;              // for messages, e.g. "bert-base-uncased/model.safetensors"
};

// `<final_path>.incomplete`, resumed and retried, verified, renamed. A wrong size or checksum deletes
// the partial file and throws syn::Error naming the file, the expected and the actual value.
// Throws HttpStatusError for a non-transient (or persisting) error status.
void download_verified(const VerifiedDownload& job, const TransferOptions& options);

// The one retry policy of the downloads (files and hub API calls alike): the wait before retry
// number `attempt` + 1 is retry_base_delay_ms x 2^(attempt - 1), capped at 30 s; wait_before_retry
// sleeps it, throwing TransferCancelled as soon as options.cancelled() says so.
int backoff_ms(const TransferOptions& options, int attempt);
void wait_before_retry(const TransferOptions& options, int attempt, const std::string& url);

// Percent-encodes everything except unreserved characters and those in `safe`.
std::string url_quote(const std::string& text, const std::string& safe = "/");
// True for 64 lower- or upper-case hex digits.
bool is_sha256_hex(const std::string& text);
// "HTTP 404 (Not Found)" style text.
std::string describe_status(long status);

}  // namespace syn::net
