// name: compare-runs
// purpose: Compare two model runs: every stored metric side by side (comparison = b - a), and
//   how much their outputs overlap: mean Jaccard of each user's top-K interests and of each
//   item's similar items (runs whose edges were pruned show no overlap).
// param: run_a string null  First run id (default: the current run).
// param: run_b string null  Second run id (default: the newest other complete run).
// example: interestgraph query compare-runs
// note: Overlap needs both runs' edges, i.e. runs kept by `writeback --keep-runs`.
CALL () {
  OPTIONAL MATCH (c:ModelRun {current: true})
  RETURN c.run_id AS current_id LIMIT 1
}
MATCH (a:ModelRun {run_id: coalesce($run_a, current_id)})
CALL (a) {
  OPTIONAL MATCH (o:ModelRun)
  WHERE o.run_id = $run_b OR ($run_b IS NULL AND o.run_id <> a.run_id AND o.status = 'complete')
  RETURN o AS b ORDER BY o.completed_at DESC LIMIT 1
}
WITH a, b WHERE b IS NOT NULL
CALL (a, b) {
  MATCH (u:User)-[:INTERESTED_IN {run_id: a.run_id}]->(t:Topic)
  WITH u, collect(t) AS ta
  CALL (u, b) {
    OPTIONAL MATCH (u)-[:INTERESTED_IN {run_id: b.run_id}]->(t2:Topic)
    RETURN collect(t2) AS tb
  }
  WITH size([t IN ta WHERE t IN tb]) AS both, size(ta) AS na, size(tb) AS nb
  RETURN avg(toFloat(both) / (na + nb - both)) AS interest_jaccard
}
CALL (a, b) {
  MATCH (i:Item)-[:SIMILAR_TO {run_id: a.run_id}]->(j:Item)
  WITH i, collect(j) AS ja
  CALL (i, b) {
    OPTIONAL MATCH (i)-[:SIMILAR_TO {run_id: b.run_id}]->(j2:Item)
    RETURN collect(j2) AS jb
  }
  WITH size([j IN ja WHERE j IN jb]) AS both, size(ja) AS na, size(jb) AS nb
  RETURN avg(toFloat(both) / (na + nb - both)) AS similar_jaccard
}
WITH a, b, interest_jaccard, similar_jaccard,
     [k IN keys(a) WHERE k STARTS WITH 'metric_' | k] AS ka,
     [k IN keys(b) WHERE k STARTS WITH 'metric_' | k] AS kb
UNWIND [{measure: 'run_id', a: a.run_id, b: b.run_id, c: null},
        {measure: 'created_at', a: toString(a.created_at), b: toString(b.created_at), c: null},
        {measure: 'same parameters', a: null, b: null, c: a.params = b.params}]
     + [k IN ka + [k IN kb WHERE NOT k IN ka] |
        {measure: substring(k, 7), a: a[k], b: b[k], c: round(b[k] - a[k], 4)}]
     + [{measure: 'overlap: top-K interests (mean Jaccard)', a: null, b: null,
         c: round(interest_jaccard, 4)},
        {measure: 'overlap: similar items (mean Jaccard)', a: null, b: null,
         c: round(similar_jaccard, 4)}] AS row
RETURN row.measure AS measure, row.a AS run_a, row.b AS run_b, row.c AS comparison
