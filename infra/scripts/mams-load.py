#!/usr/bin/env python3
"""Loads a MAMS file into the hub's address table through the admin API.

    SWITCHYARD_BASE_URL=http://127.0.0.1:8787 SWITCHYARD_ADMIN_TOKEN=... infra/scripts/mams-load.py FILE

FILE is NDJSON (`-` reads stdin), one MPAN per line, each line the body of
`PUT /admin/v1/dip/mams/{MPANCore}` with the MPAN core beside it:

    {"MPANCore": "1900000000011", "parties": [{"roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": null}]}

Each line replaces that MPAN's whole history. The file is posted in chunks of up to
CHUNK_LINES lines (and under the hub's 8 MiB per request) to `POST /admin/v1/dip/mams`, over
a few connections at once (`--connections`). A chunk the hub refuses (400: the line, counted
within the file, is reported) stops the load; chunks already loaded stay loaded, and loading
the file again is harmless. Prints MPANs/s as it goes and at the end. Standard library only."""
import argparse, http.client, json, os, queue, re, sys, threading, time, urllib.parse

CHUNK_LINES = 10_000          # the hub's per-request line limit
CHUNK_BYTES = 8 * 1024 * 1024  # the hub's per-request byte limit
RETRIES = 3                    # a 5xx or a dropped connection: the chunk is posted again


def chunks(lines, max_lines=CHUNK_LINES, max_bytes=CHUNK_BYTES):
    """([file line numbers], [lines]) chunks within both limits; blank lines are dropped."""
    numbers, chunk, size = [], [], 0
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if chunk and (len(chunk) == max_lines or size + len(line) + 1 > max_bytes):
            yield numbers, chunk
            numbers, chunk, size = [], [], 0
        numbers.append(n)
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        yield numbers, chunk


class Loader:
    """Posts chunks over `connections` keep-alive connections; counts what was loaded."""

    def __init__(self, base_url, token, connections=4):
        u = urllib.parse.urlsplit(base_url)
        self.scheme, self.netloc, self.path = u.scheme, u.netloc, u.path.rstrip("/") + "/admin/v1/dip/mams"
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/x-ndjson"}
        self.connections = connections
        self.loaded = 0
        self.error = None
        self.lock = threading.Lock()

    def _connect(self):
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.netloc, timeout=120)

    def _post(self, conn, numbers, chunk):
        first = numbers[0]
        body = ("\n".join(chunk) + "\n").encode()
        for attempt in range(RETRIES + 1):
            try:
                conn.request("POST", self.path, body=body, headers=self.headers)
                resp = conn.getresponse()
                text = resp.read().decode(errors="replace")
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = self._connect()
                if attempt == RETRIES:
                    raise RuntimeError(f"lines {first}-: {e}")
                continue
            if resp.status == 200:
                return conn, json.loads(text)["loaded"]
            if resp.status >= 500 and attempt < RETRIES:
                time.sleep(0.5 * (attempt + 1))
                continue
            # The hub counts lines within the request; say which line of the file that is.
            text = re.sub(r"line (\d+)", lambda m: f"line {numbers[int(m.group(1)) - 1]}" if int(m.group(1)) <= len(numbers) else m.group(0), text)
            raise RuntimeError(f"the hub refused the chunk from line {first}: {resp.status} {text.strip()}")

    def run(self, chunk_iter, progress=None):
        """Loads every chunk; returns (MPANs loaded, seconds). Raises on the first refusal."""
        work = queue.Queue(maxsize=self.connections * 2)
        t0 = time.time()

        def worker():
            conn = self._connect()
            while True:
                item = work.get()
                if item is None:
                    break
                if self.error:
                    continue
                try:
                    conn, n = self._post(conn, *item)
                    with self.lock:
                        self.loaded += n
                        if progress:
                            progress(self.loaded, time.time() - t0)
                except Exception as e:  # noqa: BLE001 - reported once, stops the load
                    self.error = self.error or e
            conn.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.connections)]
        for t in threads:
            t.start()
        for item in chunk_iter:
            if self.error:
                break
            work.put(item)
        for _ in threads:
            work.put(None)
        for t in threads:
            t.join()
        if self.error:
            raise self.error
        return self.loaded, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="NDJSON MAMS file, or - for stdin")
    ap.add_argument("--connections", type=int, default=4, help="chunks posted at once (default 4)")
    ap.add_argument("--chunk-lines", type=int, default=CHUNK_LINES, help=f"lines per request (default and most {CHUNK_LINES})")
    a = ap.parse_args()
    base, token = os.environ.get("SWITCHYARD_BASE_URL"), os.environ.get("SWITCHYARD_ADMIN_TOKEN")
    if not base or not token:
        sys.exit("mams-load: set SWITCHYARD_BASE_URL and SWITCHYARD_ADMIN_TOKEN")
    src = sys.stdin if a.file == "-" else open(a.file, encoding="utf-8")
    last = [0.0]

    def progress(n, s):
        if s - last[0] >= 2:
            last[0] = s
            print(f"  {n:,} MPANs in {s:.0f} s ({n / s:,.0f}/s)", file=sys.stderr)

    try:
        n, s = Loader(base, token, a.connections).run(chunks(src, min(a.chunk_lines, CHUNK_LINES)), progress)
    except RuntimeError as e:
        sys.exit(f"mams-load: {e}")
    print(f"loaded {n:,} MPANs in {s:.1f} s ({n / s if s else 0:,.0f} MPANs/s)")


if __name__ == "__main__":
    main()
