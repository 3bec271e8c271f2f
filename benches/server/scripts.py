"""Writes the wrk Lua scripts for benches/server/run.sh: 300 random table FQNs from the
generated graph (GET), and 4000 table ids from the running server (PUT)."""
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
for depth in (1, 3):
    with open(os.path.join(work, f"get{depth}.lua"), "w") as f:
        f.write("paths = {\n")
        for fqn in sample:
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
