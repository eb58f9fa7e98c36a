"""Raw-socket HTTP for requests.py: requests built byte by byte, answers read without trusting
the server, every exchange kept as one record in RECORDS."""
import contextlib, json, select, selectors, socket, threading, time

RECORDS, ALL4XX, _lock = [], frozenset(range(400, 500)), threading.Lock()

class Target:
    def __init__(self, host, port, pace):
        self.host, self.port, self.pace, self._last, self._pace = host, port, pace, 0.0, threading.Lock()
    def throttle(self):  # stay under the server's per-address rate limit (50/s by default)
        with self._pace:
            time.sleep(max(0.0, self._last + self.pace - time.monotonic()))
            self._last = time.monotonic()
    def connect(self, src="127.0.0.1", timeout=15.0, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.bind((src, 0))  # 127.0.0.0/8 is all loopback: other client addresses for free
            s.settimeout(timeout)
            s.connect((self.host, self.port))
        except OSError:
            s.close()
            raise
        return s

def build(method, path, body=None, headers=(), version="HTTP/1.1", length=True):
    """A request as bytes; strings are latin-1, so any byte can be put anywhere."""
    enc = lambda x: x if isinstance(x, bytes) else x.encode("latin-1")
    lines = [enc(method) + b" " + enc(path) + b" " + enc(version), b"Host: 127.0.0.1"]
    if body is not None:
        lines += [b"Content-Type: application/json"] + ([b"Content-Length: %d" % len(body)] if length else [])
    return b"\r\n".join(lines + [enc(h) for h in headers]) + b"\r\n\r\n" + (body or b"")

jbody = lambda obj: json.dumps(obj).encode()

class Reader:
    """Reads HTTP/1.x responses (Content-Length, chunked, or up to EOF) from one socket."""
    def __init__(self, sock):
        self.s, self.buf = sock, b""
    def _more(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError
        self.buf += data
    def line(self):
        while b"\n" not in self.buf:
            self._more()
        out, _, self.buf = self.buf.partition(b"\n")
        return out.rstrip(b"\r")
    def exact(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def response(self):
        parts = self.line().split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError("not an HTTP status line: %r" % parts[:2])
        status, headers = int(parts[1]), {}
        for line in iter(self.line, b""):
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    for _ in iter(self.line, b""):
                        pass
                    return status, headers, body
                body += self.exact(size + 2)[:-2]
        if "content-length" in headers:
            return status, headers, self.exact(int(headers["content-length"]))
        with contextlib.suppress(EOFError):
            while True:
                self._more()
        return status, headers, self.buf

def failure(exc):
    """What an exception while talking to the server means, as a record's status."""
    for kind, name in ((socket.timeout, "timeout"), (ConnectionResetError, "reset"), (EOFError, "closed"),
                       (BrokenPipeError, "closed"), (ConnectionRefusedError, "refused"), (ValueError, "garbage")):
        if isinstance(exc, kind):
            return name
    return "error:" + type(exc).__name__

def error_shape(body, status):
    """(is the body strict UTF-8 JSON {"error": {"message", "status", "field"}}, its field)."""
    try:
        e = json.loads(body.decode("utf-8")).get("error")
        assert isinstance(e, dict)
    except (UnicodeDecodeError, ValueError, AttributeError, AssertionError):
        return False, None
    return isinstance(e.get("message"), str) and e.get("status") == status and "field" in e, e.get("field")

def record(cls, payload, status, latency, body=b"", allow=None, field=(), max_s=None, note=""):
    """Keeps one exchange. allow: the statuses meeting the target behaviour (None: not judged); field:
    the acceptable error fields (empty: not judged); max_s: the latest acceptable answer."""
    r = {"cls": cls, "payload": payload[:100], "status": status, "latency_ms": round(latency * 1000, 1),
         "error_json": None, "field": None, "note": note, "body": body[:160].decode("utf-8", "backslashreplace")}
    if isinstance(status, int) and status >= 400:
        r["error_json"], r["field"] = error_shape(body, status)
    if allow is not None:
        r["ok"] = status in allow and not (field and isinstance(status, int) and status >= 400
                                           and r["field"] not in field)
        if max_s is not None and latency > max_s:
            r["ok"], r["note"] = False, (note + " (slower than %g s)" % max_s).strip()
        nums = sorted(a for a in allow if isinstance(a, int) and not (ALL4XX <= allow and 400 <= a < 500))
        r["expected"] = "/".join(["4xx"] * (ALL4XX <= allow) + [str(a) for a in nums] +
                                 sorted(a for a in allow if isinstance(a, str)))
        r["expected"] += " field=%s" % "|".join(map(str, field)) if field else ""
    with _lock:
        RECORDS.append(r)
    return r

def exchange(t, cls, payload, data, src="127.0.0.1", timeout=15.0, allow=ALL4XX, field=(), max_s=None,
             note="", early=None, rcvbuf=None, paced=True):
    """Sends data on a new connection, reads one answer. early: send the first `early` bytes, wait
    up to 2 s for an answer, and send the rest only when none came."""
    if paced and src == "127.0.0.1":
        t.throttle()
    t0, status, body = time.monotonic(), None, b""
    try:
        s = t.connect(src, timeout, rcvbuf)
    except OSError as e:
        return record(cls, payload, failure(e), time.monotonic() - t0, b"", allow, field, max_s, note)
    try:
        try:
            s.sendall(data[:early])
            if early is not None and not select.select([s], [], [], 2.0)[0]:
                s.sendall(data[early:])
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the server may have answered already: read it
        status, _, body = Reader(s).response()
    except Exception as e:  # noqa: BLE001 - any failure is a finding, recorded
        status = failure(e)
    finally:
        s.close()
    return record(cls, payload, status, time.monotonic() - t0, body, allow, field, max_s, note)

def hold(t, cls, conns, seconds, allow, max_s=None):
    """Keeps conns, (src, head sent at once, drip sent a byte a second, payload), open `seconds` and
    records when and how the server answers or drops each."""
    sel, state = selectors.DefaultSelector(), {}
    for src, head, drip, payload in conns:
        t0 = time.monotonic()
        try:
            s = t.connect(src, 3.0)
            s.sendall(head)
        except OSError as e:
            record(cls, payload, failure(e), time.monotonic() - t0, b"", allow, (), max_s)
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = [drip, payload, t0]
    t0 = next_tick = time.monotonic()
    while state and time.monotonic() - t0 < seconds:
        for key, _ in sel.select(max(0.0, next_tick - time.monotonic())):
            s, (_, payload, started) = key.fileobj, state.pop(key.fileobj)
            sel.unregister(s)
            s.settimeout(2.0)
            try:
                status, _, body = Reader(s).response()
            except Exception as e:  # noqa: BLE001
                status, body = failure(e), b""
            s.close()
            record(cls, payload, status, time.monotonic() - started, body, allow, (), max_s)
        if time.monotonic() >= next_tick:
            next_tick += 1
            for s, st in state.items():
                try:
                    st[0] = st[0][s.send(st[0][:1]):] if st[0] else st[0]
                except OSError:
                    pass  # the read side reports it
    for s, (_, payload, started) in state.items():
        record(cls, payload, "open", time.monotonic() - started, b"", allow, (), max_s,
               "still open after %.0f s" % seconds)
        s.close()
    sel.close()

@contextlib.contextmanager
def Prober(t, during):
    """While active: GET /health and /metrics from 127.0.0.1 every 0.5 s, each probe on its own thread."""
    stop, threads = threading.Event(), []
    def loop():
        while True:
            threads.extend(threading.Thread(target=probe, args=(t, p, during)) for p in ("/health", "/metrics"))
            [th.start() for th in threads[-2:]]
            if stop.wait(0.5):
                return
    main = threading.Thread(target=loop)
    main.start()
    try:
        yield
    finally:
        stop.set()
        main.join()
        [th.join() for th in threads]

def probe(t, path, during):
    return exchange(t, "probe", "%s during %s" % (path, during), build("GET", path), timeout=5.0,
                    allow={200}, max_s=2.0, paced=False)
