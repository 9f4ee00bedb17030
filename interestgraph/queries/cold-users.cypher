// name: cold-users
// purpose: Cold users: fewer than max_purchases purchases or no embedding in the current run,
//   with what the recommender can use for them (own embedding, follows → cold-start vector,
//   or nothing → popular items).
// param: max_purchases integer 3  Users with fewer purchases than this count as cold.
// param: limit integer 50  How many users (fewest purchases first).
// example: interestgraph query cold-users -p max_purchases 5
CALL () {
  OPTIONAL MATCH (r:ModelRun {current: true})
  RETURN CASE WHEN r IS NULL THEN '' ELSE 'embedding_' + toString(r.slot) END AS prop
  LIMIT 1
}
MATCH (u:User)
WITH u, prop, COUNT { (u)-[:PURCHASED]->() } AS purchases, u[prop] IS NOT NULL AS embedded
WHERE purchases < $max_purchases OR NOT embedded
WITH u, purchases, embedded,
     COUNT { (u)-[:FOLLOWS]->(:User) } AS follows_users,
     COUNT { (u)-[:FOLLOWS]->(:Topic) } AS follows_topics
RETURN u.user_id AS user_id, purchases, follows_users, follows_topics, embedded,
       CASE WHEN embedded THEN 'own embedding'
            WHEN follows_users + follows_topics > 0 THEN 'follows (cold-start vector)'
            ELSE 'popular items' END AS served_by
ORDER BY purchases, user_id
LIMIT $limit
