"""Writes the wrk Lua scripts for benches/server/run.sh: 300 random table FQNs from the
generated graph (GET, the same questions asked again and again), 50,000 more for
`get3_spread.lua` (GET depth 3, each root asked at most once per wrk thread: questions
the answer cache has not seen), and 4000 table ids from the running server (PUT)."""
import json, os, random, sys, urllib.parse, urllib.request

work, base = sys.argv[1], sys.argv[2]
random.seed(7)
tables = []
with open(os.path.join(work, "graph.jsonl")) as f:
    for line in f:
        if not line.startswith('{"kind":"node"'):
            break
        d = json.loads(line)
        if d["type"] == "table":
            tables.append(d["fqn"])
sample = random.sample(tables, 300)
spread = random.sample(tables, min(50000, len(tables)))
for name, depth, roots in (("get1", 1, sample), ("get3", 3, sample), ("get3_spread", 3, spread)):
    with open(os.path.join(work, f"{name}.lua"), "w") as f:
        f.write("paths = {\n")
        for fqn in roots:
            q = urllib.parse.quote(fqn, safe="")
            f.write(f'  "/api/v1/lineage/table/name/{q}?upstreamDepth={depth}&downstreamDepth={depth}",\n')
        f.write('}\ncounter = 0\nrequest = function()\n  counter = counter + 1\n'
                '  return wrk.format("GET", paths[(counter % #paths) + 1], '
                '{["Authorization"] = "Bearer " .. os.getenv("HW_TOKEN")})\nend\n')
req = urllib.request.Request(f"{base}/api/v1/tables?limit=4000",
                             headers={"Authorization": "Bearer " + os.environ["HW_TOKEN"]})
ids = [t["id"] for t in json.load(urllib.request.urlopen(req))["data"]]
with open(os.path.join(work, "put.lua"), "w") as f:
    f.write("ids = {\n" + ",\n".join(f'"{i}"' for i in ids) + "\n}\n")
    f.write("""math.randomseed(os.time())
request = function()
  local a = ids[math.random(#ids)]
  local b = ids[math.random(#ids)]
  while b == a do b = ids[math.random(#ids)] end
  local body = '{"edge":{"fromEntity":{"id":"' .. a .. '","type":"table"},"toEntity":{"id":"' .. b .. '","type":"table"},"lineageDetails":{"source":"PipelineLineage","sqlQuery":"insert into b select * from a"}}}'
  return wrk.format("PUT", "/api/v1/lineage", {["Authorization"] = "Bearer " .. os.getenv("HW_TOKEN"), ["Content-Type"] = "application/json"}, body)
end
""")
print(f"wrote wrk scripts: {len(sample)} lineage paths, {len(ids)} table ids")
