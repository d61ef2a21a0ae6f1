#!/usr/bin/env python3
"""A small local server laid out like the Hugging Face hub, for the download tests.

Python 3 standard library only. It binds 127.0.0.1 on a free port and prints "PORT <n>" on stdout;
it stops by itself after --max-seconds, or as soon as its stdin closes (the test process died or
is done), so it never outlives the test.

The repos it serves come from a JSON file (--config):
  {"repos": {"org/name": {"commit": "<40 hex>", "token": "<optional: required bearer token>",
                          "files": {"config.json": {"path": "/abs/file", "lfs": false,
                                                     "drop_after": 0, "slow_bps": 0,
                                                     "wrong_sha": false}}}}}
Routes, as on the hub:
  GET  /api/models/<repo>/revision/<rev>   -> {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD/GET /<repo>/resolve/<rev>/<file>    -> small files: 200 with ETag = git blob sha1;
                                              LFS files: 302 to /lfs-cdn/<n> with X-Linked-Etag =
                                              sha256 (a wrong one with wrong_sha) and X-Linked-Size
  HEAD/GET /lfs-cdn/<n>                    -> the bytes, with Range support
Behaviours per file: drop_after N closes the connection after N body bytes on the first GET;
slow_bps sends the body slowly. Every request is appended to --log as "METHOD PATH RANGE AUTH".
"""
import argparse
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

ERROR_CODE = "X-Error-Code"


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, config, log_path):
        self.repos = config["repos"]
        self.log_path = log_path
        self.lock = threading.Lock()
        self.get_counts = {}
        self.cdn = []  # index -> (repo, filename)
        for repo, info in self.repos.items():
            for name, f in info["files"].items():
                with open(f["path"], "rb") as fh:
                    f["data"] = fh.read()
                f["sha256"] = hashlib.sha256(f["data"]).hexdigest()
                f["cdn"] = len(self.cdn)
                self.cdn.append((repo, name))

    def log(self, line):
        with self.lock:
            with open(self.log_path, "a") as fh:
                fh.write(line + "\n")

    def first_get(self, key):
        with self.lock:
            n = self.get_counts.get(key, 0)
            self.get_counts[key] = n + 1
            return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub = None  # set by main

    def log_message(self, fmt, *args):  # keep the test output clean
        pass

    # --- helpers -------------------------------------------------------------------------------
    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_code(self, status, code, message):
        self.send_json(status, {"error": message}, {ERROR_CODE: code})

    def authorized(self, info):
        token = info.get("token")
        return not token or self.headers.get("Authorization") == "Bearer " + token

    # --- routes --------------------------------------------------------------------------------
    def handle_any(self):
        hub = self.hub
        hub.log("%s %s %s %s" % (self.command, self.path, self.headers.get("Range", "-"),
                                 "auth" if self.headers.get("Authorization") else "-"))
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api/models/") and "/revision/" in path:
            repo, rev = path[len("/api/models/"):].split("/revision/", 1)
            return self.api_listing(urllib.parse.unquote(repo), urllib.parse.unquote(rev))
        if path.startswith("/lfs-cdn/"):
            return self.cdn(int(path[len("/lfs-cdn/"):]))
        if "/resolve/" in path:
            repo, rest = path[1:].split("/resolve/", 1)
            rev, _, filename = rest.partition("/")
            return self.resolve(urllib.parse.unquote(repo), urllib.parse.unquote(rev),
                                urllib.parse.unquote(filename))
        self.send_error_code(404, "NotFound", "no route")

    def find_repo(self, repo, rev):
        info = self.hub.repos.get(repo)
        if info is None:
            self.send_error_code(404, "RepoNotFound", "Repository not found")
            return None
        if not self.authorized(info):
            self.send_error_code(401, "GatedRepo", "Access to model %s is restricted" % repo)
            return None
        if rev not in ("main", info["commit"]):
            self.send_error_code(404, "RevisionNotFound", "Invalid rev id: " + rev)
            return None
        return info

    def api_listing(self, repo, rev):
        info = self.find_repo(repo, rev)
        if info is None:
            return
        self.send_json(200, {"id": repo, "sha": info["commit"],
                             "siblings": [{"rfilename": n} for n in sorted(info["files"])]})

    def resolve(self, repo, rev, filename):
        info = self.find_repo(repo, rev)
        if info is None:
            return
        f = info["files"].get(filename)
        if f is None:
            self.send_error_code(404, "EntryNotFound", "Entry not found")
            return
        common = {"X-Repo-Commit": info["commit"]}
        if f.get("lfs"):
            sha = f["sha256"]
            if f.get("wrong_sha"):
                sha = hashlib.sha256(b"not the content").hexdigest()
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/lfs-cdn/%d" % (self.server.server_port, f["cdn"]))
            self.send_header("X-Linked-Etag", '"%s"' % sha)
            self.send_header("X-Linked-Size", str(len(f["data"])))
            self.send_header("ETag", '"%s"' % git_blob_sha1(b"lfs pointer " + sha.encode()))
            for k, v in common.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_body(f, '"%s"' % git_blob_sha1(f["data"]), common, (repo, filename))

    def cdn(self, index):
        if index < 0 or index >= len(self.hub.cdn):
            self.send_error_code(404, "NotFound", "no such object")
            return
        repo, name = self.hub.cdn[index]
        f = self.hub.repos[repo]["files"][name]
        self.send_body(f, '"%s"' % f["sha256"], {}, (repo, name))

    def send_body(self, f, etag, extra, key):
        data = f["data"]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[len("bytes="):-1])
        if start > len(data):
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % len(data))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        drop = f.get("drop_after", 0)
        if drop and self.hub.first_get(key):
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        slow = f.get("slow_bps", 0)
        if slow:
            chunk = max(1, slow // 20)
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)

    def do_GET(self):
        self.guarded()

    def do_HEAD(self):
        self.guarded()

    def guarded(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client went away (cancel): nothing to do


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    with open(args.config) as fh:
        Handler.hub = Hub(json.load(fh), args.log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_port, flush=True)

    def stop_when_stdin_closes():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    os._exit(0)  # do not wait for handler threads still sleeping in a slow transfer


if __name__ == "__main__":
    main()
