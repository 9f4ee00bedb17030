// name: recommendation-coverage
// purpose: Catalogue coverage and popularity bias of the current run's top-k recommendations
//   (as `recommend` serves them: the stored exact top-N, or the vector index when it holds
//   fewer than k unbought items; purchases excluded) for a sample of users: distinct items
//   recommended / catalogue, and the mean buyers of a recommended item against the mean
//   buyers of a purchased item (popularity_ratio > 1 = recommendations lean popular).
// param: users integer 200  Users sampled (the first by user_id with an embedding).
// param: k integer 10  Recommendations per user.
// example: interestgraph query recommendation-coverage -p users 500 -p k 20
MATCH (r:ModelRun {current: true})
WITH 'embedding_' + toString(r.slot) AS prop, 'ig_item_embedding_' + toString(r.slot) AS idx,
     'top_items_' + toString(r.slot) AS top
MATCH (u:User) WHERE u[prop] IS NOT NULL
WITH prop, idx, top, u ORDER BY u.user_id LIMIT $users
WITH prop, idx, u, [(u)-[:PURCHASED]->(p:Item) | p.item_id] AS bought, coalesce(u[top], []) AS top
WITH prop, idx, u, bought, [x IN top WHERE NOT x IN bought] AS fresh
CALL (u, prop, idx, bought, fresh) {
  WITH fresh WHERE size(fresh) >= $k
  UNWIND fresh[..$k] AS id
  MATCH (i:Item {item_id: id})
  RETURN i
  UNION
  WITH u, prop, idx, bought, fresh WHERE size(fresh) < $k
  CALL db.index.vector.queryNodes(idx, $k + size(bought), u[prop])
  YIELD node AS i, score
  WITH i, score WHERE NOT i.item_id IN bought
  RETURN i ORDER BY score DESC LIMIT $k
}
WITH count(DISTINCT u) AS users, collect(i) AS recs
CALL (recs) {
  UNWIND recs AS i
  RETURN count(DISTINCT i) AS distinct_items,
         avg(toFloat(COUNT { (i)<-[:PURCHASED]-() })) AS rec_buyers
}
CALL () {
  MATCH (i:Item)
  WITH i, COUNT { (i)<-[:PURCHASED]-() } AS b
  RETURN count(i) AS catalogue, toFloat(sum(b * b)) / CASE sum(b) WHEN 0 THEN 1 ELSE sum(b) END
         AS bought_buyers
}
RETURN users, size(recs) AS recommendations, distinct_items, catalogue,
       round(toFloat(distinct_items) / catalogue, 4) AS coverage,
       round(rec_buyers, 2) AS mean_buyers_recommended,
       round(bought_buyers, 2) AS mean_buyers_purchased,
       round(rec_buyers / bought_buyers, 3) AS popularity_ratio
