// name: why-recommended
// purpose: Why item X is (or would be) recommended to user Y, as evidence rows: the model's
//   score in the current run, followed users who bought the item (purchase weight), shared
//   inferred interests (interest score) and the user's purchases most similar to it
//   (SIMILAR_TO score).
// param: user_id string required  The user's business key.
// param: item_id string required  The item's business key.
// example: interestgraph query why-recommended -p user_id 2 -p item_id 289
MATCH (r:ModelRun {current: true})
MATCH (u:User {user_id: $user_id}), (i:Item {item_id: $item_id})
WITH r, u, i, 'embedding_' + toString(r.slot) AS prop
CALL (r, u, i, prop) {
  // embeddings are stored augmented ([h, 0] users, [h, extra] items): the dot is over h
  WITH r, u, i, prop WHERE u[prop] IS NOT NULL AND i[prop] IS NOT NULL
  RETURN 0 AS ord, 'model score' AS evidence, r.run_id AS via,
         reduce(s = 0.0, d IN range(0, size(u[prop]) - 2) | s + u[prop][d] * i[prop][d]) AS score
  UNION ALL
  MATCH (u)-[:FOLLOWS]->(f:User)-[p:PURCHASED]->(i)
  RETURN 1 AS ord, 'followed user bought it' AS evidence, f.user_id AS via, p.weight AS score
  UNION ALL
  MATCH (u)-[x:INTERESTED_IN {run_id: r.run_id}]->(t:Topic)<-[:HAS_TOPIC]-(i)
  RETURN 2 AS ord, 'shared interest' AS evidence, coalesce(t.name, t.topic_id) AS via,
         x.score AS score
  UNION ALL
  MATCH (u)-[:PURCHASED]->(p:Item)-[s:SIMILAR_TO {run_id: r.run_id}]-(i)
  RETURN 3 AS ord, 'similar to a purchase' AS evidence, coalesce(p.title, p.item_id) AS via,
         max(s.score) AS score
}
RETURN evidence, via, round(score, 4) AS score
ORDER BY ord, score DESC, via
