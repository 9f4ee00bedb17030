// name: user-interests
// purpose: A user's strongest inferred interests (INTERESTED_IN of the current model run),
//   with how many of the user's purchases carry each topic and whether the user follows it.
// param: user_id string required  The user's business key (user_id).
// param: k integer 10  How many topics (at most the K written back per user).
// example: interestgraph query user-interests -p user_id 2 -p k 5
MATCH (r:ModelRun {current: true})
MATCH (u:User {user_id: $user_id})-[x:INTERESTED_IN {run_id: r.run_id}]->(t:Topic)
RETURN t.topic_id AS topic_id, t.name AS topic, x.rank AS rank, round(x.score, 4) AS score,
       COUNT { (u)-[:PURCHASED]->(:Item)-[:HAS_TOPIC]->(t) } AS purchases_with_topic,
       EXISTS { (u)-[:FOLLOWS]->(t) } AS follows_topic
ORDER BY rank
LIMIT $k
