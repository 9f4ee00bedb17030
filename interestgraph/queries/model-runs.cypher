// name: model-runs
// purpose: The model runs written back (lineage): status, which one is current, when, its
//   headline metrics and how many inferred edges of it are still in the graph.
// param: limit integer 20  How many runs (newest first).
// example: interestgraph query model-runs
MATCH (r:ModelRun)
RETURN r.run_id AS run_id, r.status AS status, r.current AS current, r.slot AS slot,
       toString(r.created_at) AS created_at, r.metric_recall_at_10 AS recall_at_10,
       r.metric_ndcg_at_10 AS ndcg_at_10, r.text_model AS text_model,
       COUNT { ()-[x:INTERESTED_IN]->() WHERE x.run_id = r.run_id } AS interest_edges
ORDER BY created_at DESC
LIMIT $limit
