"""Helpers for benches/cluster/run.sh.

lag A B: for 20 s, writes an edge through A and measures how long until B has applied
  it (a GET on B with X-Headwaters-Min-Sequence), printing p50/p99/max in ms.
digests URL...: waits until every node is at the same sequence and prints their digests.
"""
import http.client, json, os, random, statistics, sys, time, urllib.parse

TOKEN = os.environ["HW_TOKEN"]
H = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def call(c, method, path, body=None, headers=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers={**H, **(headers or {})})
    r = c.getresponse()
    data = r.read()
    return r.status, dict(r.getheaders()), data


def lag(a, b):
    ca, cb = conn(a), conn(b)
    _, _, body = call(ca, "GET", "/api/v1/tables?limit=200")
    ids = [t["id"] for t in json.loads(body)["data"]]
    samples = []
    end = time.time() + 20
    while time.time() < end:
        x, y = random.sample(ids, 2)
        edge = {"edge": {"fromEntity": {"id": x, "type": "table"}, "toEntity": {"id": y, "type": "table"}}}
        status, h, _ = call(ca, "PUT", "/api/v1/lineage", edge)
        if status != 200:
            continue
        t0 = time.perf_counter()
        seq = h.get("x-headwaters-sequence")
        status, _, _ = call(cb, "GET", "/api/v1/system/version", headers={"X-Headwaters-Min-Sequence": seq})
        if status == 200:
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
    print(f"{len(samples)} probes: p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {samples[-1]:.2f} ms")


def digests(urls):
    deadline = time.time() + 120
    while True:
        out = []
        for u in urls:
            _, _, body = call(conn(u), "GET", "/api/v1/system/cluster?digest=true")
            out.append(json.loads(body))
        seqs = {d["digestSequence"] for d in out}
        if len(seqs) == 1 or time.time() > deadline:
            break
        time.sleep(1)
    for u, d in zip(urls, out):
        print(f"{u}: sequence {d['digestSequence']}, {d['digestEntries']} entries, digest {d['digest'][:16]}")
    print("identical" if len({d["digest"] for d in out}) == 1 and len(seqs) == 1 else "DIFFERENT")


if __name__ == "__main__":
    {"lag": lambda: lag(sys.argv[2], sys.argv[3]), "digests": lambda: digests(sys.argv[2:])}[sys.argv[1]]()
