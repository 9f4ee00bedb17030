// name: topic-audience
// purpose: The users most interested in a topic: users whose top-K inferred interests (current
//   run) include it, strongest first, with their purchase count.
// param: topic_id string required  The topic's business key (topic_id).
// param: limit integer 25  How many users.
// example: interestgraph query topic-audience -p topic_id 73 -p limit 10
MATCH (r:ModelRun {current: true})
MATCH (t:Topic {topic_id: $topic_id})<-[x:INTERESTED_IN {run_id: r.run_id}]-(u:User)
RETURN u.user_id AS user_id, round(x.score, 4) AS score, x.rank AS rank_for_user,
       COUNT { (u)-[:PURCHASED]->() } AS purchases,
       COUNT { (u)-[:PURCHASED]->(:Item)-[:HAS_TOPIC]->(t) } AS purchases_with_topic
ORDER BY score DESC, user_id
LIMIT $limit
