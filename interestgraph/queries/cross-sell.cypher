// name: cross-sell
// purpose: Cross-sell candidates for an item: items bought by the same buyers, with co-buyers,
//   lift (co-buyers relative to independence) and the current run's SIMILAR_TO score if any.
// param: item_id string required  The item's business key.
// param: min_co_buyers integer 2  Least shared buyers.
// param: limit integer 20  How many items.
// example: interestgraph query cross-sell -p item_id 289
MATCH (x:Item {item_id: $item_id})<-[:PURCHASED]-(b:User)-[:PURCHASED]->(y:Item)
WHERE y <> x
WITH x, y, count(DISTINCT b) AS co_buyers
WHERE co_buyers >= $min_co_buyers
CALL () { MATCH (u:User) RETURN count(u) AS users }
CALL () { OPTIONAL MATCH (r:ModelRun {current: true}) RETURN r.run_id AS run LIMIT 1 }
WITH x, y, co_buyers, users, run,
     COUNT { (x)<-[:PURCHASED]-() } AS bx, COUNT { (y)<-[:PURCHASED]-() } AS by
OPTIONAL CALL (x, y, run) {
  MATCH (x)-[s:SIMILAR_TO]-(y) WHERE s.run_id = run
  RETURN max(s.score) AS similarity
}
RETURN y.item_id AS item_id, y.title AS title, co_buyers, by AS buyers,
       round(toFloat(co_buyers) * users / (bx * by), 3) AS lift, round(similarity, 4) AS similarity
ORDER BY co_buyers DESC, lift DESC, item_id
LIMIT $limit
