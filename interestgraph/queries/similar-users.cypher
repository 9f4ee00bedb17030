// name: similar-users
// purpose: A user's co-interest neighbours (CO_INTEREST of the current run) with the topics
//   both have among their inferred interests and whether they follow each other.
// param: user_id string required  The user's business key.
// param: k integer 10  How many users.
// example: interestgraph query similar-users -p user_id 2
MATCH (r:ModelRun {current: true})
MATCH (u:User {user_id: $user_id})-[c:CO_INTEREST {run_id: r.run_id}]->(v:User)
CALL (r, u, v) {
  OPTIONAL MATCH (u)-[:INTERESTED_IN {run_id: r.run_id}]->(t:Topic)
                 <-[:INTERESTED_IN {run_id: r.run_id}]-(v)
  RETURN collect(coalesce(t.name, t.topic_id)) AS shared_interests
}
RETURN v.user_id AS user_id, c.rank AS rank, round(c.score, 4) AS score, shared_interests,
       EXISTS { (u)-[:FOLLOWS]->(v) } AS follows, EXISTS { (v)-[:FOLLOWS]->(u) } AS followed_by
ORDER BY rank
LIMIT $k
