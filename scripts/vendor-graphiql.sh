#!/usr/bin/env bash
# Re-vendors GraphiQL's UMD build and React 18 into server/assets/graphiql (needs npm).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent graphiql@4.1.2 react@18.3.1 react-dom@18.3.1 >/dev/null)
for f in "$tmp"/*.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
out=server/assets/graphiql
cp "$tmp"/react-18.3.1/package/umd/react.production.min.js "$out/"
cp "$tmp"/react-dom-18.3.1/package/umd/react-dom.production.min.js "$out/"
cp "$tmp"/graphiql-4.1.2/package/dist/index.umd.js "$out/graphiql.min.js"
cp "$tmp"/graphiql-4.1.2/package/dist/style.css "$out/graphiql.min.css"
echo "vendored into $out"
