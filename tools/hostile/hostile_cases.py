"""The request classes of requests.py, one function each. Every payload carries the statuses
(and error field) that meet the server's target behaviour; payloads vary with the seed."""
import random, threading, time
from hostile_net import ALL4XX as E4, Prober, Reader, build, exchange, failure, hold, jbody, record

E4_200 = E4 | {200}
BASE = {"/infer": {"input_text": b'"a"', "max_length": b"2"},
        "/v1/completions": {"prompt": b'"a"', "max_tokens": b"2"},
        "/v1/chat/completions": {"messages": b'[{"role": "user", "content": "a"}]', "max_tokens": b"2"},
        "/feedback": {"feedback_id": b"1", "user_rating": b"3", "comments": b'"a"'}}
TEXT = dict(zip(BASE, ("input_text", "prompt", "messages", "comments")))
BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80",
            b"ok\xf8\x88\x80\x80\x80", b"abc\xc3", b"\\ud800", b"\\udfff\\ud800", b"\xc1\xbf", b"\xfe\xff"]

def parallel(calls):
    threads = [threading.Thread(target=f) for f in calls]
    [th.start() for th in threads]
    [th.join() for th in threads]

rnd = lambda n=6: "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))

def body(path, **raw):
    """The endpoint's small valid body with fields set to raw JSON bytes (None: left out)."""
    f = dict(BASE[path], **raw)
    return b"{" + b", ".join(b'"%s": %s' % (k.encode(), v) for k, v in f.items() if v is not None) + b"}"

def utf8_path(t):
    paths = [b"/%ff", b"/%c3%28", b"/%00", b"/%c0%af", b"/%e0%80%af", b"/%f0%80%80%af", b"/%ed%a0%80",
             b"/%f8%88%80%80%80", b"/%", b"/%zz", b"/%u00ff", b"/\xff\xfe", b"/health%00", b"/health%ff",
             b"/infer%c0%80", b"/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", b"/" + b"a" * 70000,
             b"/" + b"%ff" * 10000, b"/metrics/" + b"\x80" * 100,
             b"/" + rnd().encode() + random.choice([b"%c3", b"%e2%82", b"%f0%9f%98"])]
    for p in paths:
        exchange(t, "utf8_path", "GET %r" % p[:40], build("GET", p))
    for p in (b"/infer%ff", b"/v1/completions%00", b"/feedback\xc3\x28", b"/v1/chat/completions%c0%af"):
        exchange(t, "utf8_path", "POST %r" % p, build("POST", p, body("/infer")))

def utf8_query(t):
    queries = [b"x=%ff", b"%c0%af=1", b"q=\xff\xfe", b"%00=%00", b"a=%ZZ", b"&&&==&", b"x=%c3%28",
               b"x=%ed%a0%80", b"x=" + b"%ff" * 30000, b"x=" + rnd(40).encode() + b"%e2%82"]
    for i, q in enumerate(queries):
        path = ["/health", "/metrics", "/models"][i % 3]
        exchange(t, "utf8_query", "GET %s?%r" % (path, q[:30]), build("GET", path.encode() + b"?" + q), allow=E4_200)
    for q in (b"stream=%ff", b"model=%c0%80"):
        exchange(t, "utf8_query", "POST /infer?%r" % q, build("POST", b"/infer?" + q, body("/infer")), allow=E4_200)

def utf8_header(t):
    headers = [b"X-Test: \xff\xfe", b"X-Test: \xc3\x28", b"User-Agent: \xc0\xaf\xe0\x80\xaf", b"X-Nul: a\x00b",
               b"X-\xff: 1", b"Host: \xff.example", b"Authorization: Bearer \xed\xa0\x80", b"Accept: \x80\x80",
               b"X-Fold: a\r\n more \xff", b"X-" + rnd().encode() + b": \xf8\x88",
               b"Content-Type: application/json; charset=\xff"]
    for i, h in enumerate(headers):
        get = i % 2 == 1
        raw = build("GET", "/health", headers=[h]) if get else build("POST", "/infer", body("/infer"), [h])
        exchange(t, "utf8_header", "%s + %r" % ("GET /health" if get else "POST /infer", h[:30]), raw, allow=E4_200)

def utf8_json(t):
    bad = random.sample(BAD_UTF8, len(BAD_UTF8))
    for i, path in enumerate(BASE):
        for b in bad[i * 3 % 7:][:6] + [b"\\u0000"]:
            v = b'"' + b + b'"'  # spliced raw into the endpoint's main string
            v = b'[{"role": "user", "content": %s}]' % v if "chat" in path else v
            exchange(t, "utf8_json", "%s %s=%r" % (path, TEXT[path], b),
                     build("POST", path, body(path, **{TEXT[path]: v})), allow=E4_200 if b == b"\\u0000" else E4)
        for key in (b"\xff", TEXT[path].encode() + b"\xc3\x28", b"\\ud800"):
            raw = body(path)[:-1] + b', "' + key + b'": 1}'
            exchange(t, "utf8_json", "%s key %r" % (path, key), build("POST", path, raw))

def malformed_json(t):
    syntax = [("/infer", b'{"input_text": "hi", "max_len'), ("/v1/completions", b'{"prompt": "abc'),
              ("/infer", b'{"input_text": "hi"} xyz'), ("/v1/completions", b'{"prompt": "a"}{"prompt": "b"}'),
              ("/feedback", b""), ("/infer", b"null"), ("/v1/completions", b"true"), ("/feedback", b'"s"'),
              ("/infer", b"123"), ("/infer", b'[{"input_text": "hi"}]'), ("/infer", b"{'input_text': 'hi'}"),
              ("/infer", b'{"input_text": "hi" /* c */}'), ("/infer", b"[" * 10000 + b"]" * 10000),
              ("/infer", b"[" * 200000), ("/feedback", b'{"a":' * 10000 + b"1" + b"}" * 9999),
              ("/v1/completions", b'{"prompt": "a", "max_tokens": 1,}'), ("/infer", b'{"input_text": "\\x41"}')]
    for path, raw in syntax:  # not a JSON object at all: 400 with field null
        exchange(t, "malformed_json", "%s %r" % (path, raw[:50]), build("POST", path, raw), field=(None,))
    i, c, f = "/infer", "/v1/completions", "/feedback"
    typed = [  # (endpoint, field, raw JSON value, acceptable error fields; None = a JSON syntax error)
        (i, "temperature", b"NaN", (None, "temperature")), (i, "temperature", b"-Infinity", (None, "temperature")),
        (i, "max_length", b"1e400", (None, "max_length")), (i, "seed", b"-1", ("seed",)),
        (i, "seed", b"9223372036854775808", ("seed",)), (i, "seed", b"18446744073709551616", ("seed", None)),
        (i, "max_length", b"9" * 4000, ("max_length", None)), (i, "top_k", b"1.5", ("top_k",)),
        (i, "max_length", b'"10"', ("max_length",)), (i, "max_length", b"-1", ("max_length",)),
        (i, "input_text", random.choice([b"5", b"true", b"{}"]), ("input_text",)),
        (i, "input_text", b'["a"]', ("input_text",)), (i, "input_text", None, ("input_text",)),
        (i, "stream", b'"yes"', ("stream",)), (i, "stop", b"5", ("stop",)), (i, "stop", b"[1]", ("stop",)),
        (i, "stop", b'{"a": 1}', ("stop",)), (i, "stop", b'[""]', ("stop",)), (i, "stop", jbody(["s"] * 17), ("stop",)),
        (i, "stop", b"[" * 10000 + b"]" * 10000, ("stop", None)), (i, "model_variant", b"3", ("model_variant",)),
        (i, "model_variant", b'"nope\\u0000"', ("model_variant",)), (i, "max_lenght", b"5", ("max_lenght",)),
        (c, "prompt", b'["a", "b"]', ("prompt",)), (c, "prompt", b"{}", ("prompt",)), (c, "prompt", b"[]", ("prompt",)),
        (c, "n", b'"1"', ("n",)), (c, "max_tokens", b"0", ("max_tokens",)), (c, "top_p", b"1.5", ("top_p",)),
        (c, "user", b"5", ("user",)), (c, "temperature", b"101", ("temperature",)),
        (f, "feedback_id", b'"1"', ("feedback_id",)), (f, "feedback_id", b"9223372036854775808", ("feedback_id",)),
        (f, "feedback_id", b"1.5", ("feedback_id",)), (f, "feedback_id", None, ("feedback_id",)),
        (f, "user_rating", random.choice([b"0", b"6", b"3.5", b"-1"]), ("user_rating",)),
        (f, "user_rating", b"true", ("user_rating",)), (f, "correctness", b"{}", ("correctness",)),
        (f, "rating", b"5", ("rating",)), (f, "comments", jbody("c" * 70000), ("comments",)),
        (i, "junk", jbody("z" * 900000), ("junk",)), (i, "x" * 100000, b"1", ()),
        ("/v1/chat/completions", "messages", b'{"role": "user"}', ()),
        ("/v1/chat/completions", "messages", b'[{"role": 5, "content": null}]', ())]
    for path, name, value, fields in typed:
        exchange(t, "malformed_json", "%s %s=%r" % (path, name[:20], (value or b"<absent>")[:40]),
                 build("POST", path, body(path, **{name: value})), field=fields)
    for path, raw, allow in [(c, jbody({"k%d" % n: n for n in range(50000)}), E4),
                             (i, b"\xef\xbb\xbf" + body(i), E4_200), (i, body(i, temperature=b"-0.0"), E4_200),
                             (i, b'{"input_text": 5, "input_text": "a", "max_length": 1}', E4_200),
                             (i, b'{"input_text": "a", "input_text": 5}', E4)]:
        exchange(t, "malformed_json", "%s %r" % (path, raw[:50]), build("POST", path, raw), allow=allow)

def http_framing(t):
    c, inf, neg = "http_framing", body("/infer"), random.randint(2, 10 ** 9)
    h = lambda *hs: (b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                     b"".join(x + b"\r\n" for x in hs) + b"\r\n")
    te, cl = (lambda *hs: h(b"Transfer-Encoding: chunked", *hs)), (lambda v: h(b"Content-Length: " + v))
    get = lambda *hs, **kw: build("GET", "/health", headers=hs, **kw)
    quick = [  # (summary, raw bytes, statuses meeting the target): each must be answered at once
        ("POST /infer no Content-Length", h() + inf, {411}),
        ("POST /feedback no CL, no body", build("POST", "/feedback", b"", length=False), {411}),
        ("POST /v1/completions no CL", build("POST", "/v1/completions", body("/v1/completions"), length=False),
         {411}), ("CL: -1", cl(b"-1") + inf, {400}), ("CL: -%d" % neg, cl(b"-%d" % neg) + inf, {400}),
        ("CL: abc", cl(b"abc") + inf, {400}), ("CL: 1e3", cl(b"1e3") + inf, {400}),
        ("CL: 0x10", cl(b"0x10") + inf, {400}), ("CL: +5", cl(b"+5") + inf, {400}),
        ("CL: 10, 10", cl(b"10, 10") + inf, {400}),
        ("CL twice, differing", h(b"Content-Length: 5", b"Content-Length: 40") + inf, {400}),
        ("CL: 10^15", cl(b"1000000000000000"), {413}), ("CL: 2^64", cl(b"18446744073709551616"), {400, 413}),
        ("CL: 10^30", cl(b"1" + b"0" * 30), {400, 413}), ("chunk size zz", te() + b"zz\r\nabc\r\n0\r\n\r\n", E4),
        ("chunk size -5", te() + b"-5\r\nabcde\r\n0\r\n\r\n", E4),
        ("chunk size 2^72", te() + b"ffffffffffffffffff\r\nab\r\n", E4),
        ("chunk extension \\xff", te() + b"2;\xff\r\n{}\r\n0\r\n\r\n", E4),
        ("TE chunked + CL (smuggling)", te(b"Content-Length: 4") + b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n", E4),
        ("TE gzip", h(b"Transfer-Encoding: gzip", b"Content-Length: 2") + b"{}", E4 | {501}),
        ("header block 100 KB, one header", get(b"X-Big: " + b"a" * 102400), {400, 413, 431}),
        ("header block 100 KB, 1000 headers", get(*[b"X-H%d: %s" % (n, b"v" * 90) for n in range(1000)]),
         {400, 413, 431}), ("10,000 headers", get(*[b"X-%d: %d" % (n, n) for n in range(10000)]), {400, 413, 431}),
        ("bare LF GET", b"GET /health HTTP/1.1\nHost: x\n\n", {200, 400}),
        ("bare LF POST", b"POST /infer HTTP/1.1\nHost: x\nContent-Length: %d\n\n" % len(inf) + inf, E4_200),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", E4 | {505, "closed"}),
        ("HTTP/1.2", get(version="HTTP/1.2"), {200, 400, 505}), ("HTTP/9.9", get(version="HTTP/9.9"), {400, 505}),
        ("HTTP/1.0 without Host", b"GET /health HTTP/1.0\r\n\r\n", {200}),
        ("method BREW", build("BREW", "/health"), E4 | {501}), ("method get", build("get", "/health"), E4 | {501}),
        ("no path", b"GET HTTP/1.1\r\nHost: x\r\n\r\n", E4),
        ("absolute URI", build("GET", "http://127.0.0.1/health"), {200, 400}),
        ("request line 100 KB", build("GET", "/?" + "a" * 100000), {400, 414, 431}),
        ("NUL in request line", b"GET /health\x00 HTTP/1.1\r\nHost: x\r\n\r\n", E4),
        ("space before colon", h(b"Content-Length : 2") + b"{}", E4),
        ("TLS ClientHello-ish", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
         E4 | {"closed"})]
    for summary, raw, allow in quick:
        exchange(t, c, summary, raw, allow=allow, max_s=2.0)
    stalls = [  # each waits for the whole-request deadline (10 s): 408 expected
        ("CL 100, 10 bytes sent, stall", cl(b"100") + inf[:10]),
        ("CL 5000 on /feedback, 1000 sent, stall", build("POST", "/feedback", b"{" * 5000)[:-4000]),
        ("headers unfinished, stall", b"GET /health HTTP/1.1\r\nHost: x\r\n"),
        ("chunk larger than sent, stall", te() + b'400\r\n{"input'),
        ("HTTP/0.9 GET /health", b"GET /health\r\n"), ("CR-only line ends", b"GET /health HTTP/1.1\rHost: x\r\r")]
    parallel([lambda s=s, raw=raw: exchange(t, c, s, raw, allow={408} | ({400, 505} if "0.9" in s or "CR" in s
                                                                         else set()), max_s=12.0, timeout=20.0)
              for s, raw in stalls])

def pipelining(t):
    """Requests written in one send on one connection: each must be answered, in order, or the
    connection closed cleanly (EOF, not a reset or a stall) after the last answer."""
    want = {"/health": b'"ok"', "/metrics": b"uptime_s", "/models": b'"default"'}
    get = lambda p: (build("GET", p), "GET " + p, lambda st, b: st == 404 and p.encode() in b if "nope" in p
                     else st == 200 and want[p] in b)
    post = lambda path, obj, want, st0=200: (build("POST", path, jbody(obj)), "POST %s %s" % (path, list(obj)),
                                             lambda st, b: st == st0 and want in b)
    infer = lambda s: post("/infer", {"input_text": "x", "max_length": 2, "seed": s}, b"output_text")
    compl = lambda s: post("/v1/completions", {"prompt": "x", "max_tokens": 1, "seed": s}, b"text_completion")
    broken = (build("POST", "/infer", b'{"input_'), "POST /infer broken JSON", lambda st, b: st == 400)
    stream = post("/infer", {"input_text": "x", "max_length": 3, "stream": True}, b"event: done")
    n = lambda: get("/nope-" + rnd(4))
    batches = [[get("/health"), n(), get("/metrics")],
               [get("/health"), infer(1), n(), post("/feedback", {"feedback_id": 1}, b"user_rating", 400),
                get("/models")], [x for s in range(5) for x in (n(), compl(s))], [n(), broken, n()],
               [infer(7), infer(8), n(), stream, n(), compl(9)], [n() for _ in range(random.randint(3, 10))]]
    verdicts = []
    for bi, batch in enumerate(batches):
        t.throttle()
        t0, s = time.monotonic(), t.connect(timeout=15.0)
        s.sendall(b"".join(raw for raw, _, _ in batch))
        rd, answered, verdict, gone = Reader(s), 0, None, None
        for i, (_, summary, check) in enumerate(batch):
            label = "batch %d #%d/%d %s" % (bi + 1, i + 1, len(batch), summary)
            try:  # after a failure the rest are recorded unanswered without waiting again
                st, _, b = (None, None, None) if gone else rd.response()
            except Exception as e:  # noqa: BLE001 - recorded
                gone = failure(e)
                verdict = verdict or "%d of %d answered, then %s after %.1f s" % (answered, len(batch), gone,
                                                                                    time.monotonic() - t0)
            if gone:
                record("pipelining", label, gone, time.monotonic() - t0, b"", {"closed"}, note="unanswered")
                continue
            answered += check(st, b)
            verdict = verdict or (None if check(st, b) else "answer %d is not its request's (%s)" % (i + 1, st))
            record("pipelining", label, st, time.monotonic() - t0, b, {st} if check(st, b) else set(),
                   note="" if check(st, b) else "wrong answer or order")
        s.close()
        verdicts.append("pipelined batch %d (%d requests): %s" % (bi + 1, len(batch), verdict or "all in order"))
    return verdicts

def slow_clients(t):
    """70 connections from 127.0.0.2 trickling headers (1 byte/s), 10 from 127.0.0.4 trickling
    bodies, one slow SSE reader; /health and /metrics probed from 127.0.0.1 all along."""
    with Prober(t, "slow headers"):
        rest = b"ET /health?slow=%d HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 40 + b"\r\n\r\n"
        hold(t, "slow_clients", [("127.0.0.2", b"G", rest % n, "slow headers #%d from 127.0.0.2" % n)
                                 for n in range(70)], 22.0, allow={408, 503}, max_s=12.0)
    with Prober(t, "slow bodies"):
        b = body("/infer", input_text=jbody("slow " * 20))
        head = b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(b)
        hold(t, "slow_clients", [("127.0.0.4", head, b, "slow body #%d from 127.0.0.4" % n) for n in range(10)],
             16.0, allow={408, 503}, max_s=12.0)
    with Prober(t, "slow SSE reader"):
        return [slow_reader(t)]

def slow_reader(t):
    """Reads a streamed 2048-token answer one byte a second through a 1 KB receive buffer; after
    3 bytes another client's /infer must be answered."""
    t0, s, got, end = time.monotonic(), t.connect("127.0.0.5", 5.0, rcvbuf=1024), 0, "still open after 20 s"
    s.sendall(build("POST", "/infer", jbody({"input_text": "Call me", "max_length": 2048, "stream": True,
                                              "seed": random.randint(1, 999)})))
    while time.monotonic() - t0 < 20:
        try:
            if not s.recv(1):
                raise EOFError
        except (OSError, EOFError) as e:
            end = "%s by the server after %.1f s" % (failure(e), time.monotonic() - t0)
            break
        got += 1
        if got == 3:
            exchange(t, "slow_clients", "POST /infer beside the slow reader", build("POST", "/infer", body("/infer")),
                     allow={200}, max_s=5.0)
        time.sleep(1.0)
    s.close()
    record("slow_clients", "slow SSE reader (1 byte/s, 127.0.0.5)", "open" if "still" in end else "closed",
           time.monotonic() - t0, note="%d bytes read; %s" % (got, end))
    return "slow SSE reader: %d bytes read; %s" % (got, end)

def flood(t):
    """200 idle connections from 127.0.0.3 for 15 s; meanwhile /health and /metrics from 127.0.0.3
    must be answered, its /infer may get 503 at once, and 127.0.0.1 must be served."""
    def side():
        time.sleep(3)
        for src, path, allow in (("127.0.0.3", "/health", {200}), ("127.0.0.3", "/metrics", {200}),
                                 ("127.0.0.3", "/infer", {200, 503}), ("127.0.0.1", "/infer", {200, 503})):
            raw = build("POST", path, body(path)) if path == "/infer" else build("GET", path)
            exchange(t, "flood", "%s %s during the flood" % (src, path), raw, src=src, allow=allow, max_s=2.0)
    with Prober(t, "flood"):
        parallel([side, lambda: hold(t, "flood", [("127.0.0.3", b"", b"", "idle #%d from 127.0.0.3" % n)
                                                  for n in range(200)], 15.0, allow={408, 503, "closed"}, max_s=12.0)])

def oversized(t):
    mb, c, i, v1 = 1000 * 1000, "oversized", "/infer", "/v1/completions"
    cases = [(i, {"max_length": 10 ** 6}, "max_length"), (i, {"max_length": 2049}, "max_length"),
             (i, {"max_length": 2 ** 63}, "max_length"), (i, {"top_k": 10 ** 7}, "top_k"),
             (v1, {"max_tokens": 10 ** random.randint(5, 12)}, "max_tokens"), (v1, {"n": 1000}, "n"),
             (v1, {"logprobs": 1000}, "logprobs"), (v1, {"best_of": 1000}, "best_of"), (v1, {"echo": True}, "echo"),
             (i, {"stop": ["s%d" % n for n in range(1000)]}, "stop"), (i, {"stop": "s" * 10000}, "stop"),
             (i, {"input_text": "a" * mb}, "input_text"), (i, {"input_text": "\u00e9" * (mb // 8)}, "input_text"),
             (v1, {"prompt": ["p" * mb]}, "prompt"), ("/feedback", {"comments": "c" * mb}, "comments"),
             ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}] * 10000}, None),
             ("/v1/chat/completions", {"max_tokens": 10 ** 9}, None)]
    for path, obj, field in cases:
        desc = {k: (v if len(repr(v)) < 30 else "<%d chars>" % len(repr(v))) for k, v in obj.items()}
        raw = build("POST", path, body(path, **{k: jbody(v) for k, v in obj.items()}))
        exchange(t, c, "%s %s" % (path, desc), raw, field=(field,) if field else ())
    big = build("POST", i, jbody({"input_text": "a" * (2 * mb)}))
    exchange(t, c, "/infer body 2 MB (headers first)", big, allow={413}, max_s=2.0, early=big.index(b"\r\n\r\n") + 4)
    exchange(t, c, "/infer prompt of 32 KiB", build("POST", i, jbody({"input_text": "w " * 16384, "max_length": 1})),
             allow={200, 413}, timeout=60.0)
    exchange(t, c, "/infer max_length 2048 (the cap)", build("POST", i, jbody(
        {"input_text": "Call me", "max_length": 2048, "seed": 5})), allow={200}, timeout=120.0)
