// The explorer page: a token field kept in local storage, and GraphiQL over
// /api/graphql. A file of its own so the page's Content-Security-Policy needs no
// inline script.
const KEY = 'headwaters.token';
const input = document.getElementById('token');
input.value = localStorage.getItem(KEY) || '';
document.getElementById('save').onclick = () => { localStorage.setItem(KEY, input.value.trim()); };
input.onchange = () => { localStorage.setItem(KEY, input.value.trim()); };
const fetcher = async (params) => {
  const token = localStorage.getItem(KEY) || '';
  const r = await fetch('/api/graphql', {
    method: 'POST',
    headers: Object.assign({'Content-Type': 'application/json'}, token ? {Authorization: 'Bearer ' + token} : {}),
    body: JSON.stringify(params),
  });
  return r.json();
};
const defaultQuery = `# Headwaters lineage. Set your token above, then press the run button.
# More to try: impact(fqn: "warehouse.analytics.raw.orders") { total byType { entityType count } }
#   columnLineage(columnFqn: "warehouse.analytics.raw.orders.amount", direction: DOWNSTREAM, depth: 6) { columns { column depth } }
#   search(query: "revenue", first: 5) { total nodes { entityType fullyQualifiedName } }
query Upstream {
lineage(fqn: "warehouse.analytics.marts.fct_orders", direction: UPSTREAM, depth: 3) {
  totalNodes
  nodes { depth direction entity { entityType fullyQualifiedName } }
  edges { fromFqn toFqn source columnsLineage { fromColumns toColumn function } }
}
}
`;
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery })
);
